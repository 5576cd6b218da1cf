import Curvature
import Foundation
import LinearAlgebra
import NeuralEngine
import Optimizers

/// A tracked training run (DESIGN.md, `aeos train`): the model and data of a
/// `TrainConfig`, trained by its method, with the curvature measured every
/// `trackEvery` steps and held against the threshold `Dynamics` derives for the
/// method at that step's learning rate.
///
/// Step t (t = 0, 1, …): the loss and gradient at x_t (on the step's minibatch, or
/// the whole training subset); on tracked steps λ₁(H) at x_t (on the curvature
/// subset) and, for a preconditioned method, λ₁(P⁻¹H) with the P that step t applies;
/// then the update to x_{t+1}. A run of N steps records lines 0…N and applies N
/// updates. With a `RunFolder`, every line is appended to metrics.jsonl as it is
/// made and a checkpoint is written every `checkpointEvery` steps, at the end and on
/// SIGINT/SIGTERM, so a run can resume bit-identically; without one (`aeos verify`),
/// the records stay in memory.
public final class Trainer<T: BLASScalar & OptimizerScalar> {
  public let config: TrainConfig
  public let model: Model
  let train: Dataset<T>
  let objective: Objective<T>
  let curvatureObjective: Objective<T>
  let testObjective: Objective<T>?
  var method: MethodRunner<T>
  var probe: CurvatureProbe<T>
  public private(set) var parameters: [T]
  /// Every line so far (those before a resume included).
  public private(set) var records: [StepRecord] = []
  let folder: RunFolder?
  let modelDescription: String
  var nextStep = 0
  var initialLoss: Double?
  var wallOffset = 0.0
  private var permutation: (epoch: Int, order: [Int])?
  private var warmAtStepStart: [String: [[Double]]] = [:]

  /// A fresh run. With a folder, config.json is written now.
  /// - Throws: `TrainingError` (bad settings, a model that does not fit the data) or
  ///   the data loader's error (a missing data set names its Debian package).
  public convenience init(config: TrainConfig, folder: RunFolder?) throws {
    try self.init(setup: config, folder: folder)
    if let folder {
      try folder.write(try config.configJSON(provenance: provenance()), to: RunFolder.config)
    }
  }

  private init(setup config: TrainConfig, folder: RunFolder?) throws {
    try config.validate()
    guard config.dtype == (T.self == Float.self ? .float32 : .float64) else {
      throw TrainingError("internal: a \(config.dtype.rawValue) run built with \(T.self)")
    }
    self.config = config
    self.folder = folder
    let (train, test) = try config.data.load(seed: config.seed, as: T.self)
    self.train = train
    model = try config.model.build(inputShape: train.featureShape, classes: train.classes)
    try checkFitsInMemory(
      parameters: model.parameterCount, scalarSize: MemoryLayout<T>.size, lanczosIterations: config.lanczosIterations, topK: config.topK)
    let objective = try Objective(model: model, data: train, loss: config.loss, chunkSize: config.chunkSize, threads: config.threads)
    self.objective = objective
    if let m = config.curvatureN, m < train.count {
      curvatureObjective = try objective.replacingData(try train.prefix(m))
    } else {
      curvatureObjective = objective
    }
    testObjective = try test.map { try objective.replacingData($0) }
    var nu0: [T]? = nil
    if let path = config.nu0File {
      let tensors: [String: Tensor<T>] = try Safetensors.load(from: path)
      guard let nu = tensors["nu"] else {
        throw TrainingError("--nu0 \(path) has no tensor \"nu\" (tensors: \(tensors.keys.sorted().joined(separator: ", ")))")
      }
      guard nu.scalars.count == model.parameterCount else {
        throw TrainingError("--nu0 \(path): \"nu\" has \(nu.scalars.count) entries, expected \(model.parameterCount) (one per parameter)")
      }
      nu0 = nu.scalars
    } else if (try? config.method.kind()) == .frozenAdam {
      throw TrainingError("frozen-adam needs --nu0 FILE.safetensors: its fixed second moment ν (a tensor \"nu\", e.g. an optimizer.safetensors of an adam run)")
    }
    method = try MethodRunner(spec: config.method, layout: model.layout, schedule: config.schedule, secondMoment: nu0)
    probe = CurvatureProbe(
      objective: curvatureObjective, k: config.topK, lambdaMin: config.lambdaMin, tolerance: config.lanczosTolerance,
      maxIterations: config.lanczosIterations, seed: config.seed)
    if let path = config.initFile {
      parameters = try Safetensors.loadParameters(from: path, layout: model.layout)
    } else {
      parameters = model.initialParameters(seed: config.seed)
    }
    modelDescription = Self.describe(config: config, model: model, inputShape: train.featureShape, classes: train.classes)
  }

  /// Continues the run in `folder` from its checkpoint; `steps` (if given) replaces the
  /// run's step budget, e.g. to extend a finished run.
  /// - Throws: `TrainingError` for a folder without a checkpoint, a diverged run, a
  ///   checkpoint that does not fit the configuration.
  public static func resume(folder: RunFolder, steps: Int? = nil) throws -> Trainer {
    if folder.summaryStatus() == .diverged {
      throw TrainingError("the run in \(folder.path) diverged; there is nothing to resume (start a new run with --force)")
    }
    let trainer = try open(folder: folder, steps: steps)
    trainer.records = try folder.truncateMetrics(before: trainer.nextStep)
    if let steps {
      let original = (try? JSONSerialization.jsonObject(with: folder.read(RunFolder.config)) as? [String: Any])?["provenance"] as? [String: String]
      var p = original ?? provenance()
      p["resumed_with_steps"] = String(steps)
      try folder.write(try trainer.config.configJSON(provenance: p), to: RunFolder.config)
    }
    return trainer
  }

  /// The run in `folder` at its checkpoint, changing nothing in the folder (for
  /// `aeos curvature DIR`); `steps` replaces the step budget.
  public static func open(folder: RunFolder, steps: Int? = nil) throws -> Trainer {
    var config = try folder.readConfig()
    if let steps { config.steps = steps }
    let trainer = try Trainer(setup: config, folder: folder)
    let checkpoint = try Checkpoint<T>.read(from: folder, model: trainer.model)
    trainer.parameters = checkpoint.parameters
    try trainer.method.restore(step: checkpoint.methodStep, arrays: checkpoint.methodArrays)
    trainer.probe.warmStart = checkpoint.warmStart
    trainer.nextStep = checkpoint.step
    trainer.initialLoss = checkpoint.initialLoss
    trainer.wallOffset = checkpoint.wallSeconds
    return trainer
  }

  /// The step of the iterate the trainer holds (the checkpoint's, after `open`).
  public var currentStep: Int { nextStep }

  /// The P the method's last step applied (from its state), nil without P or before
  /// the first step.
  public var lastPreconditioner: [T]? { method.lastPreconditioner }

  /// The JSON model description stored in the weights' metadata ("model").
  static func describe(config: TrainConfig, model: Model, inputShape: [Int], classes: Int) -> String {
    JSONValue.object([
      ("kind", .string(config.model.kind.rawValue)), ("depth", .int(config.model.depth)), ("width", .int(config.model.width)),
      ("activation", .string(config.model.activation.rawValue)), ("cnn_scale", .int(config.model.cnnScale)),
      ("input_shape", .array(inputShape.map { .int($0) })), ("classes", .int(classes)), ("loss", .string(config.loss.rawValue)),
      ("dtype", .string(config.dtype.rawValue)), ("parameters", .int(model.parameterCount)),
    ]).serialized()
  }

  // MARK: The loop

  /// What the run did, for the caller's progress display.
  public struct Progress: Sendable {
    public var record: StepRecord
    /// The last step the run will reach (its step budget).
    public var lastStep: Int
    /// The latest governing ratio measured (nil before the first).
    public var latestRatio: Double?
  }

  /// Runs from the next step to the end (the step budget, a target, divergence or a
  /// signal) and returns the summary (also written to the folder).
  /// - Parameter onStep: called after every step's line is recorded.
  public func run(onStep: (Progress) -> Void = { _ in }) throws -> RunSummary {
    let start = Date()
    func wall() -> Double { wallOffset + Date().timeIntervalSince(start) }
    do {
      return try runSteps(start: start, wall: wall, onStep: onStep)
    } catch {
      // Whatever was measured stays in metrics.jsonl; the summary says why it stopped.
      try? folder?.writeSummary(try makeSummary(status: .failed, reason: "failed: \(error)", wall: wall()))
      throw error
    }
  }

  private func runSteps(start: Date, wall: () -> Double, onStep: (Progress) -> Void) throws -> RunSummary {
    var gradient = [T](repeating: 0, count: model.parameterCount)
    var latestRatio = records.last { $0.curvature?.ratio != nil }?.curvature?.ratio
    var status = RunStatus.completed
    var reason = "steps"
    var t = nextStep
    defer { nextStep = t }
    loop: while true {
      if Interrupts.received != 0 {
        status = .interrupted
        reason = "interrupted (\(Interrupts.name(Interrupts.received)))"
        try writeCheckpoint(step: t, wall: wall())
        break loop
      }
      // The warm-start vectors before this step's measurement: a checkpoint at step t
      // (the final one) must hold these, so a resume re-measures step t the same way.
      warmAtStepStart = probe.warmStart
      let eta = method.learningRate(at: t)
      let stepObjective = try batchObjective(step: t)
      var loss = Double.nan, accuracy = Double.nan
      do {
        (loss, accuracy) = try stepObjective.lossAndGradient(parameters: parameters, gradient: &gradient)
      } catch NeuralEngineError.nonFinite {
        loss = .nan
      }
      let gradNorm = Double(BLAS.nrm2(gradient))
      if t == 0 || initialLoss == nil { initialLoss = loss }
      let bound = config.divergenceLoss ?? 1000 * max(initialLoss ?? 1, 1e-12)
      if !loss.isFinite || loss > bound || !gradNorm.isFinite {
        status = .diverged
        reason = !loss.isFinite || !gradNorm.isFinite
          ? "diverged: the loss or gradient is not finite at step \(t)"
          : "diverged: loss \(formatHuman(loss)) at step \(t) exceeds \(formatHuman(bound))"
            + (config.divergenceLoss == nil ? " (1000 × the initial loss)" : " (--divergence-loss)")
        try record(StepRecord(step: t, loss: loss, accuracy: accuracy, gradNorm: gradNorm, lr: eta, wallSeconds: wall()), latestRatio, onStep)
        break loop
      }
      var curvature: CurvatureRecord? = nil
      if method.isPreconditioned && config.freezePreconditionerAt == t && !method.isFrozen,
        let p = method.preconditioner(forGradient: gradient)
      {
        method.freezePreconditioner(at: p)
      }
      if t % config.trackEvery == 0 {
        do {
          curvature = try measure(gradient: gradient, lr: eta, step: t)
        } catch let error where Self.isNonFinite(error) {
          status = .diverged
          reason = "diverged: non-finite curvature at step \(t)"
          try record(StepRecord(step: t, loss: loss, accuracy: accuracy, gradNorm: gradNorm, lr: eta, wallSeconds: wall()), latestRatio, onStep)
          break loop
        }
        if let r = curvature?.ratio { latestRatio = r }
      }
      try record(
        StepRecord(step: t, loss: loss, accuracy: accuracy, gradNorm: gradNorm, lr: eta, wallSeconds: wall(), curvature: curvature),
        latestRatio, onStep)
      if t >= config.steps { break loop }
      if let target = config.targetLoss, loss <= target {
        reason = "target loss"
        break loop
      }
      if let target = config.targetAccuracy, accuracy >= target {
        reason = "target accuracy"
        break loop
      }
      try method.step(&parameters, gradient: gradient) { point in
        try stepObjective.lossAndGradient(parameters: point).gradient
      }
      t += 1
      if t % config.checkpointEvery == 0 { try writeCheckpoint(step: t, wall: wall()) }
    }
    if status == .completed { try writeCheckpoint(step: t, wall: wall(), warmStart: warmAtStepStart) }
    let summary = try makeSummary(status: status, reason: reason, wall: wall())
    try folder?.writeSummary(summary)
    return summary
  }

  static func isNonFinite(_ error: any Error) -> Bool {
    if case NeuralEngineError.nonFinite = error { return true }
    if case CurvatureError.nonFinite = error { return true }
    return false
  }

  private func record(_ r: StepRecord, _ latestRatio: Double?, _ onStep: (Progress) -> Void) throws {
    records.append(r)
    try folder?.append(r)
    onStep(Progress(record: r, lastStep: config.steps, latestRatio: latestRatio))
  }

  /// The summary of the records so far (also for a run still in progress).
  public func makeSummary(status: RunStatus, reason: String, wall: Double) throws -> RunSummary {
    let threshold = (try? method.threshold(lr: config.method.hyperparameters.lr)) ?? .nan
    let formula = (try? method.recurrence.analysis(lr: config.method.hyperparameters.lr))?.closedForm()?.formatted(.text)
    return RunSummary(
      optimizer: method.name, quantity: method.quantity, threshold: threshold, formula: formula, status: status, records: records,
      steps: method.stepCount, wallSeconds: wall, stopReason: reason)
  }

  private func writeCheckpoint(step: Int, wall: Double, warmStart: [String: [[Double]]]? = nil) throws {
    guard let folder else { return }
    let c = Checkpoint(
      step: step, parameters: parameters, methodStep: method.stepCount, methodArrays: method.stateArrays,
      warmStart: warmStart ?? probe.warmStart,
      initialLoss: initialLoss, wallSeconds: wall)
    try c.write(to: folder, model: model, modelDescription: modelDescription)
  }

  /// The objective of step t: the whole training subset, or the step's minibatch.
  private func batchObjective(step t: Int) throws -> Objective<T> {
    guard let indices = batchIndices(step: t) else { return objective }
    return try objective.replacingData(try train.subset(indices))
  }

  /// The examples of step t's minibatch (ascending), nil for full batch: epoch
  /// e = t / ⌊n/B⌋ takes a permutation of the n examples seeded by (seed, e) and
  /// cuts it into ⌊n/B⌋ batches of B (the n mod B left over sit the epoch out), so a
  /// step's batch depends on the seed and the step only (a resumed run draws the same).
  func batchIndices(step t: Int) -> [Int]? {
    guard let b = config.batchSize, b < train.count else { return nil }
    let perEpoch = train.count / b
    let epoch = t / perEpoch
    if permutation?.epoch != epoch {
      var rng = SeededGenerator(seed: config.seed ^ (UInt64(epoch) &+ 1) &* 0x9E37_79B9_7F4A_7C15)
      var order = Array(0..<train.count)
      for i in stride(from: order.count - 1, to: 0, by: -1) { order.swapAt(i, Int(rng.next() % UInt64(i + 1))) }
      permutation = (epoch, order)
    }
    let j = t % perEpoch
    return (permutation?.order[(j * b)..<((j + 1) * b)]).map { Array($0).sorted() } ?? []
  }

  /// The curvature record of step t at the current parameters.
  private func measure(gradient: [T], lr: Double, step t: Int) throws -> CurvatureRecord {
    let p = method.isPreconditioned ? method.preconditioner(forGradient: gradient) : nil
    let m = try probe.measure(at: parameters, preconditioner: p, measurement: t / config.trackEvery)
    let threshold = try method.threshold(lr: lr)
    let governing = m.governing
    var c = CurvatureRecord(
      sharpness: m.hessian.values.first, preconditionedSharpness: m.preconditioned?.values.first, threshold: threshold,
      ratio: governing.values.first.map { $0 / threshold }, topK: config.topK > 1 ? governing.values : nil,
      lambdaMin: m.hessian.lambdaMin, gradientTopKFraction: nil, testLoss: nil, testAccuracy: nil, trainLoss: nil, trainAccuracy: nil,
      hvps: m.products, residual: governing.residuals.first)
    if config.gradientAlignment {
      // u = P^{-1/2}g (g without P), in the coordinates of the governing operator.
      var u = gradient.map { Double($0) }
      if let p { for i in u.indices { u[i] /= Double(p[i]).squareRoot() } }
      let total = BLAS.dot(u, u)
      let inTop = governing.vectors.reduce(0.0) { s, v in
        let c = BLAS.dot(v, u)
        return s + c * c
      }
      c.gradientTopKFraction = total > 0 ? inTop / total : nil
    }
    if let testObjective {
      let (l, a) = try testObjective.evaluate(parameters: parameters)
      c.testLoss = l
      c.testAccuracy = a
    }
    if let b = config.batchSize, b < train.count {
      let (l, a) = try objective.evaluate(parameters: parameters)
      c.trainLoss = l
      c.trainAccuracy = a
    }
    return c
  }
}

/// Runs of either precision, chosen by the configuration's dtype.
public enum Training {
  /// A fresh run (see `Trainer`); with a folder, everything is written there.
  public static func start(
    _ config: TrainConfig, folder: RunFolder?, onStep: (Trainer<Float>.Progress) -> Void = { _ in }
  ) throws -> RunSummary {
    switch config.dtype {
    case .float32: return try Trainer<Float>(config: config, folder: folder).run(onStep: onStep)
    case .float64: return try Trainer<Double>(config: config, folder: folder).run { onStep(.init($0)) }
    }
  }

  /// Continues the run in `folder` (see `Trainer.resume`).
  public static func resume(
    _ folder: RunFolder, steps: Int? = nil, onStep: (Trainer<Float>.Progress) -> Void = { _ in }
  ) throws -> RunSummary {
    switch try folder.readConfig().dtype {
    case .float32: return try Trainer<Float>.resume(folder: folder, steps: steps).run(onStep: onStep)
    case .float64: return try Trainer<Double>.resume(folder: folder, steps: steps).run { onStep(.init($0)) }
    }
  }
}

extension Trainer.Progress {
  /// The same progress, seen from a run of another precision.
  init<U>(_ other: Trainer<U>.Progress) {
    self.init(record: other.record, lastStep: other.lastStep, latestRatio: other.latestRatio)
  }
}
