import LinearAlgebra

/// Where a Lanczos run starts.
enum LanczosStart {
  /// This vector as given (normalised), or a seeded random one when nil or unusable.
  case vector([Double]?)
  /// Σᵢ vᵢ/‖vᵢ‖ + ρ·r/‖r‖ over the usable vectors, r seeded N(0, I); r alone when
  /// none is usable.
  case warm([[Double]])
}

/// One Lanczos run: the state behind `Lanczos.top`, `bottom` and `extremes`.
///
/// The Krylov basis is stored once, row-major (`basis`, rows × n). The tridiagonal
/// T is kept as a list of blocks: closing a block (βⱼ = 0 between blocks) opens a
/// new one at a seeded random vector orthogonal to all rows. Each closed block's
/// Ritz pairs are eigenpairs of A up to the remainder dropped when it closed; the
/// open block is a Lanczos run on the orthogonal complement of the closed ones.
/// A block closes
/// - at a breakdown: what is left of Aqⱼ after reorthogonalisation is at round-off
///   level (or numerically in the span of the basis);
/// - when it started from a caller's vector (not generic, below) and all of its
///   Ritz pairs meet the tolerance: it is then invariant to within the tolerance,
///   and says nothing about the rest of the space. (The round-off of an exact
///   eigenvector's product is relative to ‖A‖, not to its own small eigenvalue,
///   so it need not look like a breakdown.)
///
/// When the wanted pairs meet the tolerance and are also *certified* (below), the
/// run stops:
/// - no block closes at this step: let j be the number of the open block's Ritz
///   values among the wanted top k. Its own top j pairs must have converged, and,
///   when j < k (closed blocks hold some of the top k), its (j+1)-th as well: Ritz
///   values only rise towards the complement's eigenvalues, so an unconverged one
///   below the k-th could still overtake it. Without closed blocks this is the
///   plain rule (the top k pairs converged).
/// - the open block closes at this step: only if it started from a generic vector
///   (one with a random component). A generic start of an invariant subspace
///   excites every distinct eigenvalue of A on it, so what is left of the
///   complement has no eigenvalue above the block's top Ritz value: certified when
///   that value is not above the k-th wanted one by more than the tolerance (else
///   a copy of it may hide in the complement, and the run restarts to look).
/// The bottom end is the mirror image.
struct LanczosRun {
  /// β below this multiple of max ‖Aqⱼ‖ is a breakdown: what is left of Aqⱼ after
  /// orthogonalisation is then at the level of the round-off of the projections (≈ √n·ε·‖Aqⱼ‖,
  /// 1e-13 at n = 2·10⁵), so it carries no direction worth following; the dropped
  /// remainder is at most this large and is counted in the residuals.
  static let breakdown = 1e-12
  /// DGKS: a pass that keeps less than 1/√2 of w means w still had a large
  /// component in the basis; one more pass, and if that too loses as much, w is
  /// numerically in the span (ARPACK's 0.717).
  static let dgks = 0.717
  /// ρ in the warm start q₁ ∝ Σᵢ vᵢ/‖vᵢ‖ + ρ·r/‖r‖ (see `Lanczos.top(_:of:warmStart:…)`):
  /// 0.25, raised towards 1 for tolerances above 2.5e-4 so that tolerance/ρ ≤ 1e-3.
  static func warmRandomWeight(tolerance: Double) -> Double { min(1, max(0.25, 1000 * tolerance)) }

  struct Block {
    /// Index of the block's first row in `basis`.
    var first: Int
    /// Whether its start vector had a random component.
    var generic: Bool
    var alpha: [Double] = []
    var beta: [Double] = []
    /// β after the last vector: of the next Lanczos vector while open; the norm of
    /// the dropped remainder once closed.
    var outgoing = 0.0
    /// Eigenvalues of the block's tridiagonal, ascending, and its eigenvectors
    /// (row-major size × size, column i is sᵢ).
    var values: [Double] = []
    var coefficients: [Double] = []

    var size: Int { alpha.count }
    /// ‖Ayᵢ − θᵢyᵢ‖ = |β · sᵢ[last]|.
    func residual(_ i: Int) -> Double { abs(outgoing * coefficients[(size - 1) * size + i]) }
  }

  /// A Ritz pair: `column` of block `block` (`closed.count` is the open block).
  struct Pair {
    var value: Double
    var residual: Double
    var block: Int
    var column: Int
  }

  let op: SymmetricOperator
  let n: Int
  let wantTop: Int
  let wantBottom: Int
  /// Most products this run may use.
  let limit: Int
  let tolerance: Double
  var rng: SeededGenerator

  var basis: [Double] = []
  var rows = 0
  var closed: [Block] = []
  var open = Block(first: 0, generic: true)
  /// max ‖Aqⱼ‖ so far: a lower bound on ‖A‖₂, the scale of a breakdown.
  var normEstimate = 0.0

  init(op: SymmetricOperator, top: Int, bottom: Int, budget: Int, tolerance: Double, seed: UInt64) {
    self.op = op
    n = op.dimension
    wantTop = top
    wantBottom = bottom
    limit = min(max(budget, top, bottom, 1), op.dimension)
    self.tolerance = tolerance
    rng = SeededGenerator(seed: seed)
  }

  /// Runs Lanczos with OpenBLAS single-threaded throughout (the products included):
  /// a threaded gemv or dot splits its sums by the thread count, which other code
  /// (or `OPENBLAS_NUM_THREADS`) may change, so only one thread gives the same bits
  /// on every run and every machine setting. The products parallelise by themselves
  /// (the engine's workers); the vector work is memory-bound and gains little from a
  /// second thread.
  mutating func solve(start: LanczosStart, vectors: Bool) throws -> Lanczos.Extremes {
    try BLASInfo.withSingleThreadedBLAS { try solveSerially(start: start, vectors: vectors) }
  }

  private mutating func solveSerially(start: LanczosStart, vectors: Bool) throws -> Lanczos.Extremes {
    guard n > 0 else {
      let empty = Lanczos.Result(values: [], vectors: vectors ? [] : nil, residuals: [], iterations: 0, converged: true)
      return Lanczos.Extremes(top: empty, bottom: empty, products: 0, converged: true)
    }
    // Untouched pages of the reservation are never resident: memory grows with the rows used.
    basis.reserveCapacity(limit * n)
    let (first, generic) = startVector(start)
    append(first)
    open = Block(first: 0, generic: generic)
    var products = 0
    while true {
      let q = Array(basis[((rows - 1) * n)..<(rows * n)])
      var w = try op.apply(q)
      products += 1
      normEstimate = max(normEstimate, BLAS.nrm2(w))
      // The three-term recurrence first, w ← Aqⱼ − αⱼqⱼ − βⱼ₋₁qⱼ₋₁ (two rows), so that
      // the full passes below only mop up round-off and rarely cancel.
      var alpha = BLAS.dot(q, w)
      BLAS.axpy(-alpha, q, &w)
      if let previous = open.beta.last {
        let offset = (rows - 2) * n
        basis.withUnsafeBufferPointer { b in
          w.withUnsafeMutableBufferPointer { pw in Double._axpy(n, -previous, b.baseAddress! + offset, pw.baseAddress!) }
        }
      }
      let (h, norm, independent) = orthogonalise(&w)
      alpha += h[rows - 1]
      open.alpha.append(alpha)
      open.outgoing = norm
      let ritz = try Eigen.symmetricTridiagonal(diagonal: open.alpha, offDiagonal: open.beta, vectors: true)
      open.values = ritz.values
      open.coefficients = ritz.vectors ?? []
      let all = pairs()
      let bound = tolerance * max(all.map { abs($0.value) }.max() ?? 0, .leastNormalMagnitude)
      let breakdown = !independent || norm <= Self.breakdown * normEstimate
      let closes = breakdown || (!open.generic && (0..<open.size).allSatisfy { open.residual($0) <= bound })
      let converged = rows == n || isCertified(all, bound: bound, closing: closes)
      if converged || products >= limit {
        return result(all, products: products, converged: converged, vectors: vectors)
      }
      if closes {
        closed.append(open)
        guard let r = randomOrthogonal() else {
          // numerically no direction left: every Ritz value is exact
          return result(all, products: products, converged: true, vectors: vectors)
        }
        append(r)
        open = Block(first: rows - 1, generic: true)
      } else {
        open.beta.append(norm)
        BLAS.scal(1 / norm, &w)
        append(w)
      }
    }
  }

  // MARK: - Start and basis

  static func usable(_ v: [Double], _ n: Int) -> Bool {
    guard v.count == n, v.allSatisfy(\.isFinite) else { return false }
    let norm = BLAS.nrm2(v)
    return norm > 0 && norm.isFinite
  }

  mutating func randomUnit() -> [Double] {
    var r = (0..<n).map { _ in rng.nextNormal() }
    BLAS.scal(1 / BLAS.nrm2(r), &r)
    return r
  }

  /// The normalised start and whether it is generic. The random vector is drawn
  /// first in every case, so a warm start with no usable vector is the cold start
  /// of the same seed.
  mutating func startVector(_ start: LanczosStart) -> ([Double], Bool) {
    switch start {
    case let .vector(v?) where Self.usable(v, n):
      var q = v
      BLAS.scal(1 / BLAS.nrm2(q), &q)
      return (q, false)
    case .vector:
      return (randomUnit(), true)
    case let .warm(vs):
      var q = randomUnit()
      if vs.contains(where: { Self.usable($0, n) }) { BLAS.scal(Self.warmRandomWeight(tolerance: tolerance), &q) }
      for v in vs where Self.usable(v, n) { BLAS.axpy(1 / BLAS.nrm2(v), v, &q) }
      let norm = BLAS.nrm2(q)
      // Only if the warm vectors cancel the random one exactly (never in practice).
      guard norm > 0 else { return (randomUnit(), true) }
      BLAS.scal(1 / norm, &q)
      return (q, true)
    }
  }

  mutating func append(_ q: [Double]) {
    basis.append(contentsOf: q)
    rows += 1
  }

  /// Full classical Gram–Schmidt passes v ← v − Qᵀ(Qv), each two BLAS `gemv`s over
  /// the contiguous basis, repeated while a pass keeps less than 0.717 of ‖v‖ (the
  /// DGKS criterion; at most 3 passes).
  /// - Returns: the summed coefficients Qv over the passes, the final ‖v‖, and
  ///   whether v is numerically independent of the rows (the last pass did not
  ///   cancel).
  /// - Complexity: 2 `gemv`s and 4·rows·n flops per pass, each pass reading the
  ///   rows×n basis twice.
  func orthogonalise(_ v: inout [Double]) -> (coefficients: [Double], norm: Double, independent: Bool) {
    var total = [Double](repeating: 0, count: rows)
    var h = total
    var before = BLAS.nrm2(v)
    var after = before
    for pass in 0..<3 {
      if pass > 0, after >= Self.dgks * before { break }
      BLAS.gemv(.none, m: rows, n: n, a: basis, x: v, y: &h)
      BLAS.gemv(.transposed, m: rows, n: n, alpha: -1, a: basis, x: h, beta: 1, y: &v)
      BLAS.axpy(1, h, &total)
      (before, after) = (after, BLAS.nrm2(v))
    }
    return (total, after, after >= Self.dgks * before)
  }

  /// A seeded random unit vector orthogonal to the basis; nil when none can be
  /// found (the basis spans the space numerically).
  mutating func randomOrthogonal() -> [Double]? {
    for _ in 0..<3 {
      var r = randomUnit()
      let (_, norm, independent) = orthogonalise(&r)
      // A random unit vector keeps ~√((n − rows)/n) ≥ 1/√n of its length.
      if independent, norm > 1e-8 {
        BLAS.scal(1 / norm, &r)
        return r
      }
    }
    return nil
  }

  // MARK: - Convergence

  func pairs() -> [Pair] {
    var all: [Pair] = []
    for (index, block) in (closed + [open]).enumerated() {
      for i in 0..<block.size {
        all.append(Pair(value: block.values[i], residual: block.residual(i), block: index, column: i))
      }
    }
    return all
  }

  /// Whether the wanted pairs among `all` meet `bound` and are certified (see the
  /// type's notes); `closing`: the open block closes at this step.
  func isCertified(_ all: [Pair], bound: Double, closing: Bool) -> Bool {
    guard all.count >= wantTop, all.count >= wantBottom else { return false }
    let descending = all.sorted { $0.value > $1.value }
    let ascending = Array(descending.reversed())
    let openIndex = closed.count
    // The open block's pairs from its top end (top: true) or its bottom end.
    func openConverged(_ count: Int, top: Bool) -> Bool {
      guard open.size >= count else { return false }
      return (0..<count).allSatisfy { open.residual(top ? open.size - 1 - $0 : $0) <= bound }
    }
    func end(_ want: Int, _ sorted: [Pair], top: Bool) -> Bool {
      guard want > 0 else { return true }
      let wanted = sorted.prefix(want)
      guard wanted.allSatisfy({ $0.residual <= bound }) else { return false }
      let kth = wanted.last!.value
      if closing {
        guard open.generic else { return false }
        return top ? open.values.last! <= kth + bound : open.values.first! >= kth - bound
      }
      let j = wanted.filter { $0.block == openIndex }.count
      return openConverged(j == want ? want : j + 1, top: top)
    }
    return end(wantTop, descending, top: true) && end(wantBottom, ascending, top: false)
  }

  // MARK: - Result

  func ritzVector(_ pair: Pair) -> [Double] {
    let block = pair.block == closed.count ? open : closed[pair.block]
    let b = block.size
    let s = (0..<b).map { block.coefficients[$0 * b + pair.column] }
    var y = [Double](repeating: 0, count: n)
    // y = Q_blockᵀ s over the block's rows of the basis
    basis.withUnsafeBufferPointer { q in
      s.withUnsafeBufferPointer { ps in
        y.withUnsafeMutableBufferPointer { py in
          Double._gemv(.transposed, b, n, 1, q.baseAddress! + block.first * n, n, ps.baseAddress!, 0, py.baseAddress!)
        }
      }
    }
    let norm = BLAS.nrm2(y)
    if norm > 0 { BLAS.scal(1 / norm, &y) }
    return y
  }

  func result(_ all: [Pair], products: Int, converged: Bool, vectors: Bool) -> Lanczos.Extremes {
    let descending = all.sorted { $0.value > $1.value }
    let ascending = Array(descending.reversed())
    func make(_ chosen: ArraySlice<Pair>) -> Lanczos.Result {
      Lanczos.Result(
        values: chosen.map(\.value), vectors: vectors ? chosen.map(ritzVector) : nil,
        residuals: chosen.map(\.residual), iterations: products, converged: converged)
    }
    return Lanczos.Extremes(
      top: make(descending.prefix(wantTop)), bottom: make(ascending.prefix(wantBottom)),
      products: products, converged: converged)
  }
}
