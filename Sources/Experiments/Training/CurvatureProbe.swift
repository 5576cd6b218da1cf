import Curvature
import LinearAlgebra
import NeuralEngine

/// Measures the curvature of a training objective at an iterate: λ₁(H) (with the
/// top-k and, on request, λ_min) and, for a preconditioned method, λ₁(P^{-1/2}HP^{-1/2})
/// with the P its step applies — by Lanczos in float64 on exact Hessian-vector
/// products (in the run's precision; `Curvature.SpectrumProbe`), warm-started from
/// the previous measurement's eigenvectors.
///
/// Every `coldEvery`-th measurement starts cold instead: a warm start can settle on a
/// stale eigenvalue when a new top eigenvector is (nearly) orthogonal to every warm
/// vector, and a cold start now and then bounds how long that can last.
struct CurvatureProbe<T: BLASScalar> {
  let objective: Objective<T>
  let k: Int
  let lambdaMin: Bool
  let tolerance: Double
  let maxIterations: Int
  let seed: UInt64
  /// One measurement in this many starts cold.
  let coldEvery = 10
  /// The previous measurement's vectors, by operator: "sharpness" (H's top-k, then
  /// λ_min's), "preconditioned". Part of the checkpoint.
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
    /// H's spectrum (top-k when there is no P, else top-1; λ_min when asked).
    var hessian: Spectrum
    /// P^{-1/2}HP^{-1/2}'s top-k, for a preconditioned method.
    var preconditioned: Spectrum?
    /// Operator products of this measurement.
    var products: Int { hessian.products + (preconditioned?.products ?? 0) }
    /// The governing spectrum: the preconditioned one where there is a P.
    var governing: Spectrum { preconditioned ?? hessian }
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
  /// method. `measurement` (0, 1, 2, … in the run) seeds the random start vectors and
  /// picks the cold starts, so a resumed run measures as an uninterrupted one.
  mutating func measure(at x: [T], preconditioner: [T]?, measurement index: Int) throws -> Measurement {
    let h = hessian(at: x)
    if !determinismChecked {
      // Two applications at one vector must agree before a measurement is trusted:
      // the engine's sums run in a fixed order, so they agree bitwise. Once per
      // process; its two products are not counted in `hvps`, so that a resumed run
      // records the same numbers as an uninterrupted one.
      do { try h.checkDeterministic(seed: seed) } catch {
        throw TrainingError("two Hessian-vector products at the same point and direction differ: \(error); the measurement cannot be trusted")
      }
      determinismChecked = true
    }
    let cold = index % coldEvery == 0
    let seed = self.seed &+ UInt64(truncatingIfNeeded: index) &* 0x9E37_79B9
    let raw = SpectrumProbe(k: preconditioner == nil ? k : 1, smallest: lambdaMin, tolerance: tolerance, maxIterations: maxIterations)
    let hs = try raw.measure(h, warmStart: cold ? [] : warmStart["sharpness"] ?? [], seed: seed)
    warmStart["sharpness"] = hs.warmStart
    var m = Measurement(hessian: hs, preconditioned: nil)
    if let p = preconditioner {
      let op = try h.preconditioned(by: p.map { Double($0) })
      let probe = SpectrumProbe(k: k, smallest: false, tolerance: tolerance, maxIterations: maxIterations)
      let ps = try probe.measure(op, warmStart: cold ? [] : warmStart["preconditioned"] ?? [], seed: seed &+ 1)
      warmStart["preconditioned"] = ps.warmStart
      m.preconditioned = ps
    }
    return m
  }
}
