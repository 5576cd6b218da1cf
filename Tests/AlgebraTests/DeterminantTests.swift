import PropertyBased
import TestSupport
import Testing
@testable import Algebra

/// Reference determinant by Laplace expansion along the first row (independent of the library's).
func laplace(_ m: [[Polynomial]]) -> Polynomial {
  let n = m.count
  if n == 0 { return .one }
  if n == 1 { return m[0][0] }
  var sum = Polynomial.zero
  for j in 0..<n {
    let minor = m.dropFirst().map { row in Array(row[..<j] + row[(j + 1)...]) }
    let term = m[0][j] * laplace(minor)
    sum = j % 2 == 0 ? sum + term : sum - term
  }
  return sum
}

func multiply(_ a: [[Polynomial]], _ b: [[Polynomial]]) -> [[Polynomial]] {
  let n = a.count
  return (0..<n).map { i in
    (0..<n).map { j in (0..<n).reduce(Polynomial.zero) { $0 + a[i][$1] * b[$1][j] } }
  }
}

@Suite("Determinants")
struct DeterminantTests {
  @Test func multiplicative2x2() async {
    await propertyCheck(count: 40, input: matrixGen(2), matrixGen(2)) { a, b in
      #expect(determinant(multiply(a, b)) == determinant(a) * determinant(b))
    }
  }

  @Test func multiplicative3x3() async {
    await propertyCheck(count: 15, input: matrixGen(3), matrixGen(3)) { a, b in
      #expect(determinant(multiply(a, b)) == determinant(a) * determinant(b))
    }
  }

  /// Bareiss elimination (n ≥ 4) agrees with Laplace expansion.
  @Test func bareissMatchesLaplace() async {
    await propertyCheck(count: 10, input: matrixGen(4)) { a in
      #expect(determinant(a) == laplace(a))
    }
  }

  @Test func bareissWithZeroPivots() {
    let x = Polynomial.symbol("x")
    let m: [[Polynomial]] = [[0, 1, 0, 0], [1, 0, 0, 0], [0, 0, x, 1], [0, 0, 1, x]]
    #expect(determinant(m) == -(x * x - 1))
    let singular: [[Polynomial]] = [[0, 1, 0, 0], [0, x, 0, 0], [0, 0, x, 1], [0, 0, 1, x]]
    #expect(determinant(singular) == .zero)
    #expect(determinant([[Polynomial]]()) == .one)
  }

  /// det of p_ij / q_i (row i over q_i) is det(p)/∏ q_i.
  @Test func rationalFunctionDeterminant() async throws {
    await propertyCheckThrowing(count: 15, input: matrixGen(3), nonzeroPolyGen.array(of: 3)) { p, q in
      let m = try (0..<3).map { i in try p[i].map { try RationalFunction(numerator: $0, denominator: q[i]) } }
      let expected = try RationalFunction(numerator: determinant(p), denominator: q.reduce(Polynomial.one, *))
      #expect(determinant(m) == expected)
    }
  }

  /// Heavy ball: state (x, m), m' = βm − λx·(…) ; the characteristic polynomial of its
  /// 2×2 state matrix is z² − (1 + β − ηλ)z + β.
  @Test func heavyBallCharacteristicPolynomial() throws {
    let beta = RationalFunction.symbol("beta")
    let eta = RationalFunction.symbol("eta")
    let lamda = RationalFunction.symbol("lamda")
    let z = RationalFunction.symbol("z")
    // m' = βm + λx ; x' = x − ηm' = (1 − ηλ)x − ηβm
    let a: [[RationalFunction]] = [[1 - eta * lamda, -eta * beta], [lamda, beta]]
    let zi: [[RationalFunction]] = [[z - a[0][0], -a[0][1]], [-a[1][0], z - a[1][1]]]
    let expected = z * z - (1 + beta - eta * lamda) * z + beta
    #expect(determinant(zi) == expected)
  }
}
