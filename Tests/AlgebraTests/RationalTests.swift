import BigInt
import PropertyBased
import Testing
@testable import Algebra

@Suite("Rational")
struct RationalTests {
  @Test func fieldAxioms() async {
    await propertyCheck(input: rationalGen, rationalGen, rationalGen) { a, b, c in
      #expect(a + b == b + a)
      #expect(a * b == b * a)
      #expect((a + b) + c == a + (b + c))
      #expect((a * b) * c == a * (b * c))
      #expect(a * (b + c) == a * b + a * c)
      #expect(a + 0 == a)
      #expect(a * 1 == a)
      #expect(a - a == 0)
      #expect(a + (-a) == .zero)
      if !b.isZero {
        #expect((a / b) * b == a)
        #expect(b * b.reciprocal == 1)
      }
    }
  }

  @Test func canonicalForm() async {
    await propertyCheck(input: Gen.int(in: -50...50), Gen.int(in: -50...50), Gen.int(in: 1...20)) { n, d, k in
      guard d != 0 else { return }
      let r = Rational(n, d)
      #expect(r.denominator > 0)
      #expect(r.numerator.greatestCommonDivisor(with: r.denominator) == 1 || r.isZero)
      #expect(Rational(n * k, d * k) == r)
      #expect(Rational(n * k, d * k).hashValue == r.hashValue)
    }
  }

  @Test func orderMatchesDoubles() async {
    await propertyCheck(input: rationalGen, rationalGen) { a, b in
      // Small numerators/denominators: distinct values differ by ≥ 1/16, far above rounding.
      #expect((a < b) == (a.doubleValue < b.doubleValue))
      #expect(a.sign == (a.isZero ? 0 : (a.doubleValue < 0 ? -1 : 1)))
    }
  }

  @Test func powers() async {
    await propertyCheck(input: nonzeroRationalGen, Gen.int(in: -4...4), Gen.int(in: -4...4)) { a, j, k in
      #expect(a.power(j) * a.power(k) == a.power(j + k))
      #expect(a.power(-k) == a.power(k).reciprocal)
    }
  }

  @Test("decimal literals are exact", arguments: [
    ("0.1", Rational(1, 10)), ("0.9", Rational(9, 10)), ("1e-3", Rational(1, 1000)),
    ("2.5E+4", Rational(25000)), ("12", Rational(12)), (".5", Rational(1, 2)),
    ("-0.25", Rational(-1, 4)), ("1.", Rational(1)), ("3.14e2", Rational(314)),
  ])
  func decimal(text: String, expected: Rational) {
    #expect(Rational(decimal: text) == expected)
  }

  @Test("malformed decimals are rejected", arguments: ["", ".", "e3", "1e", "1.2.3", "0x10", "inf", "nan", "1e+", "--1", "1 "])
  func badDecimal(text: String) {
    #expect(Rational(decimal: text) == nil)
  }

  @Test func decimalScaling() async {
    await propertyCheck(input: Gen.int(in: -100_000...100_000), Gen.int(in: 0...12)) { m, k in
      let expected = Rational(BigInt(m), BigInt(10).power(k))
      #expect(Rational(decimal: "\(m)e-\(k)") == expected)
      #expect(Rational(decimal: "\(m)E+\(k)") == Rational(BigInt(m) * BigInt(10).power(k), 1))
    }
  }

  /// Shortest decimal strings of doubles parse to the double exactly, and `doubleValue` is
  /// correctly rounded, so the round trip is the identity (no tolerance).
  @Test func decimalDoubleRoundTrip() async {
    await propertyCheck(input: Gen.double(in: -1e6...1e6), Gen.int(in: -300...300)) { m, e in
      var x = m
      for _ in 0..<abs(e) { x = e > 0 ? x * 10 : x / 10 }
      guard x.isFinite, x == 0 || abs(x) >= 1e-300 else { return }
      #expect(Rational(decimal: "\(x)")?.doubleValue == x)
      #expect(Rational(x).doubleValue == x)
    }
  }

  @Test func exactDouble() {
    #expect(Rational(0.5) == Rational(1, 2))
    #expect(Rational(-3.0) == Rational(-3))
    #expect(Rational(0.1) == Rational(BigInt(3_602_879_701_896_397), BigInt(1) << 55))
    #expect(Rational(0.1) != Rational(1, 10))
    #expect(Rational(Double.leastNonzeroMagnitude).doubleValue == Double.leastNonzeroMagnitude)
    #expect(Rational(Double.greatestFiniteMagnitude).doubleValue == Double.greatestFiniteMagnitude)
  }

  @Test func hugeDoubleValue() {
    // (10⁴⁰⁰ + 1)/(3·10³⁹⁹) = 10/3 + 10⁻⁴⁰⁰/3: rounds like 10/3 (nowhere near a tie).
    let ten = BigInt(10)
    let r = Rational(ten.power(400) + 1, 3 * ten.power(399))
    #expect(r.doubleValue == 10.0 / 3.0)
    #expect(Rational(ten.power(400), 1).doubleValue == .infinity)
    #expect(Rational(1, ten.power(400)).doubleValue == 0)
    #expect(Rational(-ten.power(300), ten.power(299) * 7).doubleValue == -10.0 / 7.0)
  }

  @Test func printing() {
    #expect(Rational(1, 3).formatted() == "1/3")
    #expect(Rational(-1, 3).formatted() == "−1/3")
    #expect(Rational(-1, 3).formatted(.latex) == "-\\frac{1}{3}")
    #expect(Rational(1, 3).formatted(.sympy) == "Rational(1, 3)")
    #expect(Rational(-7).formatted(.sympy) == "-7")
    #expect(Rational(5, 10).description == "1/2")
  }
}
