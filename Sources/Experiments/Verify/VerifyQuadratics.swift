import Foundation
import Quadratics
import LinearAlgebra

extension Verify {
  /// Layer 2 against layer 1: the optimizers on quadratics, where the theory is
  /// exact for frozen methods and breaks in the paper's known ways for adaptive ones.
  /// - Parameter thresholdScale: multiplies the thresholds the outcomes are predicted
  ///   from (1 in `aeos verify`; a test sets another to see the checks fail).
  public static func quadraticChecks(thresholdScale: Double = 1) -> [Check] {
    var checks: [Check] = []
    func oneD(_ kind: OptimizerKind, _ h: Hyperparameters, steps: Int, m0: Double? = nil, nu0: Double? = nil) throws -> SimulationResult {
      let q = try Quadratic(eigenvalues: [1])
      let opt = try Optimizer(kind, h, parameterCount: 1)
      return try q.simulate(opt, SimulationSettings(steps: steps, x0: [1], momentum0: m0.map { [$0] }, secondMoment0: nu0.map { [$0] }))
    }
    // Figure 2: EMA-HB(η, 0.9) on ½x² diverges iff η > 38.
    let edge = 38 * thresholdScale
    for eta in [1.0, 37, 37.9, 38.1, 39] {
      let r = try? oneD(.emaHB, Hyperparameters(lr: eta, beta1: 0.9), steps: 20_000)
      let expected = eta > edge ? "diverges" : "converges"
      let got = r.map { $0.diverged ? "diverges at step \($0.divergedAt ?? -1)" : "converges" } ?? "error"
      checks.append(Check(layer: "quadratics", name: "Figure 2: ema-hb(η = \(formatHuman(eta)), 0.9) on ½x²", expected: expected,
                          measured: got, passed: r.map { $0.diverged == (eta > edge) } ?? false))
    }
    // Figure 17: stable, yet the gradient is inflated within 30 steps.
    for (eta, peak) in [(10.0, 6.35), (20, 21.2), (37, 491)] {
      let r = try? oneD(.emaHB, Hyperparameters(lr: eta, beta1: 0.9), steps: 30, m0: 0.2)
      let maximum = r?.records.map(\.gradNorm2).max()
      checks.append(Check(layer: "quadratics", name: "Figure 17: max ‖∇f‖² in 30 steps, ema-hb(η = \(formatHuman(eta))), m₀ = 0.2",
                          expected: "≈ \(formatHuman(peak))", measured: maximum.map { String(format: "%.4g", $0) } ?? "error",
                          passed: maximum.map { abs($0 - peak) / peak < 0.005 } ?? false))
    }
    // Figure 12: rmsprop self-stabilises: P rises until λ/P ≤ 2/η.
    for beta2 in [0.999, 0.99, 0.975] {
      let eta = 2.2
      let r = try? oneD(.rmsprop, Hyperparameters(lr: eta, beta2: beta2), steps: 5_000, nu0: 1)
      let edge = r?.records.last?.preconditionedSharpness.map { $0 * eta / 2 }
      let peak = r?.records.map { $0.xNorm2.squareRoot() }.max()
      let ok = r.map { !$0.diverged } == true && (peak ?? 0) > 1.5 && edge.map { abs($0 - 1) < 0.05 } == true
      checks.append(Check(layer: "quadratics", name: "Figure 12: rmsprop(η = 2.2, β₂ = \(beta2)) on ½x², ν₀ = 1",
                          expected: "explodes, then bounded with λ₁(P⁻¹A) → 2/η",
                          measured: "peak |x| \(peak.map { String(format: "%.3g", $0) } ?? "?"), final λ₁(P⁻¹A)/(2/η) \(edge.map { String(format: "%.4f", $0) } ?? "?")",
                          passed: ok))
    }
    // Frozen Adam on a random quadratic: diverges iff λ₁(P⁻¹A) > 38/η.
    do {
      let q = try Quadratic.randomSPD(dimension: 20, condition: 50, seed: 7)
      var rng = SeededGenerator(seed: 11)
      let p = (0..<20).map { _ in 0.5 + rng.nextUniform() }
      let top = try q.preconditionedSpectrum(p).values.max() ?? 1
      for factor in [0.95, 1.05] {
        let eta = factor * 38 / top
        let opt = try Optimizer(.frozenAdam, Hyperparameters(lr: eta, beta1: 0.9), parameterCount: 20)
        let r = try q.simulate(opt, SimulationSettings(steps: 20_000, x0: [Double](repeating: 1, count: 20), fixedPreconditioner: p))
        checks.append(Check(layer: "quadratics", name: "frozen Adam, random 20-d quadratic, λ₁(P⁻¹A) = \(formatHuman(factor))× 38/η",
                            expected: factor > 1 ? "diverges" : "converges", measured: r.diverged ? "diverges" : "converges",
                            passed: r.diverged == (factor > 1)))
      }
    } catch {
      checks.append(Check(layer: "quadratics", name: "frozen Adam on a random quadratic", expected: "runs", measured: "error: \(error)", passed: false))
    }
    // Empirical growth of a frozen method matches ρ(λ) of the theory.
    for (kind, f) in [(OptimizerKind.emaHB, 1.3), (.nesterov, 1.2), (.gd, 1.5)] {
      let h = Hyperparameters(lr: 0.1, beta1: 0.9)
      guard let t = try? kind.frozenRecurrence(h).threshold(lr: 0.1),
        let q = try? Quadratic(eigenvalues: [f * t]), let opt = try? Optimizer(kind, h, parameterCount: 1),
        let r = try? q.simulate(opt, SimulationSettings(steps: 400, x0: [1])),
        let measured = r.growthRate, let predicted = r.predictedGrowthRate
      else {
        checks.append(Check(layer: "quadratics", name: "growth rate, \(kind.rawValue)", expected: "ρ", measured: "error", passed: false))
        continue
      }
      checks.append(Check(layer: "quadratics", name: "empirical growth vs ρ(λ), \(kind.rawValue) at \(formatHuman(f))× threshold",
                          expected: String(format: "%.6f", predicted), measured: String(format: "%.6f", measured),
                          passed: abs(measured - predicted) < 1e-3 * predicted))
    }
    return checks
  }
}
