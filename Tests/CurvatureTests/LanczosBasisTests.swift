@testable import Curvature
import LinearAlgebra
import PropertyBased
import Testing

/// The invariant everything rests on: the stored Krylov basis stays orthonormal
/// (full reorthogonalisation), through long runs, clusters and restarts.
@Suite struct LanczosBasisTests {
  /// ‖QQᵀ − I‖max over the whole basis of a run taken to m = n (all n values
  /// wanted, tolerance 0), on spectra with clusters and exact repeats (so blocks
  /// close and restart).
  /// Tolerance 1e-12: each new vector is orthogonal to the basis to O(ε) after the
  /// passes (DGKS), so the Gram matrix is off by about m·ε ≤ 2e-14 at m ≤ 90; a
  /// missing pass loses orthogonality to 1e-8 and worse within a few dozen steps.
  @Test func basisStaysOrthonormal() async {
    await propertyCheck(count: 30, input: Gen.int(in: 10...90), Gen.int(in: 0...1_000_000), Gen.int(in: 0...2)) { n, seed, kind in
      var rng = SeededGenerator(seed: UInt64(seed))
      let d: [Double] = (0..<n).map { i in
        switch kind {
        case 0: 10 * (1 + 1e-6 * Double(i % 3)) * Double(1 + i / 3) / Double(n)  // tight clusters of 3
        case 1: [4.0, 0, -2][i % 3]  // three distinct values: restarts
        default: rng.nextNormal()
        }
      }
      let (a, _) = Fixture.withSpectrum(d, seed: UInt64(seed))
      var run = LanczosRun(
        op: SymmetricOperator(matrix: a, n: n), top: n, bottom: 0, budget: n, tolerance: 0, seed: UInt64(seed))
      guard (try? run.solve(start: .warm([]), vectors: false)) != nil else {
        Issue.record("Lanczos threw")
        return
      }
      #expect(run.rows == n)
      let gram = BLAS.matmul(run.basis, run.basis, m: run.rows, n: run.rows, k: n, transposeB: true)
      var worst = 0.0
      for i in 0..<run.rows { for j in 0..<run.rows { worst = max(worst, abs(gram[i * run.rows + j] - (i == j ? 1 : 0))) } }
      #expect(worst <= 1e-12, "‖QQᵀ − I‖max = \(worst)")
    }
  }
}
