/// A rational function p/q over ℚ in named symbols, kept in canonical form:
///
/// - `gcd(numerator, denominator) = 1` (multivariate gcd over ℚ);
/// - the denominator is *normalised*: coprime integer coefficients and a positive leading
///   coefficient in the graded monomial order (`Monomial.<`); all numeric content lives in the
///   numerator; a zero function is `0/1`.
///
/// So equal rational functions are `==` and hash equal. Arithmetic is exact.
public struct RationalFunction: Hashable, Sendable, ExpressibleByIntegerLiteral {
  public private(set) var numerator: Polynomial
  public private(set) var denominator: Polynomial

  /// Parts already canonical.
  init(canonicalNumerator n: Polynomial, denominator d: Polynomial) {
    numerator = n
    denominator = d
  }

  /// The polynomial `p` as a rational function `p/1`.
  public init(_ p: Polynomial) {
    self.init(canonicalNumerator: p, denominator: .one)
  }

  /// The constant `c`.
  public init(_ c: Rational) {
    self.init(Polynomial(c))
  }

  /// The constant `c`.
  public init(_ c: Int) {
    self.init(Polynomial(c))
  }

  public init(integerLiteral value: Int) {
    self.init(value)
  }

  /// The variable `name`.
  public static func symbol(_ name: String) -> RationalFunction {
    RationalFunction(Polynomial.symbol(name))
  }

  public static let zero = RationalFunction(Polynomial.zero)
  public static let one = RationalFunction(Polynomial.one)

  /// `numerator / denominator`, reduced to canonical form.
  /// - Throws: `AlgebraError.divisionByZero` if the denominator is the zero polynomial.
  public init(numerator: Polynomial, denominator: Polynomial) throws {
    guard !denominator.isZero else {
      throw AlgebraError.divisionByZero("denominator of \(numerator.formatted(.text))/(0) is zero")
    }
    self = RationalFunction.reduce(numerator, denominator)
  }

  /// Canonical form of n/d for nonzero d: cancel the gcd, then normalise the denominator.
  static func reduce(_ n: Polynomial, _ d: Polynomial) -> RationalFunction {
    precondition(!d.isZero, "RationalFunction: zero denominator")
    if n.isZero { return .zero }
    if let c = d.constantValue { return RationalFunction(n / c) }
    var n = n
    var d = d
    if !n.isConstant {
      let g = Polynomial.gcd(n, d)
      if !g.isOne {
        n = n.divided(by: g)!
        d = d.divided(by: g)!
      }
    }
    return normalizingDenominator(n, d)
  }

  /// n/d for coprime n, d (d ≠ 0): only scales so that the denominator is normalised.
  static func normalizingDenominator(_ n: Polynomial, _ d: Polynomial) -> RationalFunction {
    if let c = d.constantValue { return RationalFunction(n / c) }
    guard let lead = d.leadingTerm else { preconditionFailure("zero denominator") }
    var k = d.numericContent
    if lead.coefficient.sign < 0 { k = -k }
    if k.isOne { return RationalFunction(canonicalNumerator: n, denominator: d) }
    return RationalFunction(canonicalNumerator: n / k, denominator: d / k)
  }

  public var isZero: Bool { numerator.isZero }
  /// Whether the denominator is 1.
  public var isPolynomial: Bool { denominator.isOne }
  /// The polynomial if the denominator is 1.
  public var polynomialValue: Polynomial? { isPolynomial ? numerator : nil }
  /// The value if constant.
  public var constantValue: Rational? { isPolynomial ? numerator.constantValue : nil }
  /// Variables of numerator and denominator.
  public var variables: Set<String> { numerator.variables.union(denominator.variables) }

  // MARK: Arithmetic

  public static prefix func - (x: RationalFunction) -> RationalFunction {
    RationalFunction(canonicalNumerator: -x.numerator, denominator: x.denominator)
  }

  public static func + (lhs: RationalFunction, rhs: RationalFunction) -> RationalFunction {
    if lhs.isZero { return rhs }
    if rhs.isZero { return lhs }
    if lhs.denominator == rhs.denominator {
      if lhs.isPolynomial { return RationalFunction(lhs.numerator + rhs.numerator) }
      return reduce(lhs.numerator + rhs.numerator, lhs.denominator)
    }
    if rhs.isPolynomial {
      // n/d + p = (n + p·d)/d, still coprime to d.
      return RationalFunction(canonicalNumerator: lhs.numerator + rhs.numerator * lhs.denominator, denominator: lhs.denominator)
    }
    if lhs.isPolynomial {
      return RationalFunction(canonicalNumerator: rhs.numerator + lhs.numerator * rhs.denominator, denominator: rhs.denominator)
    }
    // a/b + c/d with g = gcd(b, d): (a·(d/g) + c·(b/g)) / (b·(d/g)).
    let g = Polynomial.gcd(lhs.denominator, rhs.denominator)
    let bg = lhs.denominator.divided(by: g)!
    let dg = rhs.denominator.divided(by: g)!
    let n = lhs.numerator * dg + rhs.numerator * bg
    return reduce(n, lhs.denominator * dg)
  }

  public static func - (lhs: RationalFunction, rhs: RationalFunction) -> RationalFunction {
    lhs + (-rhs)
  }

  public static func * (lhs: RationalFunction, rhs: RationalFunction) -> RationalFunction {
    if lhs.isZero || rhs.isZero { return .zero }
    if lhs.isPolynomial && rhs.isPolynomial { return RationalFunction(lhs.numerator * rhs.numerator) }
    // (a/b)(c/d) with a⊥b, c⊥d: cancel gcd(a, d) and gcd(c, b); the result is then coprime.
    var a = lhs.numerator, b = lhs.denominator, c = rhs.numerator, d = rhs.denominator
    if !d.isOne && !a.isConstant {
      let g = Polynomial.gcd(a, d)
      if !g.isOne { a = a.divided(by: g)!; d = d.divided(by: g)! }
    }
    if !b.isOne && !c.isConstant {
      let g = Polynomial.gcd(c, b)
      if !g.isOne { c = c.divided(by: g)!; b = b.divided(by: g)! }
    }
    return normalizingDenominator(a * c, b * d)
  }

  /// `1/self`. - Throws: `AlgebraError.divisionByZero` if `self` is zero.
  public func reciprocal() throws -> RationalFunction {
    guard !isZero else { throw AlgebraError.divisionByZero("reciprocal of 0") }
    return RationalFunction.normalizingDenominator(denominator, numerator)
  }

  /// `self / r`. - Throws: `AlgebraError.divisionByZero` if `r` is zero.
  public func dividing(by r: RationalFunction) throws -> RationalFunction {
    guard !r.isZero else {
      throw AlgebraError.divisionByZero("\(formatted(.text)) divided by 0")
    }
    return self * (try r.reciprocal())
  }

  /// Division. - Precondition: `rhs` is nonzero (use `dividing(by:)` to get a thrown error).
  public static func / (lhs: RationalFunction, rhs: RationalFunction) -> RationalFunction {
    precondition(!rhs.isZero, "RationalFunction: division by zero")
    return lhs * RationalFunction.normalizingDenominator(rhs.denominator, rhs.numerator)
  }

  public static func += (lhs: inout RationalFunction, rhs: RationalFunction) { lhs = lhs + rhs }
  public static func -= (lhs: inout RationalFunction, rhs: RationalFunction) { lhs = lhs - rhs }
  public static func *= (lhs: inout RationalFunction, rhs: RationalFunction) { lhs = lhs * rhs }

  public static func + (lhs: RationalFunction, rhs: Polynomial) -> RationalFunction { lhs + RationalFunction(rhs) }
  public static func - (lhs: RationalFunction, rhs: Polynomial) -> RationalFunction { lhs - RationalFunction(rhs) }
  public static func * (lhs: RationalFunction, rhs: Polynomial) -> RationalFunction { lhs * RationalFunction(rhs) }
  public static func * (lhs: RationalFunction, rhs: Rational) -> RationalFunction {
    if rhs.isZero { return .zero }
    return RationalFunction(canonicalNumerator: lhs.numerator * rhs, denominator: lhs.denominator)
  }
  public static func * (lhs: Rational, rhs: RationalFunction) -> RationalFunction { rhs * lhs }
  public static func + (lhs: RationalFunction, rhs: Rational) -> RationalFunction { lhs + RationalFunction(rhs) }
  public static func - (lhs: RationalFunction, rhs: Rational) -> RationalFunction { lhs - RationalFunction(rhs) }
  public static func + (lhs: RationalFunction, rhs: Int) -> RationalFunction { lhs + RationalFunction(rhs) }
  public static func - (lhs: RationalFunction, rhs: Int) -> RationalFunction { lhs - RationalFunction(rhs) }
  public static func * (lhs: RationalFunction, rhs: Int) -> RationalFunction { lhs * Rational(rhs) }
  public static func * (lhs: Int, rhs: RationalFunction) -> RationalFunction { rhs * Rational(lhs) }

  /// `self^k` for any integer k.
  /// - Throws: `AlgebraError.divisionByZero` if `k < 0` and `self` is zero.
  public func power(_ k: Int) throws -> RationalFunction {
    if k == 0 { return .one }
    if k < 0 {
      guard !isZero else { throw AlgebraError.divisionByZero("0 raised to the negative power \(k)") }
      return try reciprocal().power(-k)
    }
    // Powers of coprime polynomials stay coprime; the denominator's leading coefficient and
    // primitivity are preserved by powers (Gauss's lemma), so it stays normalised.
    return RationalFunction(canonicalNumerator: numerator.power(k), denominator: denominator.power(k))
  }

  // MARK: Calculus, substitution, evaluation

  /// ∂/∂v by the quotient rule: (n′d − nd′)/d².
  public func derivative(in v: String) -> RationalFunction {
    if isPolynomial { return RationalFunction(numerator.derivative(in: v)) }
    let n = numerator.derivative(in: v) * denominator - numerator * denominator.derivative(in: v)
    return RationalFunction.reduce(n, denominator * denominator)
  }

  /// Replaces `v` by the rational function `r` = a/b. Numerator and denominator are evaluated
  /// homogeneously (`Σ cₖ aᵏ b^{M−k}` with M the larger degree), then reduced.
  /// - Throws: `AlgebraError.divisionByZero` if the denominator becomes zero.
  public func substituting(_ v: String, with r: RationalFunction) throws -> RationalFunction {
    let nc = numerator.coefficients(in: v)
    let dc = denominator.coefficients(in: v)
    if nc.count <= 1 && dc.count <= 1 { return self }
    let m = max(nc.count, dc.count) - 1
    let a = r.numerator
    let b = r.denominator
    var aPowers = [Polynomial.one]
    var bPowers = [Polynomial.one]
    for _ in 0..<m {
      aPowers.append(aPowers[aPowers.count - 1] * a)
      bPowers.append(bPowers[bPowers.count - 1] * b)
    }
    func homogeneous(_ cs: [Polynomial]) -> Polynomial {
      var s = Polynomial.zero
      for (k, c) in cs.enumerated() where !c.isZero {
        s = s + c * aPowers[k] * bPowers[m - k]
      }
      return s
    }
    let n = homogeneous(nc)
    let d = homogeneous(dc)
    guard !d.isZero else {
      throw AlgebraError.divisionByZero(
        "denominator \(denominator.formatted(.text)) becomes 0 when \(v) = \(r.formatted(.text))")
    }
    return RationalFunction.reduce(n, d)
  }

  /// Replaces the named variables by numbers (others stay symbolic).
  /// - Throws: `AlgebraError.divisionByZero` if the denominator becomes zero.
  public func substituting(_ values: [String: Rational]) throws -> RationalFunction {
    let n = numerator.substituting(values)
    if isPolynomial { return RationalFunction(n) }
    let d = denominator.substituting(values)
    guard !d.isZero else {
      let at = values.sorted { $0.key < $1.key }.map { "\($0.key) = \($0.value)" }.joined(separator: ", ")
      throw AlgebraError.divisionByZero("denominator \(denominator.formatted(.text)) becomes 0 at \(at)")
    }
    return RationalFunction.reduce(n, d)
  }

  /// Floating-point value; nil if some variable has no value. A denominator that evaluates to 0
  /// gives IEEE ±infinity or NaN.
  public func evaluate(_ values: [String: Double]) -> Double? {
    guard let n = numerator.evaluate(values), let d = denominator.evaluate(values) else { return nil }
    return n / d
  }

  /// Exact value at rational points; nil if some variable has no value or the denominator is 0.
  public func value(at values: [String: Rational]) -> Rational? {
    guard let n = numerator.value(at: values), let d = denominator.value(at: values), !d.isZero else {
      return nil
    }
    return n / d
  }
}
