import Experiments
import Foundation

/// The tracked-run benchmark of `aeos bench` (`tracked_run_s`): the workload of
/// `aeos train --optimizer gd --lr 0.04 --steps 1000 --track-every 10 --test-n 0` —
/// full batch, Fashion-MNIST n = 1000, MLP 784-200-200-10 tanh, MSE, float32, the
/// sharpness measured every 10 steps by warm-started Lanczos — end to end (data
/// loading included), records in memory. Its JAX counterpart, with a cold 20-step
/// Lanczos per measurement, is benchmarks/jax_tracked_run.py.
public enum TrackedRunBench {
  public struct Report: Sendable {
    public var seconds: Double
    /// Mean Hessian-vector products per measurement: cold starts (every 10th) and warm ones.
    public var hvpsCold: Double
    public var hvpsWarm: Double
    /// Median of residual / λ₁ over the measurements.
    public var relativeResidual: Double
    /// The run's edge verdict and plateau (a sanity check that it is the EoS workload).
    public var edge: String
  }

  public static func configuration(steps: Int = 1000) -> TrainConfig {
    var c = TrainConfig(method: MethodSpec(optimizer: "gd", hyperparameters: Hyperparameters(lr: 0.04)))
    c.data = DataSpec(source: .fashionMNIST, n: 1000, testN: 0)
    c.steps = steps
    c.trackEvery = 10
    return c
  }

  public static func run(steps: Int = 1000) throws -> Report {
    let c = configuration(steps: steps)
    let start = DispatchTime.now().uptimeNanoseconds
    let trainer = try Trainer<Float>(config: c, folder: nil)
    let summary = try trainer.run()
    let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    let tracked = trainer.records.compactMap(\.curvature)
    var cold: [Double] = [], warm: [Double] = []
    for (i, m) in tracked.enumerated() { (i % 10 == 0 ? { cold.append(Double(m.hvps)) } : { warm.append(Double(m.hvps)) })() }
    func mean(_ xs: [Double]) -> Double { xs.isEmpty ? .nan : xs.reduce(0, +) / Double(xs.count) }
    let residuals = tracked.compactMap { m in m.residual.flatMap { r in m.sharpness.map { r / abs($0) } } }
    blackHole(trainer.parameters)
    return Report(
      seconds: seconds, hvpsCold: mean(cold), hvpsWarm: mean(warm), relativeResidual: median(residuals),
      edge: summary.analysis.summary)
  }
}
