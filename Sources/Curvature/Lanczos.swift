import LinearAlgebra

/// Extreme eigenpairs of a symmetric operator by the Lanczos method with full
/// reorthogonalisation (numerically the Krylov–Rayleigh–Ritz method).
///
/// After m products the orthonormal basis Q = [q₁ … qₘ] of the Krylov space
/// span{q₁, Aq₁, …, A^{m−1}q₁} satisfies AQ = QT + βₘ q_{m+1} eₘᵀ with T = QᵀAQ
/// tridiagonal (diagonal αⱼ, off-diagonal βⱼ). The eigenpairs (θᵢ, sᵢ) of T give
/// Ritz pairs (θᵢ, yᵢ = Qsᵢ) with residual ‖Ayᵢ − θᵢyᵢ‖ = |βₘ · sᵢ[m]|, known without
/// another product. The extreme eigenvalues, the largest and the smallest
/// *algebraic* ones, converge first; the run stops when every wanted pair has
/// residual ≤ `tolerance` · ‖T‖₂ (see `tolerance`).
///
/// Implementation, with products as the currency (one product is a Hessian-vector
/// product of a network):
/// - the basis is one contiguous row-major m×n buffer. Each new Aqⱼ first loses its
///   three-term components αⱼqⱼ + βⱼ₋₁qⱼ₋₁ (two rows), then is orthogonalised
///   against the whole basis by classical Gram–Schmidt done as two BLAS `gemv`s,
///   w ← w − Qᵀ(Qw), the pass repeated while it keeps less than 1/√2 of ‖w‖ (the
///   Daniel–Gragg–Kaufman–Stewart criterion, as in ARPACK; at most 3 passes). After
///   the three-term step a full pass only removes the round-off of earlier steps
///   and does not cancel, so one pass is the rule: the basis is read twice per
///   product, where always-two passes (CGS2) read it four times and the former
///   per-vector dot/axpy loop read each row four times. Measured at n = 2·10⁵ with
///   a diagonal operator, 30 iterations (minimum of 15 runs, in several sessions on
///   the shared 2-core Xeon at load averages 3.5–8.5): the former loop took
///   1.25–2.4× as long as this, and CGS2 by `gemv` 0.7–1.2× as long as the loop
///   (0.11–0.27 s for this, 4–9 ms per iteration, against 0.5 ms per product of
///   the diagonal). The basis streams at much the same rate in every variant, so
///   the number of reads decides;
/// - a breakdown (βⱼ ≈ 0: the Krylov space is invariant, e.g. the start vector is
///   an eigenvector, or the operator has rank below k) does not end the run: it
///   continues from a seeded random vector orthogonal to the basis (βⱼ = 0 in T,
///   which becomes block diagonal), until the wanted pairs are certified or the
///   space is exhausted (m = n, where every Ritz value is exact);
/// - the dense n×n problem is never formed; memory is m·n doubles for the basis.
///
/// What a single-vector Krylov method cannot do: it sees one vector per
/// eigenspace, so an eigenvalue of *exact* multiplicity r > 1 is found once
/// unless a breakdown forces a restart (then the copies are found one restart
/// each), and two eigenvalues closer than the tolerance can be reported as one
/// with the next distinct value after it. For small operators the dense path of
/// `SpectrumProbe` has no such limit.
public struct Lanczos: Sendable {
  public struct Result: Sendable {
    /// Ritz values: for `top`, the largest first (descending); for `bottom`, the
    /// smallest first (ascending).
    public var values: [Double]
    /// Ritz vectors yᵢ = Qsᵢ (unit norm), in the order of `values`, if requested.
    public var vectors: [[Double]]?
    /// ‖Ayᵢ − θᵢyᵢ‖ of each Ritz pair, from the Lanczos relation: |β · sᵢ[last]| of
    /// its block, where β is, for a closed block, the norm of the remainder dropped
    /// when it closed (≤ 1e-12·‖A‖ at a breakdown). Equal to the recomputed
    /// residual up to round-off, O(ε‖A‖).
    public var residuals: [Double]
    /// Operator products used (the same number as `products`; the name is kept
    /// for existing callers).
    public var iterations: Int
    /// Whether every wanted pair met the tolerance (or the space was exhausted);
    /// false when the run stopped at `maxIterations`.
    public var converged: Bool

    /// Operator products used: each is one application of the operator.
    public var products: Int { iterations }
  }

  /// Both ends of the spectrum from one Lanczos run (`extremes`).
  public struct Extremes: Sendable {
    /// The largest Ritz values, descending.
    public var top: Result
    /// The smallest Ritz values, ascending.
    public var bottom: Result
    /// Products of the one run (shared by `top` and `bottom`, not added).
    public var products: Int
    public var converged: Bool
  }

  /// The most products one run may use (raised to k when smaller; capped at the
  /// dimension n, where the Krylov space is the whole space).
  public var maxIterations: Int
  /// Stop when every wanted Ritz pair has ‖Ay − θy‖ ≤ tolerance · max(|θ|max, tiny),
  /// where |θ|max = ‖T‖₂ is the largest Ritz value in modulus. When the top
  /// eigenvalue dominates in modulus (a Hessian near a minimum) this is
  /// tolerance · |θ₁|; an indefinite operator whose negative end is larger is
  /// measured against that end, so that an eigenvalue near 0 (λ_min of a PSD-ish
  /// Hessian, θ₁ of a negative-definite one) is not asked for an absolute
  /// accuracy below round-off. A residual r bounds the eigenvalue error by r
  /// (some eigenvalue lies within r of θ), and by r²/gap when θ is separated
  /// from the rest of the spectrum by `gap`.
  public var tolerance: Double

  public init(maxIterations: Int = 20, tolerance: Double = 1e-8) {
    self.maxIterations = maxIterations
    self.tolerance = tolerance
  }

  /// The `k` largest (algebraic) eigenvalues of `op`.
  /// - Parameters:
  ///   - start: the start vector, used as given (normalised): no random component
  ///     is added. Nil, of the wrong length, zero or non-finite: a seeded random
  ///     start. An exact eigenvector still yields k correct values (a breakdown
  ///     restarts from a random vector), at the cost of the restart.
  ///   - seed: seeds the random start and every restart.
  ///   - vectors: whether to return the Ritz vectors.
  /// - Complexity: at most min(max(`maxIterations`, k), n) products, O(n·m²) work
  ///   for reorthogonalisation and m·n doubles of memory.
  public func top(_ k: Int, of op: SymmetricOperator, start: [Double]? = nil, seed: UInt64 = 0, vectors: Bool = false) throws -> Result {
    guard k >= 1 else { throw CurvatureError.invalid("top-k needs k ≥ 1, got \(k)") }
    var run = LanczosRun(op: op, top: k, bottom: 0, budget: maxIterations, tolerance: tolerance, seed: seed)
    return try run.solve(start: .vector(start), vectors: vectors).top
  }

  /// The `k` largest (algebraic) eigenvalues of `op`, warm-started from several
  /// vectors, typically the previous measurement's top-k Ritz vectors.
  ///
  /// The start is q₁ ∝ Σᵢ vᵢ/‖vᵢ‖ + ρ·r/‖r‖ with r seeded N(0, I): every warm
  /// vector with weight 1, so the Krylov space holds a large component of each of
  /// them from the first product on (a cold start has ~1/√n), plus a random part,
  /// without which an exact set of old eigenvectors would span an invariant
  /// subspace and a new eigenvalue that overtook them would never be seen.
  ///
  /// ρ trades speed against that safety: the old pairs' residuals start at about
  /// ρ, so the run stops about as early as a cold run with tolerance
  /// `tolerance`/ρ would, and a new top direction is found only if such a run
  /// would find it. Measured (n = 300 and 1000, outliers 10·0.85ⁱ over a bulk in
  /// [0, 1], k = 1…3, 20 seeds): at tolerance 1e-4, exact or 1e-2-perturbed old
  /// eigenvectors cost 28 % fewer products than cold at ρ = 0.25 (17 % at ρ = 1,
  /// 41 % at ρ = 0.05); with old vectors that miss the top one, wrong values
  /// appeared once tolerance/ρ reached 2e-3 (ρ = 0.05 at 1e-4, ρ = 0.25 at 1e-3),
  /// never at 1e-3 or below. So ρ = 0.25, raised up to 1 for tolerances above
  /// 2.5e-4 to keep tolerance/ρ ≤ 1e-3; beyond tolerance 1e-3 a warm start is as
  /// safe as a cold run at that tolerance.
  ///
  /// The limit of any warm start: a new top eigenvector *exactly* orthogonal to
  /// every warm vector enters only through the random part (a component ≈ ρ/√n),
  /// and the run can settle on a stale vector's eigenvalue when the new one leads
  /// it by little. Measured (diagonal operator, n = 2·10⁴, one stale vector, 20
  /// seeds, tolerance 1e-4): the stale value was returned in 20/20 runs at a lead
  /// of 1 %, 6/20 at 10 %, 1/20 at 30 % (at tolerance 1e-6: 2/20 at 1 %, none from
  /// 3 % on). The value returned is then still an eigenvalue, short of the top by
  /// at most that lead. A 1 % overlap of the stale vector with the new top, which a
  /// changed Hessian's rotated eigenvectors have, removed every failure at leads
  /// ≥ 1 %. A caller that cannot accept this starts cold now and then
  /// (`warmStart: []`).
  ///
  /// Vectors of the wrong length, zero or with non-finite entries are ignored;
  /// with none left the start is the seeded random one (the cold start).
  public func top(_ k: Int, of op: SymmetricOperator, warmStart: [[Double]], seed: UInt64 = 0, vectors: Bool = false) throws -> Result {
    guard k >= 1 else { throw CurvatureError.invalid("top-k needs k ≥ 1, got \(k)") }
    var run = LanczosRun(op: op, top: k, bottom: 0, budget: maxIterations, tolerance: tolerance, seed: seed)
    return try run.solve(start: .warm(warmStart), vectors: vectors).top
  }

  /// The `k` smallest (algebraic) eigenvalues of `op`, ascending (λ_min first).
  ///
  /// Computed from the same tridiagonal T as `top`, taking its smallest Ritz
  /// values (Lanczos on A converges at both ends alike; running it on −A would
  /// give the same Krylov space). Warm start as in `top(_:of:warmStart:…)`.
  public func bottom(_ k: Int, of op: SymmetricOperator, warmStart: [[Double]] = [], seed: UInt64 = 0, vectors: Bool = false) throws -> Result {
    guard k >= 1 else { throw CurvatureError.invalid("bottom-k needs k ≥ 1, got \(k)") }
    var run = LanczosRun(op: op, top: 0, bottom: k, budget: maxIterations, tolerance: tolerance, seed: seed)
    return try run.solve(start: .warm(warmStart), vectors: vectors).bottom
  }

  /// The `top` largest and the `bottom` smallest eigenvalues from one run: the
  /// run continues until both ends meet the tolerance, so it costs the products of
  /// the slower end, not the sum of two runs. Either count may be 0.
  public func extremes(top kTop: Int, bottom kBottom: Int, of op: SymmetricOperator, warmStart: [[Double]] = [], seed: UInt64 = 0, vectors: Bool = false) throws -> Extremes {
    guard kTop >= 0, kBottom >= 0, kTop + kBottom >= 1 else {
      throw CurvatureError.invalid("extremes needs top ≥ 0, bottom ≥ 0 and at least one of them ≥ 1, got top \(kTop), bottom \(kBottom)")
    }
    var run = LanczosRun(op: op, top: kTop, bottom: kBottom, budget: maxIterations, tolerance: tolerance, seed: seed)
    return try run.solve(start: .warm(warmStart), vectors: vectors)
  }

  /// The largest eigenvalue by power iteration (for operators whose top eigenvalue
  /// dominates in modulus, e.g. PSD). Lanczos converges faster; this is a check.
  public static func powerIteration(_ op: SymmetricOperator, iterations: Int = 200, seed: UInt64 = 0) throws -> Double {
    var rng = SeededGenerator(seed: seed)
    var v = (0..<op.dimension).map { _ in rng.nextNormal() }
    BLAS.scal(1 / BLAS.nrm2(v), &v)
    var lambda = 0.0
    for _ in 0..<iterations {
      var w = try op.apply(v)
      lambda = BLAS.dot(v, w)
      let norm = BLAS.nrm2(w)
      guard norm > 0 else { return 0 }
      BLAS.scal(1 / norm, &w)
      v = w
    }
    return lambda
  }
}
