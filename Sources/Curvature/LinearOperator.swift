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

  /// Applies the operator twice to one seeded random vector v ~ N(0, I) and throws
  /// `CurvatureError.nondeterministic` unless the two results agree:
  /// ‖Av − A′v‖∞ ≤ tolerance · ‖Av‖∞. A measurement is trusted only if two
  /// applications agree: Lanczos assumes one fixed matrix, and an operator that
  /// drifts between calls (a data loader that reshuffles, dropout left on, a
  /// forward pass cached at other parameters) yields Ritz values of no matrix.
  ///
  /// The default tolerance 0 asks for equal results (entry by entry, `==`), right
  /// for a float64 product or any product whose reductions run in a fixed order. A
  /// float32 Hessian-vector product through threaded BLAS may sum in a different
  /// order from one call to the next; it then needs a tolerance of a few float32
  /// ulps of the largest entry, e.g. 1e-6.
  /// - Returns: the relative difference found, ‖Av − A′v‖∞ / ‖Av‖∞ (0 when Av = 0).
  /// - Complexity: 2 products.
  @discardableResult
  public func checkDeterministic(seed: UInt64 = 0, tolerance: Double = 0) throws -> Double {
    guard tolerance >= 0, tolerance.isFinite else {
      throw CurvatureError.invalid("the determinism tolerance must be finite and ≥ 0, got \(tolerance)")
    }
    var rng = SeededGenerator(seed: seed)
    let v = (0..<dimension).map { _ in rng.nextNormal() }
    let first = try apply(v), second = try apply(v)
    var worst = 0.0, at = 0, size = 0.0
    for i in 0..<dimension {
      size = max(size, abs(first[i]))
      let d = abs(first[i] - second[i])
      if d > worst { (worst, at) = (d, i) }
    }
    let relative = size > 0 ? worst / size : worst
    guard worst <= tolerance * size else {
      throw CurvatureError.nondeterministic(
        "the operator is not deterministic: two applications to the same vector differ by \(worst) at entry \(at) "
          + "(\(first[at]) then \(second[at])), \(relative) of the largest entry \(size); tolerance \(tolerance)")
    }
    return relative
  }
}

public enum CurvatureError: Error, CustomStringConvertible, Equatable {
  case dimension(expected: Int, got: Int)
  case nonFinite(String)
  case invalid(String)
  /// Two applications of an operator to the same vector differed (`checkDeterministic`).
  case nondeterministic(String)

  public var description: String {
    switch self {
    case let .dimension(e, g): "vector of size \(g) given to an operator of dimension \(e)"
    case let .nonFinite(m): m
    case let .invalid(m): m
    case let .nondeterministic(m): m
    }
  }
}
