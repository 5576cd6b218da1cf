import LinearAlgebra

/// Extreme eigenpairs of a symmetric operator by the Lanczos method with full
/// reorthogonalisation (numerically the Krylov–Rayleigh–Ritz method): after m
/// products, the eigenvalues of the tridiagonal Tₘ approximate the extreme
/// eigenvalues of A, the largest converging first.
public struct Lanczos: Sendable {
  public struct Result: Sendable {
    /// Ritz values, descending.
    public var values: [Double]
    /// Ritz vectors (unit norm), in the order of `values`, if requested.
    public var vectors: [[Double]]?
    /// Residual bounds |β_m · s_{m,i}| = ‖A y_i − θ_i y_i‖ for each Ritz pair.
    public var residuals: [Double]
    /// Products used.
    public var iterations: Int
  }

  public var maxIterations: Int
  /// Stop when the residual of every wanted Ritz pair is below tol · |θ₁|.
  public var tolerance: Double

  public init(maxIterations: Int = 20, tolerance: Double = 1e-8) {
    self.maxIterations = maxIterations
    self.tolerance = tolerance
  }

  /// The `k` largest (algebraic) eigenvalues of `op`.
  /// - Parameters:
  ///   - start: a warm-start vector (e.g. the previous top eigenvector); seeded random otherwise.
  /// - Complexity: at most `maxIterations` products and O(n·m²) work for reorthogonalisation.
  public func top(_ k: Int, of op: SymmetricOperator, start: [Double]? = nil, seed: UInt64 = 0, vectors: Bool = false) throws -> Result {
    let n = op.dimension
    guard n > 0 else { return Result(values: [], vectors: vectors ? [] : nil, residuals: [], iterations: 0) }
    guard k >= 1 else { throw CurvatureError.invalid("top-k needs k ≥ 1, got \(k)") }
    let m = min(max(maxIterations, k), n)
    var q: [Double]
    if let start, start.count == n, BLAS.nrm2(start) > 0, start.allSatisfy(\.isFinite) {
      q = start
    } else {
      var rng = SeededGenerator(seed: seed)
      q = (0..<n).map { _ in rng.nextNormal() }
    }
    BLAS.scal(1 / BLAS.nrm2(q), &q)
    var basis: [[Double]] = [q]
    var alpha: [Double] = []
    var beta: [Double] = []
    var last = Result(values: [], vectors: nil, residuals: [], iterations: 0)
    for j in 0..<m {
      var w = try op.apply(basis[j])
      let a = BLAS.dot(w, basis[j])
      alpha.append(a)
      // full reorthogonalisation (twice is enough)
      for _ in 0..<2 {
        for b in basis { BLAS.axpy(-BLAS.dot(w, b), b, &w) }
      }
      let bnorm = BLAS.nrm2(w)
      let ritz = try Eigen.symmetricTridiagonal(diagonal: alpha, offDiagonal: beta, vectors: true)
      let size = alpha.count
      let wanted = min(k, size)
      var values: [Double] = []
      var residuals: [Double] = []
      var coefficients: [[Double]] = []
      for idx in 0..<wanted {
        let col = size - 1 - idx  // ascending order from LAPACK
        values.append(ritz.values[col])
        let s = (0..<size).map { ritz.vectors![$0 * size + col] }
        coefficients.append(s)
        residuals.append(abs(bnorm * s[size - 1]))
      }
      last = Result(values: values, vectors: nil, residuals: residuals, iterations: j + 1)
      let scale = max(abs(values.first ?? 0), .leastNormalMagnitude)
      let converged = wanted == k && residuals.allSatisfy { $0 <= tolerance * scale }
      let invariant = bnorm <= 1e-14 * scale
      if converged || invariant || j == m - 1 {
        if vectors {
          last.vectors = coefficients.map { s in
            var y = [Double](repeating: 0, count: n)
            for (i, b) in basis.enumerated() { BLAS.axpy(s[i], b, &y) }
            let norm = BLAS.nrm2(y)
            if norm > 0 { BLAS.scal(1 / norm, &y) }
            return y
          }
        }
        return last
      }
      beta.append(bnorm)
      BLAS.scal(1 / bnorm, &w)
      basis.append(w)
    }
    return last
  }

  /// The largest eigenvalue by power iteration (for operators whose top eigenvalue
  /// dominates in modulus, e.g. PSD). Lanczos converges faster; this is a check.
  public static func powerIteration(_ op: SymmetricOperator, iterations: Int = 200, seed: UInt64 = 0) throws -> Double {
    var rng = SeededGenerator(seed: seed)
    var v = (0..<op.dimension).map { _ in rng.nextNormal() }
    BLAS.scal(1 / BLAS.nrm2(v), &v)
    var lambda = 0.0
    for _ in 0..<iterations {
      var w = try op.apply(v)
      lambda = BLAS.dot(v, w)
      let norm = BLAS.nrm2(w)
      guard norm > 0 else { return 0 }
      BLAS.scal(1 / norm, &w)
      v = w
    }
    return lambda
  }
}
