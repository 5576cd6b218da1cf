import Foundation
import LinearAlgebra
import NeuralEngine
import Curvature

/// A round-off-level error as a bound (its exact digits depend on the BLAS kernel).
func errorBound(_ e: Double) -> String {
  guard e.isFinite else { return "\(e)" }
  for k in stride(from: -16, through: -3, by: 1) where e < pow(10, Double(k)) { return "< 1e-\(-k)" }
  return String(format: "%.2e", e)
}

extension Verify {
  /// Layer 3 on real data: the exact gradient and Hessian-vector product of a small
  /// network on Fashion-MNIST, against finite differences and symmetry, and the
  /// sharpness by Lanczos against power iteration.
  public static func engineChecks() -> [Check] {
    var checks: [Check] = []
    do {
      let (train, _) = try FashionMNIST.load(n: 256, as: Double.self)
      let model = try MLP.make(widths: [784, 32, 32, 10], activation: .tanh)
      let objective = try Objective(model: model, data: train, loss: .mse)
      let theta: [Double] = model.initialParameters(seed: 0)
      var rng = SeededGenerator(seed: 1)
      // unit directions, so the finite-difference steps are h in parameter space
      var v = (0..<theta.count).map { _ in rng.nextNormal() }
      var u = (0..<theta.count).map { _ in rng.nextNormal() }
      BLAS.scal(1 / BLAS.nrm2(v), &v)
      BLAS.scal(1 / BLAS.nrm2(u), &u)
      let (loss, _, g) = try objective.lossAndGradient(parameters: theta)

      // directional derivative of the loss: central difference, error O(h²)
      let h = 1e-5
      let lp = try objective.evaluate(parameters: zip(theta, v).map { $0 + h * $1 }).loss
      let lm = try objective.evaluate(parameters: zip(theta, v).map { $0 - h * $1 }).loss
      let fd = (lp - lm) / (2 * h)
      let exact = BLAS.dot(g, v)
      let relG = abs(fd - exact) / max(abs(exact), 1e-12)
      checks.append(Check(layer: "engine", name: "gradient · v vs central difference of the loss (Fashion-MNIST n = 256, MLP 784-32-32-10 tanh, float64)",
                          expected: "relative error < 1e-6", measured: errorBound(relG), passed: relG < 1e-6))

      // Hv against the central difference of gradients
      let hv = try objective.hessianVectorProduct(parameters: theta, vector: v)
      let gp = try objective.lossAndGradient(parameters: zip(theta, v).map { $0 + 1e-4 * $1 }).gradient
      let gm = try objective.lossAndGradient(parameters: zip(theta, v).map { $0 - 1e-4 * $1 }).gradient
      let fdHv = zip(gp, gm).map { ($0 - $1) / 2e-4 }
      let relH = BLAS.nrm2(zip(hv, fdHv).map { $0 - $1 }) / BLAS.nrm2(hv)
      checks.append(Check(layer: "engine", name: "exact Hessian-vector product vs central difference of gradients",
                          expected: "relative error < 1e-6", measured: errorBound(relH), passed: relH < 1e-6))

      // symmetry
      let hu = try objective.hessianVectorProduct(parameters: theta, vector: u)
      let a = BLAS.dot(u, hv), b = BLAS.dot(v, hu)
      let relS = abs(a - b) / max(abs(a), abs(b))
      checks.append(Check(layer: "engine", name: "uᵀHv = vᵀHu", expected: "relative difference < 1e-10",
                          measured: errorBound(max(relS, 1e-15)), passed: relS < 1e-10))

      // sharpness: Lanczos vs power iteration
      let op = SymmetricOperator(dimension: theta.count) { try objective.hessianVectorProduct(parameters: theta, vector: $0) }
      let lanczos = try Lanczos(maxIterations: 40, tolerance: 1e-10).top(1, of: op).values[0]
      let power = try Lanczos.powerIteration(op, iterations: 300)
      let relL = abs(lanczos - power) / abs(lanczos)
      checks.append(Check(layer: "engine", name: "sharpness λ₁(H) at initialisation: Lanczos vs power iteration (loss \(String(format: "%.4f", loss)))",
                          expected: String(format: "%.6g", lanczos), measured: String(format: "%.6g", power), passed: relL < 1e-4))
    } catch {
      checks.append(Check(layer: "engine", name: "neural engine on Fashion-MNIST", expected: "runs", measured: "error: \(error)", passed: false))
    }
    return checks
  }
}
