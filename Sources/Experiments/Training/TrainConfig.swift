import Foundation
import LinearAlgebra
import NeuralEngine
import Optimizers

/// A user-causable problem with a training run's settings or folder; the message
/// names the value and what was expected.
public struct TrainingError: Error, CustomStringConvertible, Sendable {
  public let description: String
  public init(_ description: String) { self.description = description }
}

/// The network: the AEoS paper's fully-connected nets or its CNN (appendix G).
public struct ModelSpec: Codable, Sendable, Equatable {
  public enum Kind: String, CaseIterable, Codable, Sendable { case fc, cnn }

  public var kind: Kind = .fc
  /// Hidden layers of an fc net.
  public var depth: Int = 2
  /// Units per hidden layer of an fc net.
  public var width: Int = 200
  /// tanh, relu, elu, softplus, gelu (the CNN's ReLUs become this when given).
  public var activation: Activation = .tanh
  /// Divides the CNN's channel and unit counts (1 = the paper's network).
  public var cnnScale: Int = 1

  public init(kind: Kind = .fc, depth: Int = 2, width: Int = 200, activation: Activation = .tanh, cnnScale: Int = 1) {
    self.kind = kind
    self.depth = depth
    self.width = width
    self.activation = activation
    self.cnnScale = cnnScale
  }

  /// - Throws: `TrainingError` naming a size out of range.
  public func validate() throws {
    guard depth >= 0, depth <= 64 else { throw TrainingError("invalid --depth \(depth): expected 0…64 hidden layers") }
    guard width >= 1, width <= 1 << 16 else { throw TrainingError("invalid --width \(width): expected 1…65536 units") }
    guard cnnScale >= 1, cnnScale <= 64 else { throw TrainingError("invalid CNN scale \(cnnScale): expected 1…64") }
    guard activation != .identity else { throw TrainingError("invalid --activation identity: expected one of tanh, relu, elu, softplus, gelu") }
  }

  /// The model for examples of `inputShape` ([H, W, C] or [d]) and `classes` outputs.
  public func build(inputShape: [Int], classes: Int) throws -> Model {
    switch kind {
    case .fc:
      return try MLP.make(inputSize: inputShape.reduce(1, *), depth: depth, width: width, activation: activation, classes: classes)
    case .cnn:
      guard inputShape.count == 3 else {
        throw TrainingError("the CNN needs image data [height, width, channels], got examples of shape \(inputShape)")
      }
      do {
        return try CNN.make(inputShape: inputShape, classes: classes, activation: activation == .tanh ? .relu : activation, scale: cnnScale)
      } catch {
        throw TrainingError("the paper's CNN does not fit images of shape \(inputShape) (it needs at least 23×23): \(error)")
      }
    }
  }

  /// "fc 2×200 tanh", "cnn relu".
  public var summary: String {
    switch kind {
    case .fc: "fc \(depth)×\(width) \(activation.rawValue)"
    case .cnn: "cnn \(activation == .tanh ? "relu" : activation.rawValue)" + (cnnScale > 1 ? " /\(cnnScale)" : "")
    }
  }
}

/// Where the examples come from (DESIGN.md, "Data").
public struct DataSpec: Codable, Sendable, Equatable {
  public enum Source: String, CaseIterable, Codable, Sendable {
    case fashionMNIST = "fashion-mnist"
    case cifar10
    case synthetic
  }

  public var source: Source = .fashionMNIST
  /// Training examples (the first n, or class-balanced).
  public var n: Int = 1000
  public var balanced = false
  /// Test examples (the first of the test file); 0 for none.
  public var testN: Int = 1000
  /// The folder of the files: Fashion-MNIST's (default: Debian's), CIFAR-10's
  /// unpacked `cifar-10-batches-bin` (required for cifar10).
  public var directory: String?

  public init(source: Source = .fashionMNIST, n: Int = 1000, balanced: Bool = false, testN: Int = 1000, directory: String? = nil) {
    self.source = source
    self.n = n
    self.balanced = balanced
    self.testN = testN
    self.directory = directory
  }

  public func validate() throws {
    let limit = source == .cifar10 ? 50_000 : 60_000
    guard n >= 1, n <= limit else { throw TrainingError("invalid --n \(n): expected 1…\(limit) training examples of \(source.rawValue)") }
    guard testN >= 0, testN <= 10_000 else { throw TrainingError("invalid --test-n \(testN): expected 0…10000 test examples") }
    if source == .cifar10 && directory == nil {
      throw TrainingError("--data cifar10 needs --data-dir DIR, the unpacked cifar-10-batches-bin folder (CIFAR-10 is not packaged by Debian)")
    }
  }

  /// Synthetic data: Gaussian clusters shaped like Fashion-MNIST images
  /// ([28, 28, 1], 10 classes, separation 0.5), so both model kinds fit.
  public static let syntheticShape = [28, 28, 1]

  /// The standardised training and test sets (DESIGN.md: per-feature mean and std
  /// of the training subset, ddof 0, applied to both).
  public func load<T: BLASScalar>(seed: UInt64, as _: T.Type) throws -> (train: Dataset<T>, test: Dataset<T>?) {
    switch source {
    case .fashionMNIST:
      return try FashionMNIST.load(
        n: n, balanced: balanced, seed: seed, test: testN, directory: directory ?? FashionMNIST.defaultDirectory, as: T.self)
    case .cifar10:
      return try CIFAR10.load(directory: directory ?? "", n: n, balanced: balanced, seed: seed, test: testN, as: T.self)
    case .synthetic:
      let d = Self.syntheticShape.reduce(1, *)
      let all: Dataset<T> = try SyntheticData.gaussianClusters(n: n + testN, dimension: d, classes: 10, separation: 0.5, seed: seed)
      let shaped = try Dataset(features: all.features, labels: all.labels, featureShape: Self.syntheticShape, classes: 10)
      let train = try shaped.subset(Array(0..<n))
      let stats = train.statistics()
      let test = testN > 0 ? try shaped.subset(Array(n..<(n + testN))).standardized(with: stats) : nil
      return (try train.standardized(with: stats), test)
    }
  }

  /// "fashion-mnist n = 1000 (balanced)".
  public var summary: String { "\(source.rawValue) n = \(n)\(balanced ? " (balanced)" : "")" }
}

/// The update rule: one of the 14 optimizers, or a user-written linear rule.
public struct MethodSpec: Codable, Sendable, Equatable {
  /// An optimizer name (`OptimizerKind`), nil for a rule.
  public var optimizer: String?
  /// A rule in the rule language, nil for an optimizer.
  public var rule: String?
  /// The rule's parameter values (`--param NAME=VALUE`).
  public var parameters: [String: Double] = [:]
  public var hyperparameters: Hyperparameters

  public init(optimizer: String? = nil, rule: String? = nil, parameters: [String: Double] = [:], hyperparameters: Hyperparameters) {
    self.optimizer = optimizer
    self.rule = rule
    self.parameters = parameters
    self.hyperparameters = hyperparameters
  }

  /// The optimizer's kind, or nil for a rule.
  /// - Throws: `TrainingError` for an unknown name or neither/both of a name and a rule.
  public func kind() throws -> OptimizerKind? {
    switch (optimizer, rule) {
    case (let name?, nil):
      guard let kind = OptimizerKind(rawValue: name) else {
        throw TrainingError("unknown optimizer \"\(name)\": expected one of \(OptimizerKind.allNames), or --rule \"RULES\"")
      }
      return kind
    case (nil, _?): return nil
    case (nil, nil): throw TrainingError("give --optimizer NAME (\(OptimizerKind.allNames)) or --rule \"RULES\"")
    case (_?, _?): throw TrainingError("give either --optimizer or --rule, not both")
    }
  }

  /// "adam η = 0.001", "rule m' = … η = 0.1".
  public var summary: String {
    let lr = "η = \(formatHuman(hyperparameters.lr))"
    if let optimizer { return "\(optimizer) \(lr)" }
    return "rule \"\(rule ?? "")\" \(lr)"
  }
}

/// Every setting of a training run (DESIGN.md, `aeos train`), resolved: what
/// config.json holds besides provenance, and what `--resume` reads back.
public struct TrainConfig: Codable, Sendable, Equatable {
  public var model = ModelSpec()
  public var data = DataSpec()
  public var loss: Loss = .mse
  public var dtype: DType = .float32
  /// Seeds the initial parameters, the balanced subset, synthetic data, minibatch
  /// order and the first Lanczos start vector.
  public var seed: UInt64 = 0
  /// Initial parameters from a safetensors file instead of the seeded initialisation.
  public var initFile: String?
  /// The initial second moment ν (a tensor "nu" in a safetensors file); required by
  /// frozen-adam, whose P = √ν + ε stays fixed.
  public var nu0File: String?
  public var method: MethodSpec
  /// Full batch when nil; else minibatches of this size from a seeded permutation per epoch.
  public var batchSize: Int?
  /// Linear learning-rate warm-up over this many steps (0: none).
  public var warmupSteps: Int = 0
  /// Steps (updates) at most.
  public var steps: Int = 1000
  /// Stop once the training loss (of the step's batch) is at or below this.
  public var targetLoss: Double?
  /// Stop once the training accuracy (of the step's batch) is at or above this.
  public var targetAccuracy: Double?
  /// Measure the curvature every k steps (step 0 included).
  public var trackEvery: Int = 10
  /// Eigenvalues of the governing operator recorded (top_k) on tracked steps.
  public var topK: Int = 1
  /// Curvature on the first M training examples instead of all n.
  public var curvatureN: Int?
  /// From this step on, the preconditioner is fixed at the P that step applies.
  public var freezePreconditionerAt: Int?
  /// Also record λ_min(H) on tracked steps.
  public var lambdaMin = false
  /// Also record the fraction of ‖P^{-1/2}g‖² in the top-k eigenvectors (Figure 18).
  public var gradientAlignment = false
  /// A loss above this counts as divergence; nil: 1000 × the initial loss.
  public var divergenceLoss: Double?
  /// Relative residual ‖Av − θv‖ ≤ tol·|θ₁| at which Lanczos stops.
  public var lanczosTolerance: Double = 1e-4
  /// Lanczos iterations at most per measurement.
  public var lanczosIterations: Int = 100
  /// Write the checkpoint every this many steps (and at the end and on a signal).
  public var checkpointEvery: Int = 100
  /// Engine workers (results are bit-identical only for the same count).
  public var threads: Int = Objective<Float>.defaultThreads
  /// Examples per chunk and worker.
  public var chunkSize: Int = Objective<Float>.defaultChunkSize

  public init(method: MethodSpec) { self.method = method }

  /// Checks every value and every combination; the error names the flag.
  public func validate() throws {
    try model.validate()
    try data.validate()
    let kind = try method.kind()
    if let kind {
      do { try method.hyperparameters.validate(for: kind) } catch { throw TrainingError("\(error)") }
      if !method.parameters.isEmpty { throw TrainingError("--param applies to --rule; \(kind.rawValue) takes --beta1, --beta2, --eps, …") }
      if freezePreconditionerAt != nil && !kind.isPreconditioned {
        throw TrainingError("--freeze-preconditioner-at applies to preconditioned methods; \(kind.rawValue) has no preconditioner")
      }
    } else {
      let lr = method.hyperparameters.lr
      guard lr.isFinite, lr > 0 else { throw TrainingError("invalid --lr \(lr): expected a finite number > 0") }
      if freezePreconditionerAt != nil { throw TrainingError("--freeze-preconditioner-at applies to preconditioned optimizers, not to --rule") }
      if nu0File != nil { throw TrainingError("--nu0 applies to preconditioned optimizers, not to --rule") }
      // The rule parses, is linear, has every parameter, and has a threshold at lr.
      do {
        let rule = try RuleOptimizer(rule: method.rule ?? "", parameters: method.parameters, lr: lr, schedule: schedule)
        _ = try rule.threshold()
      } catch {
        throw TrainingError("\(error)")
      }
    }
    guard steps >= 0, steps <= 100_000_000 else { throw TrainingError("invalid --steps \(steps): expected 0…100000000") }
    if let b = batchSize {
      guard b >= 1, b <= data.n else { throw TrainingError("invalid --batch-size \(b): expected 1…\(data.n) (the --n training examples)") }
    }
    guard warmupSteps >= 0 else { throw TrainingError("invalid --warmup-steps \(warmupSteps): expected an integer ≥ 0") }
    if let l = targetLoss, !(l.isFinite && l >= 0) { throw TrainingError("invalid --target-loss \(l): expected a finite number ≥ 0") }
    if let a = targetAccuracy, !(a.isFinite && a > 0 && a <= 1) { throw TrainingError("invalid --target-accuracy \(a): expected a number in (0, 1]") }
    guard trackEvery >= 1 else { throw TrainingError("invalid --track-every \(trackEvery): expected an integer ≥ 1") }
    guard topK >= 1, topK <= 64 else { throw TrainingError("invalid --top-k \(topK): expected 1…64") }
    if let m = curvatureN {
      guard m >= 1, m <= data.n else { throw TrainingError("invalid --curvature-n \(m): expected 1…\(data.n) (the --n training examples)") }
    }
    if let f = freezePreconditionerAt, f < 0 { throw TrainingError("invalid --freeze-preconditioner-at \(f): expected a step ≥ 0") }
    if let d = divergenceLoss, !(d.isFinite && d > 0) { throw TrainingError("invalid --divergence-loss \(d): expected a finite number > 0") }
    guard lanczosTolerance.isFinite, lanczosTolerance >= 0, lanczosTolerance < 1 else {
      throw TrainingError("invalid --lanczos-tolerance \(lanczosTolerance): expected a number in [0, 1)")
    }
    guard lanczosIterations >= 1, lanczosIterations <= 10_000 else {
      throw TrainingError("invalid --lanczos-iterations \(lanczosIterations): expected 1…10000")
    }
    guard checkpointEvery >= 1 else { throw TrainingError("invalid --checkpoint-every \(checkpointEvery): expected an integer ≥ 1") }
    guard threads >= 1, threads <= 256 else { throw TrainingError("invalid --threads \(threads): expected 1…256") }
    guard chunkSize >= 1 else { throw TrainingError("invalid --chunk-size \(chunkSize): expected an integer ≥ 1") }
  }

  /// Notes for the model and data flags given that this configuration does not use:
  /// `--depth`/`--width` with the CNN, `--cnn-scale` with an fc net, `--data-dir`
  /// and `--balanced` with synthetic data.
  public func inapplicableNotes(modelFlags: Set<String>, dataFlags: Set<String>) -> [String] {
    var notes: [String] = []
    switch model.kind {
    case .fc:
      if modelFlags.contains("--cnn-scale") { notes.append("--cnn-scale is ignored: it scales the CNN (--model cnn), and the model is fc") }
    case .cnn:
      for flag in ["--depth", "--width"] where modelFlags.contains(flag) {
        notes.append("\(flag) is ignored: it shapes the fc net, and the model is the paper's CNN (--cnn-scale scales it)")
      }
    }
    if data.source == .synthetic {
      for flag in ["--data-dir", "--balanced"] where dataFlags.contains(flag) {
        notes.append("\(flag) is ignored with --data synthetic (it applies to data files)")
      }
    }
    return notes
  }

  /// The learning-rate schedule: linear warm-up over `warmupSteps`, else constant.
  public var schedule: LearningRateSchedule { warmupSteps > 0 ? .linearWarmup(steps: warmupSteps) : .constant }

  /// One line: "adam η = 0.001 on fashion-mnist n = 1000, fc 2×200 tanh, mse, float32".
  public var summary: String {
    "\(method.summary) on \(data.summary), \(model.summary), \(loss.rawValue), \(dtype.rawValue)"
      + (batchSize.map { ", batch \($0)" } ?? "") + (warmupSteps > 0 ? ", warm-up \(warmupSteps)" : "")
  }

  // MARK: config.json

  static func encoder() -> JSONEncoder {
    let e = JSONEncoder()
    e.outputFormatting = [.prettyPrinted, .sortedKeys]
    e.keyEncodingStrategy = .convertToSnakeCase
    return e
  }

  static func decoder() -> JSONDecoder {
    let d = JSONDecoder()
    d.keyDecodingStrategy = .convertFromSnakeCase
    return d
  }

  /// config.json: the settings (snake_case keys) and a "provenance" object.
  public func configJSON(provenance: [String: String]) throws -> Data {
    let settings = try Self.encoder().encode(self)
    guard var object = try JSONSerialization.jsonObject(with: settings) as? [String: Any] else {
      throw TrainingError("internal: the settings did not encode as a JSON object")
    }
    object["provenance"] = provenance
    return try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])
  }

  /// Reads the settings of a config.json (its provenance is ignored).
  public static func read(configJSON data: Data, path: String) throws -> TrainConfig {
    guard !data.isEmpty else { throw TrainingError("\(path) is empty: expected the JSON configuration that `aeos train` writes") }
    do { return try decoder().decode(TrainConfig.self, from: data) } catch {
      throw TrainingError("\(path) is not a training configuration this version can read: \(describeDecoding(error))")
    }
  }
}

/// Refuses a model whose run cannot fit in this machine's memory: the parameters, the
/// gradient and the optimizer's state in the run's precision (about 6 vectors of p) and
/// the Lanczos basis in float64 (one vector of p per iteration, plus the warm starts).
/// - Throws: `TrainingError` naming the parameter count, the memory needed and the memory there is.
public func checkFitsInMemory(parameters p: Int, scalarSize: Int, lanczosIterations: Int, topK: Int) throws {
  let bytes = Double(p) * (Double(scalarSize) * 6 + 8 * Double(lanczosIterations + 3 * topK + 4))
  let available = Double(ProcessInfo.processInfo.physicalMemory)
  guard bytes <= 0.8 * available else {
    throw TrainingError(
      "the model has \(p) parameters: a run needs about \(String(format: "%.3g", bytes / 1_073_741_824)) GiB (6 vectors in its precision and \(lanczosIterations + 3 * topK + 4) float64 vectors for Lanczos), more than 80 % of this machine's \(String(format: "%.3g", available / 1_073_741_824)) GiB; use a smaller --width or --depth, or fewer --lanczos-iterations")
  }
}


/// Where and with what a run was made: toolkit version, git commit if known, BLAS
/// library and threads, CPU.
public func provenance() -> [String: String] {
  var p: [String: String] = [
    "toolkit_version": toolkitVersion,
    "blas_library": BLASInfo.cblasLibraryPath ?? "unknown",
    "blas_core": BLASInfo.coreSelection.summary,
    "blas_threads": String(BLASInfo.threads),
    "cpu": BLASInfo.cpuName ?? "unknown",
    "cores": String(ProcessInfo.processInfo.activeProcessorCount),
    "host": ProcessInfo.processInfo.hostName,
    "started": ISO8601DateFormatter().string(from: Date()),
  ]
  if let commit = gitCommit() { p["git_commit"] = commit }
  return p
}

/// The git commit of the toolkit's source tree, when the binary runs from a checkout
/// (…/.build/…/aeos) and git is available; nil otherwise.
func gitCommit() -> String? {
  let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
  var dir = URL(fileURLWithPath: exe).deletingLastPathComponent()
  while dir.path != "/" && dir.lastPathComponent != ".build" { dir = dir.deletingLastPathComponent() }
  guard dir.lastPathComponent == ".build" else { return nil }
  let root = dir.deletingLastPathComponent()
  guard FileManager.default.fileExists(atPath: root.appendingPathComponent(".git").path) else { return nil }
  guard let (status, data) = ToolOutput.run(["git", "-C", root.path, "rev-parse", "HEAD"]), status == 0 else { return nil }
  let s = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
  return s.isEmpty ? nil : s
}
