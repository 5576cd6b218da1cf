@testable import LinearAlgebra

/// Small dense helpers computed the slow, obvious way, as references.
enum Dense {
  /// A random n×n matrix with N(0, 1) entries, row-major.
  static func gaussian(_ n: Int, _ g: inout SeededGenerator) -> [Double] {
    (0..<(n * n)).map { _ in g.nextNormal() }
  }

  /// A random symmetric n×n matrix (B + Bᵀ)/2 with B Gaussian.
  static func symmetric(_ n: Int, _ g: inout SeededGenerator) -> [Double] {
    let b = gaussian(n, &g)
    var a = [Double](repeating: 0, count: n * n)
    for i in 0..<n { for j in 0..<n { a[i * n + j] = (b[i * n + j] + b[j * n + i]) / 2 } }
    return a
  }

  /// C = A·B for row-major A (m×k) and B (k×n), by the triple loop.
  static func product(_ a: [Double], _ b: [Double], m: Int, n: Int, k: Int) -> [Double] {
    var c = [Double](repeating: 0, count: m * n)
    for i in 0..<m { for j in 0..<n { for l in 0..<k { c[i * n + j] += a[i * k + l] * b[l * n + j] } } }
    return c
  }

  static func frobenius(_ a: [Double]) -> Double { a.reduce(0) { $0 + $1 * $1 }.squareRoot() }

  static func maxAbs(_ a: [Double]) -> Double { a.reduce(0) { max($0, abs($1)) } }

  /// det A by Gaussian elimination with partial pivoting.
  static func determinant(_ a: [Double], n: Int) -> Double {
    var m = a
    var det = 1.0
    for col in 0..<n {
      var p = col
      for r in col..<n where abs(m[r * n + col]) > abs(m[p * n + col]) { p = r }
      if m[p * n + col] == 0 { return 0 }
      if p != col {
        for j in 0..<n { m.swapAt(p * n + j, col * n + j) }
        det = -det
      }
      det *= m[col * n + col]
      for r in (col + 1)..<n {
        let f = m[r * n + col] / m[col * n + col]
        for j in col..<n { m[r * n + j] -= f * m[col * n + j] }
      }
    }
    return det
  }
}

extension Complex {
  static func * (a: Complex, b: Complex) -> Complex {
    Complex(re: a.re * b.re - a.im * b.im, im: a.re * b.im + a.im * b.re)
  }
  static func - (a: Complex, b: Complex) -> Complex { Complex(re: a.re - b.re, im: a.im - b.im) }
}
