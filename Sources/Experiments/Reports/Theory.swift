
/// What `aeos threshold | growth | derive` analyse: a named optimizer with its
/// hyper-parameters, or a user-written rule with parameter values.
public struct TheorySubject: Sendable {
  public enum Source: Sendable {
    case optimizer(OptimizerKind, Hyperparameters)
    case rule(String)
  }
  public let source: Source
  public let recurrence: Recurrence
  /// Notes for stderr (a flag that was given but does not apply).
  public var notes: [String] = []

  /// Builds the subject for a named optimizer: its frozen recurrence comes from
  /// `Optimizers` (and its threshold from `Dynamics`).
  public static func optimizer(_ name: String, _ h: Hyperparameters) throws -> TheorySubject {
    guard let kind = OptimizerKind(rawValue: name) else {
      throw TheoryError("unknown optimizer \"\(name)\": expected one of \(OptimizerKind.allNames), or --rule \"RULES\"")
    }
    try h.validate(for: kind)
    return TheorySubject(source: .optimizer(kind, h), recurrence: kind.frozenRecurrence(h), notes: [])
  }

  /// A user-written rule; `beta` may come from `--beta1` when not given by `--param`.
  public static func rule(_ text: String, parameters: [String: Double], beta1: Double?) throws -> TheorySubject {
    let model = try RuleCache.model(for: text)
    var values = parameters
    for name in values.keys where !model.rule.parameters.contains(name) {
      throw TheoryError("--param \(name): the rule has no parameter \"\(name)\"; its parameters are: \(model.rule.parameters.isEmpty ? "(none)" : model.rule.parameters.joined(separator: ", "))")
    }
    let notes = try resolveBeta(parameters: &values, beta1: beta1, ruleParameters: model.rule.parameters)
    for (name, v) in values where !v.isFinite {
      throw TheoryError("--param \(name)=\(v): expected a finite number")
    }
    return TheorySubject(source: .rule(text), recurrence: Recurrence(name: "rule", rule: text, parameters: values), notes: notes)
  }

  public var quantity: String {
    if case let .optimizer(kind, _) = source { return kind.quantity }
    return "sharpness"
  }

  /// β₁ as reported (nil where the method has no momentum).
  public var beta1: Double? {
    switch source {
    case let .optimizer(kind, h): kind.usesMomentum ? h.beta1 : nil
    case .rule: recurrence.parameters["beta"]
    }
  }

  /// The leading JSON fields of every theory report: the subject, lr and β₁.
  func jsonHead(lr: Double) -> [(String, JSONValue)] {
    let name: (String, JSONValue)
    switch source {
    case .optimizer: name = ("optimizer", .string(label))
    case .rule: name = ("rule", .string(label))
    }
    return [name, ("lr", .number(lr)), ("beta1", .optional(beta1))]
  }

  public var label: String {
    switch source {
    case let .optimizer(kind, _): kind.rawValue
    case let .rule(text): text
    }
  }
}

/// Sets a rule's parameter `beta` from `--beta1`: refused when `--param beta` sets it
/// too; a note when the rule has no parameter `beta`.
/// - Returns: the notes for stderr.
public func resolveBeta(parameters: inout [String: Double], beta1: Double?, ruleParameters: [String]) throws -> [String] {
  guard let beta1 else { return [] }
  if let p = parameters["beta"] {
    throw TheoryError("--beta1 \(formatHuman(beta1)) and --param beta=\(formatHuman(p)) both set the rule's beta: give one of them")
  }
  guard ruleParameters.contains("beta") else {
    return ["--beta1 is ignored: the rule has no parameter beta (its parameters: \(ruleParameters.isEmpty ? "none" : ruleParameters.joined(separator: ", ")))"]
  }
  parameters["beta"] = beta1
  return []
}

/// A user-facing error with a message that names the bad value.
public struct TheoryError: Error, CustomStringConvertible {
  public let description: String
  public init(_ message: String) { description = message }
}

/// `aeos threshold`.
public struct ThresholdReport: Sendable {
  public let subject: TheorySubject
  public let lr: Double
  public let threshold: Double
  public let closedForm: ClosedForm?

  public init(subject: TheorySubject, lr: Double) throws {
    self.subject = subject
    self.lr = lr
    let analysis = try subject.recurrence.analysis(lr: lr)
    switch analysis.stableSet {
    case let .interval(t, _): threshold = t
    case .unbounded:
      throw TheoryError("\(subject.label): stable for every λ > 0 at lr \(lr); the stable set is unbounded, so there is no threshold")
    case .empty:
      throw TheoryError("\(subject.label): unstable for arbitrarily small λ > 0 at lr \(lr); the stable set near 0 is empty, so there is no threshold")
    }
    closedForm = analysis.closedForm()
  }

  public func formula(_ f: OutputFormat) -> String? { closedForm?.formatted(f) }

  public var json: JSONValue {
    var fields = subject.jsonHead(lr: lr)
    if case .rule = subject.source {
      fields.append(("parameters", .object(subject.recurrence.parameters.sorted { $0.key < $1.key }.map { ($0.key, .number($0.value)) })))
    }
    if case let .optimizer(kind, h) = subject.source, kind == .adamw {
      fields.append(("weight_decay", .number(h.weightDecay)))
    }
    fields += [
      ("threshold", .number(threshold)),
      ("formula", .optional(formula(.text))),
      ("latex", .optional(formula(.latex))),
      ("sympy", .optional(formula(.sympy))),
      ("quantity", .string(subject.quantity)),
    ]
    return .object(fields)
  }

  public var text: String {
    var lines = ["\(subject.label) at lr \(formatHuman(lr))" + (subject.beta1.map { ", β₁ = \(formatHuman($0))" } ?? "")]
    lines.append("threshold: \(formatHuman(threshold))")
    if let f = formula(.text) { lines.append("formula:   \(f)") } else { lines.append("formula:   (no closed form; numeric root)") }
    lines.append("quantity:  \(subject.quantity) (stable while it is below the threshold)")
    return lines.joined(separator: "\n")
  }
}

/// `aeos growth`.
public struct GrowthReport: Sendable {
  public let subject: TheorySubject
  public let lr: Double
  public let threshold: Double?
  public let points: [(eigenvalue: Double, factor: Double)]

  public init(subject: TheorySubject, lr: Double, eigenvalues: [Double]) throws {
    self.subject = subject
    self.lr = lr
    let analysis = try subject.recurrence.analysis(lr: lr)
    threshold = analysis.threshold
    points = try eigenvalues.map { ($0, try analysis.growthFactor(at: $0)) }
  }

  public var json: JSONValue {
    var fields = subject.jsonHead(lr: lr)
    fields += [
      ("threshold", .optional(threshold)),
      ("points", .array(points.map { .object([("eigenvalue", .number($0.eigenvalue)), ("factor", .number($0.factor))]) })),
    ]
    return .object(fields)
  }

  public var csv: String {
    (["eigenvalue,factor"] + points.map { "\(JSONValue.format($0.eigenvalue)),\(JSONValue.format($0.factor))" }).joined(separator: "\n")
  }

  public var text: String {
    var lines = ["\(subject.label) at lr \(formatHuman(lr))" + (subject.beta1.map { ", β₁ = \(formatHuman($0))" } ?? "")
      + (threshold.map { "; threshold \(formatHuman($0))" } ?? "")]
    lines.append("eigenvalue           growth factor ρ")
    for p in points {
      let e = formatHuman(p.eigenvalue)
      lines.append(e + String(repeating: " ", count: max(1, 21 - e.count)) + formatHuman(p.factor))
    }
    return lines.joined(separator: "\n")
  }

  public func svg() -> String {
    var plot = LinePlot(title: "Asymptotic growth factor: \(subject.label), η = \(formatHuman(lr))", xLabel: "eigenvalue λ", yLabel: "ρ(λ)")
    plot.series.append(.init(name: "ρ(λ)", points: points.map { ($0.eigenvalue, $0.factor) }))
    plot.horizontalRules.append((1, "ρ = 1"))
    if let t = threshold { plot.verticalRules.append((t, "threshold \(formatHuman(t))")) }
    return plot.render()
  }
}

/// `aeos derive`.
public struct DeriveReport: Sendable {
  public let label: String
  public let isRule: Bool
  public let derivation: Derivation

  public init(label: String, isRule: Bool, rule: String, values: [String: Double]) throws {
    self.label = label
    self.isRule = isRule
    derivation = try Derivation(rule: rule, values: values)
  }

  func stableInterval(_ f: OutputFormat) -> String {
    let lam = f == .latex ? "\\lambda" : (f == .sympy ? "lamda" : "λ")
    switch derivation.analysis.stableSet {
    case .unbounded: return f == .sympy ? "Interval.open(0, oo)" : "0 < \(lam) < ∞"
    case .empty: return f == .sympy ? "EmptySet" : "empty near 0"
    case let .interval(t, _):
      let bound = derivation.closedForm?.formatted(f) ?? JSONValue.format(t)
      return f == .sympy ? "Interval.open(0, \(bound))" : "0 < \(lam) < \(bound)"
    }
  }

  func polynomialInZ(_ f: OutputFormat) -> String {
    var out = ""
    for (k, c) in derivation.coefficients.enumerated().reversed() where !(c.numerator.isZero) {
      var coef = c.formattedFactored(f)
      var negative = false
      if coef.hasPrefix("−") || coef.hasPrefix("-"), !isSum(String(coef.dropFirst())) {
        // a negated product: print as a subtraction
        negative = true
        coef = String(coef.dropFirst())
      }
      let power: String
      switch (k, f) {
      case (0, _): power = ""
      case (1, _): power = "z"
      case (_, .text): power = "z" + superscript(k)
      case (_, .latex): power = "z^{\(k)}"
      case (_, .sympy): power = "z**\(k)"
      }
      var term: String
      if k > 0 && coef == "1" {
        term = power
      } else {
        let grouped = isSum(coef) ? "(\(coef))" : coef
        let mul = k == 0 ? "" : (f == .sympy ? "*" : (f == .latex ? " " : ""))
        term = grouped + mul + power
      }
      let minus = f == .text ? "−" : "-"
      if out.isEmpty { out = (negative ? minus : "") + term } else { out += negative ? " \(minus) \(term)" : " + \(term)" }
    }
    return out.isEmpty ? "0" : out
  }

  /// Whether a printed expression is a sum at the top level (outside parentheses).
  func isSum(_ s: String) -> Bool {
    var depth = 0
    var previous: Character = " "
    for ch in s {
      switch ch {
      case "(", "{", "[": depth += 1
      case ")", "}", "]": depth -= 1
      case "+", "−", "-": if depth == 0 && previous == " " { return true }
      case "/": if depth == 0 { return true }
      default: break
      }
      previous = ch
    }
    return false
  }

  public var json: JSONValue {
    jsonIn(.text)
  }

  static let omittedNote =
    "(omitted: in symbolic form they need more than \(Derivation.conditionsBudget) coefficient products; give parameters values with --param, --lr or --beta1 to see them)"

  public func jsonIn(_ f: OutputFormat) -> JSONValue {
    let d = derivation
    var extra: [(String, JSONValue)] = []
    if d.conditionsOmitted { extra.append(("conditions_omitted", .string(Self.omittedNote))) }
    return .object([
      (isRule ? "rule" : "optimizer", .string(label)),
      ("state_variables", .array(d.rule.stateVariables.map { .string($0) })),
      ("state_matrix", .array(d.stateMatrix.map { row in .array(row.map { .string($0.formatted(f)) }) })),
      ("characteristic_polynomial", .string(polynomialInZ(f))),
      ("conditions", .array(d.conditions.map { .string(condition($0.expression, f)) })),
      ("stable_interval", .string(stableInterval(f))),
      ("threshold", .optional(d.closedForm?.formatted(f) ?? d.analysis.threshold.map { JSONValue.format($0) })),
    ] + extra)
  }

  func condition(_ e: RationalFunction, _ f: OutputFormat) -> String {
    "\(e.formattedFactored(f)) > 0"
  }

  public func text(_ f: OutputFormat) -> String {
    let d = derivation
    var lines: [String] = []
    lines.append("\(isRule ? "rule" : "optimizer"): \(label)")
    lines.append("state: (\(d.rule.stateVariables.joined(separator: ", ")))")
    lines.append("state matrix A (s' = A s on ½λx²):")
    for row in d.stateMatrix { lines.append("  [ " + row.map { $0.formattedFactored(f) }.joined(separator: ",  ") + " ]") }
    lines.append("characteristic polynomial det(zI − A):")
    lines.append("  " + polynomialInZ(f))
    lines.append("stability conditions (Jury / Schur–Cohn, all roots in |z| < 1):")
    for c in d.conditions { lines.append("  \(c.label):  \(condition(c.expression, f))") }
    if d.conditionsOmitted { lines.append("  " + Self.omittedNote) }
    lines.append("stable interval: \(stableInterval(f))")
    if let t = d.analysis.threshold {
      lines.append("threshold: \(d.closedForm?.formatted(f) ?? "(no closed form)")" + "  [= \(formatHuman(t)) at \(valuesDescription)]")
    }
    if !d.samples.isEmpty {
      lines.append("(symbolic parameters; the boundary was identified at the sample values \(sampleDescription))")
    }
    return lines.joined(separator: "\n")
  }

  var valuesDescription: String {
    let all = derivation.given.merging(derivation.samples) { a, _ in a }
    return all.keys.sorted().map { "\($0) = \(formatHuman(all[$0]!))" }.joined(separator: ", ")
  }
  var sampleDescription: String {
    derivation.samples.keys.sorted().map { "\($0) = \(formatHuman(derivation.samples[$0]!))" }.joined(separator: ", ")
  }
}
