import Experiments
import Foundation
import LinearAlgebra

/// The quadratic-laboratory benchmark of `aeos bench` (`quadratic_adam_1e6_ms`):
/// Adam for 1000 steps on a 10⁶-dimensional diagonal quadratic, against the same
/// loop in vectorised NumPy (benchmarks/adam_numpy.py), in float64 on both sides.
///
/// The workload: f(x) = ½Σ aᵢxᵢ² with aᵢ = 1 + i/n, x₀ = 1, m₀ = ν₀ = 0; each step
/// computes g = a∘x and applies Adam (β₁ = 0.9, β₂ = 0.999, ε = 1e-7, no bias
/// correction, η = 1e-3) through `Optimizer.step`, the code that trains networks.
public enum SimulateBench {
  public static let dimension = 1_000_000
  public static let steps = 1000

  /// Runs the workload once; returns the final x (so nothing is optimised away).
  public static func runQuadraticAdam(dimension n: Int = dimension, steps: Int = steps) throws -> [Double] {
    let optimizer = try Optimizer(.adam, Hyperparameters(lr: 1e-3), parameterCount: n)
    var state = try optimizer.initialState(as: Double.self)
    let a = (0..<n).map { 1 + Double($0) / Double(n) }
    var x = [Double](repeating: 1, count: n)
    var g = [Double](repeating: 0, count: n)
    for _ in 0..<steps {
      a.withUnsafeBufferPointer { pa in
        x.withUnsafeBufferPointer { px in
          g.withUnsafeMutableBufferPointer { pg in diagonalGradient(pa, px, pg) }
        }
      }
      optimizer.step(parameters: &x, gradient: g, state: &state)
    }
    return x
  }

  /// g = a∘x, split over the cores like the optimizer's fused loops (disjoint chunks).
  static func diagonalGradient(_ a: UnsafeBufferPointer<Double>, _ x: UnsafeBufferPointer<Double>, _ g: UnsafeMutableBufferPointer<Double>) {
    let n = g.count
    Parallel.forEachChunk(n, chunks: min(Parallel.coreCount, n >> 16)) { range in
      for i in range { g[i] = a[i] * x[i] }
    }
  }

  /// Median milliseconds of the whole 1000-step loop (set-up included, as in the
  /// NumPy script), after a 50-step warm-up.
  public static func quadraticAdamMilliseconds(repeats: Int = 3) throws -> Double {
    blackHole(try runQuadraticAdam(steps: 50))
    return try Timing.medianMilliseconds(repeats: repeats, warmups: 0) { blackHole(try runQuadraticAdam()) }
  }

  /// Runs benchmarks/adam_numpy.py (the same loop in NumPy) if python3 with NumPy
  /// is available; its median milliseconds, or nil.
  public static func numpyQuadraticAdamMilliseconds(script: String = "benchmarks/adam_numpy.py", repeats: Int = 3) -> Double? {
    PythonReference.milliseconds(script: script, arguments: ["--json", "--repeats", String(max(1, repeats))], key: "quadratic_adam_1e6_ms")
  }
}
