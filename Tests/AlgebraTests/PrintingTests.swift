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
    #expect(rf("eta*beta").formatted() == "ηβ")
    #expect(rf("eta^2*beta").formatted() == "η²β")
    #expect(rf("beta*lamda*eta*z").formatted() == "ηβλz")
    #expect(rf("2*beta*eta/(lamda*eta^2 + beta)").formatted() == "2ηβ/(β + η²λ)")
    #expect(rf("eta^2").formatted() == "η²")
  }
}

@Suite("Printing details")
struct PrintingDetailTests {
  @Test("fractions, signs and powers", arguments: [
    ("-(1 - beta)/eta", "−(1 − β)/η"),
    ("1/(3*eta)", "1/(3η)"),
    ("x/3 - y^2/(3*z)", "−(y² − xz)/(3z)"),
    ("(x-y)^2/(3*(x+y)^3*z)", "(x − y)²/(3z(x + y)³)"),
    ("2*eta*(1+beta)/(1-beta)^2", "η(2 + 2β)/(1 − β)²"),
    ("x/3 + 1", "1 + (1/3)x"),
    ("1 - beta/2", "1 − (1/2)β"),
    ("(1+x)*(1+y)/(2*z)", "(1 + x)(1 + y)/(2z)"),
    ("beta1*beta2^2/lambda - m'", "−(λm' − β₁β₂²)/λ"),
    ("eta*wd/(1 + wd)", "η·wd/(1 + wd)"),
    ("0", "0"),
    ("-3/4", "−3/4"),
  ])
  func text(input: String, expected: String) {
    #expect(rf(input).formatted() == expected)
  }

  @Test func latexAndSympy() {
    #expect(rf("1/(3*eta)").formatted(.latex) == "\\frac{1}{3\\eta}")
    #expect(rf("1/(3*eta)").formatted(.sympy) == "1/(3*eta)")
    #expect(rf("x/3 + 1").formatted(.latex) == "1 + \\frac{1}{3}x")
    #expect(rf("-(1 - beta)/eta").formatted(.latex) == "-\\frac{1 - \\beta}{\\eta}")
    #expect(rf("(x-y)^2/z").formatted(.latex) == "\\frac{(x - y)^{2}}{z}")
    #expect(rf("(x-y)^2/z").formatted(.sympy) == "(x - y)**2/z")
    #expect(rf("eta^2*beta").formatted(.sympy) == "eta**2*beta")
  }
}
