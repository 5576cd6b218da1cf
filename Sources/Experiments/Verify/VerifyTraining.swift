import Foundation

extension Verify {
  /// The sharpness trajectory of one full-batch training run: steps, loss and λ₁(H)
  /// (or λ₁(P⁻¹H)) measured every `every` steps.
  public struct SharpnessTrace: Sendable {
    public var steps: [Int] = []
    public var losses: [Double] = []
    public var sharpness: [Double] = []
  }

  /// One of `aeos verify`'s training runs: its trace, the threshold it is held
  /// against, and the verdicts.
  public struct TrainingRun: Sendable {
    public var optimizer: String
    public var lr: Double
    /// "λ₁(H)" or "λ₁(P⁻¹H)".
    public var symbol: String
    public var threshold: Double
    /// "2/η", "38/η".
    public var thresholdName: String
    public var trace: SharpnessTrace
    public var checks: [Check]

    /// One row per measurement: `step,loss,sharpness,threshold` (pandas.read_csv).
    public var csv: String {
      var lines = ["step,loss,sharpness,threshold"]
      for i in trace.steps.indices {
        lines.append("\(trace.steps[i]),\(trace.losses[i]),\(trace.sharpness[i]),\(threshold)")
      }
      return lines.joined(separator: "\n") + "\n"
    }

    /// The sharpness against the step, with the threshold as a rule (log y: the
    /// first measurement can sit far above, the early catapult).
    public var svg: String {
      var plot = LinePlot(
        title: "\(optimizer), η = \(formatHuman(lr)) on Fashion-MNIST (n = 1000): \(symbol) against \(thresholdName)", xLabel: "step",
        yLabel: symbol, logY: true)
      plot.series.append(.init(name: symbol, points: zip(trace.steps, trace.sharpness).map { (Double($0), $1) }))
      plot.horizontalRules.append((threshold, "\(thresholdName) = \(formatHuman(threshold))"))
      return plot.render()
    }
  }

  /// Two small real training runs held against the theory, full batch on
  /// Fashion-MNIST (n = 1000, MLP 784-32-32-10 tanh, MSE, float64) with the sharpness
  /// measured by Lanczos every 100 steps:
  ///
  /// - gradient descent (η = 0.08, 2000 steps): after an early drop the sharpness
  ///   λ₁(H) rises (progressive sharpening) to the threshold that `Dynamics` derives
  ///   for GD, 2/η, and then hovers there while the loss keeps falling,
  ///   non-monotonically: the Edge of Stability (Cohen et al. 2021);
  /// - Adam (η = 2e-3, β₁ = 0.9, 3000 steps): the *preconditioned* sharpness
  ///   λ₁(P⁻¹H), with P the diagonal that step applies, rises to Adam's frozen
  ///   threshold 38/η and hovers there: the Adaptive Edge of Stability (Cohen et al.
  ///   2022).
  ///
  /// Tolerances: the papers' sharpness "hovers just above" the threshold; every
  /// measurement over the tail of the run (GD: the second half; Adam, whose edge is
  /// noisier: the last third) must lie within ±10 % (GD) or ±15 % (Adam) of it, and
  /// their median within ±5 %. The trajectories are chaotic at the edge, so their
  /// exact digits depend on the BLAS kernels; these bands do not (measured with
  /// OpenBLAS's SkylakeX and Haswell kernels: GD 0.997–1.007×, Adam 0.95–1.07×).
  public static func trainingChecks() -> [Check] { trainingRuns().flatMap(\.checks) }

  /// The two runs behind `trainingChecks`, with their traces (`aeos verify --plots`).
  /// - Parameter thresholdScale: multiplies the threshold each run is held against
  ///   (1 in `aeos verify`; a test sets another to see the checks fail).
  public static func trainingRuns(thresholdScale: Double = 1) -> [TrainingRun] {
    [
      edgeOfStabilityRun(.gd, lr: 0.08, steps: 2000, tailFrom: 0.5, band: 0.10, thresholdScale: thresholdScale),
      edgeOfStabilityRun(.adam, lr: 2e-3, steps: 3000, tailFrom: 2.0 / 3.0, band: 0.15, thresholdScale: thresholdScale),
    ]
  }

  static func edgeOfStabilityRun(
    _ kind: OptimizerKind, lr: Double, steps: Int, tailFrom: Double, band: Double, every: Int = 100, thresholdScale: Double = 1
  ) -> TrainingRun {
    let symbol = kind.isPreconditioned ? "λ₁(P⁻¹H)" : "λ₁(H)"
    let name = kind == .gd ? "2/η" : kind == .adam ? "38/η" : "the threshold"
    var run = TrainingRun(
      optimizer: kind.rawValue, lr: lr, symbol: symbol, threshold: .nan, thresholdName: name, trace: SharpnessTrace(), checks: [])
    let setup = "\(kind.rawValue)(η = \(formatHuman(lr))) on Fashion-MNIST n = 1000, MLP 784-32-32-10 tanh, MSE, float64, \(steps) steps"
    do {
      // `aeos train`'s loop, its records kept in memory (no run folder).
      var config = TrainConfig(method: MethodSpec(optimizer: kind.rawValue, hyperparameters: Hyperparameters(lr: lr)))
      config.model = ModelSpec(kind: .fc, depth: 2, width: 32, activation: .tanh)
      config.data = DataSpec(source: .fashionMNIST, n: 1000, testN: 0)
      config.dtype = .float64
      config.steps = steps
      config.trackEvery = every
      let trainer = try Trainer<Double>(config: config, folder: nil)
      let summary = try trainer.run()
      guard summary.status == .completed else { throw TrainingError("the run \(summary.status.rawValue): \(summary.stopReason)") }
      run.threshold = summary.threshold * thresholdScale
      var trace = SharpnessTrace()
      for r in trainer.records {
        guard let c = r.curvature, let g = c.governing else { continue }
        trace.steps.append(r.step)
        trace.losses.append(r.loss)
        trace.sharpness.append(g)
      }
      run.trace = trace
      run.checks = edgeOfStabilityChecks(
        trace, threshold: run.threshold, setup: setup, symbol: symbol, thresholdName: name, tailFrom: tailFrom, band: band)
    } catch {
      run.checks = [Check(layer: "training", name: "edge of stability, \(setup)", expected: "runs", measured: "error: \(error)", passed: false)]
    }
    return run
  }

  static func edgeOfStabilityChecks(
    _ t: SharpnessTrace, threshold: Double, setup: String, symbol: String = "λ₁(H)", thresholdName: String = "2/η",
    tailFrom: Double = 0.5, band: Double = 0.10
  ) -> [Check] {
    func f(_ x: Double) -> String { x >= 1000 ? String(format: "%.0f", x) : String(format: "%.1f", x) }
    let start = min(max(Int((Double(t.steps.count - 1) * tailFrom).rounded()), 1), t.steps.count - 1)
    let first = t.steps.first ?? 0
    let last = t.steps.last ?? 0
    // Progressive sharpening: the lowest sharpness before the tail (after the first
    // measurement, which can sit far above: the early catapult) lies well below the
    // threshold, and a later one reaches it.
    let before = t.sharpness.indices.filter { $0 > 0 && $0 < start }
    let lowIndex = before.min { t.sharpness[$0] < t.sharpness[$1] } ?? 0
    let low = t.sharpness[lowIndex]
    let laterMax = t.sharpness[lowIndex...].max() ?? .nan
    let sharpens = low < 0.9 * threshold && laterMax >= 0.95 * threshold
    // The edge: the tail stays within the band, its median within ±5 %.
    let ratios = t.sharpness.map { $0 / threshold }
    let tail = Array(ratios[start...])
    let med = median(tail)
    let range = (tail.min() ?? .nan, tail.max() ?? .nan)
    // DESIGN.md's run-summary view of the same trace: onset, plateau, verdict.
    let edge = EdgeAnalysis(steps: t.steps, ratios: ratios)
    let atEdge = abs(med - 1) <= 0.05 && range.0 >= 1 - band && range.1 <= 1 + band && edge.verdict == .atTheEdge
    // The loss keeps falling at the edge (over the tail, not step by step).
    let lossFalls = (t.losses.last ?? .nan) < t.losses[start]
    let bandText = String(format: "%.0f", 100 * band)
    return [
      Check(
        layer: "training", name: "progressive sharpening, \(setup): \(symbol) at step \(first) \(f(t.sharpness[0])), then",
        expected: "falls below 0.9 × \(thresholdName) = \(f(0.9 * threshold)), then rises to \(thresholdName) = \(f(threshold))",
        measured: "low \(f(low)) at step \(t.steps[lowIndex]), then up to \(f(laterMax))", passed: sharpens),
      Check(
        layer: "training", name: "edge of stability: \(symbol) over steps \(t.steps[start])–\(last) against \(thresholdName) = \(f(threshold))",
        expected: "median within ±5 %, all within ±\(bandText) %, verdict at the edge",
        measured: String(format: "median %.3f×, range %.3f–%.3f×", med, range.0, range.1) + "; " + edge.summary, passed: atEdge),
      Check(
        layer: "training", name: "the loss keeps falling at the edge (steps \(t.steps[start])–\(last))",
        expected: "final < \(String(format: "%.4f", t.losses[start]))", measured: String(format: "%.4f", t.losses.last ?? .nan), passed: lossFalls),
    ]
  }
}
