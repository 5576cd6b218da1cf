import BigInt

extension Polynomial {
  // MARK: Numeric content

  /// The positive rational `c` such that `self / c` has coprime integer coefficients
  /// (gcd of numerators over lcm of denominators); 0 for the zero polynomial.
  public var numericContent: Rational {
    var g = BigInt(0)
    var l = BigInt(1)
    for c in terms.values {
      g = g.greatestCommonDivisor(with: c.numerator)
      if c.denominator != 1 {
        l = l / l.greatestCommonDivisor(with: c.denominator) * c.denominator
      }
    }
    if g.isZero { return .zero }
    return Rational(g, l)
  }

  /// `self` scaled by a nonzero rational so that its coefficients are coprime integers and its
  /// leading coefficient (in the monomial order) is positive. Zero stays zero. Two polynomials
  /// differing by a nonzero rational factor have the same normalised form.
  public var normalized: Polynomial {
    guard let lead = leadingTerm else { return self }
    var c = numericContent
    if lead.coefficient.sign < 0 { c = -c }
    return c.isOne ? self : self / c
  }

  /// Whether `self` is normalised (see `normalized`).
  var isNormalized: Bool {
    guard let lead = leadingTerm else { return true }
    return lead.coefficient.sign > 0 && numericContent.isOne
  }

  /// The largest monomial dividing every term (gcd of the monomials); 1 for zero.
  public var monomialContent: Monomial {
    var it = terms.keys.makeIterator()
    guard var g = it.next() else { return .one }
    while let m = it.next(), !g.isOne { g = Monomial.gcd(g, m) }
    return g
  }

  /// `self / m` for a monomial dividing every term. - Precondition: `m` divides every term.
  func dividedExactly(by m: Monomial) -> Polynomial {
    if m.isOne { return self }
    var t: [Monomial: Rational] = [:]
    t.reserveCapacity(terms.count)
    for (mm, c) in terms {
      guard let q = mm.divided(by: m) else { preconditionFailure("monomial does not divide") }
      t[q] = c
    }
    return Polynomial(uncheckedTerms: t)
  }

  // MARK: Exact division

  /// The exact quotient `self / d` if `d` divides `self` in ℚ[variables], nil otherwise (and nil
  /// for `d == 0`). Multivariate division by leading terms in the graded monomial order: when `d`
  /// divides `self`, every remainder step's leading monomial is divisible by `d`'s.
  public func divided(by d: Polynomial) -> Polynomial? {
    if d.isZero { return nil }
    if isZero { return .zero }
    if let c = d.constantValue { return self / c }
    if d.terms.count == 1, let (m, c) = d.terms.first {
      var t: [Monomial: Rational] = [:]
      t.reserveCapacity(terms.count)
      let inv = c.reciprocal
      for (mm, cc) in terms {
        guard let q = mm.divided(by: m) else { return nil }
        t[q] = cc * inv
      }
      return Polynomial(uncheckedTerms: t)
    }
    // Quick degree rejection.
    if totalDegree < d.totalDegree { return nil }
    for v in d.variables where degree(in: v) < d.degree(in: v) { return nil }
    guard let (lm, lc) = d.leadingTerm else { return nil }
    let lcInverse = lc.reciprocal
    var r = terms
    var q: [Monomial: Rational] = [:]
    while let first = r.first {
      var best = first
      for t in r where best.key < t.key { best = t }
      guard let qm = best.key.divided(by: lm) else { return nil }
      let qc = best.value * lcInverse
      q[qm] = qc
      for (m, c) in d.terms {
        let mm = m * qm
        let s = (r[mm] ?? .zero) - c * qc
        if s.isZero { r.removeValue(forKey: mm) } else { r[mm] = s }
      }
    }
    return Polynomial(uncheckedTerms: q)
  }

  // MARK: GCD

  /// Runs a budgeted computation without a budget (it cannot then run out).
  func unbounded<R>(_ body: (WorkBudget?) throws(BudgetExhausted) -> R) -> R {
    Polynomial.unbounded(body)
  }

  static func unbounded<R>(_ body: (WorkBudget?) throws(BudgetExhausted) -> R) -> R {
    do { return try body(nil) } catch { preconditionFailure("a computation without a budget ran out of budget") }
  }

  /// Content with respect to `v`: the (normalised) gcd of the coefficients of `self` viewed as a
  /// polynomial in `v` over ℚ[other variables]. 1 when some coefficient is a nonzero constant.
  public func content(in v: String) -> Polynomial {
    unbounded { budget throws(BudgetExhausted) in try content(in: v, budget: budget) }
  }

  /// `content(in:)` within a work budget.
  func content(in v: String, budget: WorkBudget?) throws(BudgetExhausted) -> Polynomial {
    let cs = coefficients(in: v).filter { !$0.isZero }
    if cs.isEmpty { return .zero }
    if cs.contains(where: \.isConstant) { return .one }
    // Start from the coefficient with fewest terms: usually the cheapest gcd.
    let sorted = cs.sorted { $0.terms.count < $1.terms.count }
    var g = sorted[0].normalized
    for c in sorted.dropFirst() {
      if g.isConstant { return .one }
      g = try Polynomial.gcd(g, c, budget: budget)
    }
    return g.isConstant ? .one : g
  }

  /// Pseudo-remainder of `self` by `g` in `v` (`g` of positive degree in `v`), up to a nonzero
  /// factor from ℚ[other variables], which is harmless for gcd computations.
  func pseudoRemainder(_ g: Polynomial, in v: String, budget: WorkBudget? = nil) throws(BudgetExhausted) -> Polynomial {
    let dg = g.degree(in: v)
    let lc = g.coefficient(of: v, power: dg)
    let lcConstant = lc.constantValue
    var r = self
    var dr = r.degree(in: v)
    while !r.isZero && dr >= dg {
      try budget.spendProduct(g.workWeight + r.workWeight, max(lc.workWeight, 1) + r.workWeight)
      let lr = r.coefficient(of: v, power: dr)
      let shift = Monomial(v, dr - dg)
      if let c = lcConstant {
        r = r - (g * lr).multiplied(by: shift) * c.reciprocal
      } else if let q = lr.divided(by: lc) {
        r = r - (g * q).multiplied(by: shift)
      } else {
        r = r * lc - (g * lr).multiplied(by: shift)
      }
      dr = r.degree(in: v)
    }
    return r
  }

  /// The greatest common divisor in ℚ[variables], normalised (coprime integer coefficients,
  /// positive leading coefficient); `gcd(0, 0) = 0`, and 1 when the only common divisors are
  /// constants.
  ///
  /// Recursive algorithm: variables occurring in only one argument are eliminated by taking
  /// contents; then, in a common variable `v`, `gcd = gcd(cont_v a, cont_v b) · pp_v(last nonzero
  /// term of the primitive PRS of pp_v a, pp_v b)` using pseudo-division.
  public static func gcd(_ a: Polynomial, _ b: Polynomial) -> Polynomial {
    unbounded { budget throws(BudgetExhausted) in try gcd(a, b, budget: budget) }
  }

  /// `gcd(_:_:)` within a work budget.
  static func gcd(_ a: Polynomial, _ b: Polynomial, budget: WorkBudget?) throws(BudgetExhausted) -> Polynomial {
    try budget.spendProduct(a.workWeight, 1)
    try budget.spendProduct(b.workWeight, 1)
    if a.isZero { return b.normalized }
    if b.isZero { return a.normalized }
    if a.isConstant || b.isConstant { return .one }
    if a == b { return a.normalized }
    // Monomial shortcut.
    if a.terms.count == 1 || b.terms.count == 1 {
      let m = Monomial.gcd(a.monomialContent, b.monomialContent)
      return Polynomial(coefficient: .one, monomial: m)
    }
    // Monomial contents: gcd = gcd of the monomial contents · gcd of the rest.
    let ma = a.monomialContent
    let mb = b.monomialContent
    if !ma.isOne || !mb.isOne {
      let rest = try gcd(a.dividedExactly(by: ma), b.dividedExactly(by: mb), budget: budget)
      return rest.multiplied(by: Monomial.gcd(ma, mb))
    }
    var a = a
    var b = b
    // A common divisor is free of variables that occur in only one argument.
    while true {
      let va = a.variables
      let vb = b.variables
      if let v = va.subtracting(vb).min() {
        a = try a.content(in: v, budget: budget)
        if a.isConstant { return .one }
        continue
      }
      if let v = vb.subtracting(va).min() {
        b = try b.content(in: v, budget: budget)
        if b.isConstant { return .one }
        continue
      }
      break
    }
    if a.terms.count == 1 || b.terms.count == 1 || a == b { return try gcd(a, b, budget: budget) }
    // Common variables, cheapest first (smallest degree sum).
    let vars = a.variables.sorted().map { x in (x, a.degree(in: x) + b.degree(in: x)) }
      .sorted { $0.1 < $1.1 }.map(\.0)
    // If the gcd is free of some variable v (proved on a modular image), it is the gcd of the
    // contents in v: a recursion on fewer variables, no PRS. This is the common case.
    let an = a.normalized
    let bn = b.normalized
    for x in vars where provablyCoprime(an, bn, in: x) {
      return try gcd(a.content(in: x, budget: budget), b.content(in: x, budget: budget), budget: budget)
    }
    // Otherwise the primitive PRS in the cheapest variable.
    let v = vars[0]
    let ca = try a.content(in: v, budget: budget)
    let cb = try b.content(in: v, budget: budget)
    let c = gcd(ca, cb)
    var f = ca.isOne ? a : a.divided(by: ca)!
    var g = cb.isOne ? b : b.divided(by: cb)!
    if f.degree(in: v) < g.degree(in: v) { swap(&f, &g) }
    while true {
      let r = try f.pseudoRemainder(g, in: v, budget: budget)
      if r.isZero { break }
      if r.degree(in: v) == 0 {
        g = .one
        break
      }
      f = g
      let cr = try r.content(in: v, budget: budget)
      g = (cr.isOne ? r : r.divided(by: cr)!).normalized
    }
    return (c * g).normalized
  }

  /// Whether a modular image proves that gcd(a, b) has degree 0 in `v`.
  ///
  /// With a, b scaled to primitive integer polynomials, a common factor g of positive degree in
  /// `v` can be taken primitive with integer coefficients (Gauss's lemma); at a point where the
  /// leading coefficients in `v` of a and b do not vanish modulo the prime p, the image of g keeps
  /// its degree and divides both images. So a trivial gcd of the images (computed in 𝔽ₚ[v]) proves
  /// that no such g exists. A nontrivial image gcd proves nothing (returns false).
  static func provablyCoprime(_ a: Polynomial, _ b: Polynomial, in v: String) -> Bool {
    let prime = 2_147_483_647  // 2³¹ − 1: products of residues fit in Int.
    let an = a.normalized
    let bn = b.normalized
    let others = an.variables.union(bn.variables).subtracting([v]).sorted()
    let bigPrime = BigInt(prime)
    func residue(_ c: Rational) -> Int {
      // Normalised polynomials have integer coefficients.
      var r = c.numerator % bigPrime
      if r.signum() < 0 { r += bigPrime }
      return Int(r)
    }
    let aTerms = an.terms.map { (m: $0.key, c: residue($0.value)) }
    let bTerms = bn.terms.map { (m: $0.key, c: residue($0.value)) }
    for attempt in 0..<3 {
      var point: [String: Int] = [:]
      for (i, name) in others.enumerated() {
        point[name] = (1_000_003 &* (attempt + 1) &+ 7_919 &* (i + 1) &* (attempt + 3)) % prime
      }
      func image(_ terms: [(m: Monomial, c: Int)], degree: Int) -> [Int] {
        var u = [Int](repeating: 0, count: degree + 1)
        for (m, c) in terms {
          var value = c
          var k = 0
          for (name, e) in zip(m.names, m.exponents) {
            if name == v {
              k = e
            } else if let x = point[name] {
              for _ in 0..<e { value = value * x % prime }
            }
          }
          u[k] = (u[k] + value) % prime
        }
        return u
      }
      let ua = image(aTerms, degree: an.degree(in: v))
      let ub = image(bTerms, degree: bn.degree(in: v))
      guard let la = ua.last, la != 0, let lb = ub.last, lb != 0 else { continue }
      return modularGCDDegree(ua, ub, prime) == 0
    }
    return false
  }

  /// Least common multiple, normalised; 0 if either is 0.
  public static func lcm(_ a: Polynomial, _ b: Polynomial) -> Polynomial {
    if a.isZero || b.isZero { return .zero }
    let g = gcd(a, b)
    return (a.divided(by: g)! * b).normalized
  }
}


/// Degree of gcd(a, b) in 𝔽ₚ[v], for coefficient arrays (index = power) with nonzero tops.
private func modularGCDDegree(_ a: [Int], _ b: [Int], _ p: Int) -> Int {
  func inverse(_ x: Int) -> Int {
    // Fermat: x^(p−2).
    var result = 1
    var base = x % p
    var e = p - 2
    while e > 0 {
      if e & 1 == 1 { result = result * base % p }
      base = base * base % p
      e >>= 1
    }
    return result
  }
  func trim(_ u: inout [Int]) {
    while let last = u.last, last == 0 { u.removeLast() }
  }
  var f = a
  var g = b
  trim(&f)
  trim(&g)
  if f.count < g.count { swap(&f, &g) }
  while !g.isEmpty {
    // f ← f mod g
    let lgInverse = inverse(g[g.count - 1])
    while f.count >= g.count {
      let q = f[f.count - 1] * lgInverse % p
      let shift = f.count - g.count
      if q != 0 {
        for i in 0..<g.count {
          f[shift + i] = ((f[shift + i] - q * g[i]) % p + p) % p
        }
      }
      f.removeLast()
      trim(&f)
    }
    swap(&f, &g)
  }
  return f.count - 1
}
