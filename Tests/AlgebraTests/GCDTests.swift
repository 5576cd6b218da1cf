import PropertyBased
import TestSupport
import Testing
@testable import Algebra

@Suite("GCD and rational functions")
struct GCDTests {
  let x = Polynomial.symbol("x")
  let y = Polynomial.symbol("y")
  let z = Polynomial.symbol("z")

  @Test func gcdDividesBoth() async {
    await propertyCheck(count: 40, input: polyGen, polyGen) { a, b in
      let g = Polynomial.gcd(a, b)
      if a.isZero && b.isZero {
        #expect(g.isZero)
        return
      }
      #expect(a.divided(by: g) != nil)
      #expect(b.divided(by: g) != nil)
      #expect(g == g.normalized)
      #expect(g == Polynomial.gcd(b, a))
    }
  }

  /// gcd(a·c, b·c) is a multiple of c, and exactly c·gcd(a, b) up to a constant factor.
  @Test func gcdOfCommonMultiples() async {
    await propertyCheck(count: 30, input: smallPolyGen, smallPolyGen, denominatorGen) { a, b, c in
      let g = Polynomial.gcd(a * c, b * c)
      #expect(g.divided(by: c) != nil)
      #expect(g == (c * Polynomial.gcd(a, b)).normalized || (a.isZero && b.isZero && g == c.normalized))
    }
  }

  @Test func gcdExamples() {
    #expect(Polynomial.gcd((x - y) * (x + 2 * y) * z, (x - y) * (3 + z)) == y - x)  // normalised: y leads
    #expect(Polynomial.gcd(x * x - 1, x * x - 2 * x + 1) == x - 1)
    #expect(Polynomial.gcd(6 * x * y, 4 * x * x) == x)
    #expect(Polynomial.gcd(x + 1, 3) == 1)
    #expect(Polynomial.gcd(.zero, -2 * x - 4) == x + 2)
    #expect(Polynomial.gcd(x * y + x, y * z + z) == y + 1)
    let a = (x + y + z) * (x - z).power(2) * (y + 1)
    let b = (x - z) * (y + 1) * (x * x + y)
    #expect(Polynomial.gcd(a, b) == ((x - z) * (y + 1)).normalized)
  }

  @Test func reductionExample() throws {
    let r = try RationalFunction(numerator: (x - y) * (x + 2 * y) * z, denominator: (x - y) * (3 + z))
    #expect(r.numerator == (x + 2 * y) * z)
    #expect(r.denominator == z + 3)
    #expect(r == (try RationalFunction(numerator: (x + 2 * y) * z, denominator: 3 + z)))
  }

  /// (p·c)/(q·c) == p/q, with equal hashes, and the denominator is normalised.
  @Test func normalisation() async throws {
    await propertyCheckThrowing(count: 30, input: smallPolyGen, denominatorGen, denominatorGen) { p, q, c in
      let a = try RationalFunction(numerator: p * c, denominator: q * c)
      let b = try RationalFunction(numerator: p, denominator: q)
      #expect(a == b)
      #expect(a.hashValue == b.hashValue)
      #expect(a.denominator == a.denominator.normalized)
      #expect(Polynomial.gcd(a.numerator, a.denominator).isOne || a.numerator.isZero)
      // The value is unchanged: a·q == p.
      #expect(a * RationalFunction(q) == RationalFunction(p))
    }
  }

  @Test func fieldLaws() async throws {
    let rfGen = zip(smallPolyGen, denominatorGen).map { p, q in
      (try? RationalFunction(numerator: p, denominator: q)) ?? .zero
    }
    await propertyCheckThrowing(count: 25, input: rfGen, rfGen, rfGen) { a, b, c in
      #expect(a + b == b + a)
      #expect(a * b == b * a)
      #expect((a + b) + c == a + (b + c))
      #expect(a * (b + c) == a * b + a * c)
      #expect(a - a == .zero)
      if !b.isZero {
        let q = try a.dividing(by: b)
        #expect(q * b == a)
        #expect(try b.power(-2) * b.power(2) == .one)
      }
    }
  }

  @Test func quotientRule() async throws {
    await propertyCheckThrowing(count: 30, input: polyGen, nonzeroPolyGen, variableGen) { p, q, v in
      let r = try RationalFunction(numerator: p, denominator: q)
      // (p/q)′·q² == p′q − pq′
      let lhs = r.derivative(in: v) * RationalFunction(q * q)
      #expect(lhs == RationalFunction(p.derivative(in: v) * q - p * q.derivative(in: v)))
    }
  }

  @Test func substitutionCommutesWithEvaluation() async throws {
    await propertyCheckThrowing(count: 30, input: polyGen, denominatorGen, smallPolyGen, variableGen, pointGen) { p, q, s, v, point in
      let r = try RationalFunction(numerator: p, denominator: q)
      guard let sv = s.value(at: point), let qAt = q.substituting(v, with: s).value(at: point), !qAt.isZero else {
        return
      }
      let composed = try r.substituting(v, with: RationalFunction(s))
      var moved = point
      moved[v] = sv
      #expect(composed.value(at: point) == r.value(at: moved))
    }
  }

  @Test func divisionByZeroThrows() throws {
    #expect(throws: AlgebraError.self) { try RationalFunction(numerator: x, denominator: .zero) }
    #expect(throws: AlgebraError.self) { try RationalFunction(x).dividing(by: .zero) }
    #expect(throws: AlgebraError.self) { try RationalFunction.zero.power(-1) }
    let r = try RationalFunction(numerator: .one, denominator: x - 1)
    #expect(throws: AlgebraError.self) { try r.substituting(["x": 1]) }
    #expect(throws: AlgebraError.self) { try r.substituting("x", with: RationalFunction.one) }
    #expect(try r.substituting(["x": 3]) == RationalFunction(Rational(1, 2)))
    #expect(r.evaluate(["x": 3.0]) == 0.5)
    #expect(r.evaluate(["y": 3.0]) == nil)
  }
}
