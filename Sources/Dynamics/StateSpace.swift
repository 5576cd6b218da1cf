import Algebra

/// The linear recurrence of a rule on the quadratic ½λx²: s_{t+1} = A(λ; η, params)·s_t,
/// its characteristic polynomial p(z) = det(zI − A), and the three polynomials whose
/// zeros in λ are the only places where a root can cross the unit circle:
///
/// - `p(1)` — a real root crosses at z = 1;
/// - `p(−1)` — a real root crosses at z = −1;
/// - `det(C₂(A) − I)` — a product z_i z_j of two roots equals 1, which is where a
///   complex pair crosses the circle (C₂ is the second compound matrix, whose
///   eigenvalues are the products z_i z_j, i < j). It also vanishes at reciprocal
///   real pairs, which is harmless: every candidate is verified numerically.
public struct StateSpaceModel: Sendable {
  public let rule: UpdateRule
  /// A[i][j] = ∂(new s_i)/∂(s_j), exactly.
  public let matrix: [[RationalFunction]]
  /// det(zI − A), monic in z; nil when it is symbolic in too many parameters to
  /// compute within `characteristicBudget` (then only numeric analyses, with every
  /// parameter given, are possible, and no closed form is sought).
  public let characteristicPolynomial: RationalFunction?
  /// Coefficients of p in z, ascending: p = Σ c[k] z^k; free of z (empty when
  /// `characteristicPolynomial` is nil).
  public let coefficients: [RationalFunction]

  /// The number of state variables (the degree of p in z).
  public var degree: Int { matrix.count }

  public init(rule: UpdateRule) throws(RuleError) {
    self.rule = rule
    let matrix = rule.updates.map { update in
      rule.stateVariables.map { update.derivative(in: $0) }
    }
    self.matrix = matrix
    let p = try? Self.budgetedCharacteristic(matrix)
    self.characteristicPolynomial = p
    self.coefficients = p.map(Self.coefficientsInZ) ?? []
  }

  /// Replaces parameters (and possibly `eta`) by exact values.
  public func specialized(_ values: [String: Rational]) throws(RuleError) -> [[RationalFunction]] {
    do {
      return try matrix.map { row in try row.map { try $0.substituting(values) } }
    } catch {
      throw .parameter("the parameter values \(Self.describe(values)) make a coefficient of the rule divide by zero")
    }
  }

  static func describe(_ values: [String: Rational]) -> String {
    values.keys.sorted().map { "\($0)=\(values[$0]!.doubleValue)" }.joined(separator: ", ")
  }

  /// Work budget of the exact characteristic polynomial (coefficient products; see
  /// `WorkBudget`): ample for every rule of a few state variables and parameters
  /// (AggMo with 20 buffers needs about a tenth of it), refused beyond.
  public static let characteristicBudget = 5_000_000

  /// `characteristic(_:)` within `characteristicBudget`.
  static func budgetedCharacteristic(_ a: [[RationalFunction]]) throws(RuleError) -> RationalFunction {
    let n = a.count
    let z = RationalFunction.symbol(UpdateRule.rootVariable)
    var m = a.map { $0.map { -$0 } }
    for i in 0..<n { m[i][i] = m[i][i] + z }
    do { return try determinant(m, budget: WorkBudget(characteristicBudget)) } catch {
      throw .stability(
        "the rule is too large for a symbolic derivation: its characteristic polynomial det(zI − A), with \(n) state variables and the parameters \(symbols(a)) symbolic, needs more than \(characteristicBudget) coefficient products; give parameters values (--param, --lr, --beta1)")
    }
  }

  /// The symbols of a matrix besides λ, for messages.
  static func symbols(_ a: [[RationalFunction]]) -> String {
    let names = a.flatMap { $0.flatMap(\.variables) }.filter { $0 != UpdateRule.curvature }
    let sorted = Set(names).sorted()
    return sorted.isEmpty ? "(none)" : sorted.joined(separator: ", ")
  }

  /// det(zI − A) within a work budget.
  static func characteristic(_ a: [[RationalFunction]], budget: WorkBudget) throws(BudgetExhausted) -> RationalFunction {
    let n = a.count
    let z = RationalFunction.symbol(UpdateRule.rootVariable)
    var m = a.map { $0.map { -$0 } }
    for i in 0..<n { m[i][i] = m[i][i] + z }
    return try determinant(m, budget: budget)
  }

  static func characteristic(_ a: [[RationalFunction]]) -> RationalFunction {
    let n = a.count
    let z = RationalFunction.symbol(UpdateRule.rootVariable)
    var m = a.map { $0.map { -$0 } }
    for i in 0..<n { m[i][i] = m[i][i] + z }
    return determinant(m)
  }

  static func coefficientsInZ(_ p: RationalFunction) -> [RationalFunction] {
    // the denominator of det(zI − A) never contains z (entries of A are free of z)
    let z = UpdateRule.rootVariable
    let den = p.denominator
    return p.numerator.coefficients(in: z).map { c in
      // den is nonzero, so this cannot throw
      (try? RationalFunction(numerator: c, denominator: den)) ?? RationalFunction(Polynomial.zero)
    }
  }

  /// Evaluates p at a number: p(1) or p(−1).
  static func value(of coefficients: [RationalFunction], at point: Int) -> RationalFunction {
    var sum = RationalFunction(Polynomial.zero)
    var power = 1
    for c in coefficients {
      sum = sum + c * RationalFunction(Polynomial(power))
      power *= point
    }
    return sum
  }

  /// det(C₂(A) − I); for a 1×1 matrix there is no pair, and this is nil.
  static func pairCrossing(_ a: [[RationalFunction]]) -> RationalFunction? {
    try? pairCrossing(a, budget: nil)
  }

  /// `pairCrossing(_:)` within a work budget.
  static func pairCrossing(_ a: [[RationalFunction]], budget: WorkBudget?) throws(BudgetExhausted) -> RationalFunction? {
    let n = a.count
    guard n >= 2 else { return nil }
    var pairs: [(Int, Int)] = []
    for i in 0..<n { for j in (i + 1)..<n { pairs.append((i, j)) } }
    var c = pairs.map { p in
      pairs.map { q in a[p.0][q.0] * a[p.1][q.1] - a[p.0][q.1] * a[p.1][q.0] }
    }
    for k in 0..<pairs.count { c[k][k] = c[k][k] - RationalFunction(Polynomial.one) }
    return try determinant(c, budget: budget)
  }
}

/// Where a root crosses the unit circle at a boundary of the stable set.
public enum Crossing: String, Sendable, Codable {
  case plusOne = "z = 1"
  case minusOne = "z = −1"
  case complexPair = "complex pair on |z| = 1"
}
