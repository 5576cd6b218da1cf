import Curvature
import LinearAlgebra
import Synchronization

/// Matrices with a known spectrum, and operators that count their products, for
/// the Curvature tests.
enum Fixture {
  /// A symmetric matrix with independent N(0, 1) entries on and above the diagonal
  /// (row-major n×n).
  static func gaussianSymmetric(_ n: Int, seed: UInt64) -> [Double] {
    var rng = SeededGenerator(seed: seed)
    var a = [Double](repeating: 0, count: n * n)
    for i in 0..<n {
      for j in i..<n {
        let v = rng.nextNormal()
        a[i * n + j] = v
        a[j * n + i] = v
      }
    }
    return a
  }

  /// A random orthogonal n×n matrix: the eigenvectors of a Gaussian symmetric one.
  static func orthogonal(_ n: Int, seed: UInt64) -> [Double] {
    // dsyevd returns orthonormal eigenvectors (VᵀV = I to ~nε); it cannot fail on a finite matrix.
    try! Eigen.symmetric(gaussianSymmetric(n, seed: seed ^ 0x5EED), n: n, vectors: true).vectors!
  }

  /// A = V diag(d) Vᵀ for a random orthogonal V, symmetrised exactly, with V
  /// (column i is the eigenvector of d[i]). Its eigenvalues are d up to
  /// round-off, ≈ n·ε·max|d|.
  static func withSpectrum(_ d: [Double], seed: UInt64) -> (a: [Double], v: [Double]) {
    let n = d.count
    let v = orthogonal(n, seed: seed)
    var vd = v
    for i in 0..<n { for j in 0..<n { vd[i * n + j] *= d[j] } }
    var a = BLAS.matmul(vd, v, m: n, n: n, k: n, transposeB: true)
    for i in 0..<n {
      for j in (i + 1)..<n {
        let mean = (a[i * n + j] + a[j * n + i]) / 2
        a[i * n + j] = mean
        a[j * n + i] = mean
      }
    }
    return (a, v)
  }

  /// Column j of a row-major n×n matrix.
  static func column(_ m: [Double], _ j: Int, n: Int) -> [Double] { (0..<n).map { m[$0 * n + j] } }

  /// LAPACK's eigenvalues, ascending.
  static func denseEigenvalues(_ a: [Double], n: Int) -> [Double] {
    try! Eigen.symmetric(a, n: n, vectors: false).values
  }

  /// ‖A‖₂ = max |λ|.
  static func norm(_ values: [Double]) -> Double { values.map(abs).max() ?? 0 }

  /// ‖Ay − θy‖ with the dense matrix.
  static func residual(_ a: [Double], n: Int, theta: Double, y: [Double]) -> Double {
    var r = BLAS.matmul(a, y, m: n, n: 1, k: n)
    BLAS.axpy(-theta, y, &r)
    return BLAS.nrm2(r)
  }

  /// An indefinite spectrum: a few positive outliers, a bulk in [−1, 1], and one
  /// negative eigenvalue larger in modulus than the top one by `negativeFactor`.
  static func indefiniteSpectrum(_ n: Int, seed: UInt64, negativeFactor: Double) -> [Double] {
    var rng = SeededGenerator(seed: seed)
    let top = 5 + 5 * rng.nextUniform()
    var d = [top, top * 0.8, top * 0.6, top * 0.45]
    while d.count < n - 1 { d.append(2 * rng.nextUniform() - 1) }
    d.append(-negativeFactor * top)
    return Array(d.prefix(n))
  }
}

/// A product counter that the @Sendable product closure can share.
final class ProductCounter: Sendable {
  private let count = Mutex(0)
  func tick() { count.withLock { $0 += 1 } }
  var value: Int { count.withLock { $0 } }

  /// The operator of the dense matrix `a`, counting each application.
  func counting(_ a: [Double], n: Int) -> SymmetricOperator {
    let inner = SymmetricOperator(matrix: a, n: n)
    return SymmetricOperator(dimension: n) { v in
      self.tick()
      return try inner.apply(v)
    }
  }
}
