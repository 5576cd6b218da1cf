import Dynamics
import Optimizers
import PropertyBased
import TestSupport
import Testing

/// Each method, run on a diagonal quadratic (coordinate-wise curvature λᵢ, P fixed),
/// equals its scalar recurrence written in x alone, derived by hand here
/// independently of the optimizer code:
///
/// - gd: x' = (1 − ηλ)x
/// - hb: x_{t+1} = (1 + β)x_t − βx_{t−1} − ηλx_t
/// - ema-hb: x_{t+1} = (1 + β)x_t − βx_{t−1} − η(1 − β)λx_t
/// - nesterov: x_{t+1} = (1 + β)(1 − ηλ)x_t − β(1 − ηλ)x_{t−1}
/// - ema-nesterov: the same with λ → (1 − β)λ
/// - with decoupled decay w: x_{t+1} = (1 + β − ηw)x_t − β(1 − ηw)x_{t−1} − η(1 − β)λx_t
///
/// with x₁ from the first step from m₀ = 0. Preconditioned methods use λ/Pᵢ once frozen.
@Suite struct RecurrenceFormTests {
  /// x-only recurrence for a frozen recurrence name: (x_{t−1}, x_t, λ) → x_{t+1}, and x₁ from x₀.
  static func scalarForm(_ kind: OptimizerKind, eta: Double, beta: Double, wd: Double)
    -> (first: (Double, Double) -> Double, next: (Double, Double, Double) -> Double)
  {
    switch kind.frozenRecurrence(Hyperparameters(lr: eta, beta1: beta, weightDecay: wd)).name {
    case "gd":
      return ({ x, l in (1 - eta * l) * x }, { _, x, l in (1 - eta * l) * x })
    case "hb":
      return ({ x, l in x - eta * l * x }, { xp, x, l in (1 + beta) * x - beta * xp - eta * l * x })
    case "ema-hb":
      return ({ x, l in x - eta * (1 - beta) * l * x }, { xp, x, l in (1 + beta) * x - beta * xp - eta * (1 - beta) * l * x })
    case "nesterov":
      return ({ x, l in x - eta * (1 + beta) * l * x }, { xp, x, l in (1 + beta) * (1 - eta * l) * x - beta * (1 - eta * l) * xp })
    case "ema-nesterov":
      return (
        { x, l in x - eta * (1 + beta) * (1 - beta) * l * x },
        { xp, x, l in
          let k = 1 - eta * (1 - beta) * l
          return (1 + beta) * k * x - beta * k * xp
        }
      )
    case "ema-hb with decoupled decay":
      return (
        { x, l in (1 - eta * wd) * x - eta * (1 - beta) * l * x },
        { xp, x, l in (1 + beta - eta * wd) * x - beta * (1 - eta * wd) * xp - eta * (1 - beta) * l * x }
      )
    default:
      Issue.record("no hand-written form for \(kind)")
      return ({ x, _ in x }, { _, x, _ in x })
    }
  }

  @Test func linearMethodsEqualTheirRecurrence() async throws {
    let linear: [OptimizerKind] = [.gd, .hb, .emaHB, .nesterov, .emaNesterov]
    await propertyCheckThrowing(
      count: 60, input: Gen.int(in: 0...4).map { linear[$0] }, Gen.double(in: 0.001...1), Gen.double(in: 0...0.99),
      Gen.double(in: 0.01...10).array(of: 1...4)
    ) { kind, eta, beta, lambdas in
      let opt = try Optimizer(kind, Hyperparameters(lr: eta, beta1: beta), parameterCount: lambdas.count)
      let x0 = lambdas.indices.map { Double($0) + 1 }
      let traj = try trajectory(opt, curvatures: lambdas, x0: x0, steps: 12)
      let form = Self.scalarForm(kind, eta: eta, beta: beta, wd: 0)
      for i in lambdas.indices {
        var expected = [x0[i], form.first(x0[i], lambdas[i])]
        for t in 1..<12 { expected.append(form.next(expected[t - 1], expected[t], lambdas[i])) }
        // Both sides round differently: allow 1e-9 of the largest magnitude seen
        // (12 steps with factors ≤ ~40 lose at most a few hundred ulps).
        #expect(maxRelativeError(traj.map { $0[i] }, expected) < 1e-9, "\(kind) η=\(eta) β=\(beta) λ=\(lambdas[i])")
      }
    }
  }

  /// Once frozen, every preconditioned method is its `recurrence` on λᵢ/Pᵢ.
  @Test func frozenAdaptiveMethodsEqualTheirRecurrence() async throws {
    let adaptive = OptimizerKind.allCases.filter(\.isPreconditioned)
    await propertyCheckThrowing(
      count: 80, input: Gen.int(in: 0...(adaptive.count - 1)).map { adaptive[$0] }, Gen.double(in: 0.001...0.5), Gen.double(in: 0...0.99),
      Gen.double(in: 0.01...10).array(of: 1...4), Gen.double(in: 0...0.1), Gen.bool()
    ) { kind, eta, beta, lambdas, wd, bias in
      let h = Hyperparameters(lr: eta, beta1: beta, weightDecay: kind == .adamw ? wd : 0, biasCorrection: bias)
      let opt = try Optimizer(kind, h, parameterCount: lambdas.count)
      let nu0 = lambdas.indices.map { 0.5 + Double($0) }
      let state = try opt.initialState(secondMoment: nu0, as: Double.self)
      let x0 = lambdas.indices.map { 1 - 0.3 * Double($0) }
      // One adaptive step, freeze, then 12 steps with P fixed.
      var s = state
      var x = x0
      opt.step(parameters: &x, gradient: zip(lambdas, x).map { $0 * $1 }, state: &s)
      opt.freezePreconditioner(&s)
      let p = try #require(opt.preconditioner(s))
      // Restart from x with zero momentum and the frozen P: the recurrence's initial conditions.
      s.momentum = s.momentum.map { _ in 0 }
      let traj = try trajectory(opt, curvatures: lambdas, x0: x, steps: 12, state: s)
      #expect(opt.preconditioner(s) == p)
      let form = Self.scalarForm(kind, eta: eta, beta: beta, wd: h.weightDecay)
      for i in lambdas.indices {
        let l = lambdas[i] / p[i]
        var expected = [x[i], form.first(x[i], l)]
        for t in 1..<12 { expected.append(form.next(expected[t - 1], expected[t], l)) }
        // Same rounding argument as for the linear methods; Nadam's bias-corrected
        // momentum coefficient is not the frozen one, so it is checked without correction.
        if kind == .nadam && bias { continue }
        #expect(maxRelativeError(traj.map { $0[i] }, expected) < 1e-9, "\(kind) η=\(eta) β=\(beta) λ/P=\(l)")
      }
    }
  }
}
