import Curvature
import LinearAlgebra
import NeuralEngine

/// Measures the curvature of a training objective at an iterate: λ₁(H) (with the
/// top-k and, on request, λ_min) and, for a preconditioned method, λ₁(P^{-1/2}HP^{-1/2})
/// with the P its step applies — by Lanczos in float64 on exact Hessian-vector
/// products (in the run's precision), warm-started from the previous measurement's
/// eigenvectors.
struct CurvatureProbe<T: BLASScalar> {
  let objective: Objective<T>
  let k: Int
  let lambdaMin: Bool
  let tolerance: Double
  let maxIterations: Int
  let seed: UInt64
  /// The previous measurement's eigenvectors, by operator: "sharpness",
  /// "preconditioned", "lambda_min". Part of the checkpoint.
  var warmStart: [String: [[Double]]] = [:]
  /// Whether two applications of the Hessian operator have been seen to agree.
  private(set) var determinismChecked = false

  init(objective: Objective<T>, k: Int, lambdaMin: Bool, tolerance: Double, maxIterations: Int, seed: UInt64) {
    self.objective = objective
    self.k = k
    self.lambdaMin = lambdaMin
    self.tolerance = tolerance
    self.maxIterations = maxIterations
    self.seed = seed
  }

  struct Measurement {
    var sharpness: Double
    var sharpnessResidual: Double
    var preconditioned: Double?
    var preconditionedResidual: Double?
    /// Top-k of the governing operator, descending.
    var topK: [Double]
    /// The governing operator's top-k eigenvectors (in its own coordinates).
    var governingVectors: [[Double]]
    var lambdaMin: Double?
    var products: Int
  }

  /// The Hessian of the objective at `x` as a float64 operator (products in T).
  func hessian(at x: [T]) -> SymmetricOperator {
    let objective = self.objective
    return SymmetricOperator(dimension: x.count) { v in
      if T.self == Double.self, let vd = v as? [T] {
        return try objective.hessianVectorProduct(parameters: x, vector: vd).map { Double($0) }
      }
      return try objective.hessianVectorProduct(parameters: x, vector: v.map { T($0) }).map { Double($0) }
    }
  }

  /// Measures at `x`; `preconditioner` is the P of this step for a preconditioned
  /// method. `step` seeds the cold start vectors (so a resumed run draws the same).
  mutating func measure(at x: [T], preconditioner: [T]?, step: Int) throws -> Measurement {
    let h = hessian(at: x)
    var products = 0
    if !determinismChecked {
      // Two applications at one vector must agree before a measurement is trusted:
      // the engine's sums run in a fixed order, so they agree bitwise. Once per
      // process (its two products are not counted in `hvps`, so that a resumed run
      // records the same numbers as an uninterrupted one).
      var rng = SeededGenerator(seed: seed &+ 0x5EED)
      let v = (0..<h.dimension).map { _ in rng.nextNormal() }
      let a = try h.apply(v), b = try h.apply(v)
      guard a == b else {
        throw TrainingError("two Hessian-vector products at the same point and direction differ; the measurement cannot be trusted")
      }
      determinismChecked = true
    }
    let governingK = preconditioner == nil ? k : 1
    let raw = try top(governingK, of: h, key: "sharpness", step: step)
    products += raw.iterations
    var m = Measurement(
      sharpness: raw.values[0], sharpnessResidual: raw.residuals[0], preconditioned: nil, preconditionedResidual: nil, topK: raw.values,
      governingVectors: raw.vectors ?? [], lambdaMin: nil, products: products)
    if let p = preconditioner {
      let op = try h.preconditioned(by: p.map { Double($0) })
      let pre = try top(k, of: op, key: "preconditioned", step: step)
      m.products += pre.iterations
      m.preconditioned = pre.values[0]
      m.preconditionedResidual = pre.residuals[0]
      m.topK = pre.values
      m.governingVectors = pre.vectors ?? []
    }
    if lambdaMin {
      let low = try bottom(of: h, step: step)
      m.products += low.iterations
      m.lambdaMin = low.values[0]
    }
    return m
  }

  /// λ_min of `op` (values[0]), warm-started under "lambda_min".
  mutating func bottom(of op: SymmetricOperator, step: Int) throws -> Lanczos.Result {
    let negative = SymmetricOperator(dimension: op.dimension) { v in try op.apply(v).map { -$0 } }
    var r = try top(1, of: negative, key: "lambda_min", step: step)
    r.values = r.values.map { -$0 }
    return r
  }

  /// The top `count` eigenpairs of `op`, warm-started from (and stored under) `key`.
  mutating func top(_ count: Int, of op: SymmetricOperator, key: String, step: Int) throws -> Lanczos.Result {
    let start = warmStart[key]?.first
    let r = try Lanczos(maxIterations: max(maxIterations, count), tolerance: tolerance)
      .top(count, of: op, start: start, seed: seed &+ UInt64(truncatingIfNeeded: step), vectors: true)
    warmStart[key] = r.vectors
    return r
  }
}
