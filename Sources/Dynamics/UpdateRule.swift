import Algebra

/// An error in a rule written in the rule language, or in its parameter values.
public enum RuleError: Error, CustomStringConvertible, Equatable {
  case syntax(String)
  case notLinear(String)
  case parameter(String)
  case stability(String)

  public var description: String {
    switch self {
    case let .syntax(m), let .notLinear(m), let .parameter(m), let .stability(m): m
    }
  }
}

/// A linear optimizer written in the rule language of DESIGN.md:
///
///     m' = beta*m + (1-beta)*g; x' = x - eta*m'
///
/// Assignments are separated by `;` and applied in order. A primed name is the new
/// value of a state variable and may be used by later assignments; `x` is the
/// iterate; `g` is the gradient at the current x, which on the one-dimensional
/// quadratic ½λx² is λ·x; `g(EXPR)` is the gradient at another point, λ·EXPR;
/// `eta` is the learning rate; every other name is a parameter.
///
/// Parsing substitutes earlier assignments into later ones, so each new state value
/// is a rational function of the *old* state, linear in it, with coefficients in
/// λ (spelled `lamda`, as SymPy does), η and the parameters.
public struct UpdateRule: Sendable, Hashable {
  /// Names reserved by the analysis: the curvature, the root variable of the
  /// characteristic polynomial, the gradient.
  public static let curvature = "lamda"
  public static let rootVariable = "z"
  public static let learningRate = "eta"
  static let reserved: Set<String> = ["lamda", "lambda", "z", "g"]
  /// Most state variables in a rule (x included).
  public static let maximumStateVariables = 24

  /// The rule as written.
  public let text: String
  /// State variables in order of assignment (e.g. `["m", "x"]`).
  public let stateVariables: [String]
  /// New value of each state variable, in terms of the old state (same order).
  public let updates: [RationalFunction]
  /// Parameter names (everything but `eta`, λ and the state), sorted.
  public let parameters: [String]

  public init(parsing text: String) throws(RuleError) {
    self.text = text
    let statements = text.split(separator: ";", omittingEmptySubsequences: false)
      .map { $0.trimmingWhitespace() }
      .filter { !$0.isEmpty }
    guard !statements.isEmpty else { throw .syntax("empty rule: expected assignments like \"x' = x - eta*g\"") }

    // Left-hand sides first: they define the state.
    var lhsNames: [String] = []
    var rhsTexts: [String] = []
    for statement in statements {
      let parts = statement.split(separator: "=", omittingEmptySubsequences: false)
      guard parts.count == 2 else {
        throw .syntax("malformed assignment \"\(statement)\": expected NAME' = EXPRESSION")
      }
      let lhs = parts[0].trimmingWhitespace()
      guard lhs.hasSuffix("'"), lhs.dropLast().allSatisfy(\.isIdentifierCharacter),
        let first = lhs.first, first.isLetter || first == "_"
      else {
        throw .syntax("left-hand side \"\(lhs)\" of \"\(statement)\" must be a primed state variable such as x' or m'")
      }
      let name = String(lhs.dropLast())
      if Self.reserved.contains(name) || name == Self.learningRate {
        throw .syntax("\"\(name)\" is reserved and cannot be a state variable")
      }
      if lhsNames.contains(name) { throw .syntax("state variable \(name) is assigned twice") }
      lhsNames.append(name)
      rhsTexts.append(parts[1].trimmingWhitespace())
    }
    guard lhsNames.contains("x") else { throw .syntax("the rule never updates the iterate: it needs an assignment x' = …") }
    guard lhsNames.count <= Self.maximumStateVariables else {
      throw .syntax("the rule has \(lhsNames.count) state variables: at most \(Self.maximumStateVariables) (its exact analysis costs about n⁴)")
    }
    let state = Set(lhsNames)

    var assigned: [String: RationalFunction] = [:]
    var updates: [RationalFunction] = []
    var parameterNames = Set<String>()
    for (index, name) in lhsNames.enumerated() {
      let source = rhsTexts[index]
      guard !source.isEmpty else { throw .syntax("assignment to \(name)' has an empty right-hand side") }
      let (rewritten, positions) = try Self.rewriteGradients(source)
      var value: RationalFunction
      do {
        value = try ExpressionParser.parse(rewritten, sourcePositions: positions)
      } catch let AlgebraError.parse(message, position) {
        throw .syntax("cannot parse \(Self.excerpt(source, around: position)) (assignment to \(name)'): \(message)")
      } catch {
        throw .syntax("cannot parse \(Self.excerpt(source, around: nil)) (assignment to \(name)'): \(error)")
      }
      for symbol in value.variables.sorted() {
        if symbol.hasSuffix("'") {
          let base = String(symbol.dropLast())
          if let earlier = assigned[symbol] {
            do { value = try value.substituting(symbol, with: earlier) } catch {
              throw .syntax("substituting \(symbol) into \(name)' divides by zero")
            }
          } else if state.contains(base) {
            throw .syntax("\(symbol) is used in the assignment to \(name)' before it is assigned")
          } else {
            throw .syntax("\(symbol) refers to a state variable \(base) that the rule never updates (no assignment \(symbol) = …)")
          }
        } else if symbol == "lambda" || symbol == Self.rootVariable {
          throw .syntax("\"\(symbol)\" is reserved; write the gradient as g or g(EXPR) and rename the parameter")
        } else if !state.contains(symbol) && symbol != Self.learningRate && symbol != Self.curvature {
          parameterNames.insert(symbol)
        }
      }
      try Self.checkLinear(value, in: state, assignment: name)
      assigned[name + "'"] = value
      updates.append(value)
    }
    self.stateVariables = lhsNames
    self.updates = updates
    self.parameters = parameterNames.sorted()
  }

  /// The right-hand side quoted for a message: whole when short, else the 60
  /// characters around `position` with "…" where it is cut (positions in the message
  /// still count from the start of the whole right-hand side).
  static func excerpt(_ source: String, around position: Int?) -> String {
    let chars = Array(source)
    guard chars.count > 80 else { return "\"\(source)\"" }
    let center = min(max(position ?? 0, 0), chars.count)
    let lower = max(0, center - 30), upper = min(chars.count, center + 30)
    return "\(lower > 0 ? "…" : "")\"\(String(chars[lower..<upper]))\"\(upper < chars.count ? "…" : "") (characters \(lower)–\(upper) of \(chars.count))"
  }

  /// Rewrites `g` as `(lamda*x)` and `g(E)` as `(lamda*(E))` — parenthesised whole,
  /// so that `a/g(E)` and `g(E)^k` bind as they read; rejects a user-written `lamda`.
  /// Also returns, for each character of the result, the position in `source` it
  /// comes from (for error messages).
  static func rewriteGradients(_ source: String) throws(RuleError) -> (String, [Int]) {
    var out = ""
    var positions: [Int] = []
    func emit(_ s: String, from position: Int) {
      out += s
      positions += [Int](repeating: position, count: s.count)
    }
    let chars = Array(source)
    var i = 0
    var depth = 0
    // The parenthesis depths at which an open g( … ) closes, innermost last.
    var gCalls: [Int] = []
    while i < chars.count {
      let c = chars[i]
      if c.isLetter || c == "_" {
        var j = i
        while j < chars.count, chars[j].isIdentifierCharacter { j += 1 }
        while j < chars.count, chars[j] == "'" { j += 1 }
        let word = String(chars[i..<j])
        if word == "g" {
          var k = j
          while k < chars.count, chars[k].isWhitespace { k += 1 }
          if k < chars.count && chars[k] == "(" {
            emit("(\(curvature)*", from: i)
            gCalls.append(depth)
            j = k
          } else {
            emit("(\(curvature)*x)", from: i)
          }
        } else if word == curvature {
          throw .syntax("\"\(curvature)\" is reserved for the curvature; write the gradient as g or g(EXPR)")
        } else {
          for (offset, ch) in word.enumerated() { emit(String(ch), from: i + offset) }
        }
        i = j
      } else if c.isNumber || c == "." {
        let j = numericLiteralEnd(chars, from: i, end: chars.count)
        for k in i..<j { emit(String(chars[k]), from: k) }
        i = j
      } else {
        emit(String(c), from: i)
        if c == "(" { depth += 1 }
        if c == ")" {
          depth -= 1
          if gCalls.last == depth {
            emit(")", from: i)
            gCalls.removeLast()
          }
        }
        i += 1
      }
    }
    return (out, positions)
  }

  /// The end of the numeric literal starting at `i` (digits and points, then an
  /// exponent such as `e-3` when digits follow it; a bare `e` is left to the name
  /// that follows).
  static func numericLiteralEnd(_ chars: [Character], from i: Int, end: Int) -> Int {
    var j = i
    while j < end, chars[j].isNumber || chars[j] == "." { j += 1 }
    if j < end, chars[j] == "e" || chars[j] == "E" {
      var k = j + 1
      if k < end, chars[k] == "+" || chars[k] == "-" { k += 1 }
      if k < end, chars[k].isNumber {
        while k < end, chars[k].isNumber { k += 1 }
        j = k
      }
    }
    return j
  }

  /// Every term of the numerator must have degree exactly one in the state, and the
  /// denominator must be free of it.
  static func checkLinear(_ value: RationalFunction, in state: Set<String>, assignment name: String) throws(RuleError) {
    if !value.denominator.variables.isDisjoint(with: state) {
      let offending = value.denominator.variables.intersection(state).sorted().joined(separator: ", ")
      throw .notLinear("the assignment to \(name)' divides by the state variable \(offending); the update must be linear in the state")
    }
    for (monomial, coefficient) in value.numerator.terms {
      let degree = monomial.powers.reduce(0) { $0 + (state.contains($1.key) ? $1.value : 0) }
      if degree != 1 {
        let term = Polynomial.term(monomial, coefficient).formatted(.text)
        let why = degree == 0 ? "a term free of the state (\(term)) makes it affine" : "the term \(term) has degree \(degree) in the state"
        throw .notLinear("the assignment to \(name)' is not linear in the state: \(why)")
      }
    }
  }
}

extension Character {
  var isIdentifierCharacter: Bool { isLetter || isNumber || self == "_" }
}

extension StringProtocol {
  func trimmingWhitespace() -> String {
    var s = Substring(self)
    while let f = s.first, f.isWhitespace { s = s.dropFirst() }
    while let l = s.last, l.isWhitespace { s = s.dropLast() }
    return String(s)
  }
}

extension Polynomial {
  /// The one-term polynomial c·m.
  static func term(_ m: Monomial, _ c: Rational) -> Polynomial {
    m.powers.reduce(Polynomial(c)) { $0 * Polynomial.symbol($1.key).power($1.value) }
  }
}
