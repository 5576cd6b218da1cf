import Optimizers
import Quadratics
import Testing

/// The AEoS paper's (Cohen et al. 2022) quadratic figures, with their own settings.
@Suite struct FigureTests {
  static func oneD(_ kind: OptimizerKind, _ h: Hyperparameters, steps: Int, m0: Double? = nil, nu0: Double? = nil) throws -> SimulationResult {
    let q = try Quadratic(eigenvalues: [1])
    let opt = try Optimizer(kind, h, parameterCount: 1)
    return try q.simulate(opt, SimulationSettings(steps: steps, x0: [1], momentum0: m0.map { [$0] }, secondMoment0: nu0.map { [$0] }))
  }

  /// Figure 2: EMA-HB(η, 0.9) on ½x² diverges iff η > 38. At η = 38.1 the growth
  /// factor is ≈ 1.065, so reaching 1e150 takes ≈ 5 500 steps: 20 000 suffice.
  @Test(arguments: [1.0, 37, 37.9, 38.1, 39])
  func figure2(eta: Double) throws {
    let r = try Self.oneD(.emaHB, Hyperparameters(lr: eta, beta1: 0.9), steps: 20_000)
    #expect(r.diverged == (eta > 38))
    // The threshold comes from Dynamics: 38/η on λ, i.e. λ = 1 is stable iff η < 38.
    #expect(abs(try #require(r.threshold) * eta - 38) < 1e-9)
    if !r.diverged {
      // Stable runs have converged (growth factor ≤ 0.95 at these η: |z| = √0.9 for complex roots).
      #expect(r.records.last!.xNorm2 < 1e-20)
    } else {
      // Divergent runs stop at the overflow bound, and report that step.
      #expect(r.divergedAt == r.records.last!.step)
      #expect(r.records.last!.xNorm2.squareRoot() > 1e150)
      #expect(r.divergedAt! < 20_000)
    }
  }

  /// Figure 17: EMA-HB(η, 0.9), x₀ = 1, m₀ = 0.2: stable, yet within 30 steps
  /// max ‖∇f‖² reaches ≈ 6.35, 21.2 and 491 (the paper's numbers, 3 significant digits).
  @Test(arguments: [(10.0, 6.35), (20, 21.2), (37, 491)])
  func figure17(eta: Double, peak: Double) throws {
    let r = try Self.oneD(.emaHB, Hyperparameters(lr: eta, beta1: 0.9), steps: 30, m0: 0.2)
    #expect(!r.diverged)
    #expect(r.records[0].gradNorm2 == 1)
    let maximum = r.records.map(\.gradNorm2).max()!
    // The paper rounds to 3 significant digits: 0.5% relative.
    #expect(abs(maximum - peak) / peak < 0.005, "max ‖∇f‖² = \(maximum)")
    // …and the method is stable there: the run decays afterwards.
    let long = try Self.oneD(.emaHB, Hyperparameters(lr: eta, beta1: 0.9), steps: 3000, m0: 0.2)
    #expect(long.records.last!.gradNorm2 < 1e-10)
  }

  /// Figure 12: rmsprop on ½x², x₀ = 1, ν₀ = 1. At η = 2.2 > 2 (the frozen
  /// threshold 2/η on λ/P with P ≈ 1 is exceeded) the iterate oscillates
  /// explosively for finitely many steps, until ν has grown enough that
  /// λ/P ≤ 2/η; then it stays bounded — on a period-2 orbit |x| ≈ η/2, not at 0.
  @Test(arguments: [(2.2, 0.999), (2.2, 0.99), (2.2, 0.975), (2.1, 0.999), (2.3, 0.999)])
  func figure12(eta: Double, beta2: Double) throws {
    let steps = 20_000
    let r = try Self.oneD(.rmsprop, Hyperparameters(lr: eta, beta2: beta2), steps: steps, nu0: 1)
    #expect(!r.diverged)
    let xs = r.records.map { $0.xNorm2.squareRoot() }
    let peakStep = xs.indices.max { xs[$0] < xs[$1] }!
    // Explosive: |x| grows well beyond |x₀| = 1 (the smallest peak, β₂ = 0.975, is ≈ 1.97)…
    #expect(xs[peakStep] > 1.5)
    // …for finitely many steps (the peak comes within the first 100)…
    #expect(peakStep < 100)
    // …because P has risen to the edge: λ₁(P⁻¹A) = 1/P → 2/η (within 5%) and stays ≤ it.
    let lastSharpness = try #require(r.records.last?.preconditionedSharpness)
    #expect(abs(lastSharpness * eta / 2 - 1) < 0.05)
    // Bounded afterwards: over the last half |x| stays within 20% of η/2.
    for x in xs[(steps / 2)...] { #expect(abs(x / (eta / 2) - 1) < 0.2) }
  }
}
