import Testing
@testable import Algebra

/// Parses a formula that the test itself writes (a malformed literal is a bug in the test).
func rf(_ s: String) -> RationalFunction {
  do { return try ExpressionParser.parse(s) } catch {
    Issue.record("could not parse \(s): \(error)")
    return .zero
  }
}

@Suite("Printing contract")
struct PrintingTests {
  @Test("thresholds of Table 1 print exactly", arguments: [
    ("(2+2*beta)/(eta-eta*beta)", "(2 + 2β)/(η(1 − β))"),
    ("2/eta", "2/η"),
    ("(2+2*beta)/(eta*(1+2*beta))", "(2 + 2β)/(η(1 + 2β))"),
    ("(2+2*beta)/(eta*(1-beta)*(1+2*beta))", "(2 + 2β)/(η(1 − β)(1 + 2β))"),
    ("(2+2*beta-eta*wd-beta*eta*wd)/(eta*(1-beta))", "(1 + β)(2 − η·wd)/(η(1 − β))"),
    ("(2+2*beta)/(eta*(1+beta-2*beta^2))", "(2 + 2β)/(η(1 − β)(1 + 2β))"),
  ])
  func thresholds(input: String, expected: String) {
    #expect(rf(input).formatted(.text) == expected)
  }

  @Test func latexFraction() {
    #expect(rf("(2+2*beta)/(eta-eta*beta)").formatted(.latex) == "\\frac{2 + 2\\beta}{\\eta (1 - \\beta)}")
  }

  @Test func sympyFraction() {
    #expect(rf("(2+2*beta)/(eta-eta*beta)").formatted(.sympy) == "(2 + 2*beta)/(eta*(1 - beta))")
    #expect(rf("x/3 + lambda*m'").formatted(.sympy) == "Rational(1, 3)*x + lamda*m_p")
  }

  @Test func symbols() {
    #expect(Polynomial.symbol("beta1").formatted() == "β₁")
    #expect(Polynomial.symbol("beta2").formatted(.latex) == "\\beta_{2}")
    #expect(Polynomial.symbol("lambda").formatted() == "λ")
    #expect(Polynomial.symbol("lamda").formatted(.latex) == "\\lambda")
    #expect(Polynomial.symbol("wd").formatted(.latex) == "\\mathrm{wd}")
    #expect(Polynomial.symbol("m'").formatted(.latex) == "m'")
    #expect(Polynomial.symbol("m'").formatted(.sympy) == "m_p")
    #expect(rf("2*wd").formatted() == "2·wd")
    #expect(rf("1 - beta").formatted() == "1 − β")
    #expect(rf("-beta").formatted() == "−β")
    #expect(rf("2*beta").formatted() == "2β")
    #expect(rf("eta*beta").formatted() == "βη")
    #expect(rf("eta^2").formatted() == "η²")
  }
}
