/// Parses formulas into exact rational functions.
///
/// Grammar (whitespace ignored):
/// ```
/// expression := term (('+' | '-') term)*
/// term       := unary (('*' | '/') unary)*
/// unary      := ('-' | '+') unary | power
/// power      := primary (('^' | '**') unary)?      right-associative; -x^2 = -(x^2)
/// primary    := number | name | '(' expression ')'
/// number     := digits ['.' digits] | '.' digits, then optionally (e|E)[+|-]digits   (exact)
/// name       := [A-Za-z_][A-Za-z0-9_]* followed by any number of primes ', e.g. m'
/// ```
/// An exponent must evaluate to an integer constant (negative allowed: `2^-1`, `x^(-2)`), of
/// magnitude at most 1000. Implicit multiplication (`2x`, `(a)(b)`) is an error. Every error is
/// `AlgebraError.parse` naming the offending token and its 0-based character position, e.g.
/// "unexpected ')' at position 7"; a literal division by zero is `AlgebraError.divisionByZero`.
///
/// The parser bounds its own cost, so that no input can exhaust the stack, the memory or
/// the user's patience: nesting (parentheses, signs and powers) at most
/// `maximumNesting` deep; a literal of at most `maximumLiteralDigits` digits whose value is
/// 0 or inside the range of a double (the analysis is numeric in the end); and every
/// intermediate result of a product, quotient, sum or power of at most
/// `maximumDegree` in total degree, `maximumTerms` terms (`maximumTermProducts` term
/// products for one product) and `maximumCoefficientBits` bits per coefficient, each
/// checked *before* the operation from an upper bound of its cost. Exceeding one is an `AlgebraError.parse` naming the position and the limit.
public enum ExpressionParser {
  /// Largest accepted exponent magnitude.
  public static let maximumExponent = 1000
  /// Deepest accepted nesting of parentheses, unary signs and powers (each level is a
  /// few stack frames of the recursive descent).
  public static let maximumNesting = 100
  /// Most digits in one numeric literal (mantissa and exponent together).
  public static let maximumLiteralDigits = 1000
  /// Largest total degree of any intermediate polynomial.
  public static let maximumDegree = 1000
  /// Most terms in any intermediate numerator or denominator.
  public static let maximumTerms = 20_000
  /// Most products of two terms in one product of polynomials (about a second).
  public static let maximumTermProducts = 1_000_000
  /// Work budget of one whole parse (`WorkBudget` units, about a microsecond each):
  /// many operations that are each cheap, such as a sum of hundreds of fractions whose
  /// common denominator grows, are refused once their total passes it.
  public static let workBudget = 5_000_000
  /// Most bits in a coefficient of an intermediate result (numerator and denominator
  /// together; 100 000 bits ≈ 30 000 decimal digits, far beyond double range).
  public static let maximumCoefficientBits = 100_000

  /// - Parameter sourcePositions: for text rewritten from what the user wrote, the
  /// user's character position of each character of `text`, so that errors name the
  /// position the user sees (nil: positions in `text` itself).
  public static func parse(_ text: String, sourcePositions: [Int]? = nil) throws -> RationalFunction {
    var parser = Parser(text: Array(text), sourcePositions: sourcePositions)
    try parser.advance()
    let value = try parser.expression()
    guard case .end = parser.token.kind else {
      throw parser.unexpected()
    }
    return value
  }
}

private struct Token {
  enum Kind: Equatable {
    case number(Rational)
    case name(String)
    case symbol(String)   // + - * / ^ ( ) and ** (spelled "^")
    case end
  }
  var kind: Kind
  var text: String
  var position: Int
}

private struct Parser {
  let text: [Character]
  var index = 0
  /// Current nesting (parentheses, unary signs, powers).
  var depth = 0
  /// The work of the whole parse so far.
  let budget = WorkBudget(ExpressionParser.workBudget)
  var token = Token(kind: .end, text: "", position: 0)

  /// The user's position of each character of `text` (nil: the identity).
  let sourcePositions: [Int]?

  init(text: [Character], sourcePositions: [Int]? = nil) {
    self.text = text
    self.sourcePositions = sourcePositions
  }

  /// The user's position of character `i` of `text` (the end maps past the last).
  func source(_ i: Int) -> Int {
    guard let map = sourcePositions else { return i }
    if i < map.count { return map[i] }
    return (map.last.map { $0 + 1 }) ?? i
  }

  func unexpected(_ t: Token? = nil, hint: String = "") -> AlgebraError {
    let t = t ?? token
    if case .end = t.kind {
      return .parse(message: "unexpected end of input at position \(t.position)\(hint)", position: t.position)
    }
    return .parse(message: "unexpected '\(t.text)' at position \(t.position)\(hint)", position: t.position)
  }

  static func isNameStart(_ c: Character) -> Bool {
    c == "_" || (c.isASCII && c.isLetter)
  }

  static func isNameBody(_ c: Character) -> Bool {
    c == "_" || (c.isASCII && (c.isLetter || c.isNumber))
  }

  static func isDigit(_ c: Character) -> Bool { c.isASCII && c.isNumber }

  mutating func advance() throws {
    while index < text.count, text[index].isWhitespace { index += 1 }
    let start = index
    let at = source(start)
    guard index < text.count else {
      token = Token(kind: .end, text: "", position: source(text.count))
      return
    }
    let c = text[index]
    if Parser.isDigit(c) || (c == "." && index + 1 < text.count && Parser.isDigit(text[index + 1])) {
      while index < text.count, Parser.isDigit(text[index]) { index += 1 }
      if index < text.count, text[index] == "." {
        index += 1
        while index < text.count, Parser.isDigit(text[index]) { index += 1 }
      }
      if index < text.count, text[index] == "e" || text[index] == "E" {
        var j = index + 1
        if j < text.count, text[j] == "+" || text[j] == "-" { j += 1 }
        if j < text.count, Parser.isDigit(text[j]) {
          while j < text.count, Parser.isDigit(text[j]) { j += 1 }
          index = j
        }
      }
      let literal = String(text[start..<index])
      guard literal.count <= ExpressionParser.maximumLiteralDigits else {
        throw AlgebraError.parse(
          message: "number at position \(at) has \(literal.count) characters: at most \(ExpressionParser.maximumLiteralDigits)", position: at)
      }
      guard Parser.decimalExponentInRange(literal), let value = Rational(decimal: literal), Parser.isRepresentable(value) else {
        throw AlgebraError.parse(
          message: "number \(literal) at position \(at) is outside the range of double precision (magnitudes 2.2e-308 … 1.8e308, or 0)",
          position: at)
      }
      token = Token(kind: .number(value), text: literal, position: at)
      return
    }
    if Parser.isNameStart(c) {
      while index < text.count, Parser.isNameBody(text[index]) { index += 1 }
      while index < text.count, text[index] == "'" { index += 1 }
      let name = String(text[start..<index])
      token = Token(kind: .name(name), text: name, position: at)
      return
    }
    if c == "*", index + 1 < text.count, text[index + 1] == "*" {
      index += 2
      token = Token(kind: .symbol("^"), text: "**", position: at)
      return
    }
    if "+-*/^()".contains(c) {
      index += 1
      token = Token(kind: .symbol(String(c)), text: String(c), position: at)
      return
    }
    throw AlgebraError.parse(message: "unexpected character '\(c)' at position \(at)", position: at)
  }

  /// Whether the literal's decimal exponent (after the fraction digits) is small
  /// enough to build the exact value cheaply: 10^k with |k| ≤ 1000.
  static func decimalExponentInRange(_ literal: String) -> Bool {
    let parts = literal.split(whereSeparator: { $0 == "e" || $0 == "E" })
    guard parts.count == 2 else { return true }
    let digits = parts[1].drop { $0 == "+" || $0 == "-" }
    guard digits.count <= 6, let e = Int(parts[1]) else { return false }
    return abs(e) <= 1000
  }

  /// 0, or a magnitude inside the normal range of a double.
  static func isRepresentable(_ r: Rational) -> Bool {
    if r.isZero { return true }
    let d = Swift.abs(r.doubleValue)
    return d.isFinite && d >= Double.leastNormalMagnitude
  }

  // MARK: Cost bounds

  /// Upper bounds of the size of a rational function: total degree, terms and
  /// coefficient bits of numerator and denominator.
  struct Size {
    var degree: Int
    var terms: Int
    var bits: Int
    init(_ p: Polynomial) {
      degree = p.totalDegree
      terms = p.terms.count
      bits = p.terms.values.reduce(0) { Swift.max($0, $1.numerator.bitWidth + $1.denominator.bitWidth) }
    }
  }

  /// Refuses an operation whose result could exceed the limits, before doing it.
  func checkCost(degree: Int, terms: Int, products: Int = 0, bits: Int, at position: Int, what: String) throws {
    let limit: String?
    if degree > ExpressionParser.maximumDegree {
      limit = "total degree \(degree) (at most \(ExpressionParser.maximumDegree))"
    } else if terms > ExpressionParser.maximumTerms {
      limit = "up to \(terms) terms (at most \(ExpressionParser.maximumTerms))"
    } else if products > ExpressionParser.maximumTermProducts {
      limit = "up to \(products) products of terms (at most \(ExpressionParser.maximumTermProducts))"
    } else if bits > ExpressionParser.maximumCoefficientBits {
      limit = "coefficients of up to \(bits) bits (at most \(ExpressionParser.maximumCoefficientBits))"
    } else {
      limit = nil
    }
    if let limit {
      throw AlgebraError.parse(message: "the \(what) at position \(position) would give an expression of \(limit); simplify the formula", position: position)
    }
  }

  /// The cost check of `a * b` or `a / b` (`b` inverted) or `a ± b` (cross products a.n·b.d).
  func checkBinary(_ a: RationalFunction, _ b: RationalFunction, dividing: Bool = false, sum: Bool = false, at position: Int, what: String) throws {
    let (an, ad) = (Size(a.numerator), Size(a.denominator))
    let (bn, bd) = dividing ? (Size(b.denominator), Size(b.numerator)) : (Size(b.numerator), Size(b.denominator))
    func mul(_ x: Size, _ y: Size) -> (Int, Int, Int) {
      (x.degree + y.degree, Parser.saturatingProduct(x.terms, y.terms), x.bits + y.bits + 64)
    }
    var candidates = [mul(an, bn), mul(ad, bd)]
    if sum { candidates += [mul(an, bd), mul(bn, ad)] }
    for (d, t, bits) in candidates {
      try checkCost(degree: d, terms: 0, products: t, bits: bits, at: position, what: what)
    }
    // The products themselves, and for fractions the gcd that reduces the result (a
    // pseudo-remainder sequence: about one product per degree of the denominators).
    let gcdFactor = a.isPolynomial && b.isPolynomial ? 1 : 1 + a.denominator.totalDegree + b.denominator.totalDegree
    try spend(at: position, what: what) {
      try budget.spendProduct(a.workWeight, b.workWeight)
      try budget.spendProduct(a.workWeight + b.workWeight, gcdFactor)
      if gcdFactor > 1 { try budget.spendProduct(a.denominator.workWeight * b.denominator.workWeight, gcdFactor) }
    }
  }

  /// The cost check of `a^k`, k ≥ 0 (the result of a t-term polynomial has at most
  /// C(k + t − 1, t − 1) terms).
  func checkPower(_ a: RationalFunction, _ k: Int, at position: Int) throws {
    for p in [a.numerator, a.denominator] {
      let s = Size(p)
      try checkCost(
        degree: Parser.saturatingProduct(s.degree, k), terms: Parser.multisetCount(k, s.terms),
        bits: Parser.saturatingProduct(s.bits, k), at: position, what: "power")
      // The products of repeated squaring (Polynomial.power), each bounded like a
      // product the user wrote, and their sum spent from the whole parse's budget:
      // (a+b+c+d)^47 passes the size limits (19 600 terms) but costs ~6·10⁶ products.
      guard s.terms > 1 else { continue }
      var products = 0
      var (done, square, e) = (0, 1, k)  // result = p^done, base = p^square
      while e > 0 {
        let t = Parser.multisetCount(square, s.terms)
        if e & 1 == 1 {
          if done > 0 { products = Parser.saturatingAdd(products, Parser.saturatingProduct(Parser.multisetCount(done, s.terms), t)) }
          done += square
        }
        e >>= 1
        if e > 0 {
          try checkCost(degree: 0, terms: 0, products: Parser.saturatingProduct(t, t), bits: 0, at: position, what: "power")
          products = Parser.saturatingAdd(products, Parser.saturatingProduct(t, t))
          square *= 2
        }
      }
      try checkCost(degree: 0, terms: 0, products: products, bits: 0, at: position, what: "power")
      try spend(at: position, what: "power") { try budget.spend(products) }
    }
  }

  /// Spends from the whole parse's work budget; once it is exhausted, the operation at
  /// `position` is refused.
  func spend(at position: Int, what: String, _ body: () throws -> Void) throws {
    do { try body() } catch {
      throw AlgebraError.parse(
        message: "the \(what) at position \(position) makes the expression too costly to expand exactly (more than \(ExpressionParser.workBudget) coefficient products in all); simplify the formula",
        position: position)
    }
  }

  static func saturatingProduct(_ a: Int, _ b: Int) -> Int {
    let (p, overflow) = a.multipliedReportingOverflow(by: b)
    return overflow ? Int.max : p
  }

  static func saturatingAdd(_ a: Int, _ b: Int) -> Int {
    let (p, overflow) = a.addingReportingOverflow(b)
    return overflow ? Int.max : p
  }

  /// C(k + t − 1, t − 1), the number of monomials of a t-term polynomial's k-th
  /// power at most, saturated at Int.max.
  static func multisetCount(_ k: Int, _ t: Int) -> Int {
    guard t > 1, k > 0 else { return 1 }
    var c = 1.0
    let r = Swift.min(k, t - 1)
    for i in 0..<r {
      c = c * Double(k + t - 1 - i) / Double(i + 1)
      if c > 1e15 { return Int.max }
    }
    return Int(c.rounded())
  }

  /// One more level of nesting at `position`, refused beyond `maximumNesting`.
  mutating func nest(at position: Int) throws {
    depth += 1
    guard depth <= ExpressionParser.maximumNesting else {
      throw AlgebraError.parse(
        message: "the expression is nested too deeply at position \(position): more than \(ExpressionParser.maximumNesting) levels of parentheses, signs or powers",
        position: position)
    }
  }

  func isSymbol(_ s: String) -> Bool {
    if case .symbol(let t) = token.kind { return t == s }
    return false
  }

  mutating func expression() throws -> RationalFunction {
    var value = try term()
    while isSymbol("+") || isSymbol("-") {
      let plus = isSymbol("+")
      let op = token
      try advance()
      let rhs = try term()
      try checkBinary(value, rhs, sum: true, at: op.position, what: plus ? "sum" : "difference")
      value = plus ? value + rhs : value - rhs
    }
    return value
  }

  mutating func term() throws -> RationalFunction {
    var value = try unary()
    while true {
      if isSymbol("*") {
        let op = token
        try advance()
        let rhs = try unary()
        try checkBinary(value, rhs, at: op.position, what: "product")
        value = value * rhs
      } else if isSymbol("/") {
        let slash = token
        try advance()
        let divisorStart = token
        let rhs = try unary()
        guard !rhs.isZero else {
          throw AlgebraError.divisionByZero("'/' at position \(slash.position) divides by '\(divisorStart.text)…', which is 0")
        }
        try checkBinary(value, rhs, dividing: true, at: slash.position, what: "quotient")
        value = value / rhs
      } else {
        break
      }
    }
    return value
  }

  mutating func unary() throws -> RationalFunction {
    try nest(at: token.position)
    defer { depth -= 1 }
    if isSymbol("-") {
      try advance()
      return -(try unary())
    }
    if isSymbol("+") {
      try advance()
      return try unary()
    }
    return try power()
  }

  mutating func power() throws -> RationalFunction {
    let base = try primary()
    guard isSymbol("^") else { return base }
    let caret = token
    try advance()
    let exponentToken = token
    let e = try unary()
    if let k = e.constantValue, k.isInteger, Int(exactly: k.numerator) == nil {
      throw AlgebraError.parse(
        message: "exponent starting with '\(exponentToken.text)' at position \(exponentToken.position) is too large (at most \(ExpressionParser.maximumExponent) in magnitude)",
        position: exponentToken.position)
    }
    guard let k = e.constantValue, k.isInteger, let n = Int(exactly: k.numerator) else {
      throw AlgebraError.parse(
        message: "exponent starting with '\(exponentToken.text)' at position \(exponentToken.position) must be an integer constant, but it is \(e.formatted(.text))",
        position: exponentToken.position)
    }
    guard abs(n) <= ExpressionParser.maximumExponent else {
      throw AlgebraError.parse(
        message: "exponent \(n) at position \(exponentToken.position) is too large (at most \(ExpressionParser.maximumExponent) in magnitude)",
        position: exponentToken.position)
    }
    if n < 0 && base.isZero {
      throw AlgebraError.divisionByZero("0 raised to the negative power \(n) at position \(caret.position)")
    }
    try checkPower(base, abs(n), at: caret.position)
    return try base.power(n)
  }

  mutating func primary() throws -> RationalFunction {
    let value: RationalFunction
    switch token.kind {
    case .number(let r):
      value = RationalFunction(r)
      try advance()
    case .name(let name):
      value = .symbol(name)
      try advance()
    case .symbol("("):
      try advance()
      let inner = try expression()
      guard isSymbol(")") else {
        throw unexpected(hint: isEnd ? " (missing ')')" : "")
      }
      value = inner
      try advance()
    default:
      throw unexpected()
    }
    // A factor directly followed by another factor would be implicit multiplication.
    switch token.kind {
    case .number, .name, .symbol("("):
      throw unexpected(hint: ": implicit multiplication is not allowed, write '*'")
    default:
      return value
    }
  }

  var isEnd: Bool {
    if case .end = token.kind { return true }
    return false
  }
}
