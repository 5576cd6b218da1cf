import BigInt

/// A factorisation `content · ∏ baseᵢ^exponentᵢ` of a polynomial over ℚ.
///
/// Each base is non-constant with coprime integer coefficients and a normalised sign: a positive
/// constant term if it has one (`1 − β`, not `β − 1`), otherwise a positive coefficient on its
/// first printed term, the smallest in the graded monomial order (`x − y`, not `−x + y`). Bases are distinct; single variables (the monomial content) come
/// first, in name order, then the other factors by total degree and terms.
///
/// Caveat: the factors are not guaranteed irreducible (see `Polynomial.factored()`), but their
/// product is always exactly the input.
public struct Factorization: Sendable {
  public var content: Rational
  public var factors: [(base: Polynomial, exponent: Int)]

  public init(content: Rational, factors: [(base: Polynomial, exponent: Int)]) {
    self.content = content
    self.factors = factors
  }

  /// `content · ∏ baseᵢ^exponentᵢ`, expanded.
  public var expanded: Polynomial {
    var p = Polynomial(content)
    for (b, e) in factors { p = p * b.power(e) }
    return p
  }
}

extension Polynomial {
  /// A factorisation into numeric content, monomial content and further factors.
  ///
  /// Steps: numeric content; monomial content (each variable's least power); then repeatedly
  /// (1) split off the content with respect to each variable (gcd of the coefficients in that
  /// variable), e.g. 2 + 2β − η·wd − βη·wd = (1 + β)(2 − η·wd); (2) split off repeated factors with
  /// gcd(p, ∂p/∂v); (3) for univariate pieces, linear factors from rational roots (rational-root
  /// theorem, when the leading and constant coefficients are at most 10⁶), e.g.
  /// 1 + β − 2β² = (1 − β)(1 + 2β). Full multivariate factorisation is not attempted, so a
  /// multivariate factor that is not split by these steps may still be reducible.
  public func factored() -> Factorization {
    unbounded { budget throws(BudgetExhausted) in try factored(budget: budget) }
  }

  /// `factored()` within a work budget (for printing: a caller that runs out prints
  /// the polynomial expanded instead).
  public func factored(budget: WorkBudget?) throws(BudgetExhausted) -> Factorization {
    if let c = constantValue { return Factorization(content: c, factors: []) }
    var collected: [Polynomial: Int] = [:]
    let primitive = self / numericContent
    let mono = primitive.monomialContent
    for (name, e) in zip(mono.names, mono.exponents) {
      collected[.symbol(name), default: 0] += e
    }
    var pieces: [Polynomial] = []
    try splitFactors(primitive.dividedExactly(by: mono), into: &pieces, budget: budget)
    for p in pieces {
      collected[p.factorNormalized, default: 0] += 1
    }
    let ordered = collected.sorted { a, b in
      let aSym = a.key.terms.count == 1
      let bSym = b.key.terms.count == 1
      if aSym != bSym { return aSym }
      if aSym, let ma = a.key.terms.keys.first?.names.first, let mb = b.key.terms.keys.first?.names.first {
        return symbolPrintOrder(ma, mb)
      }
      return Polynomial.factorOrder(a.key, b.key)
    }
    let factors = ordered.map { (base: $0.key, exponent: $0.value) }
    // The content is what is left: compare leading coefficients (leading monomials agree).
    var product = Polynomial.one
    for (b, e) in factors { product = product * b.power(e) }
    let content: Rational
    if let l1 = leadingTerm, let l2 = product.leadingTerm {
      content = l1.coefficient / l2.coefficient
    } else {
      content = .one
    }
    return Factorization(content: content, factors: factors)
  }

  /// The work budget of a factorisation made only for printing (`factoredForPrinting`):
  /// about a second of coefficient products.
  public static let printingBudget = 1_000_000

  /// `factored()` within `printingBudget`; a polynomial whose factorisation would cost
  /// more (a Jury condition of a symbolic rule with many parameters) is returned as one
  /// factor, so it prints expanded.
  public func factoredForPrinting() -> Factorization {
    if let f = try? factored(budget: WorkBudget(Self.printingBudget)) { return f }
    if let c = constantValue { return Factorization(content: c, factors: []) }
    let base = (self / numericContent).factorNormalized
    let content = (leadingTerm?.coefficient ?? .one) / (base.leadingTerm?.coefficient ?? .one)
    return Factorization(content: content, factors: [(base, 1)])
  }

  /// Sign-normalised primitive form of a factor: coprime integer coefficients, and the first
  /// printed term positive: the constant term if there is one (`1 − β`), otherwise the term
  /// smallest in the graded monomial order (`x − y`).
  var factorNormalized: Polynomial {
    let p = normalized
    guard let first = p.terms.min(by: { $0.key < $1.key }) else { return p }
    return first.value.sign < 0 ? -p : p
  }

  /// Deterministic order of factors: total degree, number of terms, then the ascending terms.
  static func factorOrder(_ a: Polynomial, _ b: Polynomial) -> Bool {
    if a.totalDegree != b.totalDegree { return a.totalDegree < b.totalDegree }
    if a.terms.count != b.terms.count { return a.terms.count < b.terms.count }
    let ta = a.sortedTerms
    let tb = b.sortedTerms
    for (x, y) in zip(ta, tb) {
      if x.monomial != y.monomial { return x.monomial < y.monomial }
      if x.coefficient != y.coefficient { return x.coefficient < y.coefficient }
    }
    return false
  }

  /// Appends to `pieces` polynomials whose product is `p` up to a nonzero rational factor.
  /// Splits `p` into `d` and `p / d` (each split further) when `d` is a non-constant
  /// exact divisor; false, with nothing added, otherwise.
  private func split(_ p: Polynomial, by d: Polynomial, into pieces: inout [Polynomial], budget: WorkBudget?) throws(BudgetExhausted) -> Bool {
    guard !d.isConstant else { return false }
    try budget.spendProduct(p.workWeight, d.workWeight)
    guard let rest = p.divided(by: d) else { return false }
    try splitFactors(d, into: &pieces, budget: budget)
    try splitFactors(rest, into: &pieces, budget: budget)
    return true
  }

  private func splitFactors(_ p: Polynomial, into pieces: inout [Polynomial], budget: WorkBudget?) throws(BudgetExhausted) {
    if p.isConstant { return }
    let vars = p.sortedVariables
    // (1) content with respect to each variable.
    if vars.count > 1 {
      for v in vars {
        if try split(p, by: p.content(in: v, budget: budget), into: &pieces, budget: budget) { return }
      }
    }
    // (2) repeated factors.
    for v in vars where p.degree(in: v) > 1 {
      if try split(p, by: Polynomial.gcd(p, p.derivative(in: v), budget: budget), into: &pieces, budget: budget) { return }
    }
    // (3) rational roots of a univariate piece.
    if vars.count == 1, p.totalDegree > 1, let linear = p.rationalRootFactor(in: vars[0]),
       let rest = p.divided(by: linear) {
      pieces.append(linear)
      try splitFactors(rest, into: &pieces, budget: budget)
      return
    }
    pieces.append(p)
  }

  /// A linear factor `s·v − r` from a rational root r/s of this univariate polynomial, if any.
  func rationalRootFactor(in v: String) -> Polynomial? {
    let p = normalized
    let cs = p.coefficients(in: v).map { $0.constantValue ?? .zero }
    guard let a0 = cs.first, let an = cs.last, !a0.isZero, !an.isZero else { return nil }
    let limit = BigInt(1_000_000)
    guard a0.numerator.magnitude <= limit.magnitude, an.numerator.magnitude <= limit.magnitude,
          let r0 = Int(exactly: a0.numerator.magnitude), let s0 = Int(exactly: an.numerator.magnitude)
    else { return nil }
    let rs = divisors(r0)
    let ss = divisors(s0)
    for s in ss {
      for r in rs {
        if gcdInt(r, s) != 1 { continue }
        for sign in [1, -1] {
          let x = Rational(sign * r, s)
          // Horner evaluation at x.
          var value = Rational.zero
          for c in cs.reversed() { value = value * x + c }
          if value.isZero {
            return Polynomial.symbol(v) * Rational(s) - Polynomial(Rational(sign * r))
          }
        }
      }
    }
    return nil
  }
}

/// Positive divisors of n > 0, ascending.
private func divisors(_ n: Int) -> [Int] {
  var small: [Int] = []
  var large: [Int] = []
  var d = 1
  while d * d <= n {
    if n % d == 0 {
      small.append(d)
      if d * d != n { large.append(n / d) }
    }
    d += 1
  }
  return small + large.reversed()
}

private func gcdInt(_ a: Int, _ b: Int) -> Int {
  var a = a
  var b = b
  while b != 0 { (a, b) = (b, a % b) }
  return a
}
