import Curvature
import LinearAlgebra
import PropertyBased
import Testing

/// Lanczos (CGS2, restarts, both ends) against LAPACK's dense eigendecomposition.
///
/// Tolerances: a run stopped at relative residual τ = 1e-10 puts each Ritz value
/// within τ·‖T‖ ≤ τ·‖A‖ of an eigenvalue, and the Lanczos relation holds to
/// O(√m·ε·‖A‖) ≈ 1e-14·‖A‖ with full reorthogonalisation; LAPACK's values are
/// good to ~nε‖A‖. So 1e-9·‖A‖ is ten times the stopping bound and far above
/// round-off: a wrong eigenvalue (the gaps here are ≥ 1e-3·‖A‖) cannot pass.
@Suite struct LanczosSpectrumTests {
  static let tau = 1e-10
  static let valueTolerance = 1e-9

  /// The top is the largest *algebraic* eigenvalue even when a negative one is up
  /// to 10 times larger in modulus; `bottom` finds that negative one.
  @Test func indefiniteSpectraTopAndBottomMatchDense() async {
    await propertyCheck(
      count: 30, input: Gen.int(in: 10...60), Gen.int(in: 0...1_000_000), Gen.int(in: 1...4), Gen.double(in: 1.5...10)
    ) { n, seed, k, factor in
      let d = Fixture.indefiniteSpectrum(n, seed: UInt64(seed), negativeFactor: factor)
      let (a, _) = Fixture.withSpectrum(d, seed: UInt64(seed))
      let op = SymmetricOperator(matrix: a, n: n)
      let dense = Fixture.denseEigenvalues(a, n: n)
      let norm = Fixture.norm(dense)
      let lanczos = Lanczos(maxIterations: n, tolerance: Self.tau)
      guard let top = try? lanczos.top(k, of: op, seed: UInt64(seed), vectors: true),
        let bottom = try? lanczos.bottom(k, of: op, seed: UInt64(seed))
      else {
        Issue.record("Lanczos threw")
        return
      }
      #expect(top.values.count == k && bottom.values.count == k)
      #expect(top.converged && bottom.converged)
      for (x, y) in zip(top.values, dense.reversed()) { #expect(abs(x - y) <= Self.valueTolerance * norm) }
      for (x, y) in zip(bottom.values, dense) { #expect(abs(x - y) <= Self.valueTolerance * norm) }
      #expect(top.values[0] > 0 && bottom.values[0] < -top.values[0])
      #expect(top.values == top.values.sorted(by: >) && bottom.values == bottom.values.sorted())
    }
  }

  /// One `extremes` run serves both ends: the same values as LAPACK, and fewer
  /// products than the two separate runs together.
  @Test func extremesMatchDenseAtBothEnds() async {
    await propertyCheck(count: 30, input: Gen.int(in: 10...60), Gen.int(in: 0...1_000_000), Gen.int(in: 1...3)) { n, seed, k in
      let d = Fixture.indefiniteSpectrum(n, seed: UInt64(seed), negativeFactor: 2)
      let (a, _) = Fixture.withSpectrum(d, seed: UInt64(seed))
      let op = SymmetricOperator(matrix: a, n: n)
      let dense = Fixture.denseEigenvalues(a, n: n)
      let norm = Fixture.norm(dense)
      let lanczos = Lanczos(maxIterations: n, tolerance: Self.tau)
      guard let both = try? lanczos.extremes(top: k, bottom: 1, of: op, seed: UInt64(seed)),
        let top = try? lanczos.top(k, of: op, warmStart: [], seed: UInt64(seed)),
        let bottom = try? lanczos.bottom(1, of: op, seed: UInt64(seed))
      else {
        Issue.record("Lanczos threw")
        return
      }
      for (x, y) in zip(both.top.values, dense.reversed()) { #expect(abs(x - y) <= Self.valueTolerance * norm) }
      #expect(abs(both.bottom.values[0] - dense[0]) <= Self.valueTolerance * norm)
      // both ends must be certified at once, so never fewer products than the slower
      // end alone; and fewer than two runs, since the ends converge side by side
      #expect(both.products >= max(top.products, bottom.products))
      #expect(both.products < top.products + bottom.products)
    }
  }

  /// Clusters: Q·diag·Qᵀ with three clusters of 2–5 eigenvalues spread by a
  /// relative 1e-3 … 1e-2 (gaps ≥ 1e-3·‖A‖, resolvable at τ = 1e-10), plus a bulk:
  /// the top-k and bottom-k resolve the cluster members.
  @Test func clusteredSpectraMatchDense() async {
    await propertyCheck(
      count: 30, input: Gen.int(in: 30...80), Gen.int(in: 0...1_000_000), Gen.int(in: 1...5), Gen.double(in: 1e-3...1e-2)
    ) { n, seed, k, spread in
      var rng = SeededGenerator(seed: UInt64(seed))
      var d: [Double] = []
      for centre in [10.0, 4.0, -6.0] {
        let size = 2 + Int(rng.next() % 4)
        for i in 0..<size { d.append(centre * (1 + spread * Double(i))) }
      }
      while d.count < n { d.append(2 * rng.nextUniform() - 1) }
      let (a, _) = Fixture.withSpectrum(d, seed: UInt64(seed))
      let op = SymmetricOperator(matrix: a, n: n)
      let dense = Fixture.denseEigenvalues(a, n: n)
      let norm = Fixture.norm(dense)
      let lanczos = Lanczos(maxIterations: n, tolerance: Self.tau)
      guard let r = try? lanczos.extremes(top: k, bottom: k, of: op, seed: UInt64(seed)) else {
        Issue.record("Lanczos threw")
        return
      }
      for (x, y) in zip(r.top.values, dense.reversed()) { #expect(abs(x - y) <= Self.valueTolerance * norm) }
      for (x, y) in zip(r.bottom.values, dense) { #expect(abs(x - y) <= Self.valueTolerance * norm) }
    }
  }

  /// Exactly repeated eigenvalues (a few distinct values, each with multiplicity,
  /// 0 among them: an operator of low rank). A Krylov space sees one vector per
  /// eigenspace, so it becomes invariant after (number of distinct values) steps;
  /// the run must restart from random vectors, certify each copy, and return k
  /// values equal to LAPACK's, multiplicities included.
  @Test func repeatedEigenvaluesAreFoundByRestarts() async {
    await propertyCheck(count: 30, input: Gen.int(in: 8...40), Gen.int(in: 0...1_000_000), Gen.int(in: 1...6)) { n, seed, k in
      var rng = SeededGenerator(seed: UInt64(seed))
      let distinct = [3.0, 0, -1.5, 0.5].prefix(1 + Int(rng.next() % 4))
      let d = (0..<n).map { distinct[$0 % distinct.count] }
      let (a, _) = Fixture.withSpectrum(d, seed: UInt64(seed))
      let op = SymmetricOperator(matrix: a, n: n)
      let dense = Fixture.denseEigenvalues(a, n: n)
      let norm = max(Fixture.norm(dense), 1)
      guard let r = try? Lanczos(maxIterations: n, tolerance: Self.tau).extremes(top: k, bottom: k, of: op, seed: UInt64(seed))
      else {
        Issue.record("Lanczos threw")
        return
      }
      #expect(r.top.values.count == min(k, n) && r.bottom.values.count == min(k, n))
      #expect(r.converged)
      for (x, y) in zip(r.top.values, dense.reversed()) { #expect(abs(x - y) <= Self.valueTolerance * norm) }
      for (x, y) in zip(r.bottom.values, dense) { #expect(abs(x - y) <= Self.valueTolerance * norm) }
    }
  }

  /// Gaussian symmetric matrices (a semicircle of eigenvalues, no outliers: the
  /// hardest case for a Krylov method), run until the space is exhausted (m = n,
  /// tolerance 0): then Lanczos is Rayleigh–Ritz on the whole space and agrees with
  /// LAPACK to round-off. 1e-10·‖A‖: both are backward stable to ~nε‖A‖ ≈ 1e-14.
  @Test func exhaustedSpaceIsExact() async {
    await propertyCheck(count: 30, input: Gen.int(in: 1...50), Gen.int(in: 0...1_000_000), Gen.int(in: 1...5)) { n, seed, k in
      let a = Fixture.gaussianSymmetric(n, seed: UInt64(seed))
      let op = SymmetricOperator(matrix: a, n: n)
      let dense = Fixture.denseEigenvalues(a, n: n)
      let norm = max(Fixture.norm(dense), 1)
      guard let r = try? Lanczos(maxIterations: n, tolerance: 0).extremes(top: k, bottom: k, of: op, seed: UInt64(seed)) else {
        Issue.record("Lanczos threw")
        return
      }
      #expect(r.products <= n && r.converged)
      for (x, y) in zip(r.top.values, dense.reversed()) { #expect(abs(x - y) <= 1e-10 * norm) }
      for (x, y) in zip(r.bottom.values, dense) { #expect(abs(x - y) <= 1e-10 * norm) }
    }
  }

  /// The zero operator and the identity: invariant after one product from any
  /// start; k values by restarts, one product each.
  @Test func zeroAndIdentityOperators() throws {
    let n = 50
    let zero = SymmetricOperator(dimension: n) { _ in [Double](repeating: 0, count: n) }
    let identity = SymmetricOperator(dimension: n) { $0 }
    let lanczos = Lanczos(maxIterations: 40, tolerance: 1e-10)
    let z = try lanczos.top(3, of: zero)
    #expect(z.values == [0, 0, 0] && z.products == 3 && z.converged)
    let i = try lanczos.extremes(top: 4, bottom: 1, of: identity, vectors: true)
    // 1 ± round-off of a normalisation
    #expect(i.top.values.allSatisfy { abs($0 - 1) <= 1e-14 } && i.products == 4)
    #expect(abs(i.bottom.values[0] - 1) <= 1e-14)
    // the four Ritz vectors are orthonormal: they come from orthogonal restarts
    let y = i.top.vectors!
    for p in 0..<4 { for q in 0..<4 { #expect(abs(BLAS.dot(y[p], y[q]) - (p == q ? 1 : 0)) <= 1e-12) } }
  }

  @Test func invalidCountsThrow() {
    let op = SymmetricOperator(matrix: [2, 1, 1, 3], n: 2)
    #expect(throws: CurvatureError.self) { try Lanczos().top(0, of: op, warmStart: []) }
    #expect(throws: CurvatureError.self) { try Lanczos().bottom(0, of: op) }
    #expect(throws: CurvatureError.self) { try Lanczos().extremes(top: 0, bottom: 0, of: op) }
  }
}
