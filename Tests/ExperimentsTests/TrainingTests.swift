import Curvature
import Foundation
import LinearAlgebra
import PropertyBased
import TestSupport
import Testing

@testable import Experiments

/// A fresh temporary folder (removed by the caller).
func temporaryFolder(_ tag: String) -> String {
  let dir = FileManager.default.temporaryDirectory.appendingPathComponent("aeos-\(tag)-\(UUID().uuidString)").path
  try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
  return dir
}

/// The records without wall-clock times (the only field a resumed or repeated run may change).
func withoutWallTimes(_ records: [StepRecord]) -> [StepRecord] {
  records.map { var r = $0; r.wallSeconds = 0; return r }
}

/// Tracked training on synthetic data (Gaussian clusters shaped like Fashion-MNIST),
/// so these tests need no data package: a 784-8-10 tanh net on 64 examples.
@Suite struct TrainingTests {
  static func config(_ name: String, lr: Double, steps: Int, dtype: DType = .float64, seed: UInt64 = 0) -> TrainConfig {
    var c = TrainConfig(method: MethodSpec(optimizer: name, hyperparameters: Hyperparameters(lr: lr)))
    c.model = ModelSpec(kind: .fc, depth: 1, width: 8, activation: .tanh)
    c.data = DataSpec(source: .synthetic, n: 64, testN: 16)
    c.dtype = dtype
    c.steps = steps
    c.trackEvery = 2
    c.threads = 2
    c.chunkSize = 24
    c.seed = seed
    return c
  }

  /// Every optimizer trains for a few steps, and the threshold in each tracked line is
  /// the one `aeos threshold` derives (the same `Dynamics` recurrence: exactly equal),
  /// with ratio = governing sharpness / threshold.
  @Test(arguments: OptimizerKind.allCases)
  func everyOptimizerTrainsAndRecordsItsThreshold(_ kind: OptimizerKind) throws {
    let lr = 0.01
    var c = Self.config(kind.rawValue, lr: lr, steps: 4)
    let dir = temporaryFolder("every")
    defer { try? FileManager.default.removeItem(atPath: dir) }
    if kind == .frozenAdam {
      // frozen-adam's fixed ν comes from a file.
      let nu = [Double](repeating: 1, count: 784 * 8 + 8 + 8 * 10 + 10)
      let path = dir + "/nu.safetensors"
      try Safetensors.save(["nu": try Tensor(shape: [nu.count], scalars: nu)], to: path)
      c.nu0File = path
    }
    let trainer = try Trainer<Double>(config: c, folder: nil)
    let summary = try trainer.run()
    #expect(summary.status == .completed)
    #expect(trainer.records.map(\.step) == Array(0...4))
    let expected = try ThresholdReport(subject: TheorySubject.optimizer(kind.rawValue, Hyperparameters(lr: lr)), lr: lr).threshold
    #expect(summary.threshold == expected)
    let tracked = trainer.records.compactMap(\.curvature)
    #expect(tracked.count == 3)
    for t in tracked {
      #expect(t.threshold == expected)
      #expect((t.preconditionedSharpness != nil) == kind.isPreconditioned)
      let governing = try #require(t.governing)
      #expect(t.ratio == governing / expected)
      #expect(t.hvps > 0)
    }
  }

  /// One seed, two runs: bit-identical records (float32, two workers), wall times aside.
  @Test func runsAreBitIdenticalAcrossInvocations() throws {
    let c = Self.config("adam", lr: 1e-3, steps: 6, dtype: .float32)
    let a = try Trainer<Float>(config: c, folder: nil)
    _ = try a.run()
    let b = try Trainer<Float>(config: c, folder: nil)
    _ = try b.run()
    #expect(withoutWallTimes(a.records) == withoutWallTimes(b.records))
  }

  /// A run stopped at any step s (its last checkpoint) and resumed to N gives the same
  /// metrics.jsonl as a run straight to N, wall times aside; also with checkpoints
  /// between (the resumed run restarts from the last one and truncates later lines).
  @Test func resumeIsBitIdentical() async throws {
    let n = 9
    let straight = temporaryFolder("straight")
    defer { try? FileManager.default.removeItem(atPath: straight) }
    var c = Self.config("adam", lr: 1e-3, steps: n, dtype: .float32)
    c.checkpointEvery = 4
    _ = try Trainer<Float>(config: c, folder: try RunFolder.create(at: straight, force: false)).run()
    let reference = try RunFolder.open(at: straight).readMetrics()
    #expect(reference.count == n + 1)
    await propertyCheckThrowing(count: 6, input: Gen.int(in: 0...(n - 1)), Gen.int(in: 1...5)) { s, every in
      let dir = temporaryFolder("resume")
      defer { try? FileManager.default.removeItem(atPath: dir) }
      var first = c
      first.steps = s
      first.checkpointEvery = every
      _ = try Trainer<Float>(config: first, folder: try RunFolder.create(at: dir, force: false)).run()
      let folder = try RunFolder.open(at: dir)
      let summary = try Trainer<Float>.resume(folder: folder, steps: n).run()
      #expect(summary.status == .completed)
      let got = withoutWallTimes(try folder.readMetrics())
      #expect(got == withoutWallTimes(reference), "s = \(s), every = \(every): first difference \(zip(got, withoutWallTimes(reference)).first { $0 != $1 }.map { "\($0)\n vs \($1)" } ?? "count \(got.count)")")
    }
  }

  /// A diverging run stops with status diverged and keeps every line up to that step,
  /// in memory and in metrics.jsonl; its summary says so.
  @Test func aDivergingRunKeepsItsMetrics() throws {
    let dir = temporaryFolder("diverge")
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let c = Self.config("gd", lr: 200, steps: 50)
    let trainer = try Trainer<Double>(config: c, folder: try RunFolder.create(at: dir, force: false))
    let summary = try trainer.run()
    #expect(summary.status == .diverged)
    #expect(summary.analysis.verdict == .diverged)
    #expect(trainer.records.count < 51)
    let last = try #require(trainer.records.last)
    #expect(!last.loss.isFinite || last.loss > 1000 * trainer.records[0].loss)
    let folder = try RunFolder.open(at: dir)
    // What the folder holds is what was measured (JSON writes a non-finite loss as null).
    let written = try folder.readMetrics()
    #expect(written.map(\.step) == trainer.records.map(\.step))
    #expect(withoutWallTimes(Array(written.dropLast())) == withoutWallTimes(Array(trainer.records.dropLast())))
    #expect(folder.summaryStatus() == .diverged)
    #expect(throws: TrainingError.self) { try Trainer<Double>.resume(folder: folder) }
  }

  /// Warm-up: η_t = η·min(1, (t+1)/W), and each tracked line's threshold is the
  /// method's at that η_t.
  @Test func warmupScalesTheLearningRateAndTheThreshold() throws {
    var c = Self.config("hb", lr: 0.02, steps: 6)
    c.warmupSteps = 4
    let trainer = try Trainer<Double>(config: c, folder: nil)
    _ = try trainer.run()
    let rec = Recurrence.builtin(.hb, beta: 0.9)
    for r in trainer.records {
      let eta = 0.02 * min(1, Double(r.step + 1) / 4)
      #expect(r.lr == eta)
      if let t = r.curvature?.threshold { #expect(t == (try rec.threshold(lr: eta))) }
    }
  }

  /// `--freeze-preconditioner-at`: from that step on P stays the one it applied.
  @Test func freezingFixesThePreconditioner() throws {
    var c = Self.config("adam", lr: 1e-3, steps: 6)
    c.freezePreconditionerAt = 2
    let trainer = try Trainer<Double>(config: c, folder: nil)
    _ = try trainer.run()
    let frozen = try #require(trainer.method.stateArrays["frozen_p"])
    #expect(frozen.count == trainer.model.parameterCount)
    #expect(trainer.method.isFrozen)
    var unfrozen = c
    unfrozen.freezePreconditionerAt = nil
    let other = try Trainer<Double>(config: unfrozen, folder: nil)
    _ = try other.run()
    // Steps 0–2 are the same run; afterwards the frozen run's P no longer follows ν.
    #expect(withoutWallTimes(Array(trainer.records.prefix(3))) == withoutWallTimes(Array(other.records.prefix(3))))
    #expect(trainer.records[4].curvature?.preconditionedSharpness != other.records[4].curvature?.preconditionedSharpness)
  }

  /// Minibatches: within an epoch the batches are disjoint; every epoch covers
  /// ⌊n/B⌋·B distinct examples; the order depends on the seed only.
  @Test func minibatchesPartitionEachEpoch() async throws {
    await propertyCheckThrowing(count: 20, input: Gen.int(in: 1...64), Gen.int(in: 0...1000)) { b, seed in
      var c = Self.config("gd", lr: 0.01, steps: 1, seed: UInt64(seed))
      c.batchSize = b
      let trainer = try Trainer<Double>(config: c, folder: nil)
      let perEpoch = 64 / b
      for epoch in 0..<2 {
        var seen = Set<Int>()
        for j in 0..<perEpoch {
          let batch = trainer.batchIndices(step: epoch * perEpoch + j)
          #expect(batch?.count == (b < 64 ? b : nil))
          seen.formUnion(batch ?? [])
        }
        #expect(b == 64 || seen.count == perEpoch * b)
      }
      let again = try Trainer<Double>(config: c, folder: nil)
      #expect(again.batchIndices(step: perEpoch + 1) == trainer.batchIndices(step: perEpoch + 1))
    }
  }

  /// Bad settings are refused before anything runs, naming the flag.
  @Test func badSettingsNameTheFlag() throws {
    var c = Self.config("adam", lr: 1e-3, steps: 2)
    c.trackEvery = 0
    #expect { try c.validate() } throws: { "\($0)".contains("--track-every 0") }
    c = Self.config("gd", lr: 0.1, steps: 2)
    c.freezePreconditionerAt = 3
    #expect { try c.validate() } throws: { "\($0)".contains("--freeze-preconditioner-at") }
    c = Self.config("adam", lr: -1, steps: 2)
    #expect { try c.validate() } throws: { "\($0)".contains("-1") }
    c = Self.config("adam", lr: 1e-3, steps: 2)
    c.batchSize = 65
    #expect { try c.validate() } throws: { "\($0)".contains("--batch-size 65") }
    c = Self.config("nope", lr: 1e-3, steps: 2)
    #expect { try c.validate() } throws: { "\($0)".contains("nope") }
  }

  /// The preconditioned sharpness of step t is measured with the P that step t
  /// applies (ν already updated with g_t), not the previous step's: rebuilt here from
  /// Adam's definition, P_t = √ν_t + ε with ν_t = β₂ν_{t−1} + (1−β₂)g_t², at a β₂ of
  /// 0.5 so that P_t and P_{t−1} differ by far more than the tolerance. Both sides are
  /// Lanczos on the same operator to relative residual 1e-4 (the record) and 1e-8
  /// (here), so they agree to ~1e-4 relative; 1e-3 leaves room.
  @Test func preconditionedSharpnessUsesThePOfItsStep() throws {
    var c = Self.config("adam", lr: 1e-3, steps: 3)
    c.method.hyperparameters.beta2 = 0.5
    c.trackEvery = 1
    let trainer = try Trainer<Double>(config: c, folder: nil)
    _ = try trainer.run()
    // Replay the steps with the optimizer alone, from the same start.
    let replay = try Trainer<Double>(config: c, folder: nil)
    var x = replay.parameters
    var nu = [Double](repeating: 0, count: x.count)
    let optimizer = try Optimizer(.adam, c.method.hyperparameters, layout: replay.model.layout)
    var state = try optimizer.initialState(as: Double.self)
    for t in 0...3 {
      let g = try replay.objective.lossAndGradient(parameters: x).gradient
      for i in nu.indices { nu[i] = 0.5 * nu[i] + 0.5 * g[i] * g[i] }
      let p = nu.map { $0.squareRoot() + 1e-7 }
      let h = replay.probe.hessian(at: x)
      let expected = try Lanczos(maxIterations: 200, tolerance: 1e-8).top(1, of: try h.preconditioned(by: p), seed: 7).values[0]
      let recorded = try #require(trainer.records[t].curvature?.preconditionedSharpness)
      #expect(abs(recorded - expected) <= 1e-3 * expected, "step \(t): recorded \(recorded), expected \(expected)")
      optimizer.step(parameters: &x, gradient: g, state: &state)
    }
  }
}
