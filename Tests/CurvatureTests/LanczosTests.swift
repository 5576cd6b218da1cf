import Curvature
import LinearAlgebra
import PropertyBased
import TestSupport
import Testing

func randomSymmetric(_ n: Int, seed: Int) -> [Double] {
  var rng = SeededGenerator(seed: UInt64(seed))
  var a = [Double](repeating: 0, count: n * n)
  for i in 0..<n {
    for j in i..<n {
      let v = rng.nextNormal()
      a[i * n + j] = v
      a[j * n + i] = v
    }
  }
  return a
}

@Suite struct LanczosTests {
  /// With as many iterations as the dimension, Lanczos with full
  /// reorthogonalisation is an exact Rayleigh–Ritz on the whole space: top-k agree
  /// with LAPACK's dense eigenvalues to round-off, 1e-9·‖A‖ (n ≤ 30, entries N(0,1)).
  @Test func topKMatchesDense() async {
    await propertyCheck(count: 40, input: Gen.int(in: 1...30), Gen.int(in: 0...1_000_000), Gen.int(in: 1...4)) { n, seed, kRaw in
      let k = min(kRaw, n)
      let a = randomSymmetric(n, seed: seed)
      let op = SymmetricOperator(matrix: a, n: n)
      guard let dense = try? Eigen.symmetric(a, n: n, vectors: false),
        let r = try? Lanczos(maxIterations: n, tolerance: 1e-12).top(k, of: op, seed: UInt64(seed), vectors: true)
      else {
        Issue.record("eigensolver failed")
        return
      }
      let norm = dense.values.map(abs).max() ?? 1
      let expected = Array(dense.values.reversed().prefix(k))
      #expect(r.values.count == k)
      for (x, y) in zip(r.values, expected) { #expect(abs(x - y) <= 1e-9 * max(norm, 1)) }
      // Ritz vectors: ‖Ay − θy‖ small
      for (theta, y) in zip(r.values, r.vectors ?? []) {
        let ay = BLAS.matmul(a, y, m: n, n: 1, k: n)
        let res = zip(ay, y).map { $0 - theta * $1 }
        #expect(BLAS.nrm2(res) <= 1e-6 * max(norm, 1))
      }
    }
  }

  /// D^{-1/2}AD^{-1/2} has the eigenvalues of D⁻¹A (similar matrices). Compared with
  /// LAPACK's nonsymmetric solver on D⁻¹A; relative 1e-8 (both backward stable,
  /// D within [0.1, 10] so the condition stays moderate). Every failure — of the
  /// operator, of its materialisation, of either reference solver — fails the
  /// case; both solvers must return all n eigenvalues.
  @Test func preconditionedOperatorHasEigenvaluesOfDInverseA() async {
    await propertyCheckThrowing(count: 40, input: Gen.int(in: 1...12), Gen.int(in: 0...1_000_000)) { n, seed in
      var rng = SeededGenerator(seed: UInt64(seed) &+ 7)
      let a = randomSymmetric(n, seed: seed)
      let d = (0..<n).map { _ in 0.1 + 9.9 * rng.nextUniform() }
      let op = try SymmetricOperator(matrix: a, n: n).preconditioned(by: d)
      let m = try op.materialized()
      let sym = try Eigen.symmetric(m, n: n, vectors: false)
      var dInvA = a
      for i in 0..<n { for j in 0..<n { dInvA[i * n + j] /= d[i] } }
      let general = try Eigen.eigenvalues(general: dInvA, n: n).map(\.re).sorted()
      #expect(sym.values.count == n)
      #expect(general.count == n)
      let scale = max(sym.values.map(abs).max() ?? 1, 1)
      for (x, y) in zip(sym.values, general) { #expect(abs(x - y) <= 1e-8 * scale, "\(sym.values) vs \(general)") }
      // D^{-1/2}AD^{-1/2} is symmetric up to round-off: uᵀAv and vᵀAu differ by the
      // errors of length-n products, ~n·ε relative to ‖u‖‖A‖‖v‖, which is at most
      // κ(D) ≤ 100 times the scale ‖u‖‖Av‖ used: n·ε·100 ≈ 3e-13 for n ≤ 12
      #expect(try op.asymmetry() < 1e-12)
    }
  }

  /// Where plain Lanczos fails: a few well-separated large eigenvalues (100, 90, 80)
  /// over n − 3 small ones. The large Ritz values converge within a few iterations;
  /// after that, three-term Lanczos in floating point loses orthogonality (Paige) and
  /// the converged values come back as ghost copies, so its top-4 after 80 steps
  /// repeats 100. With full reorthogonalisation the top-4 are the true ones.
  ///
  /// The spectrum is diagonal (Lanczos sees only the spectrum and the start vector,
  /// and the start vector is random) with a fourth eigenvalue 1 above the rest in
  /// [0, 0.5], so that even the fourth converges well inside 80 iterations (its gap
  /// to the rest is as large as the rest's width). Tolerance 0: no early stop on a
  /// small residual, only on an exactly zero one (the tridiagonal eigensolver
  /// deflates) or an invariant Krylov space.
  /// Ritz values of a reorthogonalised Lanczos are backward stable: each is within
  /// a small multiple of ε·‖A‖·√m of an eigenvalue, ~1e-12 here; 1e-9·‖A‖ = 1e-7
  /// leaves room and is still 10⁸ times smaller than the gaps between the top four,
  /// so a ghost (a repeat of a larger value) cannot pass as the next eigenvalue.
  @Test func fullReorthogonalisationHasNoGhosts() async {
    await propertyCheckThrowing(count: 8, input: Gen.int(in: 300...500), Gen.int(in: 0...1_000_000)) { n, seed in
      var rng = SeededGenerator(seed: UInt64(seed) &+ 11)
      let diagonal = [100, 90, 80, 1] + (0..<(n - 4)).map { _ in 0.5 * rng.nextUniform() }
      let op = SymmetricOperator(dimension: n) { v in zip(diagonal, v).map(*) }
      let r = try Lanczos(maxIterations: 80, tolerance: 0).top(4, of: op, seed: UInt64(seed))
      let tolerance = 1e-9 * 100
      #expect(r.iterations <= 80)
      #expect(r.values.count == 4)
      for (x, y) in zip(r.values, [100.0, 90, 80, 1]) {
        #expect(abs(x - y) <= tolerance, "top-4 \(r.values), expected [100, 90, 80, 1]")
      }
      // no ghosts: each value is clearly below every larger one
      for i in r.values.indices.dropFirst() {
        #expect(r.values[i] < r.values[i - 1] - tolerance, "value \(i) repeats a larger one: \(r.values)")
      }
    }
  }

  @Test func powerIterationAgreesOnPSD() throws {
    // A = BᵀB + I is PSD with a dominant top eigenvalue
    let n = 10
    let b = randomSymmetric(n, seed: 3)
    var a = BLAS.matmul(b, b, m: n, n: n, k: n, transposeA: true)
    for i in 0..<n { a[i * n + i] += 1 }
    let op = SymmetricOperator(matrix: a, n: n)
    let top = try Lanczos(maxIterations: n).top(1, of: op).values[0]
    let power = try Lanczos.powerIteration(op, iterations: 2000)
    #expect(abs(top - power) <= 1e-6 * top)
  }

  @Test func errorsAndChecks() throws {
    let op = SymmetricOperator(matrix: [2, 1, 1, 3], n: 2)
    #expect(throws: CurvatureError.self) { try op.apply([1, 2, 3]) }
    #expect(throws: CurvatureError.self) { try op.preconditioned(by: [1, 0]) }
    #expect(throws: CurvatureError.self) { try op.preconditioned(by: [1, .nan]) }
    let nonsymmetric = SymmetricOperator(dimension: 2) { v in [v[0] + 5 * v[1], v[1]] }
    #expect(try nonsymmetric.asymmetry() > 0.1)
    let nan = SymmetricOperator(dimension: 2) { _ in [.nan, 0] }
    #expect(throws: CurvatureError.self) { try Lanczos().top(1, of: nan) }
    #expect(try op.materialized() == [2, 1, 1, 3])
  }
}
