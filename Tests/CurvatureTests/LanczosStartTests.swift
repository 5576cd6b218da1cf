import Curvature
import Foundation
import LinearAlgebra
import PropertyBased
import Testing

/// Starts: warm starts from previous eigenvectors, starts that are exact
/// eigenvectors, unusable warm vectors.
///
/// Value tolerances: a run stopped at relative residual τ has, for each Ritz pair,
/// an eigenvalue within ‖Ay − θy‖ ≤ τ·‖T‖ ≤ τ·‖A‖ of θ; the gaps here are ≥ 0.5
/// ≫ τ·‖A‖, so that eigenvalue is the right one, and |θⱼ − λⱼ| ≤ τ·‖A‖ plus the
/// round-off of the reported residual (≈ 1e-14·‖A‖; 1e-12·‖A‖ allowed).
@Suite struct LanczosStartTests {
  static let tau = 1e-10
  /// τ·‖A‖ + 1e-12·‖A‖ at τ = 1e-10.
  static let valueTolerance = 1.1e-10

  /// Tolerances from 1e-8 to 1e-3, log-uniform: the range a training loop uses.
  static let tolerances = Gen.double(in: -8 ... -3).map { pow(10, $0) }
  /// Up to 1e-4 only: above 2.5e-4 the warm start's random part grows (ρ → 1, for
  /// safety) and the saving shrinks to ~17 % on average, no longer in every case.
  static let tightTolerances = Gen.double(in: -8 ... -4).map { pow(10, $0) }

  /// A PSD-like spectrum with geometrically spaced outliers 10·0.85ⁱ over a bulk in
  /// [0, 1] (a Hessian's shape): the top-k need a few dozen products from a cold
  /// start.
  static func hessianLike(_ n: Int, seed: UInt64) -> (a: [Double], v: [Double], values: [Double]) {
    var rng = SeededGenerator(seed: seed)
    var d = (0..<8).map { 10 * pow(0.85, Double($0)) }
    while d.count < n { d.append(rng.nextUniform()) }
    let (a, v) = Fixture.withSpectrum(d, seed: seed)
    return (a, v, d)
  }

  /// The same spectrum as a diagonal operator of dimension up to 20 000, where
  /// the eigenvectors are the unit vectors eᵢ. A seeded N(0, I) start is
  /// rotation-invariant in distribution, so Lanczos on diag(d) behaves as on any
  /// V·diag(d)·Vᵀ, at O(n) per product; a large n is where warm starts pay (a cold
  /// start has components ~1/√n along the wanted vectors).
  static func diagonal(_ n: Int, seed: UInt64) -> (op: SymmetricOperator, values: [Double]) {
    var rng = SeededGenerator(seed: seed)
    var d = (0..<8).map { 10 * pow(0.85, Double($0)) }
    while d.count < n { d.append(rng.nextUniform()) }
    let values = d
    return (SymmetricOperator(dimension: n) { v in zip(v, values).map { $0 * $1 } }, values)
  }

  /// eᵢ plus, if `noise` > 0, a Gaussian perturbation of norm ≈ `noise`.
  static func unit(_ i: Int, _ n: Int, noise: Double, _ rng: inout SeededGenerator) -> [Double] {
    var x = [Double](repeating: 0, count: n)
    if noise > 0 { x = x.map { _ in noise * rng.nextNormal() / Double(n).squareRoot() } }
    x[i] += 1
    return x
  }

  /// Warm-started from the exact top-k eigenvectors (with random signs), or from
  /// them perturbed by noise of relative size 1e-4 … 1e-2 (the previous
  /// measurement's vectors, a few training steps ago), Lanczos needs fewer
  /// products than the cold start of the same seed, and finds the same values.
  /// (Not a theorem: the random part of the warm start, needed for safety, keeps
  /// the saving to ~20 % on this spectrum, and at n ≈ 100 a lucky cold start can
  /// tie; at n ≥ 1000 none did in 150 trials.)
  @Test func warmStartFromEigenvectorsIsCheaper() async {
    await propertyCheck(
      count: 30, input: Gen.int(in: 1000...20000), Gen.int(in: 0...1_000_000), Gen.int(in: 1...4), Self.tightTolerances,
      Gen.bool, Gen.double(in: -4 ... -2).map { pow(10, $0) }
    ) { n, seed, k, tau, exact, noise in
      let (op, d) = Self.diagonal(n, seed: UInt64(seed))
      var rng = SeededGenerator(seed: UInt64(seed) &+ 1)
      let warm = (0..<k).map { j in
        Self.unit(j, n, noise: exact ? 0 : noise, &rng).map { $0 * (j % 2 == 0 ? 1 : -1) }
      }
      let lanczos = Lanczos(maxIterations: 300, tolerance: tau)
      guard let cold = try? lanczos.top(k, of: op, seed: UInt64(seed)),
        let hot = try? lanczos.top(k, of: op, warmStart: warm, seed: UInt64(seed))
      else {
        Issue.record("Lanczos threw")
        return
      }
      #expect(hot.converged && cold.converged)
      #expect(hot.products < cold.products, "warm \(hot.products) vs cold \(cold.products) products")
      for j in 0..<k {
        #expect(abs(hot.values[j] - d[j]) <= (tau + 1e-12) * d[0])
        #expect(abs(cold.values[j] - d[j]) <= (tau + 1e-12) * d[0])
      }
    }
  }

  /// A warm start from stale vectors: those of the 2nd … (k+1)-th eigenvalues, the
  /// first of them turned by an angle of 0.01 … 0.1 towards the top eigenvector (a
  /// new direction has overtaken them; a changed Hessian's eigenvectors rotate, so
  /// the old ones overlap the new top a little). The run still finds the true
  /// top-k, at tolerances up to 1e-3.
  @Test func staleWarmStartStillFindsTheTop() async {
    await propertyCheck(
      count: 30, input: Gen.int(in: 1000...20000), Gen.int(in: 0...1_000_000), Gen.int(in: 1...3), Self.tolerances,
      Gen.double(in: 0.01...0.1)
    ) { n, seed, k, tau, angle in
      let (op, d) = Self.diagonal(n, seed: UInt64(seed))
      var rng = SeededGenerator(seed: UInt64(seed) &+ 1)
      var warm = (1...k).map { Self.unit($0, n, noise: 0, &rng) }
      warm[0][1] = cos(angle)
      warm[0][0] = sin(angle)
      guard let r = try? Lanczos(maxIterations: 300, tolerance: tau).top(k, of: op, warmStart: warm, seed: UInt64(seed)) else {
        Issue.record("Lanczos threw")
        return
      }
      for j in 0..<k { #expect(abs(r.values[j] - d[j]) <= (tau + 1e-12) * d[0]) }
    }
  }

  /// The hard case: stale vectors exactly orthogonal to the new top eigenvector,
  /// which then reaches the Krylov space only through the random part of the start
  /// (a component ≈ ρ/√n). Found at tolerances ≤ 1e-6 when it leads by 15 % (the
  /// limits of this case are measured in `Lanczos.top(_:of:warmStart:…)`'s notes).
  @Test func orthogonalStaleWarmStartFindsASeparatedTop() async {
    await propertyCheck(
      count: 30, input: Gen.int(in: 1000...20000), Gen.int(in: 0...1_000_000), Gen.int(in: 1...3),
      Gen.double(in: -8 ... -6).map { pow(10, $0) }
    ) { n, seed, k, tau in
      let (op, d) = Self.diagonal(n, seed: UInt64(seed))
      var rng = SeededGenerator(seed: UInt64(seed) &+ 1)
      let warm = (1...k).map { Self.unit($0, n, noise: 0, &rng) }
      guard let r = try? Lanczos(maxIterations: 300, tolerance: tau).top(k, of: op, warmStart: warm, seed: UInt64(seed)) else {
        Issue.record("Lanczos threw")
        return
      }
      for j in 0..<k { #expect(abs(r.values[j] - d[j]) <= (tau + 1e-12) * d[0]) }
    }
  }

  /// A start that is an exact eigenvector (of any eigenvalue, the top one
  /// included) spans an invariant subspace at once (β₁ ≈ 0). The run must not stop
  /// there with one value, nor take that eigenvalue for the top: it restarts and
  /// returns the true top-k.
  @Test func exactEigenvectorStartYieldsTheTopK() async {
    await propertyCheck(count: 30, input: Gen.int(in: 20...100), Gen.int(in: 0...1_000_000), Gen.int(in: 1...4), Gen.int(in: 0...19)) {
      n, seed, k, index in
      let (a, v, d) = Self.hessianLike(n, seed: UInt64(seed))
      let op = SymmetricOperator(matrix: a, n: n)
      let start = Fixture.column(v, index, n: n)
      guard let r = try? Lanczos(maxIterations: n, tolerance: Self.tau).top(k, of: op, start: start, seed: UInt64(seed), vectors: true)
      else {
        Issue.record("Lanczos threw")
        return
      }
      #expect(r.values.count == k && r.converged)
      let sorted = d.sorted(by: >)
      for j in 0..<k { #expect(abs(r.values[j] - sorted[j]) <= Self.valueTolerance * d[0]) }
      #expect(r.products > 1)
    }
  }

  /// Warm vectors of the wrong length, zero or non-finite are ignored: the run is
  /// the cold run of the same seed, bit for bit.
  @Test func unusableWarmVectorsAreIgnored() throws {
    let n = 40
    let (a, _, _) = Self.hessianLike(n, seed: 9)
    let op = SymmetricOperator(matrix: a, n: n)
    let lanczos = Lanczos(maxIterations: n, tolerance: 1e-8)
    let cold = try lanczos.top(2, of: op, seed: 4, vectors: true)
    var nan = [Double](repeating: 1, count: n)
    nan[3] = .nan
    let junk: [[Double]] = [[1, 2, 3], [Double](repeating: 0, count: n), nan, [Double](repeating: .infinity, count: n)]
    let warm = try lanczos.top(2, of: op, warmStart: junk, seed: 4, vectors: true)
    #expect(warm.values == cold.values && warm.products == cold.products && warm.vectors! == cold.vectors!)
  }
}
