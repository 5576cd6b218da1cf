import PropertyBased
import Testing
@testable import Algebra

@Suite("Polynomial")
struct PolynomialTests {
  let x = Polynomial.symbol("x")
  let y = Polynomial.symbol("y")
  let z = Polynomial.symbol("z")

  @Test func ringAxioms() async {
    await propertyCheck(count: 60, input: polyGen, polyGen, polyGen) { a, b, c in
      #expect(a + b == b + a)
      #expect(a * b == b * a)
      #expect((a + b) + c == a + (b + c))
      #expect((a * b) * c == a * (b * c))
      #expect(a * (b + c) == a * b + a * c)
      #expect(a + .zero == a)
      #expect(a * .one == a)
      #expect(a * .zero == .zero)
      #expect(a - a == .zero)
      #expect(-(-a) == a)
      #expect(a - b == a + (-b))
    }
  }

  @Test func equalPolynomialsHashEqual() async {
    await propertyCheck(count: 50, input: polyGen, polyGen) { a, b in
      let s1 = a * b + a
      let s2 = a * (b + 1)
      #expect(s1 == s2)
      #expect(s1.hashValue == s2.hashValue)
      #expect(!s1.terms.values.contains { $0.isZero })
    }
  }

  @Test func powersAndDegrees() async {
    await propertyCheck(count: 50, input: polyGen, Gen.int(in: 0...3), Gen.int(in: 0...3), variableGen) { a, j, k, v in
      #expect(a.power(j) * a.power(k) == a.power(j + k))
      if !a.isZero {
        #expect(a.power(k).totalDegree == a.totalDegree * k)
        #expect(a.power(k).degree(in: v) == a.degree(in: v) * k)
      }
    }
  }

  /// p(x ← q) evaluated at a point equals p evaluated where x takes q's value (exact).
  @Test func substitutionCommutesWithEvaluation() async {
    await propertyCheck(count: 60, input: polyGen, polyGen, variableGen, pointGen) { p, q, v, point in
      let composed = p.substituting(v, with: q).value(at: point)
      var moved = point
      moved[v] = q.value(at: point)
      #expect(composed == p.value(at: moved))
      // The numeric substitution agrees with evaluation.
      #expect(p.substituting(point).constantValue == p.value(at: point))
    }
  }

  /// Floating evaluation agrees with exact evaluation to rounding error: at most ~20 operations
  /// on numbers ≤ 6⁶ in magnitude, so 1e-9 relative to the sum of absolute term values is ample.
  @Test func doubleEvaluation() async {
    await propertyCheck(count: 60, input: polyGen, pointGen) { p, point in
      guard let exact = p.value(at: point) else { Issue.record("no exact value"); return }
      let doubles = point.mapValues(\.doubleValue)
      guard let approx = p.evaluate(doubles) else { Issue.record("no double value"); return }
      var scale = 1.0
      for (m, c) in p.terms {
        scale += abs(c.doubleValue) * m.names.reduce(1.0) { acc, n in acc * integerPower(abs(doubles[n] ?? 0), m.power(of: n)) }
      }
      #expect(abs(approx - exact.doubleValue) <= 1e-9 * scale)
      #expect(p.evaluate(["w": 1]) == nil || p.variables.isEmpty)
    }
  }

  @Test func derivativeIsLinear() async {
    await propertyCheck(count: 60, input: polyGen, polyGen, rationalGen, variableGen) { p, q, c, v in
      #expect((p * c + q).derivative(in: v) == p.derivative(in: v) * c + q.derivative(in: v))
    }
  }

  @Test func productRule() async {
    await propertyCheck(count: 60, input: polyGen, polyGen, variableGen) { p, q, v in
      #expect((p * q).derivative(in: v) == p.derivative(in: v) * q + p * q.derivative(in: v))
    }
  }

  @Test func coefficientsReassemble() async {
    await propertyCheck(count: 60, input: polyGen, variableGen) { p, v in
      let cs = p.coefficients(in: v)
      #expect(cs.count == p.degree(in: v) + 1)
      var sum = Polynomial.zero
      for (k, c) in cs.enumerated() {
        #expect(!c.variables.contains(v))
        #expect(c == p.coefficient(of: v, power: k))
        sum = sum + c * Polynomial.symbol(v).power(k)
      }
      #expect(sum == p)
      #expect(p.coefficient(of: v, power: cs.count) == .zero)
    }
  }

  @Test func exactDivision() async {
    await propertyCheck(count: 60, input: polyGen, nonzeroPolyGen) { a, b in
      #expect((a * b).divided(by: b) == a)
      if let q = a.divided(by: b) { #expect(q * b == a) }
    }
    #expect((x * x + 1).divided(by: x + 1) == nil)
    #expect(x.divided(by: .zero) == nil)
  }

  @Test func examples() {
    let p = (x + 1) * (x - 1)
    #expect(p == x * x - 1)
    #expect(p.degree(in: "x") == 2)
    #expect(p.degree(in: "y") == 0)
    #expect(Polynomial.zero.degree(in: "x") == -1)
    #expect(Polynomial.zero.totalDegree == -1)
    #expect((x * y * y + z).totalDegree == 3)
    #expect(p.coefficients(in: "x") == [-1, 0, 1])
    #expect(p.substituting("x", with: y + 1) == y * y + 2 * y)
    #expect(p.substituting(["x": Rational(1, 2)]).constantValue == Rational(-3, 4))
    #expect((x * y).substituting(["x": 2]) == 2 * y)
    #expect((x * y).evaluate(["x": 2]) == nil)
    #expect((x * y + 1).evaluate(["x": 2, "y": 0.5]) == 2)
    #expect(Polynomial(Rational(3, 2)).constantValue == Rational(3, 2))
    #expect((x + 1).constantValue == nil)
    #expect((x * x * y).variables == ["x", "y"])
    #expect((x.power(3) * y).derivative(in: "x") == 3 * x * x * y)
  }

  @Test func monomialOrder() {
    let one = Monomial()
    let mx = Monomial("x")
    let my = Monomial("y")
    #expect(one < mx)
    #expect(mx < my)  // larger names are more significant
    #expect(Monomial("y", 2) < Monomial(["x": 1, "z": 1]))
    #expect(Monomial(["x": 1, "y": 1]) * Monomial("x") == Monomial(["x": 2, "y": 1]))
    #expect(Monomial(["x": 2, "y": 1]).divided(by: Monomial("x", 3)) == nil)
    #expect(Monomial(["x": 2, "y": 1]).powers == ["x": 2, "y": 1])
    #expect(Monomial(["x": 2, "y": 1]).degree == 3)
  }

  /// The order is a monomial order: total, and multiplying both sides keeps it.
  @Test func monomialOrderIsMultiplicative() async {
    let monomialGen = zip(Gen.int(in: 0...3), Gen.int(in: 0...3), Gen.int(in: 0...3)).map {
      Monomial(["x": $0, "y": $1, "z": $2])
    }
    await propertyCheck(input: monomialGen, monomialGen, monomialGen) { a, b, c in
      #expect((a < b) || (b < a) || (a == b))
      #expect(!((a < b) && (b < a)))
      if a < b { #expect(a * c < b * c) }
      #expect(!(a * c < a))
    }
  }
}
