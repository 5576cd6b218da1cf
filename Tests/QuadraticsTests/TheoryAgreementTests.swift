import LinearAlgebra
import Optimizers
import PropertyBased
import TestSupport
import Quadratics
import Testing

@Suite struct TheoryAgreementTests {
  /// Frozen Adam on random quadratics diverges iff λ₁(P⁻¹A) > 38/η (β₁ = 0.9).
  /// Margins: unstable runs have λ₁(P⁻¹A)·η/38 ∈ [1.05, 2] (growth factor ≥ 1.48,
  /// so 1e150 is reached within ~900 steps; 3 000 are run); stable ones ∈ [0.1, 0.95].
  @Test func frozenAdamDivergesIffAboveThreshold() async throws {
    await propertyCheckThrowing(
      count: 40, input: Gen.int(in: 2...8), Gen.double(in: 1...100), Gen.int(in: 0...Int(Int32.max)),
      Gen.double(in: 0.01...4).array(of: 8), Gen.bool(), Gen.double(in: 0...1), Gen.double(in: -1...1).array(of: 8)
    ) { n, kappa, seed, nuAll, unstable, u, w in
      let q = try Quadratic.randomSPD(dimension: n, condition: kappa, seed: UInt64(seed))
      let nu = Array(nuAll.prefix(n))
      let p = nu.map { $0.squareRoot() + 1e-7 }
      let spectrum = try q.preconditionedSpectrum(p)
      let lambda1 = spectrum.values.last!
      let ratio = unstable ? 1.05 + 0.95 * u : 0.1 + 0.85 * u
      let eta = ratio * 38 / lambda1
      let opt = try Optimizer(.frozenAdam, Hyperparameters(lr: eta), parameterCount: n)
      #expect(abs(try opt.threshold() * eta / 38 - 1) < 1e-9)
      // x₀ = P^{-1/2}(v₁ + 0.1·w/‖w‖∞·…): its top component is ≥ 0.9 − ~0.3, never ~0.
      let y = (0..<n).map { spectrum.top[$0] + 0.1 * w[$0] / Double(n).squareRoot() }
      let x0 = (0..<n).map { y[$0] / p[$0].squareRoot() }
      let r = try q.simulate(opt, SimulationSettings(steps: 3000, x0: x0, secondMoment0: nu))
      #expect(r.diverged == unstable, "ratio \(ratio), λ₁ \(lambda1), η \(eta)")
      #expect(abs(try #require(r.records[0].preconditionedSharpness) / lambda1 - 1) < 1e-12)
    }
  }

  /// For random (η, β, spectrum) the empirical growth rate of each frozen method
  /// matches ρ of the theory (`Dynamics`) at its most unstable eigenvalue.
  /// Spectrum: one eigenvalue at c ∈ [1.1, 2] × threshold, the others in
  /// [0.05, 0.9] × threshold (of P⁻¹A for the preconditioned ones, with a fixed P),
  /// so the top mode dominates fast (ρ ≳ 1.2: divergence within ~2 000 steps).
  /// Tolerance 2%: the least-squares slope over the last half of ≥ ~150 steps is
  /// off by O(log t/t) only near double roots.
  @Test func growthRateMatchesTheory() async throws {
    let kinds: [OptimizerKind] = [.gd, .hb, .emaHB, .nesterov, .emaNesterov, .frozenAdam, .adamw]
    await propertyCheckThrowing(
      count: 35, input: Gen.int(in: 0...(kinds.count - 1)).map { kinds[$0] }, Gen.double(in: 1e-3...1),
      Gen.double(in: 0...0.95), Gen.double(in: 1.1...2), Gen.double(in: 0.05...0.9).array(of: 0...4), Gen.double(in: 0...0.1)
    ) { kind, eta, beta, c, others, wd in
      let h = Hyperparameters(lr: eta, beta1: beta, weightDecay: kind == .adamw ? wd : 0)
      let n = others.count + 1
      let opt = try Optimizer(kind, h, parameterCount: n)
      let threshold = try opt.threshold()
      let lambdas = [c * threshold] + others.map { $0 * threshold }
      // Adaptive methods run with a fixed P (random, so λ/P is the curvature that counts).
      let p = (0..<n).map { 0.5 + Double($0) * 0.25 }
      let scaled = kind.isPreconditioned ? zip(lambdas, p).map { $0 * $1 } : lambdas
      let q = try Quadratic(eigenvalues: scaled)
      let settings = SimulationSettings(
        steps: 20_000, x0: [Double](repeating: 1, count: n), fixedPreconditioner: kind.isPreconditioned ? p : nil)
      let r = try q.simulate(opt, settings)
      let rho = try opt.growthFactor(eigenvalue: lambdas[0])
      #expect(r.diverged)
      let rate = try #require(r.growthRate)
      #expect(abs(rate / rho - 1) < 0.02, "\(kind) η=\(eta) β=\(beta) c=\(c): \(rate) vs ρ = \(rho)")
      #expect(abs(try #require(r.predictedGrowthRate) / rho - 1) < 1e-6)
    }
  }

  /// Stable single-mode runs decay at the theory's rate too.
  @Test func stableDecayMatchesTheory() async throws {
    let kinds: [OptimizerKind] = [.gd, .hb, .emaHB, .nesterov, .emaNesterov]
    await propertyCheckThrowing(
      count: 40, input: Gen.int(in: 0...(kinds.count - 1)).map { kinds[$0] }, Gen.double(in: 1e-3...1),
      Gen.double(in: 0...0.9), Gen.double(in: 0.3...0.9)
    ) { kind, eta, beta, c in
      let opt = try Optimizer(kind, Hyperparameters(lr: eta, beta1: beta), parameterCount: 1)
      let lambda = c * (try opt.threshold())
      let rho = try opt.growthFactor(eigenvalue: lambda)
      let r = try Quadratic(eigenvalues: [lambda]).simulate(opt, SimulationSettings(steps: 4000, x0: [1]))
      #expect(!r.diverged)
      // Near-exact cancellation (e.g. gd at ηλ ≈ 1) leaves too few points: no estimate then.
      guard rho > 0.05, let rate = r.growthRate else { return }
      // Complex roots of equal modulus and double roots make log‖g‖ wobble by
      // O(1) around the line; over ≥ ~1000 steps that is < 2%.
      #expect(abs(rate - rho) < 0.02, "\(kind) η=\(eta) β=\(beta) c=\(c): \(rate) vs ρ = \(rho)")
    }
  }

  @Test func empiricalGrowthOfAGeometricSequence() async throws {
    await propertyCheckThrowing(count: 50, input: Gen.double(in: 0.2...3), Gen.int(in: 10...200)) { rho, len in
      let norms2 = (0..<len).map { pow2(rho, $0) }
      let rate = try #require(EmpiricalGrowth.estimate(squaredNorms: norms2))
      // Exact geometric sequence: only rounding in log/exp.
      #expect(abs(rate / rho - 1) < 1e-9)
    }
    #expect(EmpiricalGrowth.estimate(squaredNorms: [1, 0, 0, 0, 0]) == nil)
  }
}

/// (ρ^t)² computed without overflow in the test's range.
func pow2(_ rho: Double, _ t: Int) -> Double {
  var v = 1.0
  for _ in 0..<t { v *= rho * rho }
  return v
}
