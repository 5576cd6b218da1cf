import BigInt

/// A multivariate polynomial over ℚ in named symbols (any strings: `"eta"`, `"beta"`, `"m'"`, `"z"`).
///
/// Stored sparsely as `terms`: monomial → nonzero rational coefficient. Equal polynomials are `==`
/// and hash equal. Arithmetic is exact; nothing is ever rounded.
public struct Polynomial: Hashable, Sendable, ExpressibleByIntegerLiteral {
  /// Monomial → coefficient; coefficients are never zero (the setter drops zeros).
  public var terms: [Monomial: Rational] {
    didSet {
      if terms.values.contains(where: \.isZero) { terms = terms.filter { !$0.value.isZero } }
    }
  }

  /// Builds from terms known to have nonzero coefficients.
  init(uncheckedTerms: [Monomial: Rational]) {
    self.terms = uncheckedTerms
  }

  /// A polynomial from monomial → coefficient pairs (zero coefficients are dropped).
  public init(terms: [Monomial: Rational]) {
    self.terms = terms.filter { !$0.value.isZero }
  }

  /// The constant polynomial `c`.
  public init(_ c: Rational) {
    terms = c.isZero ? [:] : [Monomial.one: c]
  }

  /// The constant polynomial `c`.
  public init(_ c: Int) {
    self.init(Rational(c))
  }

  public init(integerLiteral value: Int) {
    self.init(value)
  }

  /// The polynomial consisting of the single variable `name`.
  public static func symbol(_ name: String) -> Polynomial {
    Polynomial(uncheckedTerms: [Monomial(name): .one])
  }

  /// `c · m` for a single monomial.
  public init(coefficient c: Rational, monomial m: Monomial) {
    terms = c.isZero ? [:] : [m: c]
  }

  public static let zero = Polynomial(uncheckedTerms: [:])
  public static let one = Polynomial(uncheckedTerms: [Monomial.one: .one])

  public var isZero: Bool { terms.isEmpty }
  /// Whether this is the constant 1.
  public var isOne: Bool { terms.count == 1 && terms[.one]?.isOne == true }
  /// Whether the polynomial has no variables (zero included).
  public var isConstant: Bool { terms.isEmpty || (terms.count == 1 && terms.keys.first?.isOne == true) }
  /// The value if constant (0 for the zero polynomial), nil otherwise.
  public var constantValue: Rational? {
    if terms.isEmpty { return .zero }
    if terms.count == 1, let (m, c) = terms.first, m.isOne { return c }
    return nil
  }
  /// The coefficient of the monomial 1.
  public var constantTerm: Rational { terms[.one] ?? .zero }

  /// All variables occurring with positive power.
  public var variables: Set<String> {
    var s = Set<String>()
    for m in terms.keys { s.formUnion(m.names) }
    return s
  }

  /// Variables sorted ascending.
  var sortedVariables: [String] { variables.sorted() }

  /// Terms sorted ascending in the monomial order (constant first).
  public var sortedTerms: [(monomial: Monomial, coefficient: Rational)] {
    terms.sorted { $0.key < $1.key }.map { (monomial: $0.key, coefficient: $0.value) }
  }

  /// The largest monomial in the monomial order and its coefficient (nil for zero).
  public var leadingTerm: (monomial: Monomial, coefficient: Rational)? {
    guard var best = terms.first else { return nil }
    for t in terms where best.key < t.key { best = t }
    return (best.key, best.value)
  }

  /// Total degree; −1 for the zero polynomial.
  public var totalDegree: Int {
    terms.isEmpty ? -1 : terms.keys.map(\.degree).max() ?? 0
  }

  /// Degree in `v`; −1 for the zero polynomial, 0 if `v` does not occur.
  public func degree(in v: String) -> Int {
    if terms.isEmpty { return -1 }
    var d = 0
    for m in terms.keys { d = max(d, m.power(of: v)) }
    return d
  }

  // MARK: Arithmetic

  public static prefix func - (p: Polynomial) -> Polynomial {
    Polynomial(uncheckedTerms: p.terms.mapValues { -$0 })
  }

  public static func + (lhs: Polynomial, rhs: Polynomial) -> Polynomial {
    if lhs.terms.isEmpty { return rhs }
    if rhs.terms.isEmpty { return lhs }
    var (big, small) = lhs.terms.count >= rhs.terms.count ? (lhs.terms, rhs.terms) : (rhs.terms, lhs.terms)
    for (m, c) in small {
      if let old = big[m] {
        let s = old + c
        if s.isZero { big.removeValue(forKey: m) } else { big[m] = s }
      } else {
        big[m] = c
      }
    }
    return Polynomial(uncheckedTerms: big)
  }

  public static func - (lhs: Polynomial, rhs: Polynomial) -> Polynomial {
    if rhs.terms.isEmpty { return lhs }
    var t = lhs.terms
    for (m, c) in rhs.terms {
      if let old = t[m] {
        let s = old - c
        if s.isZero { t.removeValue(forKey: m) } else { t[m] = s }
      } else {
        t[m] = -c
      }
    }
    return Polynomial(uncheckedTerms: t)
  }

  public static func * (lhs: Polynomial, rhs: Polynomial) -> Polynomial {
    if lhs.terms.isEmpty || rhs.terms.isEmpty { return .zero }
    if let c = lhs.constantValue { return rhs * c }
    if let c = rhs.constantValue { return lhs * c }
    var t: [Monomial: Rational] = [:]
    t.reserveCapacity(lhs.terms.count * rhs.terms.count)
    for (m1, c1) in lhs.terms {
      for (m2, c2) in rhs.terms {
        let m = m1 * m2
        let c = c1 * c2
        if let old = t[m] {
          t[m] = old + c
        } else {
          t[m] = c
        }
      }
    }
    return Polynomial(terms: t)
  }

  public static func * (lhs: Polynomial, rhs: Rational) -> Polynomial {
    if rhs.isZero { return .zero }
    if rhs.isOne { return lhs }
    return Polynomial(uncheckedTerms: lhs.terms.mapValues { $0 * rhs })
  }

  public static func * (lhs: Rational, rhs: Polynomial) -> Polynomial { rhs * lhs }
  public static func * (lhs: Polynomial, rhs: Int) -> Polynomial { lhs * Rational(rhs) }
  public static func * (lhs: Int, rhs: Polynomial) -> Polynomial { rhs * Rational(lhs) }
  public static func + (lhs: Polynomial, rhs: Rational) -> Polynomial { lhs + Polynomial(rhs) }
  public static func + (lhs: Rational, rhs: Polynomial) -> Polynomial { Polynomial(lhs) + rhs }
  public static func + (lhs: Polynomial, rhs: Int) -> Polynomial { lhs + Polynomial(rhs) }
  public static func + (lhs: Int, rhs: Polynomial) -> Polynomial { Polynomial(lhs) + rhs }
  public static func - (lhs: Polynomial, rhs: Rational) -> Polynomial { lhs - Polynomial(rhs) }
  public static func - (lhs: Rational, rhs: Polynomial) -> Polynomial { Polynomial(lhs) - rhs }
  public static func - (lhs: Polynomial, rhs: Int) -> Polynomial { lhs - Polynomial(rhs) }
  public static func - (lhs: Int, rhs: Polynomial) -> Polynomial { Polynomial(lhs) - rhs }

  /// Division by a nonzero rational. - Precondition: `rhs != 0`.
  public static func / (lhs: Polynomial, rhs: Rational) -> Polynomial {
    lhs * rhs.reciprocal
  }

  public static func += (lhs: inout Polynomial, rhs: Polynomial) { lhs = lhs + rhs }
  public static func -= (lhs: inout Polynomial, rhs: Polynomial) { lhs = lhs - rhs }
  public static func *= (lhs: inout Polynomial, rhs: Polynomial) { lhs = lhs * rhs }

  /// `self^k` by repeated squaring. - Precondition: `k >= 0` (0^0 = 1).
  public func power(_ k: Int) -> Polynomial {
    precondition(k >= 0, "Polynomial.power: negative exponent \(k)")
    if k == 0 { return .one }
    if terms.count == 1, let (m, c) = terms.first {
      // A single term: raise exponents directly.
      return Polynomial(uncheckedTerms: [Monomial(names: m.names, exponents: m.exponents.map { $0 * k }): c.power(k)])
    }
    var result = Polynomial.one
    var base = self
    var e = k
    while e > 0 {
      if e & 1 == 1 { result = result * base }
      e >>= 1
      if e > 0 { base = base * base }
    }
    return result
  }

  /// `self · m`.
  func multiplied(by m: Monomial) -> Polynomial {
    if m.isOne { return self }
    var t: [Monomial: Rational] = [:]
    t.reserveCapacity(terms.count)
    for (mm, c) in terms { t[mm * m] = c }
    return Polynomial(uncheckedTerms: t)
  }

  // MARK: Structure in one variable

  /// Coefficients as a polynomial in `v`: `c[k]` is the coefficient of `v^k` (a polynomial in the
  /// other variables); `count == degree(in: v) + 1`, empty for the zero polynomial.
  public func coefficients(in v: String) -> [Polynomial] {
    let d = degree(in: v)
    if d < 0 { return [] }
    var c = [[Monomial: Rational]](repeating: [:], count: d + 1)
    for (m, coeff) in terms {
      let (rest, e) = m.removing(v)
      c[e][rest] = coeff
    }
    return c.map { Polynomial(uncheckedTerms: $0) }
  }

  /// The coefficient of `v^k` (a polynomial in the other variables); zero if absent.
  public func coefficient(of v: String, power k: Int) -> Polynomial {
    var t: [Monomial: Rational] = [:]
    for (m, coeff) in terms {
      let (rest, e) = m.removing(v)
      if e == k { t[rest] = coeff }
    }
    return Polynomial(uncheckedTerms: t)
  }

  /// Leading coefficient with respect to `v` (coefficient of `v^degree`).
  func leadingCoefficient(in v: String) -> Polynomial {
    coefficient(of: v, power: degree(in: v))
  }

  /// ∂/∂v.
  public func derivative(in v: String) -> Polynomial {
    var t: [Monomial: Rational] = [:]
    for (m, c) in terms {
      guard let i = m.names.firstIndex(of: v) else { continue }
      let e = m.exponents[i]
      var names = m.names
      var exps = m.exponents
      if e == 1 {
        names.remove(at: i)
        exps.remove(at: i)
      } else {
        exps[i] = e - 1
      }
      t[Monomial(names: names, exponents: exps)] = c * Rational(e)
    }
    return Polynomial(uncheckedTerms: t)
  }

  // MARK: Substitution and evaluation

  /// Replaces every occurrence of `v` by `p` (exact composition).
  public func substituting(_ v: String, with p: Polynomial) -> Polynomial {
    let cs = coefficients(in: v)
    if cs.count <= 1 { return self }
    // Horner's scheme in v.
    var result = cs[cs.count - 1]
    for k in stride(from: cs.count - 2, through: 0, by: -1) {
      result = result * p + cs[k]
    }
    return result
  }

  /// Replaces the variables named in `values` by those numbers; others stay symbolic.
  public func substituting(_ values: [String: Rational]) -> Polynomial {
    if values.isEmpty { return self }
    var t: [Monomial: Rational] = [:]
    for (m, c) in terms {
      var coeff = c
      var names: [String] = []
      var exps: [Int] = []
      for (name, e) in zip(m.names, m.exponents) {
        if let x = values[name] {
          coeff = coeff * x.power(e)
        } else {
          names.append(name)
          exps.append(e)
        }
      }
      if coeff.isZero { continue }
      let mm = names.count == m.names.count ? m : Monomial(names: names, exponents: exps)
      let s = (t[mm] ?? .zero) + coeff
      t[mm] = s
    }
    return Polynomial(terms: t)
  }

  /// Evaluates in floating point; nil if some variable of the polynomial has no value.
  public func evaluate(_ values: [String: Double]) -> Double? {
    var sum = 0.0
    for (m, c) in terms {
      var term = c.doubleValue
      for (name, e) in zip(m.names, m.exponents) {
        guard let x = values[name] else { return nil }
        term *= integerPower(x, e)
      }
      sum += term
    }
    return sum
  }

  /// Exact evaluation at rational values; nil if some variable has no value.
  public func value(at values: [String: Rational]) -> Rational? {
    let s = substituting(values)
    return s.constantValue
  }
}

/// x^e for e ≥ 0 by repeated squaring.
@inlinable func integerPower(_ x: Double, _ e: Int) -> Double {
  var result = 1.0
  var base = x
  var k = e
  while k > 0 {
    if k & 1 == 1 { result *= base }
    k >>= 1
    if k > 0 { base *= base }
  }
  return result
}
