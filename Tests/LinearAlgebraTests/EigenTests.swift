#if canImport(Glibc)
import Glibc
#else
import Foundation
#endif
import PropertyBased
import TestSupport
import Testing

@testable import LinearAlgebra

private let eps = Double.ulpOfOne

@Suite struct EigenTests {
  /// A = VΛVᵀ for random symmetric A (n ≤ 12): the residual ‖AV − VΛ‖, the
  /// orthogonality defect ‖VᵀV − I‖ and |Σλ − tr A| are all O(nε‖A‖) for a
  /// backward-stable solver. We allow 1e-12·(1 + ‖A‖_F): nε‖A‖ ≤ 12·2.2e-16·‖A‖ ≈
  /// 2.7e-15‖A‖, so the margin is about 400× for the solver's constant.
  @Test func symmetricDecomposition() async throws {
    await propertyCheckThrowing(count: 60, input: Gen.int(in: 1...12), Gen.uint64(in: 0...UInt64.max)) { n, seed in
      var g = SeededGenerator(seed: seed)
      let a = Dense.symmetric(n, &g)
      let tol = 1e-12 * (1 + Dense.frobenius(a))
      let (values, vectors) = try Eigen.symmetric(a, n: n, vectors: true)
      let v = try #require(vectors)
      #expect(values.count == n && v.count == n * n)
      #expect(zip(values, values.dropFirst()).allSatisfy { $0 <= $1 }, "ascending")
      let av = Dense.product(a, v, m: n, n: n, k: n)
      var residual = 0.0
      for i in 0..<n { for j in 0..<n { residual = max(residual, abs(av[i * n + j] - v[i * n + j] * values[j])) } }
      #expect(residual <= tol)
      var vt = [Double](repeating: 0, count: n * n)
      for i in 0..<n { for j in 0..<n { vt[j * n + i] = v[i * n + j] } }
      let vtv = Dense.product(vt, v, m: n, n: n, k: n)
      var defect = 0.0
      for i in 0..<n { for j in 0..<n { defect = max(defect, abs(vtv[i * n + j] - (i == j ? 1 : 0))) } }
      #expect(defect <= 1e-12)
      let trace = (0..<n).reduce(0.0) { $0 + a[$1 * n + $1] }
      #expect(abs(values.reduce(0, +) - trace) <= tol)
      // Values alone agree with the values of the full decomposition (same
      // matrix, different algorithm path: ε‖A‖-accurate both).
      let alone = try Eigen.symmetric(a, n: n, vectors: false)
      #expect(alone.vectors == nil)
      #expect(zip(alone.values, values).allSatisfy { abs($0 - $1) <= tol })
    }
  }

  /// Only the upper triangle is read: garbage below the diagonal changes nothing.
  @Test func symmetricReadsUpperTriangle() async throws {
    await propertyCheckThrowing(count: 20, input: Gen.int(in: 2...8), Gen.uint64(in: 0...UInt64.max)) { n, seed in
      var g = SeededGenerator(seed: seed)
      let a = Dense.symmetric(n, &g)
      var b = a
      for i in 0..<n { for j in 0..<i { b[i * n + j] = 100 * g.nextNormal() } }
      let (fromA, fromB) = (try Eigen.symmetric(a, n: n, vectors: false), try Eigen.symmetric(b, n: n, vectors: false))
      #expect(fromA.values == fromB.values)
    }
  }

  /// Float: the same laws at single precision, with tolerance 1e-4·(1 + ‖A‖_F)
  /// (nε_Float‖A‖ ≈ 12·1.2e-7 ≈ 1.4e-6, margin ~70).
  @Test func symmetricFloat() async throws {
    await propertyCheckThrowing(count: 30, input: Gen.int(in: 1...12), Gen.uint64(in: 0...UInt64.max)) { n, seed in
      var g = SeededGenerator(seed: seed)
      let a64 = Dense.symmetric(n, &g)
      let a = a64.map { Float($0) }
      let (values, vectors) = try Eigen.symmetric(a, n: n, vectors: true)
      let v = try #require(vectors).map { Double($0) }
      let tol = 1e-4 * (1 + Dense.frobenius(a64))
      let av = Dense.product(a.map { Double($0) }, v, m: n, n: n, k: n)
      for i in 0..<n { for j in 0..<n { #expect(abs(av[i * n + j] - v[i * n + j] * Double(values[j])) <= tol) } }
      let exact = try Eigen.symmetric(a.map { Double($0) }, n: n, vectors: false).values
      #expect(zip(values, exact).allSatisfy { abs(Double($0) - $1) <= tol })
    }
  }

  /// The tridiagonal solver agrees with the dense one on the same matrix, and its
  /// vectors satisfy TV = VΛ. Both are ε‖T‖-accurate; tolerance as above.
  @Test func tridiagonalAgreesWithDense() async throws {
    await propertyCheckThrowing(count: 60, input: Gen.int(in: 1...12), Gen.uint64(in: 0...UInt64.max)) { n, seed in
      var g = SeededGenerator(seed: seed)
      let d = (0..<n).map { _ in g.nextNormal() }
      let e = (0..<(n - 1)).map { _ in g.nextNormal() }
      var t = [Double](repeating: 0, count: n * n)
      for i in 0..<n { t[i * n + i] = d[i] }
      for i in 0..<(n - 1) { (t[i * n + i + 1], t[(i + 1) * n + i]) = (e[i], e[i]) }
      let tol = 1e-12 * (1 + Dense.frobenius(t))
      let dense = try Eigen.symmetric(t, n: n, vectors: false).values
      let (values, vectors) = try Eigen.symmetricTridiagonal(diagonal: d, offDiagonal: e, vectors: true)
      #expect(zip(values, dense).allSatisfy { abs($0 - $1) <= tol })
      let v = try #require(vectors)
      let tv = Dense.product(t, v, m: n, n: n, k: n)
      for i in 0..<n { for j in 0..<n { #expect(abs(tv[i * n + j] - v[i * n + j] * values[j]) <= tol) } }
      let alone = try Eigen.symmetricTridiagonal(diagonal: d, offDiagonal: e, vectors: false)
      #expect(alone.vectors == nil && zip(alone.values, values).allSatisfy { abs($0 - $1) <= tol })
    }
  }

  /// For a random real matrix, Σλ = tr A and Πλ = det A.
  ///
  /// The computed eigenvalues are exact for some A + E with ‖E‖_F ≤ cε‖A‖_F, so
  /// |Σλ − tr A| = |tr E| ≤ √n‖E‖_F; we allow 1e-12·n·(1 + ‖A‖_F) (n ≤ 8).
  /// For the product, |det(A + E) − det A| ≈ |Σ adj(A)ⱼᵢEᵢⱼ|, and by Hadamard's
  /// inequality |adj(A)ⱼᵢ| ≤ H/‖aᵢ‖ with H = Π‖rows‖, so we allow
  /// 1e-10·n·H·‖A‖_F/min‖aᵢ‖ (plus the same for the reference LU determinant, which
  /// is backward stable too); these are worst-case bounds with margin ~100 on c.
  /// Well-conditioned or not, these hold: they are functions of the whole spectrum.
  @Test func generalEigenvaluesTraceAndDeterminant() async throws {
    await propertyCheckThrowing(count: 60, input: Gen.int(in: 1...8), Gen.uint64(in: 0...UInt64.max)) { n, seed in
      var g = SeededGenerator(seed: seed)
      let a = Dense.gaussian(n, &g)
      let lambda = try Eigen.eigenvalues(general: a, n: n)
      #expect(lambda.count == n)
      let norm = Dense.frobenius(a)
      let trace = (0..<n).reduce(0.0) { $0 + a[$1 * n + $1] }
      let sum = lambda.reduce(Complex(re: 0)) { Complex(re: $0.re + $1.re, im: $0.im + $1.im) }
      #expect(abs(sum.re - trace) <= 1e-12 * Double(n) * (1 + norm))
      #expect(abs(sum.im) <= 1e-12 * Double(n) * (1 + norm))
      let rows = (0..<n).map { i in Dense.frobenius(Array(a[(i * n)..<(i * n + n)])) }
      let hadamard = rows.reduce(1, *)
      guard let smallest = rows.min(), smallest > 0 else { return }
      let tol = 1e-10 * Double(n) * hadamard * norm / smallest
      let product = lambda.reduce(Complex(re: 1)) { $0 * $1 }
      #expect(abs(product.re - Dense.determinant(a, n: n)) <= tol)
      #expect(abs(product.im) <= tol)
      // Non-real eigenvalues come in conjugate pairs, positive imaginary part first.
      var i = 0
      while i < n {
        if lambda[i].im != 0 {
          #expect(lambda[i].im > 0 && i + 1 < n && lambda[i + 1] == lambda[i].conjugate)
          i += 2
        } else { i += 1 }
      }
    }
  }

  /// For n ≤ 3 the eigenvalues are the roots of the characteristic polynomial
  /// det(zI − A), computed here from A's entries (c₂ = −tr A, c₁ = sum of principal
  /// 2×2 minors, c₀ = −det A). A random Gaussian matrix has well-separated
  /// eigenvalues with high probability but not always, so the comparison is on the
  /// elementary symmetric functions of the eigenvalues (which are what the
  /// coefficients are, and are well conditioned), not eigenvalue by eigenvalue.
  @Test func generalEigenvaluesMatchCharacteristicPolynomial() async throws {
    await propertyCheckThrowing(count: 60, input: Gen.int(in: 1...3), Gen.uint64(in: 0...UInt64.max)) { n, seed in
      var g = SeededGenerator(seed: seed)
      let a = Dense.gaussian(n, &g)
      let lambda = try Eigen.eigenvalues(general: a, n: n)
      var coefficients = [Complex(re: 1)]  // Π(z − λ), highest degree first
      for l in lambda {
        var next = coefficients + [Complex(re: 0)]
        for k in 0..<coefficients.count { next[k + 1] = next[k + 1] - l * coefficients[k] }
        coefficients = next
      }
      let m = { (i: Int, j: Int) in a[i * n + j] }
      let expected: [Double]
      switch n {
      case 1: expected = [1, -m(0, 0)]
      case 2: expected = [1, -(m(0, 0) + m(1, 1)), m(0, 0) * m(1, 1) - m(0, 1) * m(1, 0)]
      default:
        let minors = (m(0, 0) * m(1, 1) - m(0, 1) * m(1, 0)) + (m(0, 0) * m(2, 2) - m(0, 2) * m(2, 0))
          + (m(1, 1) * m(2, 2) - m(1, 2) * m(2, 1))
        expected = [1, -(m(0, 0) + m(1, 1) + m(2, 2)), minors, -Dense.determinant(a, n: 3)]
      }
      // Coefficient k is a degree-k form in the entries; its backward error is
      // ≤ c·ε·k·‖A‖_F^k-ish. Tolerance 1e-11·(1 + ‖A‖_F)^k.
      let scale = 1 + Dense.frobenius(a)
      for k in 0...n {
        let tol = 1e-11 * pow(scale, Double(k))
        #expect(abs(coefficients[k].re - expected[k]) <= tol)
        #expect(abs(coefficients[k].im) <= tol)
      }
      // The roots of that polynomial, by Polynomials.roots, have the same
      // elementary symmetric functions: their sum is −c_{n−1}.
      let roots = try Polynomials.roots(expected.reversed())
      #expect(abs(roots.reduce(0) { $0 + $1.re } - lambda.reduce(0) { $0 + $1.re }) <= 1e-11 * scale)
    }
  }

  /// A diagonal-free rotation [[0, −1], [1, 0]] has eigenvalues ±i exactly
  /// (dgeev's 2×2 standardisation is exact here).
  @Test func rotationHasImaginaryEigenvalues() throws {
    let lambda = try Eigen.eigenvalues(general: [0, -1, 1, 0], n: 2)
    #expect(lambda.count == 2)
    #expect(lambda.allSatisfy { abs($0.re) <= 1e-15 && abs(abs($0.im) - 1) <= 1e-15 })
    #expect(lambda[0].im > 0)
  }

  @Test func emptyMatrices() throws {
    #expect(try Eigen.eigenvalues(general: [], n: 0).isEmpty)
    let s = try Eigen.symmetric([Double](), n: 0, vectors: true)
    #expect(s.values.isEmpty && s.vectors == [])
    let t = try Eigen.symmetricTridiagonal(diagonal: [], offDiagonal: [], vectors: false)
    #expect(t.values.isEmpty && t.vectors == nil)
  }

  /// Non-finite entries and wrong sizes are thrown as `invalidInput`, never crash.
  @Test func rejectsBadInput() {
    #expect(throws: LinearAlgebraError.self) { try Eigen.eigenvalues(general: [1, .nan, 0, 1], n: 2) }
    #expect(throws: LinearAlgebraError.self) { try Eigen.eigenvalues(general: [.infinity], n: 1) }
    #expect(throws: LinearAlgebraError.self) { try Eigen.eigenvalues(general: [1, 2, 3], n: 2) }
    #expect(throws: LinearAlgebraError.self) { try Eigen.eigenvalues(general: [], n: -1) }
    #expect(throws: LinearAlgebraError.self) { try Eigen.symmetric([1, 0, 0, Double.nan], n: 2, vectors: true) }
    #expect(throws: LinearAlgebraError.self) { try Eigen.symmetric([Float.nan], n: 1, vectors: false) }
    #expect(throws: LinearAlgebraError.self) { try Eigen.symmetric([1.0, 2], n: 2, vectors: false) }
    #expect(throws: LinearAlgebraError.self) {
      try Eigen.symmetricTridiagonal(diagonal: [1, 2], offDiagonal: [.nan], vectors: true)
    }
    #expect(throws: LinearAlgebraError.self) {
      try Eigen.symmetricTridiagonal(diagonal: [1, 2], offDiagonal: [1, 2], vectors: true)
    }
  }

  /// Error messages name the bad value.
  @Test func errorMessagesNameTheValue() {
    do {
      _ = try Eigen.eigenvalues(general: [1, .nan, 0, 1], n: 2)
      Issue.record("expected a throw")
    } catch {
      #expect("\(error)".contains("nan") && "\(error)".contains("entry 1"))
    }
    #expect(LinearAlgebraError.lapack(routine: "dgeev", info: 3).description.contains("dgeev"))
  }
}
