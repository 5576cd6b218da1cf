import Curvature
import LinearAlgebra
import PropertyBased
import Testing

/// The probe the training loop calls: dense and Lanczos paths, product accounting,
/// reported residuals, warm starts between measurements.
@Suite struct SpectrumProbeTests {
  /// On mid-size operators (n = 20…64) the dense path and Lanczos agree: values
  /// within 1e-9·‖A‖ (the Lanczos run stops at residual 1e-10·‖A‖, which bounds its
  /// distance to an eigenvalue; the dense values are exact to ~nε‖A‖); the dense
  /// path costs exactly n products and its residuals are round-off (≤ 1e-12·‖A‖:
  /// LAPACK's backward error, ~nε‖A‖ ≈ 1e-14·‖A‖, with margin).
  @Test func densePathEqualsLanczos() async {
    await propertyCheck(count: 30, input: Gen.int(in: 20...64), Gen.int(in: 0...1_000_000), Gen.int(in: 1...4)) { n, seed, k in
      let d = Fixture.indefiniteSpectrum(n, seed: UInt64(seed), negativeFactor: 1.5)
      let (a, _) = Fixture.withSpectrum(d, seed: UInt64(seed))
      let counter = ProductCounter()
      let op = counter.counting(a, n: n)
      let norm = Fixture.norm(d)
      let dense = SpectrumProbe(k: k, smallest: true, tolerance: 1e-10, maxIterations: n, denseLimit: n)
      var lanczos = dense
      lanczos.denseLimit = 0
      guard let x = try? dense.measure(op, seed: UInt64(seed)) else {
        Issue.record("dense probe threw")
        return
      }
      #expect(x.method == "dense" && x.products == n && counter.value == n)
      guard let y = try? lanczos.measure(op, seed: UInt64(seed)) else {
        Issue.record("Lanczos probe threw")
        return
      }
      #expect(y.method == "lanczos" && y.converged)
      #expect(x.values.count == k && y.values.count == k)
      for (p, q) in zip(x.values, y.values) { #expect(abs(p - q) <= 1e-9 * norm) }
      #expect(abs(x.lambdaMin! - y.lambdaMin!) <= 1e-9 * norm)
      #expect(x.residuals.allSatisfy { $0 <= 1e-12 * norm } && x.lambdaMinResidual! <= 1e-12 * norm)
      #expect(x.vectors.allSatisfy { abs(BLAS.nrm2($0) - 1) <= 1e-12 })
    }
  }

  /// The residual a Lanczos probe reports equals ‖Ay − θy‖ recomputed with the
  /// dense matrix and the returned vector, to 1e-11·‖A‖: both sides differ only by
  /// the round-off of the Lanczos relation AQ = QT + βqeᵀ (≈ √m·ε·‖A‖ with full
  /// reorthogonalisation, ~1e-14·‖A‖ at m ≤ 150) and of the product with A. The
  /// run is stopped early (tolerance 1e-6) so the residuals are far from zero and
  /// the comparison means something.
  @Test func reportedResidualsAreTheTrueOnes() async {
    await propertyCheck(count: 30, input: Gen.int(in: 70...150), Gen.int(in: 0...1_000_000), Gen.int(in: 1...4)) { n, seed, k in
      let d = Fixture.indefiniteSpectrum(n, seed: UInt64(seed), negativeFactor: 1.2)
      let (a, _) = Fixture.withSpectrum(d, seed: UInt64(seed))
      let op = SymmetricOperator(matrix: a, n: n)
      let norm = Fixture.norm(d)
      guard let s = try? SpectrumProbe(k: k, smallest: true, tolerance: 1e-6).measure(op, seed: UInt64(seed)) else {
        Issue.record("probe threw")
        return
      }
      for (theta, (y, reported)) in zip(s.values, zip(s.vectors, s.residuals)) {
        #expect(abs(BLAS.nrm2(y) - 1) <= 1e-12)
        #expect(abs(Fixture.residual(a, n: n, theta: theta, y: y) - reported) <= 1e-11 * norm)
      }
      let recomputed = Fixture.residual(a, n: n, theta: s.lambdaMin!, y: s.lambdaMinVector!)
      #expect(abs(recomputed - s.lambdaMinResidual!) <= 1e-11 * norm)
      #expect(s.residuals.allSatisfy { $0 <= 1e-6 * norm })
    }
  }

  /// `products` is the number of times the closure ran: for Lanczos (cold, warm,
  /// with restarts), for the dense path, and with the determinism check (2 more).
  @Test func productsCountClosureCalls() async {
    await propertyCheck(count: 30, input: Gen.int(in: 1...120), Gen.int(in: 0...1_000_000), Gen.int(in: 1...3), Gen.bool) {
      n, seed, k, check in
      let d = (0..<n).map { Double($0 % 5) }  // repeated values: restarts happen
      let (a, v) = Fixture.withSpectrum(d, seed: UInt64(seed))
      let probe = SpectrumProbe(k: k, smallest: seed % 2 == 0, tolerance: 1e-8, maxIterations: 60, denseLimit: 30,
                                determinismTolerance: check ? 0 : nil)
      for warm in [[], [Fixture.column(v, 0, n: n)]] {
        let counter = ProductCounter()
        guard let s = try? probe.measure(counter.counting(a, n: n), warmStart: warm, seed: UInt64(seed)) else {
          Issue.record("probe threw")
          return
        }
        #expect(s.products == counter.value)
        #expect(s.method == (n <= 30 ? "dense" : "lanczos"))
      }
    }
  }

  /// A second measurement warm-started from the first (`Spectrum.warmStart`, λ_min's
  /// vector included) after a small change of the operator costs fewer products.
  @Test func nextMeasurementIsCheaperWarm() throws {
    let n = 400
    var rng = SeededGenerator(seed: 11)
    var d = [12.0, 9, 7, 6]
    while d.count < n { d.append(2 * rng.nextUniform() - 0.5) }
    let (a, _) = Fixture.withSpectrum(d, seed: 11)
    // the operator 10 steps later: A + 1e-3·(symmetric noise)
    var b = a
    let noise = Fixture.gaussianSymmetric(n, seed: 12)
    BLAS.axpy(1e-3 / Double(n).squareRoot(), noise, &b)
    let probe = SpectrumProbe(k: 3, smallest: true, tolerance: 1e-6)
    let first = try probe.measure(SymmetricOperator(matrix: a, n: n), seed: 1)
    let cold = try probe.measure(SymmetricOperator(matrix: b, n: n), seed: 2)
    let warm = try probe.measure(SymmetricOperator(matrix: b, n: n), warmStart: first.warmStart, seed: 2)
    #expect(first.warmStart.count == 4)
    #expect(warm.products < cold.products, "warm \(warm.products) vs cold \(cold.products)")
    // both stopped at residual ≤ 1e-6·‖B‖, so each value is within that of an eigenvalue
    for (x, y) in zip(warm.values, cold.values) { #expect(abs(x - y) <= 2e-6 * 12) }
    #expect(abs(warm.lambdaMin! - cold.lambdaMin!) <= 2e-6 * 12)
  }

  @Test func invalidSettingsThrow() {
    let op = SymmetricOperator(matrix: [2, 1, 1, 3], n: 2)
    #expect(throws: CurvatureError.self) { try SpectrumProbe(k: 0).measure(op) }
    #expect(throws: CurvatureError.self) { try SpectrumProbe(tolerance: -1).measure(op) }
    #expect(throws: CurvatureError.self) { try SpectrumProbe(tolerance: .nan).measure(op) }
    #expect(throws: CurvatureError.self) { try SpectrumProbe(maxIterations: 0).measure(op) }
  }

  /// k larger than the dimension: all n values, from either path.
  @Test func moreValuesThanDimension() throws {
    let op = SymmetricOperator(matrix: [2, 1, 1, 3], n: 2)
    let dense = try SpectrumProbe(k: 5, smallest: true).measure(op)
    let lanczos = try SpectrumProbe(k: 5, smallest: true, denseLimit: 0).measure(op)
    let exact = [(5 + 5.0.squareRoot()) / 2, (5 - 5.0.squareRoot()) / 2]
    // 2×2: both are exact to a few ulps of ‖A‖ ≈ 3.6
    for s in [dense, lanczos] {
      #expect(s.values.count == 2 && s.converged)
      for (x, y) in zip(s.values, exact) { #expect(abs(x - y) <= 1e-14) }
      #expect(abs(s.lambdaMin! - exact[1]) <= 1e-14)
    }
  }
}
