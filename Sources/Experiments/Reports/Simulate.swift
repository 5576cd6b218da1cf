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

/// `aeos simulate`: an optimizer on a quadratic, with the theory alongside.
public struct SimulateReport: Sendable {
  public let kind: OptimizerKind
  public let hyperparameters: Hyperparameters
  public let source: QuadraticSource
  public let dimension: Int
  public let result: SimulationResult
  public let frozen: Bool

  /// Builds the quadratic and the optimizer and runs the simulation.
  /// - Parameters: lists as typed on the command line (nil: defaults x₀ = 1, m₀ = 0, ν₀ = 0).
  /// - Throws: a readable error for an unknown optimizer, bad hyper-parameters, a bad
  ///   quadratic or file, or bad initial vectors.
  public init(
    optimizer name: String, hyperparameters h: Hyperparameters, source: QuadraticSource, steps: Int,
    x0: String? = nil, m0: String? = nil, nu0: String? = nil, freezePreconditioner: Bool = false
  ) throws {
    guard let kind = OptimizerKind(rawValue: name) else {
      throw TheoryError("unknown optimizer \"\(name)\": expected one of \(OptimizerKind.allNames)")
    }
    guard steps >= 0, steps <= 100_000_000 else { throw TheoryError("invalid --steps \(steps): expected an integer in 0…100000000") }
    if kind == .frozenAdam && nu0 == nil {
      throw TheoryError("frozen-adam needs --nu0: its fixed second moment ν (P = √ν + ε)")
    }
    let q = try source.quadratic()
    let n = q.dimension
    let optimizer = try Optimizer(kind, h, parameterCount: n)
    let settings = SimulationSettings(
      steps: steps, x0: try x0.map { try parseNumberList($0, flag: "--x0", count: n) } ?? [Double](repeating: 1, count: n),
      momentum0: try m0.map { try parseNumberList($0, flag: "--m0", count: n) },
      secondMoment0: try nu0.map { try parseNumberList($0, flag: "--nu0", count: n) },
      freezePreconditioner: freezePreconditioner && kind.isPreconditioned)
    self.kind = kind
    self.hyperparameters = h
    self.source = source
    self.dimension = n
    self.frozen = settings.freezePreconditioner
    self.result = try q.simulate(optimizer, settings)
  }

  public var json: JSONValue {
    let rows: [JSONValue] = result.records.map { r in
      .object([
        ("step", .int(r.step)), ("loss", .number(r.loss)), ("x_norm2", .number(r.xNorm2)), ("grad_norm2", .number(r.gradNorm2)),
        ("preconditioner_norm2", .optional(r.preconditionerNorm2)), ("preconditioned_sharpness", .optional(r.preconditionedSharpness)),
        ("top_component", .number(r.topComponent)),
      ])
    }
    return .object([
      ("optimizer", .string(kind.rawValue)), ("lr", .number(hyperparameters.lr)),
      ("beta1", kind.usesMomentum ? .number(hyperparameters.beta1) : .null),
      ("beta2", kind.usesBeta2 ? .number(hyperparameters.beta2) : .null),
      ("quadratic", .object([("source", source.json), ("dimension", .int(dimension)), ("sharpness", .number(result.sharpness))])),
      ("quantity", .string(kind.quantity)), ("threshold", .optional(result.threshold)),
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
    var head = "\(kind.rawValue) at lr \(formatHuman(h.lr))"
    if kind.usesMomentum { head += ", β₁ = \(formatHuman(h.beta1))" }
    if kind.usesBeta2 { head += ", β₂ = \(formatHuman(h.beta2))" }
    if frozen { head += ", preconditioner frozen after step 0" }
    lines.append(head)
    lines.append("quadratic: \(source.label), n = \(dimension), λ₁(A) = \(formatHuman(r.sharpness))")
    lines.append("threshold: \(r.threshold.map(formatHuman) ?? "none") on the \(kind.quantity)")
    let peak = r.records.map(\.gradNorm2).max() ?? 0
    if r.diverged {
      lines.append("diverged at step \(r.divergedAt ?? 0) (‖x‖ beyond 1e150·max(1, ‖x₀‖))")
    } else {
      lines.append("not diverged in \(r.records.count - 1) steps; final loss \(formatHuman(r.records.last?.loss ?? .nan))")
    }
    lines.append("max ‖∇f‖² = \(formatHuman(peak)) (initial \(formatHuman(r.records.first?.gradNorm2 ?? .nan)))")
    lines.append(
      "growth rate: \(r.growthRate.map(formatHuman) ?? "n/a") per step (empirical); predicted ρ = \(r.predictedGrowthRate.map(formatHuman) ?? "n/a")"
        + (kind.isPreconditioned ? " with the last P" : ""))
    lines.append("")
    let columns = ["step", "loss", "‖x‖²", "‖∇f‖²"] + (kind.isPreconditioned ? ["‖P‖²", "λ₁(P⁻¹A)"] : []) + ["top component"]
    lines.append(
      columns.map { $0.padding(toLength: $0 == "step" ? 8 : 20, withPad: " ", startingAt: 0) }.joined()
        .trimmingCharacters(in: .whitespaces))
    let count = r.records.count
    let shown = count <= 21 ? Array(0..<count) : Array(Set((0...20).map { $0 * (count - 1) / 20 })).sorted()
    for i in shown {
      let rec = r.records[i]
      var cells = [String(rec.step).padding(toLength: 8, withPad: " ", startingAt: 0)]
      var values: [Double?] = [rec.loss, rec.xNorm2, rec.gradNorm2]
      if kind.isPreconditioned { values += [rec.preconditionerNorm2, rec.preconditionedSharpness] }
      values.append(rec.topComponent)
      cells += values.map { ($0.map(formatHuman) ?? "—").padding(toLength: 20, withPad: " ", startingAt: 0) }
      lines.append(cells.joined().trimmingCharacters(in: .whitespaces))
    }
    return lines.joined(separator: "\n")
  }

  /// ‖∇f‖² (and λ₁(P⁻¹A) with its threshold, for preconditioned methods) against the step, log scale.
  public func svg() -> String {
    var plot = LinePlot(
      title: "\(kind.rawValue), η = \(formatHuman(hyperparameters.lr)) on a quadratic (n = \(dimension))", xLabel: "step",
      yLabel: kind.isPreconditioned ? "‖∇f‖², λ₁(P⁻¹A)" : "‖∇f‖²", logY: true)
    plot.series.append(.init(name: "‖∇f‖²", points: result.records.map { (Double($0.step), $0.gradNorm2) }))
    if kind.isPreconditioned {
      plot.series.append(.init(name: "λ₁(P⁻¹A)", points: result.records.compactMap { r in r.preconditionedSharpness.map { (Double(r.step), $0) } }))
      if let t = result.threshold { plot.horizontalRules.append((t, "threshold \(formatHuman(t))")) }
    }
    if let d = result.divergedAt { plot.verticalRules.append((Double(d), "diverged")) }
    return plot.render()
  }
}
