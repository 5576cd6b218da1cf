import PropertyBased
import TestSupport
import Testing
@testable import Algebra

@Suite("Parser")
struct ParserTests {
  let x = Polynomial.symbol("x")

  @Test func precedence() throws {
    let p = { (s: String) throws -> RationalFunction in try ExpressionParser.parse(s) }
    let xr = RationalFunction.symbol("x")
    #expect(try p("1 + 2*3") == 7)
    #expect(try p("-x^2") == -(xr * xr))
    #expect(try p("2^3^2") == 512)
    #expect(try p("2^-1") == RationalFunction(Rational(1, 2)))
    #expect(try p("x^(-2)") == (try xr.power(-2)))
    #expect(try p("8/4/2") == 1)
    #expect(try p("0.9") == RationalFunction(Rational(9, 10)))
    #expect(try p(".5 + 1e-3") == RationalFunction(Rational(501, 1000)))
    #expect(try p("m' - m") == RationalFunction.symbol("m'") - RationalFunction.symbol("m"))
    #expect(try p("x**2") == xr * xr)
    #expect(try p("  (1 - beta) * g ") == (1 - RationalFunction.symbol("beta")) * RationalFunction.symbol("g"))
    #expect(try p("x/(x^2)") == (try xr.power(-1)))
  }

  func parseError(_ text: String) -> AlgebraError? {
    do {
      _ = try ExpressionParser.parse(text)
      return nil
    } catch let e as AlgebraError {
      return e
    } catch {
      return nil
    }
  }

  @Test("errors name the token and its position", arguments: [
    ("(1+x))", "')'", 5),
    ("2x", "'x'", 1),
    ("(a)(b)", "'('", 3),
    ("1 + ", "end of input", 4),
    ("a # b", "'#'", 2),
    ("x^y", "'y", 2),
    ("x^(1/2)", "'('", 2),
    ("* x", "'*'", 0),
    ("(x + 1", "end of input", 6),
    ("x^5000", "5000", 2),
  ])
  func errors(text: String, token: String, position: Int) {
    guard let e = parseError(text), case .parse(let message, let at) = e else {
      Issue.record("expected a parse error for \(text)")
      return
    }
    #expect(at == position)
    #expect(message.contains(token))
    #expect(message.contains("position \(position)"))
  }

  @Test func divisionByZero() {
    guard case .divisionByZero = parseError("1/(x - x)") else {
      Issue.record("expected division by zero")
      return
    }
    guard case .divisionByZero = parseError("0^-1") else {
      Issue.record("expected division by zero")
      return
    }
  }

  /// parse(p.asciiDescription) == p for polynomials.
  @Test func polynomialRoundTrip() async throws {
    await propertyCheckThrowing(count: 60, input: polyGen) { p in
      let parsed = try ExpressionParser.parse(p.asciiDescription)
      #expect(parsed == RationalFunction(p))
    }
  }

  /// parse(r.asciiDescription) == r for rational functions (printed factored).
  @Test func rationalFunctionRoundTrip() async throws {
    await propertyCheckThrowing(count: 30, input: polyGen, nonzeroPolyGen) { p, q in
      let r = try RationalFunction(numerator: p, denominator: q)
      let parsed = try ExpressionParser.parse(r.asciiDescription)
      #expect(parsed == r, "\(r.asciiDescription)")
    }
  }

  @Test func renamedSymbolsRoundTrip() throws {
    let text = "(2 + 2*beta - eta*wd - beta*eta*wd)/(eta*(1 - beta)) + m'/3"
    let r = try ExpressionParser.parse(text)
    #expect(try ExpressionParser.parse(r.asciiDescription) == r)
  }
}
