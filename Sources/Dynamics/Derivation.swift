import Algebra

/// Everything `aeos derive` reports about a rule, symbolic in η and every
/// parameter that has no value, and specialised where values are given.
public struct Derivation: Sendable {
  public let rule: UpdateRule
  /// Values substituted before printing (a subset of η and the parameters).
  public let given: [String: Double]
  /// Sample values used only to decide which boundary is the threshold when some
  /// parameters are symbolic (empty when everything is given).
  public let samples: [String: Double]
  public let stateMatrix: [[RationalFunction]]
  public let coefficients: [RationalFunction]
  /// Jury / Schur–Cohn conditions, each an expression that must be > 0.
  public let conditions: [(label: String, expression: RationalFunction)]
  /// Set when the symbolic Jury conditions exceeded `conditionsBudget` (a rule with
  /// many state variables and symbolic parameters): `conditions` is then empty.
  public let conditionsOmitted: Bool
  public let analysis: StabilityAnalysis
  public let closedForm: ClosedForm?

  /// Default sample values for symbolic parameters (η = 1, β = 0.9 as in the paper,
  /// distinct generic values in (0, 1) for the rest).
  static func sampleValues(for names: [String], given: [String: Double]) -> [String: Double] {
    var out: [String: Double] = [:]
    var k = 0
    let generic = [0.5, 0.7, 0.3, 0.6, 0.4, 0.8, 0.2]
    for name in names where given[name] == nil {
      if name == UpdateRule.learningRate { out[name] = 1 }
      else if name == "beta" { out[name] = 0.9 }
      else { out[name] = generic[k % generic.count]; k += 1 }
    }
    return out
  }

  public init(rule text: String, values given: [String: Double]) throws(RuleError) {
    let model = try RuleCache.model(for: text)
    let rule = model.rule
    self.rule = rule
    self.given = given
    for name in given.keys where name != UpdateRule.learningRate && !rule.parameters.contains(name) {
      throw .parameter("the rule has no parameter \"\(name)\"; its parameters are: \(rule.parameters.isEmpty ? "(none)" : rule.parameters.joined(separator: ", "))")
    }
    var exact: [String: Rational] = [:]
    for (k, v) in given {
      guard v.isFinite else { throw .parameter("parameter \(k) = \(v) is not a finite number") }
      exact[k] = Rational.fromUserDouble(v)
    }
    // symbolic in what is not given: the printed derivation and the closed form
    let symbolicModel = try StateSpaceModel(specializing: model, exact)
    stateMatrix = symbolicModel.matrix
    coefficients = symbolicModel.coefficients
    if let c = try? Self.juryConditions(symbolicModel.coefficients, budget: WorkBudget(Self.conditionsBudget)) {
      conditions = c
      conditionsOmitted = false
    } else {
      conditions = []
      conditionsOmitted = true
    }
    let samples = Self.sampleValues(for: [UpdateRule.learningRate] + rule.parameters, given: given)
    self.samples = samples
    analysis = try StabilityAnalysis(model: model, values: given.merging(samples) { a, _ in a })
    let symbolicAnalysis = StabilityAnalysis(reusing: analysis, model: symbolicModel)
    closedForm = symbolicAnalysis.closedForm()
  }

  /// Conditions for every root of p (ascending coefficients) to lie strictly inside
  /// the unit circle: p(1) > 0 and (−1)ⁿp(−1) > 0 (with p monic), then the
  /// Schur–Cohn inner conditions a_m² − a_0² > 0 for the reduced polynomials of
  /// degree n, n−1, …, 2 (Jury's table; together necessary and sufficient).
  static func juryConditions(_ c: [RationalFunction]) -> [(label: String, expression: RationalFunction)] {
    (try? juryConditions(c, budget: nil)) ?? []
  }

  /// Work budget of the symbolic Jury conditions, in coefficient products.
  public static let conditionsBudget = 2_000_000

  /// `juryConditions(_:)` within a work budget.
  static func juryConditions(_ c: [RationalFunction], budget: WorkBudget?) throws(BudgetExhausted) -> [(label: String, expression: RationalFunction)] {
    let n = c.count - 1
    guard n >= 1 else { return [] }
    var out: [(String, RationalFunction)] = []
    out.append(("p(1) > 0", StateSpaceModel.value(of: c, at: 1)))
    let pm1 = StateSpaceModel.value(of: c, at: -1)
    out.append((n % 2 == 0 ? "p(−1) > 0" : "−p(−1) > 0", n % 2 == 0 ? pm1 : -pm1))
    var q = c
    var level = n
    while level >= 2 {
      let m = q.count - 1
      let lead = q[m], low = q[0]
      try budget.spendProduct(lead.workWeight + low.workWeight, lead.workWeight + low.workWeight)
      out.append(("Schur–Cohn, degree \(level): a\(level)² − a0² > 0", lead * lead - low * low))
      // reduced polynomial: (a_m q(z) − a_0 z^m q(1/z)) / z
      var next: [RationalFunction] = []
      for j in 0..<m {
        try budget.spendProduct(lead.workWeight, q[j + 1].workWeight)
        try budget.spendProduct(low.workWeight, q[m - j - 1].workWeight)
        next.append(lead * q[j + 1] - low * q[m - j - 1])
      }
      q = next
      level -= 1
    }
    return out
  }
}

extension StateSpaceModel {
  /// The model with some of η and the parameters replaced by values.
  init(specializing model: StateSpaceModel, _ values: [String: Rational]) throws(RuleError) {
    rule = model.rule
    matrix = try model.specialized(values)
    let p = try Self.budgetedCharacteristic(matrix)
    characteristicPolynomial = p
    coefficients = Self.coefficientsInZ(p)
  }
}

extension StabilityAnalysis {
  /// The same numeric analysis, with the closed form searched in another (more
  /// symbolic or more specialised) model of the same rule.
  init(reusing other: StabilityAnalysis, model: StateSpaceModel) {
    self.model = model
    self.values = other.values
    self.numeric = other.numeric
    self.stableSet = other.stableSet
  }
}
