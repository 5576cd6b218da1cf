import Foundation
import Optimizers

/// One row of a simulation: the state before step `step` (0 = initial state) and
/// the P that step applies.
public struct SimulationRecord: Sendable, Equatable, Codable {
  public var step: Int
  /// f(x_t).
  public var loss: Double
  /// ‖x_t‖².
  public var xNorm2: Double
  /// ‖∇f(x_t)‖².
  public var gradNorm2: Double
  /// ‖P_t‖²_F = Σ Pᵢ² of the diagonal P applied at step t; nil for methods without P.
  public var preconditionerNorm2: Double?
  /// λ₁(P_t⁻¹A) (the largest eigenvalue of P^{-1/2}AP^{-1/2}); nil for methods
  /// without P, whose governing quantity is the constant λ₁(A).
  public var preconditionedSharpness: Double?
  /// v₁ᵀ(P_t^{1/2}x_t): the component of the iterate, in the coordinates where the
  /// frozen dynamics is y ← y − η P^{-1/2}AP^{-1/2}·…, along the top unit eigenvector
  /// v₁ of P^{-1/2}AP^{-1/2} (sign: v₁'s largest entry positive). P = I without P.
  public var topComponent: Double
}

/// What a simulation runs: a built-in optimizer or a user-written rule.
public enum SimulatedMethod: Sendable {
  case optimizer(Optimizer)
  case rule(RuleOptimizer)
}

/// What a simulation returns.
public struct SimulationResult: Sendable {
  public var method: SimulatedMethod
  /// The threshold of the optimizer's frozen recurrence (of the rule's recurrence)
  /// at its learning rate.
  public var threshold: Double?
  /// λ₁(A).
  public var sharpness: Double
  public var records: [SimulationRecord]
  /// Whether ‖x‖ became non-finite or exceeded 1e150·max(1, ‖x₀‖).
  public var diverged: Bool
  /// The step whose iterate crossed that bound (the last record), or nil.
  public var divergedAt: Int?
  /// Empirical per-step growth of the trajectory (see `EmpiricalGrowth`), nil if
  /// the trajectory is too short or vanishes at once.
  public var growthRate: Double?
  /// max ρ(μ) over the eigenvalues μ of P^{-1/2}AP^{-1/2} with the last P (A for
  /// methods without P): the theory's growth factor of the frozen method.
  public var predictedGrowthRate: Double?
  /// The final iterate.
  public var finalParameters: [Double]
  /// The final state of a built-in optimizer (nil for a rule).
  public var finalState: OptimizerState<Double>?
  /// The final state of a rule (nil for a built-in optimizer).
  public var finalRuleState: RuleState<Double>?

  /// The built-in optimizer that ran, nil for a rule.
  public var optimizer: Optimizer? {
    if case let .optimizer(o) = method { return o }
    return nil
  }

  /// The rule that ran, nil for a built-in optimizer.
  public var rule: RuleOptimizer? {
    if case let .rule(r) = method { return r }
    return nil
  }
}

/// Initial conditions and options of a simulation.
public struct SimulationSettings: Sendable {
  public var steps: Int
  /// x₀ (n entries).
  public var x0: [Double]
  /// m₀; zeros when nil.
  public var momentum0: [Double]?
  /// ν₀; zeros when nil (required in practice for frozen-adam, whose P = √ν₀ + ε).
  public var secondMoment0: [Double]?
  /// Freeze P after the first step: from step 1 on the method is exactly its
  /// frozen recurrence on P₀⁻¹A, with P₀ the P of step 0 (ν updated with g₀).
  public var freezePreconditioner: Bool
  /// A fixed P (positive, n entries) for a preconditioned method from step 0 on:
  /// the method is then exactly its frozen recurrence on P⁻¹A throughout.
  public var fixedPreconditioner: [Double]?
  /// Record every k-th step (and the last, and the step of divergence); 1 records
  /// every step. The run still takes every step.
  public var every: Int

  /// Most recorded steps besides the initial state (about 100 MB of rows); longer runs
  /// thin with `every`.
  public static let maximumRecords = 1_000_000
  /// Most work of the eigendecompositions of a dense preconditioned run, in n³ units
  /// (one symmetric eigendecomposition of P^{-1/2}AP^{-1/2} per recorded step whose P
  /// changed): 5·10¹⁰, e.g. 780 decompositions at n = 400, about a minute here.
  public static let maximumSpectrumWork = 5e10

  public init(
    steps: Int, x0: [Double], momentum0: [Double]? = nil, secondMoment0: [Double]? = nil,
    freezePreconditioner: Bool = false, fixedPreconditioner: [Double]? = nil, every: Int = 1
  ) {
    self.every = every
    self.fixedPreconditioner = fixedPreconditioner
    self.steps = steps
    self.x0 = x0
    self.momentum0 = momentum0
    self.secondMoment0 = secondMoment0
    self.freezePreconditioner = freezePreconditioner
  }
}

/// Empirical growth rate of a trajectory, to be held against ρ(λ).
public enum EmpiricalGrowth {
  /// The per-step growth factor exp(slope) of a least-squares line through
  /// log Nₜ over the second half of the usable sequence, where
  /// Nₜ = √(‖gₜ‖² + ‖gₜ₋₁‖²) pairs consecutive squared norms `norms2` (gₜ ∝ x_t − x*
  /// follows the same linear recurrence as the iterate; pairing two steps keeps Nₜ
  /// away from 0 when the dominant roots are complex or negative, where a single
  /// norm can pass near zero). Entries after the first non-finite or tiny
  /// (< 1e-280) value are not used. The estimate converges to the spectral radius
  /// as the trajectory lengthens; its bias is O(log t / t) near a double root.
  /// - Returns: nil with fewer than 4 usable values.
  public static func estimate(squaredNorms norms2: [Double]) -> Double? {
    var logs: [Double] = []
    for t in 1..<max(1, norms2.count) {
      guard let l = pairLog(norms2[t], norms2[t - 1]) else { break }
      logs.append(l)
    }
    return estimate(pairLogs: logs, spacing: 1)
  }

  /// log Nₜ = ½ log(‖gₜ‖² + ‖gₜ₋₁‖²), nil when not finite or tiny (< 1e-280).
  public static func pairLog(_ n2: Double, _ previous: Double) -> Double? {
    let pair = n2 + previous
    guard pair.isFinite, pair > 1e-280 else { return nil }
    return 0.5 * log(pair)
  }

  /// The same estimate from log Nₜ at every `spacing`-th step (t = spacing, 2·spacing,
  /// …, up to the first unusable one): exp(slope/spacing).
  public static func estimate(pairLogs logs: [Double], spacing: Int) -> Double? {
    guard logs.count >= 4 else { return nil }
    let window = Array(logs[(logs.count / 2)...])
    let k = Double(window.count)
    let meanT = (k - 1) / 2
    let meanY = window.reduce(0, +) / k
    var sxy = 0.0, sxx = 0.0
    for (i, y) in window.enumerated() {
      sxy += (Double(i) - meanT) * (y - meanY)
      sxx += (Double(i) - meanT) * (Double(i) - meanT)
    }
    return exp(sxy / sxx / Double(max(spacing, 1)))
  }
}

extension Quadratic {
  /// Runs `optimizer` (Double) for `settings.steps` steps from x₀, recording every
  /// step (0 … steps) until divergence, when it stops: a diverged run is a result.
  ///
  /// Per step t: g_t = ∇f(x_t); the step is taken; P_t is then the P that step
  /// applied (ν updated with g_t); row t records x_t, g_t and P_t. The last row
  /// (no step after it) records the P the next step would apply.
  /// - Throws: `QuadraticError` for bad settings (sizes, negative steps) or
  ///   initial vectors the optimizer rejects.
  public func simulate(_ optimizer: Optimizer, _ settings: SimulationSettings) throws -> SimulationResult {
    let n = dimension
    guard optimizer.layout.count == n else {
      throw QuadraticError("the optimizer is laid out for \(optimizer.layout.count) parameters: expected \(n)")
    }
    try checkSettings(settings)
    var state: OptimizerState<Double>
    do {
      state = try optimizer.initialState(momentum: settings.momentum0, secondMoment: settings.secondMoment0, as: Double.self)
    } catch let e as OptimizerError {
      throw QuadraticError(e.description)
    }
    if let p = settings.fixedPreconditioner {
      guard optimizer.isPreconditioned else {
        throw QuadraticError("a fixed preconditioner was given, but \(optimizer.kind.rawValue) applies none")
      }
      guard p.count == n else { throw QuadraticError("the fixed preconditioner has \(p.count) entries: expected \(n)") }
      if let bad = p.first(where: { !($0.isFinite && $0 > 0) }) {
        throw QuadraticError("the fixed preconditioner has entry \(bad): expected finite numbers > 0")
      }
      state.frozenPreconditioner = p
    }
    var stepper = BuiltinStepper(optimizer: optimizer, state: state, freeze: settings.freezePreconditioner)
    var result = try run(&stepper, settings, method: .optimizer(optimizer), threshold: try? optimizer.threshold())
    result.finalState = stepper.state
    return result
  }

  /// Runs a rule for `settings.steps` steps from x₀ with every other state vector
  /// 0, with the records, divergence rule and growth estimates of
  /// `simulate(_:_:)`; a rule applies no P, so those fields are nil. Each step
  /// evaluates ∇f at each distinct point of the rule (∇f(x_t), recorded, is reused).
  /// - Throws: `QuadraticError` for bad settings, or for initial m₀, ν₀ or a
  ///   preconditioner, which a rule does not take.
  public func simulate(_ rule: RuleOptimizer, _ settings: SimulationSettings) throws -> SimulationResult {
    try checkSettings(settings)
    if settings.momentum0 != nil || settings.secondMoment0 != nil || settings.freezePreconditioner || settings.fixedPreconditioner != nil {
      throw QuadraticError(
        "a rule starts from zeros in every state vector besides x and applies no preconditioner: initial m₀ or ν₀ and a fixed or frozen preconditioner do not apply")
    }
    var stepper = RuleStepper(rule: rule, state: rule.initialState(count: dimension, as: Double.self))
    var result = try run(&stepper, settings, method: .rule(rule), threshold: try? rule.threshold())
    result.finalRuleState = stepper.state
    return result
  }

  func checkSettings(_ settings: SimulationSettings) throws {
    let n = dimension
    guard settings.steps >= 0 else { throw QuadraticError("invalid --steps \(settings.steps): expected an integer ≥ 0") }
    guard settings.every >= 1 else { throw QuadraticError("invalid --every \(settings.every): expected an integer ≥ 1") }
    let m = SimulationSettings.maximumRecords
    guard settings.steps / settings.every <= m else {
      let k = (settings.steps + m - 1) / m
      throw QuadraticError(
        "--steps \(settings.steps) would record \(settings.steps / settings.every) steps (every \(settings.every == 1 ? "step" : "\(settings.every)th step")): at most \(m); give --every \(max(k, 2)) or more to record every k-th step")
    }
    for (name, v) in [("x0", settings.x0), ("m0", settings.momentum0), ("nu0", settings.secondMoment0)] {
      guard let v else { continue }
      guard v.count == n else { throw QuadraticError("--\(name) has \(v.count) entries: expected \(n) (or one, broadcast)") }
      if let bad = v.first(where: { !$0.isFinite }) { throw QuadraticError("--\(name) has entry \(bad): expected finite numbers") }
    }
  }

  /// The loop shared by optimizers and rules.
  func run<S: SimulationStepper>(
    _ stepper: inout S, _ settings: SimulationSettings, method: SimulatedMethod, threshold: Double?
  ) throws -> SimulationResult {
    let n = dimension
    let plain = try preconditionedSpectrum(nil)
    let sharpness = plain.values.last ?? 0

    let every = settings.every
    if case .dense = hessian, stepper.isPreconditioned, !settings.freezePreconditioner, settings.fixedPreconditioner == nil {
      let decompositions = Double(settings.steps / every + 2)
      let work = decompositions * pow(Double(n), 3)
      guard work <= SimulationSettings.maximumSpectrumWork else {
        let k = Int((Double(settings.steps) * pow(Double(n), 3) / SimulationSettings.maximumSpectrumWork).rounded(.up)) + 1
        throw QuadraticError(
          "a preconditioned method on a dense \(n)×\(n) A needs one eigendecomposition per recorded step (P changes every step): \(Int(decompositions)) of them, \(String(format: "%.2g", work)) n³-flops, more than \(String(format: "%.2g", SimulationSettings.maximumSpectrumWork)); give --every \(k) or more, fewer --steps, or --freeze-preconditioner")
      }
    }

    var x = settings.x0
    let x0Norm = x.reduce(0) { $0 + $1 * $1 }.squareRoot()
    let bound = 1e150 * max(1, x0Norm)
    var records: [SimulationRecord] = []
    records.reserveCapacity(settings.steps / every + 2)
    // log Nₜ at the steps t = every, 2·every, … (for the empirical growth rate)
    var pairLogs: [Double] = []
    var pairsUsable = true
    var previousGNorm2 = Double.nan
    var diverged = false
    var cachedP: [Double]? = nil
    var cachedSpectrum = plain
    var lastP: [Double]? = nil

    for t in 0...settings.steps {
      let xt = x
      let g = gradient(xt)
      let xNorm2 = xt.reduce(0) { $0 + $1 * $1 }
      let gNorm2 = g.reduce(0) { $0 + $1 * $1 }
      let overflow = !xNorm2.isFinite || xNorm2.squareRoot() > bound
      var p: [Double]?
      if t < settings.steps && !overflow {
        p = try stepper.step(&x, gradient: g, step: t, quadratic: self)
      } else if stepper.isPreconditioned && g.allSatisfy(\.isFinite) {
        p = stepper.pendingPreconditioner(gradient: g)
      }
      let validP = p.flatMap { p in p.allSatisfy({ $0.isFinite && $0 > 0 }) ? p : nil }
      if let validP { lastP = validP }
      if t > 0 && t % every == 0 && pairsUsable {
        if let l = EmpiricalGrowth.pairLog(gNorm2, previousGNorm2) { pairLogs.append(l) } else { pairsUsable = false }
      }
      previousGNorm2 = gNorm2
      guard t % every == 0 || t == settings.steps || overflow else { continue }
      // The spectrum of P^{-1/2}AP^{-1/2}, recomputed only when P changes.
      var pNorm2: Double? = nil
      var spectrum = plain
      if let p = validP {
        pNorm2 = p.reduce(0) { $0 + $1 * $1 }
        if p != cachedP {
          cachedSpectrum = try preconditionedSpectrum(p)
          cachedP = p
        }
        spectrum = cachedSpectrum
      }
      var component = 0.0
      for i in 0..<n { component += spectrum.top[i] * (validP.map { $0[i].squareRoot() } ?? 1) * xt[i] }
      records.append(
        SimulationRecord(
          step: t, loss: loss(xt), xNorm2: xNorm2, gradNorm2: gNorm2, preconditionerNorm2: pNorm2,
          preconditionedSharpness: pNorm2 == nil ? nil : spectrum.values.last, topComponent: component))
      if overflow {
        diverged = true
        break
      }
    }

    var predicted: Double? = nil
    if stepper.isPreconditioned == (lastP != nil) {
      if let lastP, lastP != cachedP {
        cachedSpectrum = try preconditionedSpectrum(lastP)
        cachedP = lastP
      }
      let values = lastP == nil ? plain.values : cachedSpectrum.values
      predicted = try? Self.largestGrowthFactor(values, stepper.growthFactor)
    }
    return SimulationResult(
      method: method, threshold: threshold, sharpness: sharpness, records: records, diverged: diverged,
      divergedAt: diverged ? records.last?.step : nil, growthRate: EmpiricalGrowth.estimate(pairLogs: pairLogs, spacing: every),
      predictedGrowthRate: predicted, finalParameters: x, finalState: nil, finalRuleState: nil)
  }

  /// max ρ(μ) over the distinct eigenvalues μ (each a `Dynamics` growth factor).
  static func largestGrowthFactor(_ values: [Double], _ growth: (Double) throws -> Double) throws -> Double {
    var best = 0.0
    var last: Double? = nil
    for mu in values.sorted() where mu != last {
      best = max(best, try growth(mu))
      last = mu
    }
    return best
  }
}

/// One method inside the simulation loop.
protocol SimulationStepper {
  /// Whether the method applies a P (then the records carry ‖P‖² and λ₁(P⁻¹A)).
  var isPreconditioned: Bool { get }
  /// Takes step `step` from x with g = ∇f(x); returns the P the step applied, if any.
  mutating func step(_ x: inout [Double], gradient g: [Double], step: Int, quadratic: Quadratic) throws -> [Double]?
  /// The P the next step would apply for the gradient g (the last row).
  func pendingPreconditioner(gradient g: [Double]) -> [Double]?
  /// ρ(μ) of the method's recurrence.
  func growthFactor(_ mu: Double) throws -> Double
}

struct BuiltinStepper: SimulationStepper {
  let optimizer: Optimizer
  var state: OptimizerState<Double>
  /// Freeze P after step 0.
  let freeze: Bool

  var isPreconditioned: Bool { optimizer.isPreconditioned }

  mutating func step(_ x: inout [Double], gradient g: [Double], step t: Int, quadratic _: Quadratic) throws -> [Double]? {
    optimizer.step(parameters: &x, gradient: g, state: &state)
    if t == 0 && freeze { optimizer.freezePreconditioner(&state) }
    return optimizer.preconditioner(state)
  }

  func pendingPreconditioner(gradient g: [Double]) -> [Double]? {
    optimizer.preconditioner(forGradient: g, state: state)
  }

  func growthFactor(_ mu: Double) throws -> Double { try optimizer.growthFactor(eigenvalue: mu) }
}

struct RuleStepper: SimulationStepper {
  let rule: RuleOptimizer
  var state: RuleState<Double>

  var isPreconditioned: Bool { false }

  mutating func step(_ x: inout [Double], gradient g: [Double], step _: Int, quadratic q: Quadratic) throws -> [Double]? {
    try rule.step(parameters: &x, state: &state, gradientAtIterate: g) { q.gradient($0) }
    return nil
  }

  func pendingPreconditioner(gradient _: [Double]) -> [Double]? { nil }

  func growthFactor(_ mu: Double) throws -> Double { try rule.growthFactor(eigenvalue: mu) }
}
