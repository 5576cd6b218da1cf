import LinearAlgebra

/// The curvature measurement a training loop makes every few steps: the top-k
/// eigenpairs of a symmetric operator (a Hessian, or a preconditioned one,
/// `SymmetricOperator.preconditioned(by:)`), and optionally λ_min, at the fewest
/// operator products.
///
/// Small operators (`dimension` ≤ `denseLimit`) are materialised (n products) and
/// decomposed by LAPACK (`Eigen.symmetric`): exact to round-off, every
/// multiplicity resolved. Larger ones go to one Lanczos run (`Lanczos.extremes`)
/// that serves both ends at once, warm-started from the previous measurement's
/// vectors (`Spectrum.warmStart`).
///
/// ```swift
/// var probe = SpectrumProbe(k: 3, smallest: true)
/// var last: Spectrum? = nil
/// // every 10 steps:
/// let s = try probe.measure(hessian, warmStart: last?.warmStart ?? [], seed: UInt64(step))
/// last = s   // s.values[0] is the sharpness, s.products the HVPs it cost
/// ```
public struct SpectrumProbe: Sendable, Equatable {
  /// How many of the largest eigenvalues (≥ 1).
  public var k: Int
  /// Whether to measure λ_min as well (in the same Lanczos run).
  public var smallest: Bool
  /// Relative residual: Lanczos stops when every wanted pair has
  /// ‖Ay − θy‖ ≤ tolerance·‖T‖₂ (see `Lanczos.tolerance`). Default 1e-4: the
  /// residual bounds each value's error by 1e-4·‖A‖ even with no spectral gap
  /// (and by residual²/gap, 1e-7·‖A‖ for a gap of 10 % of ‖A‖), ten times finer
  /// than the 1e-3 at which a sharpness is compared with its threshold (onset at
  /// ratio 0.95, verdict bands at 0.85 and 1.2); and it stays well above the noise
  /// floor of a float32 Hessian-vector product (float32 ε ≈ 1.2e-7, grown through
  /// the layers: ~1e-6·‖A‖), under which no residual can fall, so a float32 run
  /// still stops.
  public var tolerance: Double
  /// Most products of one Lanczos run. Default 100: the JAX reference run takes 20
  /// cold iterations for λ₁ alone; 100 leaves room for k > 1 and for λ_min (slower:
  /// it sits at the edge of the bulk) while bounding a measurement at 100 products
  /// (≈ 1 s at 10 ms per HVP) and the Krylov basis at 100·n doubles (160 MB at
  /// n = 2·10⁵).
  public var maxIterations: Int
  /// Operators of dimension ≤ this are measured densely. Default 64: an operator
  /// that small is a quadratic or a toy network whose products cost microseconds,
  /// so exactness is worth more than products there. n products and a LAPACK call
  /// (microseconds at 64) give every eigenvalue with its multiplicity, where
  /// Lanczos at the default tolerance spends fewer products (measured at n = 64,
  /// top 1–3 and λ_min: 15 with outliers, 25–34 on a Gaussian matrix) but can merge
  /// eigenvalues closer than the tolerance or repeated exactly. Much beyond 64 the
  /// n products, and the n² matrix, are no longer small.
  public var denseLimit: Int
  /// When set, every measurement first checks that two applications of the operator
  /// agree to this relative tolerance (`SymmetricOperator.checkDeterministic`,
  /// 2 products, counted in `Spectrum.products`). Default nil: no check here; a
  /// caller that checks the operator once per run pays those 2 products once.
  public var determinismTolerance: Double?

  public init(
    k: Int = 1, smallest: Bool = false, tolerance: Double = 1e-4, maxIterations: Int = 100, denseLimit: Int = 64,
    determinismTolerance: Double? = nil
  ) {
    self.k = k
    self.smallest = smallest
    self.tolerance = tolerance
    self.maxIterations = maxIterations
    self.denseLimit = denseLimit
    self.determinismTolerance = determinismTolerance
  }

  /// Measures `op`.
  /// - Parameters:
  ///   - warmStart: the previous measurement's vectors (`Spectrum.warmStart`);
  ///     unusable ones (wrong length, zero, non-finite) are ignored. Not used by the
  ///     dense path. A warm start can settle on a stale eigenvalue when a new top
  ///     eigenvector is orthogonal to every warm vector (measured limits in
  ///     `Lanczos.top(_:of:warmStart:…)`); a cold measurement (`[]`) now and then
  ///     bounds how long that can last.
  ///   - seed: seeds the random part of the start, the restarts and the
  ///     determinism check.
  /// - Throws: `CurvatureError.invalid` for a bad setting, what the operator
  ///   throws, `CurvatureError.nondeterministic` from the determinism check, or
  ///   LAPACK's failure.
  public func measure(_ op: SymmetricOperator, warmStart: [[Double]] = [], seed: UInt64 = 0) throws -> Spectrum {
    guard k >= 1 else { throw CurvatureError.invalid("the probe needs k ≥ 1, got \(k)") }
    guard tolerance >= 0, tolerance.isFinite else {
      throw CurvatureError.invalid("the probe's tolerance must be finite and ≥ 0, got \(tolerance)")
    }
    guard maxIterations >= 1 else { throw CurvatureError.invalid("the probe needs maxIterations ≥ 1, got \(maxIterations)") }
    var checked = 0
    if let determinismTolerance {
      try op.checkDeterministic(seed: seed, tolerance: determinismTolerance)
      checked = 2
    }
    var spectrum = op.dimension <= denseLimit ? try dense(op) : try lanczos(op, warmStart: warmStart, seed: seed)
    spectrum.products += checked
    return spectrum
  }

  func lanczos(_ op: SymmetricOperator, warmStart: [[Double]], seed: UInt64) throws -> Spectrum {
    let r = try Lanczos(maxIterations: maxIterations, tolerance: tolerance)
      .extremes(top: k, bottom: smallest ? 1 : 0, of: op, warmStart: warmStart, seed: seed, vectors: true)
    return Spectrum(
      values: r.top.values, vectors: r.top.vectors ?? [], residuals: r.top.residuals,
      lambdaMin: r.bottom.values.first, lambdaMinResidual: r.bottom.residuals.first,
      lambdaMinVector: r.bottom.vectors?.first, products: r.products, method: "lanczos", converged: r.converged)
  }

  /// A = [Ae₁ … Aeₙ], symmetrised as (A + Aᵀ)/2 (a float32 product is symmetric
  /// only to round-off; LAPACK would read one triangle), then `Eigen.symmetric`.
  /// Residuals ‖Ay − θy‖ are computed with that matrix.
  func dense(_ op: SymmetricOperator) throws -> Spectrum {
    let n = op.dimension
    var a = try op.materialized()
    for i in 0..<n {
      for j in (i + 1)..<n {
        let mean = (a[i * n + j] + a[j * n + i]) / 2
        a[i * n + j] = mean
        a[j * n + i] = mean
      }
    }
    let e = try Eigen.symmetric(a, n: n, vectors: true)
    let v = e.vectors ?? []
    func pair(_ column: Int) -> (value: Double, vector: [Double], residual: Double) {
      let theta = e.values[column]
      let y = (0..<n).map { v[$0 * n + column] }
      var r = BLAS.matmul(a, y, m: n, n: 1, k: n)
      BLAS.axpy(-theta, y, &r)
      return (theta, y, BLAS.nrm2(r))
    }
    let top = (0..<min(k, n)).map { pair(n - 1 - $0) }
    let bottom = smallest && n > 0 ? pair(0) : nil
    return Spectrum(
      values: top.map(\.value), vectors: top.map(\.vector), residuals: top.map(\.residual),
      lambdaMin: bottom?.value, lambdaMinResidual: bottom?.residual, lambdaMinVector: bottom?.vector,
      products: n, method: "dense", converged: true)
  }
}

/// One measurement of a spectrum (`SpectrumProbe.measure`).
public struct Spectrum: Sendable, Equatable {
  /// The top-k eigenvalues (Ritz values), descending; fewer when the dimension is
  /// below k.
  public var values: [Double]
  /// Unit-norm (Ritz) eigenvectors, in the order of `values`.
  public var vectors: [[Double]]
  /// ‖Ay − θy‖ of each pair.
  public var residuals: [Double]
  /// λ_min, when asked for (`SpectrumProbe.smallest`).
  public var lambdaMin: Double?
  public var lambdaMinResidual: Double?
  /// The unit vector of λ_min, when asked for.
  public var lambdaMinVector: [Double]?
  /// Operator applications this measurement cost, all of them (the determinism
  /// check included).
  public var products: Int
  /// "lanczos" or "dense".
  public var method: String
  /// Whether every wanted pair met the tolerance (always for "dense"); false when
  /// Lanczos stopped at `maxIterations`.
  public var converged: Bool

  public init(
    values: [Double], vectors: [[Double]], residuals: [Double], lambdaMin: Double? = nil, lambdaMinResidual: Double? = nil,
    lambdaMinVector: [Double]? = nil, products: Int, method: String, converged: Bool
  ) {
    self.values = values
    self.vectors = vectors
    self.residuals = residuals
    self.lambdaMin = lambdaMin
    self.lambdaMinResidual = lambdaMinResidual
    self.lambdaMinVector = lambdaMinVector
    self.products = products
    self.method = method
    self.converged = converged
  }

  /// The vectors to warm-start the next measurement with: the top-k vectors and,
  /// when measured, λ_min's.
  public var warmStart: [[Double]] { vectors + (lambdaMinVector.map { [$0] } ?? []) }
}
