import Curvature
import Foundation
import LinearAlgebra
import PropertyBased
import Testing

/// The operator-level checks: determinism, and D^{-1/2}AD^{-1/2} entry by entry.
@Suite struct OperatorChecksTests {
  @Test func deterministicOperatorPasses() async {
    await propertyCheck(count: 20, input: Gen.int(in: 1...60), Gen.int(in: 0...1_000_000)) { n, seed in
      let op = SymmetricOperator(matrix: Fixture.gaussianSymmetric(n, seed: UInt64(seed)), n: n)
      #expect((try? op.checkDeterministic(seed: UInt64(seed))) == 0)
    }
  }

  /// An operator that changes between calls (here: scaled by 1 + 1e-9·calls, a
  /// relative drift of 1e-9) fails the exact check and any tolerance below its
  /// drift, and passes a tolerance above it.
  @Test func driftingOperatorIsCaught() throws {
    let n = 30
    let a = Fixture.gaussianSymmetric(n, seed: 5)
    let counter = ProductCounter()
    let inner = SymmetricOperator(matrix: a, n: n)
    let drifting = SymmetricOperator(dimension: n) { v in
      counter.tick()
      let scale = 1 + 1e-9 * Double(counter.value)
      return try inner.apply(v).map { $0 * scale }
    }
    #expect(throws: CurvatureError.self) { try drifting.checkDeterministic() }
    #expect(throws: CurvatureError.self) { try drifting.checkDeterministic(tolerance: 1e-10) }
    let found = try drifting.checkDeterministic(tolerance: 1e-8)
    // the two calls differ by a factor (1 + (c+1)·1e-9)/(1 + c·1e-9) ≈ 1 + 1e-9
    #expect(abs(found - 1e-9) <= 1e-11)
    do {
      try drifting.checkDeterministic()
      Issue.record("no error")
    } catch let error as CurvatureError {
      guard case let .nondeterministic(message) = error else {
        Issue.record("wrong error \(error)")
        return
      }
      #expect(message.contains("not deterministic") && message.contains("tolerance 0"))
    }
    // the probe's own check, when asked for
    #expect(throws: CurvatureError.self) { try SpectrumProbe(determinismTolerance: 0).measure(drifting) }
    #expect(throws: CurvatureError.self) { try inner.checkDeterministic(tolerance: -1) }
  }

  /// materialized(D^{-1/2}AD^{-1/2}) equals s_i·a_ij·s_j (s = 1/√d) built densely,
  /// entry by entry, and is symmetric, for D spanning six decades (Adam's P does).
  /// Tolerance 4ε·|entry|: each side rounds the two products in its own order (two
  /// roundings each), so they differ by at most about 4 ulps.
  @Test func preconditionedOperatorIsDInvSqrtADInvSqrtEntrywise() async {
    await propertyCheck(count: 30, input: Gen.int(in: 1...40), Gen.int(in: 0...1_000_000)) { n, seed in
      var rng = SeededGenerator(seed: UInt64(seed) &+ 3)
      let a = Fixture.gaussianSymmetric(n, seed: UInt64(seed))
      let d = (0..<n).map { _ in pow(10, 6 * rng.nextUniform() - 3) }
      guard let m = try? SymmetricOperator(matrix: a, n: n).preconditioned(by: d).materialized() else {
        Issue.record("failed")
        return
      }
      let s = d.map { 1 / $0.squareRoot() }
      let eps = Double.ulpOfOne
      for i in 0..<n {
        for j in 0..<n {
          let expected = s[i] * a[i * n + j] * s[j]
          #expect(abs(m[i * n + j] - expected) <= 4 * eps * abs(expected))
          #expect(abs(m[i * n + j] - m[j * n + i]) <= 4 * eps * abs(expected))
        }
      }
    }
  }
}
