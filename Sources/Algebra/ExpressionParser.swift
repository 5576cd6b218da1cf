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
public enum ExpressionParser {
  /// Largest accepted exponent magnitude.
  public static let maximumExponent = 1000

  public static func parse(_ text: String) throws -> RationalFunction {
    var parser = Parser(text: Array(text))
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
  var token = Token(kind: .end, text: "", position: 0)

  init(text: [Character]) {
    self.text = text
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
    guard index < text.count else {
      token = Token(kind: .end, text: "", position: text.count)
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
      guard let value = Rational(decimal: literal) else {
        throw AlgebraError.parse(message: "invalid number '\(literal)' at position \(start)", position: start)
      }
      token = Token(kind: .number(value), text: literal, position: start)
      return
    }
    if Parser.isNameStart(c) {
      while index < text.count, Parser.isNameBody(text[index]) { index += 1 }
      while index < text.count, text[index] == "'" { index += 1 }
      let name = String(text[start..<index])
      token = Token(kind: .name(name), text: name, position: start)
      return
    }
    if c == "*", index + 1 < text.count, text[index + 1] == "*" {
      index += 2
      token = Token(kind: .symbol("^"), text: "**", position: start)
      return
    }
    if "+-*/^()".contains(c) {
      index += 1
      token = Token(kind: .symbol(String(c)), text: String(c), position: start)
      return
    }
    throw AlgebraError.parse(message: "unexpected character '\(c)' at position \(start)", position: start)
  }

  func isSymbol(_ s: String) -> Bool {
    if case .symbol(let t) = token.kind { return t == s }
    return false
  }

  mutating func expression() throws -> RationalFunction {
    var value = try term()
    while isSymbol("+") || isSymbol("-") {
      let plus = isSymbol("+")
      try advance()
      let rhs = try term()
      value = plus ? value + rhs : value - rhs
    }
    return value
  }

  mutating func term() throws -> RationalFunction {
    var value = try unary()
    while true {
      if isSymbol("*") {
        try advance()
        value = value * (try unary())
      } else if isSymbol("/") {
        let slash = token
        try advance()
        let divisorStart = token
        let rhs = try unary()
        guard !rhs.isZero else {
          throw AlgebraError.divisionByZero("'/' at position \(slash.position) divides by '\(divisorStart.text)…', which is 0")
        }
        value = value / rhs
      } else {
        break
      }
    }
    return value
  }

  mutating func unary() throws -> RationalFunction {
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
