import LinearAlgebra

/// A symmetric linear operator on ℝⁿ known only through its action v ↦ Av (a
/// Hessian-vector product, say). Curvature never imports what the operator
/// measures: it sees a dimension and a product.
public struct SymmetricOperator: Sendable {
  public let dimension: Int
  private let product: @Sendable ([Double]) throws -> [Double]

  /// - Parameter product: v ↦ Av; must be linear and symmetric (uᵀAv = vᵀAu).
  public init(dimension: Int, product: @escaping @Sendable ([Double]) throws -> [Double]) {
    precondition(dimension >= 0)
    self.dimension = dimension
    self.product = product
  }

  /// A dense symmetric matrix (row-major n×n) as an operator.
  public init(matrix a: [Double], n: Int) {
    precondition(a.count == n * n, "matrix has \(a.count) entries, expected \(n)×\(n)")
    self.init(dimension: n) { v in
      BLAS.matmul(a, v, m: n, n: 1, k: n)
    }
  }

  /// Av; throws what the product throws, or `CurvatureError` on a size mismatch or
  /// a non-finite result.
  public func apply(_ v: [Double]) throws -> [Double] {
    guard v.count == dimension else { throw CurvatureError.dimension(expected: dimension, got: v.count) }
    let w = try product(v)
    guard w.count == dimension else { throw CurvatureError.dimension(expected: dimension, got: w.count) }
    guard w.allSatisfy(\.isFinite) else { throw CurvatureError.nonFinite("the operator returned a non-finite value") }
    return w
  }

  /// D^{-1/2} A D^{-1/2} for a positive diagonal D: its eigenvalues are those of
  /// D⁻¹A (the preconditioned sharpness λ₁(P⁻¹H) when D = P).
  public func preconditioned(by d: [Double]) throws -> SymmetricOperator {
    guard d.count == dimension else { throw CurvatureError.dimension(expected: dimension, got: d.count) }
    guard d.allSatisfy({ $0 > 0 && $0.isFinite }) else {
      throw CurvatureError.invalid("the diagonal preconditioner must be positive and finite")
    }
    let s = d.map { 1 / $0.squareRoot() }
    let inner = self
    return SymmetricOperator(dimension: dimension) { v in
      var u = v
      for i in 0..<u.count { u[i] *= s[i] }
      var w = try inner.apply(u)
      for i in 0..<w.count { w[i] *= s[i] }
      return w
    }
  }

  /// The dense matrix [A e₁, …, A eₙ] (row-major), for small operators.
  /// - Complexity: n products.
  public func materialized() throws -> [Double] {
    let n = dimension
    var a = [Double](repeating: 0, count: n * n)
    var e = [Double](repeating: 0, count: n)
    for j in 0..<n {
      e[j] = 1
      let col = try apply(e)
      e[j] = 0
      for i in 0..<n { a[i * n + j] = col[i] }
    }
    return a
  }

  /// Largest |uᵀAv − vᵀAu| / (‖A‖-scale) over a few seeded random pairs: a check
  /// that the operator is symmetric (curvlinops' construction check).
  public func asymmetry(samples: Int = 3, seed: UInt64 = 0) throws -> Double {
    var rng = SeededGenerator(seed: seed)
    var worst = 0.0
    for _ in 0..<samples {
      let u = (0..<dimension).map { _ in rng.nextNormal() }
      let v = (0..<dimension).map { _ in rng.nextNormal() }
      let au = try apply(u), av = try apply(v)
      let a = BLAS.dot(u, av), b = BLAS.dot(v, au)
      let scale = max(BLAS.nrm2(u) * BLAS.nrm2(av), BLAS.nrm2(v) * BLAS.nrm2(au), .leastNormalMagnitude)
      worst = max(worst, abs(a - b) / scale)
    }
    return worst
  }
}

public enum CurvatureError: Error, CustomStringConvertible, Equatable {
  case dimension(expected: Int, got: Int)
  case nonFinite(String)
  case invalid(String)

  public var description: String {
    switch self {
    case let .dimension(e, g): "vector of size \(g) given to an operator of dimension \(e)"
    case let .nonFinite(m): m
    case let .invalid(m): m
    }
  }
}
