import PropertyBased
@testable import Algebra

// Small random inputs for the algebraic laws: few variables from {x, y, z}, total degree ≤ 3,
// small integer or rational coefficients. Kept small so that exact gcds stay fast in debug builds.

/// Rationals p/q with |p| ≤ 6, 1 ≤ q ≤ 4.
let rationalGen = zip(Gen.int(in: -6...6), Gen.int(in: 1...4)).map { Rational($0, $1) }

/// Nonzero rationals.
let nonzeroRationalGen = zip(Gen.int(in: 1...6), Gen.int(in: 1...4), Gen.bool).map {
  Rational($2 ? $0 : -$0, $1)
}

/// One term c·x^a·y^b·z^c with total degree ≤ 3.
let termGen = zip(Gen.int(in: -4...4), Gen.int(in: 1...3), Gen.int(in: 0...3), Gen.int(in: 0...3), Gen.int(in: 0...3))
  .map { (n: Int, d: Int, a: Int, b: Int, c: Int) -> Polynomial in
    let b2 = min(b, 3 - a)
    let c2 = min(c, 3 - a - b2)
    let m = Monomial(["x": a, "y": b2, "z": c2])
    return Polynomial(coefficient: Rational(n, d), monomial: m)
  }

/// Sums of up to four terms.
let polyGen = termGen.array(of: 0...4).map { $0.reduce(Polynomial.zero, +) }

/// Sums of one to three terms: cheap entries for matrices.
let smallPolyGen = termGen.array(of: 1...3).map { $0.reduce(Polynomial.zero, +) }

/// Nonzero polynomials.
let nonzeroPolyGen = termGen.array(of: 1...4).map { terms -> Polynomial in
  let p = terms.reduce(Polynomial.zero, +)
  return p.isZero ? Polynomial(1) : p
}

/// Integer points for exact evaluation.
let pointGen = zip(rationalGen, rationalGen, rationalGen).map { ["x": $0, "y": $1, "z": $2] }

/// Names of the generated variables.
let variableGen = Gen.int(in: 0...2).map { ["x", "y", "z"][$0] }

/// n×n matrices of small polynomials.
func matrixGen(_ n: Int) -> Generator<[[Polynomial]], some SendableSequenceType> {
  smallPolyGen.array(of: n).array(of: n)
}

/// Denominators for rational-function laws: one or two terms of total degree ≤ 2, so
/// that sums of three rational functions stay small enough for exact gcds in debug
/// builds (degree-3 denominators occasionally made a single case take minutes).
let denominatorGen = zip(Gen.int(in: 1...4), Gen.int(in: 1...3), Gen.int(in: 0...2), Gen.int(in: 0...2), Gen.int(in: 0...2), Gen.bool)
  .map { (n: Int, d: Int, a: Int, b: Int, c: Int, constant: Bool) -> Polynomial in
    let b2 = min(b, 2 - a)
    let c2 = min(c, 2 - a - b2)
    let m = Polynomial(coefficient: Rational(n, d), monomial: Monomial(["x": a, "y": b2, "z": c2]))
    return constant ? m + Polynomial(1) : m
  }
