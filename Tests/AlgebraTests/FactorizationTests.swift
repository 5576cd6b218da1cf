import PropertyBased
import TestSupport
import Testing
@testable import Algebra

@Suite("Factorisation")
struct FactorizationTests {
  let beta = Polynomial.symbol("beta")
  let eta = Polynomial.symbol("eta")
  let wd = Polynomial.symbol("wd")
  let x = Polynomial.symbol("x")
  let y = Polynomial.symbol("y")

  func check(_ f: Factorization, of p: Polynomial) {
    #expect(f.expanded == p)
    var seen = Set<Polynomial>()
    for (b, e) in f.factors {
      #expect(!b.isConstant)
      #expect(e >= 1)
      #expect(b == b.factorNormalized)
      #expect(!seen.contains(b))
      seen.insert(b)
    }
  }

  /// The product of the factors is exactly the input, and factors are normalised and distinct.
  @Test func multipliesBack() async {
    await propertyCheck(count: 40, input: smallPolyGen, denominatorGen, Gen.int(in: 1...2)) { a, b, k in
      let p = a * b.power(k)
      check(p.factored(), of: p)
    }
  }

  @Test func contentSplitting() {
    let p = 2 + 2 * beta - eta * wd - beta * eta * wd
    let f = p.factored()
    check(f, of: p)
    #expect(f.content == 1)
    #expect(f.factors.map(\.base) == [1 + beta, 2 - eta * wd])
  }

  @Test func rationalRoots() {
    let p = 1 + beta - 2 * beta * beta
    let f = p.factored()
    check(f, of: p)
    #expect(f.content == 1)
    #expect(f.factors.map(\.base) == [1 - beta, 1 + 2 * beta])
  }

  @Test func monomialContentAndPowers() {
    let p = -12 * y * (x * x - 1) * (x + 1)
    let f = p.factored()
    check(f, of: p)
    #expect(f.factors.first?.base == y)
    #expect(Set(f.factors.map(\.base)) == [y, 1 - x, 1 + x])
    #expect(f.factors.first { $0.base == 1 + x }?.exponent == 2)
    #expect(f.content == 12)
  }

  @Test func constants() {
    #expect(Polynomial.zero.factored().content == 0)
    #expect(Polynomial(Rational(-3, 2)).factored().content == Rational(-3, 2))
    #expect(Polynomial(Rational(-3, 2)).factored().factors.isEmpty)
  }
}

@Suite("Solving in one variable")
struct SolvingTests {
  /// Every root returned makes the polynomial vanish exactly.
  @Test func linearRootsAreRoots() async throws {
    await propertyCheckThrowing(count: 30, input: polyGen, polyGen, variableGen) { a, b, v in
      let p = a * b
      for (r, m) in p.linearRoots(in: v) {
        #expect(m >= 1)
        let value = try RationalFunction(p).substituting(v, with: r)
        #expect(value.isZero)
      }
    }
  }

  @Test func thresholdFromCharacteristicPolynomial() throws {
    // ema-hb: p(z) = z² − (1 + β − η(1−β)λ)z + β; p(−1) = 0 is linear in λ.
    let p = try ExpressionParser.parse("z^2 - (1 + beta - eta*(1-beta)*lamda)*z + beta").numerator
    let atMinusOne = p.substituting(["z": -1])
    let threshold = try atMinusOne.solveLinear(in: "lamda")
    #expect(threshold.formatted() == "(2 + 2β)/(η(1 − β))")
    #expect(throws: AlgebraError.self) { try p.solveLinear(in: "z") }
    let roots = (p.substituting(["beta": 0, "eta": 1, "lamda": 1])).linearRoots(in: "z")
    #expect(roots.count == 1 && roots[0].root == .zero && roots[0].multiplicity == 2)
  }
}
