import Foundation
import Quadratics

/// Where `aeos simulate` gets its Hessian from.
public enum QuadraticSource: Sendable {
  /// A = diag(values).
  case eigenvalues([Double])
  /// JSON {"matrix", "b"} or a 2-D .npy.
  case file(String)
  /// `Quadratic.randomSPD(dimension:condition:seed:)`.
  case randomSPD(dimension: Int, condition: Double, seed: UInt64)

  public func quadratic() throws -> Quadratic {
    switch self {
    case let .eigenvalues(v): try Quadratic(eigenvalues: v)
    case let .file(path): try Quadratic.load(path: path)
    case let .randomSPD(n, kappa, seed): try Quadratic.randomSPD(dimension: n, condition: kappa, seed: seed)
    }
  }

  var json: JSONValue {
    switch self {
    case .eigenvalues: .object([("kind", .string("eigenvalues"))])
    case let .file(path): .object([("kind", .string("file")), ("path", .string(path))])
    case let .randomSPD(n, kappa, seed):
      .object([("kind", .string("random-spd")), ("dimension", .int(n)), ("condition", .number(kappa)), ("seed", seed <= UInt64(Int.max) ? .int(Int(seed)) : .string(String(seed)))])
    }
  }

  var label: String {
    switch self {
    case .eigenvalues: "diagonal"
    case let .file(path): "from \(path)"
    case let .randomSPD(n, kappa, seed): "random SPD \(n)×\(n), κ = \(formatHuman(kappa)), seed \(seed)"
    }
  }
}

/// Parses LIST: comma-separated numbers; one number is broadcast to `count` entries.
/// - Throws: `TheoryError` naming the flag and the bad entry.
public func parseNumberList(_ text: String, flag: String, count: Int? = nil) throws -> [Double] {
  let parts = text.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
  var values: [Double] = []
  for p in parts {
    guard let v = Double(p), v.isFinite else {
      throw TheoryError("invalid \(flag) entry \"\(p)\": expected comma-separated finite numbers")
    }
    values.append(v)
  }
  guard let count else { return values }
  if values.count == 1 { return [Double](repeating: values[0], count: count) }
  guard values.count == count else {
    throw TheoryError("\(flag) has \(values.count) numbers: expected \(count) (the dimension) or one, broadcast")
  }
  return values
}

/// `aeos simulate`: an optimizer or a user-written rule on a quadratic, with the
/// theory alongside.
public struct SimulateReport: Sendable {
  /// The built-in optimizer; nil for a rule.
  public let kind: OptimizerKind?
  /// The rule (`--rule`); nil for a built-in optimizer.
  public let rule: RuleOptimizer?
  /// The learning rate (and, for built-in optimizers, every hyper-parameter).
  public let hyperparameters: Hyperparameters
  public let source: QuadraticSource
  public let dimension: Int
  public let result: SimulationResult
  public let frozen: Bool
  /// Notes for stderr (a flag that was given but does not apply).
  public private(set) var notes: [String] = []

  /// Builds the quadratic and the optimizer and runs the simulation.
  /// - Parameters: lists as typed on the command line (nil: defaults x₀ = 1, m₀ = 0, ν₀ = 0).
  /// - Throws: a readable error for an unknown optimizer, bad hyper-parameters, a bad
  ///   quadratic or file, or bad initial vectors.
  public init(
    optimizer name: String, hyperparameters h: Hyperparameters, source: QuadraticSource, steps: Int,
    x0: String? = nil, m0: String? = nil, nu0: String? = nil, freezePreconditioner: Bool = false, every: Int = 1
  ) throws {
    guard let kind = OptimizerKind(rawValue: name) else {
      throw TheoryError("unknown optimizer \"\(name)\": expected one of \(OptimizerKind.allNames)")
    }
    try Self.checkSteps(steps)
    if kind == .frozenAdam && nu0 == nil {
      throw TheoryError("frozen-adam needs --nu0: its fixed second moment ν (P = √ν + ε)")
    }
    let q = try source.quadratic()
    let n = q.dimension
    let optimizer = try Optimizer(kind, h, parameterCount: n)
    let settings = SimulationSettings(
      steps: steps, x0: try Self.initialX(x0, n),
      momentum0: try m0.map { try parseNumberList($0, flag: "--m0", count: n) },
      secondMoment0: try nu0.map { try parseNumberList($0, flag: "--nu0", count: n) },
      freezePreconditioner: freezePreconditioner && kind.isPreconditioned, every: every)
    self.kind = kind
    self.rule = nil
    self.hyperparameters = h
    self.source = source
    self.dimension = n
    self.frozen = settings.freezePreconditioner
    self.result = try q.simulate(optimizer, settings)
  }

  /// Runs a user-written rule (`aeos simulate --rule`) from x₀ with every other
  /// state vector 0. `beta1` (`--beta1`) gives the parameter `beta` when the rule
  /// has one and `parameters` does not set it.
  /// - Throws: a readable error for a rule that does not parse or is not linear on
  ///   vectors, missing, unknown or non-finite parameters, a bad lr, quadratic or x₀.
  public init(
    rule text: String, parameters: [String: Double], beta1: Double? = nil, lr: Double, source: QuadraticSource,
    steps: Int, x0: String? = nil, every: Int = 1
  ) throws {
    try Self.checkSteps(steps)
    var values = parameters
    notes = try resolveBeta(parameters: &values, beta1: beta1, ruleParameters: try RuleProgram(parsing: text).parameters)
    let rule = try RuleOptimizer(rule: text, parameters: values, lr: lr)
    let q = try source.quadratic()
    let n = q.dimension
    self.kind = nil
    self.rule = rule
    self.hyperparameters = Hyperparameters(lr: lr, beta1: values["beta"] ?? 0.9)
    self.source = source
    self.dimension = n
    self.frozen = false
    self.result = try q.simulate(rule, SimulationSettings(steps: steps, x0: try Self.initialX(x0, n), every: every))
  }

  static func checkSteps(_ steps: Int) throws {
    guard steps >= 0, steps <= 100_000_000 else { throw TheoryError("invalid --steps \(steps): expected an integer in 0…100000000") }
  }

  static func initialX(_ x0: String?, _ n: Int) throws -> [Double] {
    try x0.map { try parseNumberList($0, flag: "--x0", count: n) } ?? [Double](repeating: 1, count: n)
  }

  /// "ema-hb", or "rule" for a user-written rule.
  var name: String { kind?.rawValue ?? "rule" }
  var isPreconditioned: Bool { kind?.isPreconditioned ?? false }
  var quantity: String { kind?.quantity ?? rule?.quantity ?? "sharpness" }
  /// β₁ as reported: the momentum of a built-in method, the parameter `beta` of a rule.
  var beta1: Double? {
    if let rule { return rule.parameters["beta"] }
    return kind?.usesMomentum == true ? hyperparameters.beta1 : nil
  }
  var beta2: Double? { kind?.usesBeta2 == true ? hyperparameters.beta2 : nil }

  public var json: JSONValue {
    let rows: [JSONValue] = result.records.map { r in
      .object([
        ("step", .int(r.step)), ("loss", .number(r.loss)), ("x_norm2", .number(r.xNorm2)), ("grad_norm2", .number(r.gradNorm2)),
        ("preconditioner_norm2", .optional(r.preconditionerNorm2)), ("preconditioned_sharpness", .optional(r.preconditionedSharpness)),
        ("top_component", .number(r.topComponent)),
      ])
    }
    var head: [(String, JSONValue)]
    if let rule {
      head = [
        ("rule", .string(rule.rule)),
        ("parameters", .object(rule.parameters.sorted { $0.key < $1.key }.map { ($0.key, .number($0.value)) })),
        ("state_variables", .array(rule.stateVariables.map { .string($0) })),
        ("gradients_per_step", .int(rule.gradientPoints)),
      ]
    } else {
      head = [("optimizer", .string(name))]
    }
    return .object(head + [
      ("lr", .number(hyperparameters.lr)), ("beta1", .optional(beta1)), ("beta2", .optional(beta2)),
      ("quadratic", .object([("source", source.json), ("dimension", .int(dimension)), ("sharpness", .number(result.sharpness))])),
      ("quantity", .string(quantity)), ("threshold", .optional(result.threshold)),
      ("freeze_preconditioner", .bool(frozen)),
      ("diverged", .bool(result.diverged)), ("diverged_at", .optional(result.divergedAt)),
      ("growth_rate", .optional(result.growthRate)), ("predicted_growth_rate", .optional(result.predictedGrowthRate)),
      ("steps", .array(rows)),
    ])
  }

  public var csv: String {
    func cell(_ x: Double?) -> String { x.map { JSONValue.format($0) == "null" ? "" : JSONValue.format($0) } ?? "" }
    var lines = ["step,loss,x_norm2,grad_norm2,preconditioner_norm2,preconditioned_sharpness,top_component"]
    for r in result.records {
      lines.append(
        [String(r.step), cell(r.loss), cell(r.xNorm2), cell(r.gradNorm2), cell(r.preconditionerNorm2), cell(r.preconditionedSharpness), cell(r.topComponent)]
          .joined(separator: ","))
    }
    return lines.joined(separator: "\n")
  }

  /// A summary and up to 21 evenly spaced rows (all rows for short runs).
  public var text: String {
    let r = result
    let h = hyperparameters
    var lines: [String] = []
    if let rule {
      lines.append("rule \"\(rule.rule)\" at lr \(formatHuman(h.lr))"
        + rule.parameters.sorted { $0.key < $1.key }.map { ", \($0.key) = \(formatHuman($0.value))" }.joined())
      let points = rule.gradientPoints
      let others = rule.stateVariables
      let start = others.isEmpty ? "" : " (\(others.joined(separator: ", ")) start\(others.count == 1 ? "s" : "") at 0)"
      lines.append("state: " + (["x"] + others).joined(separator: ", ") + start + "; \(points) gradient evaluation\(points == 1 ? "" : "s") per step")
    } else {
      var head = "\(name) at lr \(formatHuman(h.lr))"
      if let b = beta1 { head += ", β₁ = \(formatHuman(b))" }
      if let b = beta2 { head += ", β₂ = \(formatHuman(b))" }
      if frozen { head += ", preconditioner frozen after step 0" }
      lines.append(head)
    }
    lines.append("quadratic: \(source.label), n = \(dimension), λ₁(A) = \(formatHuman(r.sharpness))")
    lines.append("threshold: \(r.threshold.map(formatHuman) ?? "none") on the \(quantity)")
    let peak = r.records.map(\.gradNorm2).max() ?? 0
    if r.diverged {
      lines.append("diverged at step \(r.divergedAt ?? 0) (‖x‖ beyond 1e150·max(1, ‖x₀‖))")
    } else {
      lines.append("not diverged in \(r.records.last?.step ?? 0) steps; final loss \(formatHuman(r.records.last?.loss ?? .nan))")
    }
    lines.append("max ‖∇f‖² = \(formatHuman(peak)) (initial \(formatHuman(r.records.first?.gradNorm2 ?? .nan)))")
    lines.append(
      "growth rate: \(r.growthRate.map(formatHuman) ?? "n/a") per step (empirical); predicted ρ = \(r.predictedGrowthRate.map(formatHuman) ?? "n/a")"
        + (isPreconditioned ? " with the last P" : ""))
    lines.append("")
    let columns = ["step", "loss", "‖x‖²", "‖∇f‖²"] + (isPreconditioned ? ["‖P‖²", "λ₁(P⁻¹A)"] : []) + ["top component"]
    lines.append(
      columns.map { $0.padding(toLength: $0 == "step" ? 8 : 20, withPad: " ", startingAt: 0) }.joined()
        .trimmingCharacters(in: .whitespaces))
    let count = r.records.count
    let shown = count <= 21 ? Array(0..<count) : Array(Set((0...20).map { $0 * (count - 1) / 20 })).sorted()
    for i in shown {
      let rec = r.records[i]
      var cells = [String(rec.step).padding(toLength: 8, withPad: " ", startingAt: 0)]
      var values: [Double?] = [rec.loss, rec.xNorm2, rec.gradNorm2]
      if isPreconditioned { values += [rec.preconditionerNorm2, rec.preconditionedSharpness] }
      values.append(rec.topComponent)
      cells += values.map { ($0.map(formatHuman) ?? "—").padding(toLength: 20, withPad: " ", startingAt: 0) }
      lines.append(cells.joined().trimmingCharacters(in: .whitespaces))
    }
    return lines.joined(separator: "\n")
  }

  /// ‖∇f‖² (and λ₁(P⁻¹A) with its threshold, for preconditioned methods) against the step, log scale.
  public func svg() -> String {
    var plot = LinePlot(
      title: "\(name), η = \(formatHuman(hyperparameters.lr)) on a quadratic (n = \(dimension))", xLabel: "step",
      yLabel: isPreconditioned ? "‖∇f‖², λ₁(P⁻¹A)" : "‖∇f‖²", logY: true)
    plot.series.append(.init(name: "‖∇f‖²", points: result.records.map { (Double($0.step), $0.gradNorm2) }))
    if isPreconditioned {
      plot.series.append(.init(name: "λ₁(P⁻¹A)", points: result.records.compactMap { r in r.preconditionedSharpness.map { (Double(r.step), $0) } }))
      if let t = result.threshold { plot.horizontalRules.append((t, "threshold \(formatHuman(t))")) }
    }
    if let d = result.divergedAt { plot.verticalRules.append((Double(d), "diverged")) }
    return plot.render()
  }
}
