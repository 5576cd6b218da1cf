import Algebra

/// A rule of the rule language compiled for execution on vectors: what the rule
/// *does* to a parameter vector, where `UpdateRule` is what it does on the
/// one-dimensional quadratic.
///
/// Each assignment `v' = …`, in order, becomes a linear combination
///
///     v_{t+1} = Σᵢ cᵢ(η, params) · uᵢ
///
/// of vectors uᵢ of three kinds (`Operand`): old state vectors (x_t, m_t, …), new
/// state vectors assigned earlier in the step (m′), and gradient evaluations
/// G_k = ∇L(P_k). Each point P_k is itself such a combination (`points[k]`), so
/// `g(x - eta*g)` is ∇L(x − η∇L(x)) and bare `g` is ∇L(x). The coefficients stay
/// rational functions of `eta` and the parameters (`bound(to:)` fixes the
/// parameters, `BoundRuleProgram.coefficients(eta:)` evaluates at one η), because
/// η changes from step to step under a schedule.
///
/// **One gradient per distinct point.** Two `g(…)` whose points are the same linear
/// combination of the old state and of the (distinct) gradients, after substituting
/// every m′ by its own combination, share one evaluation: `g` and `g(x)`, or the
/// same `g(x + beta*v)` written twice, or `g(x - eta*m')` and
/// `g(x - eta*(beta*m + g))` after `m' = beta*m + g`. Points that cancel out of every
/// update are not evaluated at all.
///
/// Accepted rules are exactly those that `UpdateRule(parsing:)` accepts (so analysis
/// and execution see the same rules) minus those that are linear only on the
/// one-dimensional quadratic, where g = λx commutes with everything: a product or
/// quotient of two vectors (`g*m/x`, `g(2*x)/g`), and a gradient at a point that is
/// 0 for every state (`g(0*x)`, whose value ∇L(0) is a constant, not a linear map).
public struct RuleProgram: Sendable, Hashable {
  /// A vector that a combination reads.
  public enum Operand: Sendable, Hashable, Comparable {
    /// The value of `variables[i]` before the step: x_t, m_t, ….
    case old(Int)
    /// The value of `variables[i]` assigned earlier in this step (m′).
    case new(Int)
    /// The k-th gradient evaluation of the step, ∇L at `points[k]`.
    case gradient(Int)
  }

  /// c · u.
  public struct Term: Sendable, Hashable {
    /// A rational function of `eta` and the parameters, free of the vectors.
    public var coefficient: RationalFunction
    public var operand: Operand
  }

  /// A point at which the step evaluates the gradient.
  public struct GradientPoint: Sendable, Hashable {
    /// As first written: `g`, `g(x + beta*v)`.
    public var text: String
    /// The point as a combination (it may read new values assigned earlier and
    /// earlier gradients).
    public var terms: [Term]
    /// Whether the point is the iterate x_t itself (`g`, `g(x)`, `g(x + 0*m)`):
    /// a caller that already has ∇L(x_t) can supply it.
    public var isIterate: Bool
  }

  /// One assignment `variables[variable]' = …`.
  public struct Assignment: Sendable, Hashable {
    public var variable: Int
    /// Gradients to evaluate just before this assignment, in order (each one once
    /// in the whole step, before its first use).
    public var gradients: [Int]
    public var terms: [Term]
  }

  /// The same rule as analysed (state variables in order of assignment).
  public let rule: UpdateRule
  /// The distinct gradient points, in order of evaluation.
  public let points: [GradientPoint]
  /// The assignments, in the rule's order.
  public let assignments: [Assignment]
  /// Names that need a value to execute: every symbol of a coefficient but `eta`,
  /// sorted (the rule's `parameters`, plus any that cancel on the 1-D quadratic only).
  public let parameters: [String]

  /// State variables in order of assignment (`rule.stateVariables`, x included).
  public var variables: [String] { rule.stateVariables }

  /// Compiles `text`.
  /// - Throws: `RuleError` — everything `UpdateRule(parsing:)` throws, and
  ///   `.notLinear` naming the assignment or the `g(…)` and the offending term for
  ///   what is linear only on the one-dimensional quadratic.
  public init(parsing text: String) throws(RuleError) {
    let rule = try UpdateRule(parsing: text)
    self.rule = rule
    var compiler = RuleCompiler(variables: rule.stateVariables, text: text)
    let statements = text.split(separator: ";", omittingEmptySubsequences: false)
      .map { $0.trimmingWhitespace() }
      .filter { !$0.isEmpty }
    // UpdateRule has checked the shape `NAME' = EXPRESSION` and the order of the names.
    for (index, statement) in statements.enumerated() {
      let parts = statement.split(separator: "=", omittingEmptySubsequences: false)
      guard parts.count == 2, index < rule.stateVariables.count else {
        throw .syntax("malformed assignment \"\(statement)\": expected NAME' = EXPRESSION")
      }
      try compiler.assign(index, source: parts[1].trimmingWhitespace())
    }
    try compiler.check(against: rule)
    (points, assignments) = compiler.finish()
    var names = Set(rule.parameters)
    for term in assignments.flatMap(\.terms) + points.flatMap(\.terms) {
      names.formUnion(term.coefficient.variables)
    }
    names.remove(UpdateRule.learningRate)
    parameters = names.sorted()
  }

  /// The index of `x` in `variables`.
  public var iterateIndex: Int { rule.stateVariables.firstIndex(of: "x") ?? 0 }

  /// How an operand is written in the rule (`x`, `m'`, `g(x + beta*v)`).
  public func describe(_ operand: Operand) -> String {
    switch operand {
    case let .old(i): variables[i]
    case let .new(i): variables[i] + "'"
    case let .gradient(k): points[k].text
    }
  }

  /// Fixes every parameter: coefficients become functions of η alone.
  /// - Throws: `RuleError.parameter` naming a missing parameter (all missing ones),
  ///   a name the rule does not have, `eta` (the learning rate is not a parameter),
  ///   a non-finite value, or values at which a coefficient divides by zero.
  public func bound(to values: [String: Double]) throws(RuleError) -> BoundRuleProgram {
    try BoundRuleProgram(program: self, values: values)
  }
}

/// A `RuleProgram` with numeric parameter values; its coefficients are rational
/// functions of η alone, evaluated in double precision by `coefficients(eta:)`.
public struct BoundRuleProgram: Sendable {
  public let program: RuleProgram
  /// The parameter values (exactly the program's `parameters`).
  public let values: [String: Double]
  let pointCoefficients: [[EtaFunction]]
  let assignmentCoefficients: [[EtaFunction]]

  init(program: RuleProgram, values: [String: Double]) throws(RuleError) {
    if values[UpdateRule.learningRate] != nil {
      throw .parameter("eta is the learning rate (--lr), not a parameter: remove it from the parameter values")
    }
    let known = Set(program.parameters)
    if let unknown = values.keys.sorted().first(where: { !known.contains($0) }) {
      let list = program.parameters.isEmpty ? "(none)" : program.parameters.joined(separator: ", ")
      throw .parameter("the rule has no parameter \"\(unknown)\"; its parameters are: \(list)")
    }
    let missing = program.parameters.filter { values[$0] == nil }
    guard missing.isEmpty else {
      throw .parameter("the rule needs a value for \(missing.map { "\($0) (--param \($0)=VALUE)" }.joined(separator: ", "))")
    }
    var exact: [String: Rational] = [:]
    for name in values.keys.sorted() {
      let v = values[name] ?? .nan
      guard v.isFinite else { throw .parameter("parameter \(name) = \(v) is not a finite number") }
      exact[name] = Rational.fromUserDouble(v)
    }
    func bind(_ terms: [RuleProgram.Term], _ place: String) throws(RuleError) -> [EtaFunction] {
      var out: [EtaFunction] = []
      for term in terms {
        do {
          out.append(EtaFunction(try term.coefficient.substituting(exact)))
        } catch {
          throw .parameter(
            "at \(StateSpaceModel.describe(exact)) the coefficient of \(program.describe(term.operand)) in \(place) divides by zero")
        }
      }
      return out
    }
    var points: [[EtaFunction]] = []
    for p in program.points { points.append(try bind(p.terms, "the point of \(p.text)")) }
    var assignments: [[EtaFunction]] = []
    for a in program.assignments {
      assignments.append(try bind(a.terms, "the assignment to \(program.variables[a.variable])'"))
    }
    self.program = program
    self.values = values
    self.pointCoefficients = points
    self.assignmentCoefficients = assignments
  }

  /// The coefficients at learning rate `eta`, in the order of `program.points[k].terms`
  /// and `program.assignments[i].terms`.
  /// - Throws: `RuleError.parameter` naming the coefficient that is not finite at this η
  ///   (a denominator of the rule that vanishes there).
  public func coefficients(eta: Double) throws(RuleError) -> RuleCoefficients {
    func evaluate(_ fs: [EtaFunction], _ terms: [RuleProgram.Term], _ place: String) throws(RuleError) -> [Double] {
      var out: [Double] = []
      out.reserveCapacity(fs.count)
      for (f, term) in zip(fs, terms) {
        let c = f.value(at: eta)
        guard c.isFinite else {
          throw .parameter("at eta = \(eta) the coefficient of \(program.describe(term.operand)) in \(place) is \(c): expected a finite number (a denominator of the rule vanishes)")
        }
        out.append(c)
      }
      return out
    }
    var points: [[Double]] = []
    for (k, p) in program.points.enumerated() {
      points.append(try evaluate(pointCoefficients[k], p.terms, "the point of \(p.text)"))
    }
    var assignments: [[Double]] = []
    for (i, a) in program.assignments.enumerated() {
      assignments.append(try evaluate(assignmentCoefficients[i], a.terms, "the assignment to \(program.variables[a.variable])'"))
    }
    return RuleCoefficients(points: points, assignments: assignments)
  }
}

/// Numeric coefficients of a program at one η.
public struct RuleCoefficients: Sendable, Hashable {
  /// points[k][j] multiplies `program.points[k].terms[j].operand`.
  public var points: [[Double]]
  /// assignments[i][j] multiplies `program.assignments[i].terms[j].operand`.
  public var assignments: [[Double]]
}

/// A rational function of η alone, p(η)/q(η), as double coefficients (ascending
/// powers) for Horner evaluation: a few multiplications per coefficient and step.
struct EtaFunction: Sendable, Hashable {
  var numerator: [Double]
  var denominator: [Double]

  /// - Precondition: `f` has no variable but `eta` (the parameters are substituted).
  init(_ f: RationalFunction) {
    func coefficients(_ p: Polynomial) -> [Double] {
      p.coefficients(in: UpdateRule.learningRate).map { ($0.constantValue ?? Rational(0)).doubleValue }
    }
    numerator = coefficients(f.numerator)
    denominator = coefficients(f.denominator)
  }

  func value(at eta: Double) -> Double {
    func horner(_ cs: [Double]) -> Double { cs.reversed().reduce(0.0) { $0 * eta + $1 } }
    return horner(numerator) / horner(denominator)
  }
}

// MARK: - Compilation

/// Builds a `RuleProgram` one assignment at a time. Gradients are named by fresh
/// symbols (a prefix that no name in the rule starts with, then the index) so that
/// `ExpressionParser` reads each right-hand side as a rational function in the
/// vectors, `eta` and the parameters.
struct RuleCompiler {
  let variables: [String]
  let prefix: String
  /// Canonical form of each new value assigned so far (`m'` → its combination of
  /// old state vectors and gradient symbols).
  var canonicalNew: [String: RationalFunction] = [:]
  var points: [RuleProgram.GradientPoint] = []
  /// Canonical form of each point, for sharing.
  var canonicalPoints: [RationalFunction] = []
  /// The assignment during which each point was created (it is evaluated there).
  var createdIn: [Int] = []
  var assignments: [RuleProgram.Assignment] = []

  init(variables: [String], text: String) {
    self.variables = variables
    var prefix = "__g"
    while text.contains(prefix) { prefix = "_" + prefix }
    self.prefix = prefix
  }

  func symbol(_ k: Int) -> String { prefix + String(k) }

  /// The operand a symbol stands for, or nil for `eta` and parameters.
  func operand(_ name: String) -> RuleProgram.Operand? {
    if let i = variables.firstIndex(of: name) { return .old(i) }
    if name.hasSuffix("'"), canonicalNew[name] != nil, let i = variables.firstIndex(of: String(name.dropLast())) {
      return .new(i)
    }
    if name.hasPrefix(prefix), let k = Int(name.dropFirst(prefix.count)), k < points.count { return .gradient(k) }
    return nil
  }

  func display(_ name: String) -> String {
    if case let .gradient(k)? = operand(name) { return points[k].text }
    return name
  }

  /// The vector factors of a monomial, as written: `g·x`, `m^2`.
  func vectorFactors(_ m: Monomial) -> String {
    m.powers.filter { operand($0.key) != nil }
      .sorted { $0.key < $1.key }
      .map { $0.value == 1 ? display($0.key) : "\(display($0.key))^\($0.value)" }
      .joined(separator: "·")
  }

  /// Splits `value` into terms c·u; `what` names it in errors.
  func linearTerms(_ value: RationalFunction, what: String) throws(RuleError) -> [RuleProgram.Term] {
    let inDenominator = value.denominator.variables.filter { operand($0) != nil }.sorted()
    if !inDenominator.isEmpty {
      throw .notLinear(
        "\(what) divides by \(inDenominator.map(display).joined(separator: ", ")): on vectors an update must be a linear combination of the state and the gradients (a quotient of vectors is linear only on the one-dimensional quadratic, where g = λx)")
    }
    for (monomial, coefficient) in value.numerator.terms {
      let degree = monomial.powers.reduce(0) { $0 + (operand($1.key) != nil ? $1.value : 0) }
      if degree == 0 {
        let term = Polynomial.term(monomial, coefficient).formatted(.text)
        throw .notLinear("\(what) is not linear in the vectors: a term free of them (\(term)) makes it affine")
      }
      if degree > 1 {
        throw .notLinear(
          "\(what) is not linear in the vectors: the term with \(vectorFactors(monomial)) has degree \(degree) in them (a product of vectors is linear only on the one-dimensional quadratic, where g = λx)")
      }
    }
    return value.variables.compactMap { name in operand(name).map { (name, $0) } }
      .sorted { $0.1 < $1.1 }
      .map { RuleProgram.Term(coefficient: value.derivative(in: $0.0), operand: $0.1) }
  }

  /// `value` with every m′ replaced by its canonical combination.
  func canonical(_ value: RationalFunction) throws(RuleError) -> RationalFunction {
    var out = value
    for name in value.variables.sorted() where name.hasSuffix("'") {
      guard let replacement = canonicalNew[name] else { continue }
      do { out = try out.substituting(name, with: replacement) } catch {
        throw .syntax("substituting \(name) divides by zero")
      }
    }
    return out
  }

  /// Registers the gradient at `value`, or finds the equal point registered earlier.
  mutating func point(_ value: RationalFunction, text: String, what: String, assignment: Int) throws(RuleError) -> Int {
    let terms = try linearTerms(value, what: what)
    let c = try canonical(value)
    guard !c.isZero else {
      throw .notLinear(
        "\(what) is 0 for every state: the gradient there is a constant, not a linear function of the state; take it at a point such as x or x + beta*m")
    }
    if let k = canonicalPoints.firstIndex(of: c) { return k }
    points.append(RuleProgram.GradientPoint(text: text, terms: terms, isIterate: c == .symbol("x")))
    canonicalPoints.append(c)
    createdIn.append(assignment)
    return points.count - 1
  }

  mutating func assign(_ index: Int, source: String) throws(RuleError) {
    let name = variables[index]
    let chars = Array(source)
    let rewritten = try rewrite(chars, 0..<chars.count, source: source, assignment: index)
    let value: RationalFunction
    do { value = try ExpressionParser.parse(rewritten) } catch {
      throw .syntax("cannot parse \"\(source)\" (assignment to \(name)'): \(error)")
    }
    let terms = try linearTerms(value, what: "the assignment to \(name)'")
    canonicalNew[name + "'"] = try canonical(value)
    assignments.append(RuleProgram.Assignment(variable: index, gradients: [], terms: terms))
  }

  /// Replaces every `g` and `g(EXPR)` of `chars[range]` by a gradient symbol,
  /// innermost first, registering the points.
  mutating func rewrite(_ chars: [Character], _ range: Range<Int>, source: String, assignment: Int) throws(RuleError) -> String {
    let end = range.upperBound
    let place = "of \"\(source)\" (assignment to \(variables[assignment])')"
    var out = ""
    var i = range.lowerBound
    while i < end {
      let c = chars[i]
      if c.isLetter || c == "_" {
        var j = i
        while j < end, chars[j].isIdentifierCharacter { j += 1 }
        while j < end, chars[j] == "'" { j += 1 }
        let word = String(chars[i..<j])
        guard word == "g" else {
          out += word
          i = j
          continue
        }
        var k = j
        while k < end, chars[k] == " " { k += 1 }
        if k < end, chars[k] == "(" {
          var depth = 0
          var close: Int? = nil
          for p in k..<end {
            if chars[p] == "(" { depth += 1 } else if chars[p] == ")" {
              depth -= 1
              if depth == 0 {
                close = p
                break
              }
            }
          }
          guard let close else { throw .syntax("g( at position \(i) \(place) has no closing ')'") }
          let written = String(chars[i...close])
          let inner = try rewrite(chars, (k + 1)..<close, source: source, assignment: assignment)
          let value: RationalFunction
          do { value = try ExpressionParser.parse(inner) } catch {
            throw .syntax("cannot parse the point of \(written) at position \(i) \(place)")
          }
          let what = "the point of \(written) at position \(i) \(place)"
          out += symbol(try point(value, text: written, what: what, assignment: assignment))
          i = close + 1
        } else {
          out += symbol(try point(.symbol("x"), text: "g", what: "g at position \(i) \(place)", assignment: assignment))
          i = j
        }
      } else if c.isNumber || c == "." {
        // a numeric literal, including exponents such as 1e-3 (its e is no name)
        let j = UpdateRule.numericLiteralEnd(chars, from: i, end: end)
        out += String(chars[i..<j])
        i = j
      } else {
        out.append(c)
        i += 1
      }
    }
    return out
  }

  /// With every gradient replaced by λ times its point (the one-dimensional
  /// quadratic ½λx²), each update must be the one `UpdateRule` analyses, so that the
  /// threshold is that of the rule as executed. (A guard: both read `g(E)` as one
  /// factor, so they agree on every rule that parses.)
  func check(against rule: UpdateRule) throws(RuleError) {
    let lambda = RationalFunction.symbol(UpdateRule.curvature)
    var onQuadratic: [RationalFunction] = []
    func reduce(_ value: RationalFunction) throws(RuleError) -> RationalFunction {
      var out = value
      for (k, point) in onQuadratic.enumerated() where out.variables.contains(symbol(k)) {
        do { out = try out.substituting(symbol(k), with: point) } catch {
          throw .syntax("on the quadratic ½λx², \(points[k].text) = 0 makes a denominator of the rule vanish")
        }
      }
      return out
    }
    for c in canonicalPoints { onQuadratic.append(lambda * (try reduce(c))) }
    for (i, name) in variables.enumerated() {
      guard let executed = canonicalNew[name + "'"] else { continue }
      let value = try reduce(executed)
      if i < rule.updates.count, value != rule.updates[i] {
        throw .syntax(
          "the analysis reads the assignment to \(name)' as \(rule.updates[i].formatted(.text)) on the quadratic, but executed on vectors it is \(value.formatted(.text)) (an internal disagreement: please report the rule)")
      }
    }
  }

  /// Drops points that no update reads (directly or through a live point),
  /// renumbers the rest and attaches each to the assignment that evaluates it.
  func finish() -> (points: [RuleProgram.GradientPoint], assignments: [RuleProgram.Assignment]) {
    var live = [Bool](repeating: false, count: points.count)
    func mark(_ terms: [RuleProgram.Term]) {
      for t in terms { if case let .gradient(k) = t.operand { live[k] = true } }
    }
    for a in assignments { mark(a.terms) }
    for k in points.indices.reversed() where live[k] { mark(points[k].terms) }
    var renumber = [Int](repeating: -1, count: points.count)
    var kept: [RuleProgram.GradientPoint] = []
    var out = assignments
    func remap(_ terms: [RuleProgram.Term]) -> [RuleProgram.Term] {
      terms.map { t in
        guard case let .gradient(k) = t.operand else { return t }
        return RuleProgram.Term(coefficient: t.coefficient, operand: .gradient(renumber[k]))
      }
    }
    for k in points.indices where live[k] {
      renumber[k] = kept.count
      var p = points[k]
      p.terms = remap(p.terms)
      kept.append(p)
      out[createdIn[k]].gradients.append(renumber[k])
    }
    for i in out.indices { out[i].terms = remap(out[i].terms) }
    return (kept, out)
  }
}
