import ArgumentParser
import Experiments
import Foundation

/// `aeos train`: a tracked training run into a run folder.
struct Train: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Train a network while measuring its sharpness λ₁(H) and preconditioned sharpness λ₁(P⁻¹H) against the optimizer's threshold.",
    discussion: """
      Step t computes the loss and gradient at x_t; every --track-every steps it measures λ₁(H) at x_t by Lanczos \
      on exact Hessian-vector products (float64 Lanczos, HVPs in --dtype), warm-started from the last measurement, \
      and for a preconditioned method also λ₁(P^{-1/2}HP^{-1/2}) with the P that step t applies; the threshold is the one \
      `Dynamics` derives for the method at that step's learning rate (`aeos threshold`), and ratio = governing sharpness / \
      threshold. Curvature is always on the full training subset (or its first --curvature-n examples), also in minibatch runs.

      The run folder (--out DIR): config.json, metrics.jsonl (one JSON object per step, written as it goes: step, loss, \
      accuracy, grad_norm, lr, wall_s; on tracked steps sharpness, preconditioned_sharpness, threshold, ratio, test_loss, \
      test_accuracy, hvps, residual, and top_k, lambda_min, gradient_top_k_fraction when asked), summary.json (status, \
      onset_step, plateau, verdict, …), checkpoint.safetensors (weights under PyTorch names: dense0.weight [out, in], …), \
      optimizer.safetensors and curvature.safetensors (for --resume). A run of N steps records steps 0…N and applies N updates.

      Exit status: 0 completed, 3 diverged (the loss became non-finite or exceeded --divergence-loss), 130 interrupted \
      (SIGINT or SIGTERM: the run checkpoints first; continue it with --resume). The run folder is complete in every case.

      Examples:
        aeos train --out runs/gd --optimizer gd --lr 0.04 --steps 1000
        aeos train --out runs/adam --optimizer adam --lr 1e-3 --steps 2000 --track-every 20
        aeos train --out runs/qhm --rule "m' = beta*m + (1-beta)*g; x' = x - eta*((1-nu)*g + nu*m')" \\
          --param beta=0.9 --param nu=0.7 --lr 0.02 --steps 1000
        aeos train --out runs/adam --resume --steps 4000
      """)

  @Option(help: ArgumentHelp("The run folder (created if missing).", valueName: "dir"))
  var out: String

  @Flag(help: "Overwrite the run files of an existing --out folder.")
  var force = false

  @Flag(help: "Continue the interrupted (or finished) run in --out from its checkpoint; its settings come from its config.json (only --steps may change).")
  var resume = false

  @OptionGroup(title: "Model") var modelOptions: ModelOptions
  @OptionGroup(title: "Data") var dataOptions: DataOptions
  @OptionGroup(title: "Method") var methodOptions: MethodOptions
  @OptionGroup(title: "Hyper-parameters") var optimizerOptions: OptimizerOptions

  @Option(name: .customLong("init"), help: ArgumentHelp("Initial weights from a safetensors file (names and shapes as the checkpoint's) instead of the seeded initialisation.", valueName: "file.safetensors"))
  var initFile: String?

  @Option(name: .customLong("nu0"), help: ArgumentHelp("Initial second moment ν from a safetensors file with a tensor \"nu\" (e.g. an adam run's optimizer.safetensors); required for frozen-adam.", valueName: "file.safetensors"))
  var nu0File: String?

  @Option(name: .customLong("batch-size"), parsing: .unconditional, help: "Minibatches of this size from a seeded permutation per epoch (default: full batch).")
  var batchSize: Int?

  @Option(name: .customLong("warmup-steps"), parsing: .unconditional, help: "Linear learning-rate warm-up: η_t = η·min(1, (t+1)/W) (default: 0, none).")
  var warmupSteps: Int?

  @Option(parsing: .unconditional, help: "Steps to run (default: 1000).")
  var steps: Int?

  @Option(name: .customLong("target-loss"), parsing: .unconditional, help: "Stop once the training loss is at or below this.")
  var targetLoss: Double?

  @Option(name: .customLong("target-accuracy"), parsing: .unconditional, help: "Stop once the training accuracy is at or above this, in (0, 1].")
  var targetAccuracy: Double?

  @Option(name: .customLong("track-every"), parsing: .unconditional, help: "Measure the curvature every k steps (default: 10).")
  var trackEvery: Int?

  @Option(name: .customLong("top-k"), parsing: .unconditional, help: "Record the top-k eigenvalues of the governing operator (default: 1).")
  var topK: Int?

  @Option(name: .customLong("curvature-n"), parsing: .unconditional, help: "Measure the curvature on the first M training examples (default: all n).")
  var curvatureN: Int?

  @Option(name: .customLong("freeze-preconditioner-at"), parsing: .unconditional, help: "From this step on, fix P at the one that step applies (Figure 16 of the AEoS paper).")
  var freezePreconditionerAt: Int?

  @Flag(name: .customLong("lambda-min"), help: "Also record λ_min(H) on tracked steps.")
  var lambdaMin = false

  @Flag(name: .customLong("gradient-alignment"), help: "Also record the fraction of ‖P^{-1/2}g‖² in the top-k eigenvectors (Figure 18).")
  var gradientAlignment = false

  @Option(name: .customLong("divergence-loss"), parsing: .unconditional, help: "A loss above this counts as divergence (default: 1000 × the initial loss).")
  var divergenceLoss: Double?

  @Option(name: .customLong("lanczos-tolerance"), parsing: .unconditional, help: "Lanczos stops when ‖Hv − θv‖ ≤ tol·|θ₁| (default: 1e-4).")
  var lanczosTolerance: Double?

  @Option(name: .customLong("lanczos-iterations"), parsing: .unconditional, help: "Lanczos iterations at most per measurement (default: 100).")
  var lanczosIterations: Int?

  @Option(name: .customLong("checkpoint-every"), parsing: .unconditional, help: "Write the checkpoint every this many steps, besides the end and signals (default: 100).")
  var checkpointEvery: Int?

  @Option(parsing: .unconditional, help: "Engine workers, one part of the data each (default: one per core). Results are bit-identical for one count.")
  var threads: Int?

  @Option(name: .customLong("chunk-size"), parsing: .unconditional, help: "Examples per chunk and worker (default: 500).")
  var chunkSize: Int?

  @Flag(help: "No progress display; only the summary.")
  var quiet = false

  /// The flags --resume accepts besides --out (the others come from the run's config.json).
  private var runFlagsGiven: [String] {
    var given: [String] = []
    if modelOptions.anyGiven { given.append("model flags (--model/--depth/--width/--activation)") }
    if dataOptions.anyGiven { given.append("data flags (--data/--n/--loss/--dtype/--seed/…)") }
    if methodOptions.anyGiven { given.append("--optimizer/--rule/--param") }
    if optimizerOptions.anyGiven { given.append("hyper-parameters (--lr/--beta1/…)") }
    let others: [(String, Bool)] = [
      ("--init", initFile != nil), ("--nu0", nu0File != nil), ("--batch-size", batchSize != nil), ("--warmup-steps", warmupSteps != nil),
      ("--target-loss", targetLoss != nil), ("--target-accuracy", targetAccuracy != nil), ("--track-every", trackEvery != nil),
      ("--top-k", topK != nil), ("--curvature-n", curvatureN != nil), ("--freeze-preconditioner-at", freezePreconditionerAt != nil),
      ("--lambda-min", lambdaMin), ("--gradient-alignment", gradientAlignment), ("--divergence-loss", divergenceLoss != nil),
      ("--lanczos-tolerance", lanczosTolerance != nil), ("--lanczos-iterations", lanczosIterations != nil),
      ("--checkpoint-every", checkpointEvery != nil), ("--threads", threads != nil), ("--chunk-size", chunkSize != nil),
    ]
    return given + others.filter(\.1).map(\.0)
  }

  func validate() throws {
    if out.isEmpty { throw ValidationError("--out is empty: give the run folder") }
    if force && resume { throw ValidationError("--force and --resume exclude each other: --force starts over, --resume continues") }
    if resume {
      let given = runFlagsGiven
      if !given.isEmpty {
        throw ValidationError("--resume takes the run's settings from \(out)/config.json; drop \(given.joined(separator: ", ")) (only --steps may change)")
      }
    } else {
      try optimizerOptions.requireLR()
      if methodOptions.optimizer == nil && methodOptions.rule == nil {
        throw ValidationError("give --optimizer NAME (\(OptimizerKind.allNames)) or --rule \"RULES\"")
      }
    }
    if let s = steps, s < 0 { throw ValidationError("invalid --steps \(s): expected an integer ≥ 0") }
  }

  /// The resolved configuration of a fresh run.
  func config() throws -> TrainConfig {
    var h = optimizerOptions.hyperparameters(lr: optimizerOptions.learningRate)
    var params = try methodOptions.parameterValues()
    if let rule = methodOptions.rule {
      if let b = optimizerOptions.beta1 { h.beta1 = b }
      optimizerOptions.noteIgnoredForRule()
      for note in try resolveBeta(parameters: &params, beta1: optimizerOptions.beta1, ruleParameters: RuleCache.model(for: rule).rule.parameters) {
        printError("note: \(note)")
      }
    }
    var c = TrainConfig(method: MethodSpec(optimizer: methodOptions.optimizer, rule: methodOptions.rule, parameters: params, hyperparameters: h))
    c.model = modelOptions.spec
    c.data = dataOptions.spec
    c.loss = dataOptions.loss ?? c.loss
    c.dtype = dataOptions.dtype ?? c.dtype
    c.seed = dataOptions.seed ?? c.seed
    c.initFile = initFile
    c.nu0File = nu0File
    c.batchSize = batchSize
    c.warmupSteps = warmupSteps ?? c.warmupSteps
    c.steps = steps ?? c.steps
    c.targetLoss = targetLoss
    c.targetAccuracy = targetAccuracy
    c.trackEvery = trackEvery ?? c.trackEvery
    c.topK = topK ?? c.topK
    c.curvatureN = curvatureN
    c.freezePreconditionerAt = freezePreconditionerAt
    c.lambdaMin = lambdaMin
    c.gradientAlignment = gradientAlignment
    c.divergenceLoss = divergenceLoss
    c.lanczosTolerance = lanczosTolerance ?? c.lanczosTolerance
    c.lanczosIterations = lanczosIterations ?? c.lanczosIterations
    c.checkpointEvery = checkpointEvery ?? c.checkpointEvery
    c.threads = threads ?? c.threads
    c.chunkSize = chunkSize ?? c.chunkSize
    if let kind = OptimizerKind(rawValue: methodOptions.optimizer ?? "") { optimizerOptions.noteIgnored(for: kind, use: .run) }
    for note in c.inapplicableNotes(modelFlags: modelOptions.given, dataFlags: dataOptions.given) { printError("note: \(note)") }
    return c
  }

  func run() throws {
    let display = ProgressDisplay(enabled: !quiet)
    Interrupts.install()
    defer { Interrupts.uninstall() }
    let summary: RunSummary
    let configuration: TrainConfig
    do {
      if resume {
        let folder = try RunFolder.open(at: out)
        configuration = try folder.readConfig()
        display.begin("resuming \(out): \(configuration.summary)")
        summary = try Training.resume(folder, steps: steps) { display.update($0) }
      } else {
        configuration = try config()
        try configuration.validate()
        let folder = try RunFolder.create(at: out, force: force)
        display.begin("training \(configuration.summary) into \(out)")
        summary = try Training.start(configuration, folder: folder) { display.update($0) }
      }
    } catch let e as TrainingError {
      display.end()
      throw usageFailure(e.description)
    }
    display.end()
    print(Self.report(summary, folder: out))
    switch summary.status {
    case .completed: return
    case .diverged: throw ExitCode(3)
    case .interrupted: throw ExitCode(130)
    case .failed: throw ExitCode(1)
    }
  }

  /// The lines printed at the end of a run.
  static func report(_ s: RunSummary, folder: String) -> String {
    var lines = ["run folder: \(folder)"]
    lines.append("status: \(s.status.rawValue) (\(s.stopReason)) after \(s.steps) steps")
    lines.append("threshold: \(formatHuman(s.threshold))\(s.formula.map { " = \($0)" } ?? "") on the \(s.quantity)")
    lines.append("edge: \(s.analysis.summary)")
    if let l = s.finalLoss { lines.append("final loss \(formatHuman(l)), accuracy \(s.finalAccuracy.map(formatHuman) ?? "n/a")") }
    lines.append("wall time: \(String(format: "%.1f", s.wallSeconds)) s")
    return lines.joined(separator: "\n")
  }
}

/// The progress of a run on stderr: a bar with the step, loss, latest ratio and ETA
/// on a terminal; one plain line per tracked step otherwise.
final class ProgressDisplay {
  let enabled: Bool
  let terminal = isatty(2) != 0
  private var started = Date()
  private var firstStep: Int?
  private var lastDraw = Date.distantPast
  private var drawn = false

  init(enabled: Bool) { self.enabled = enabled }

  func begin(_ line: String) {
    started = Date()
    if enabled { printError(line) }
  }

  func update(_ p: Trainer<Float>.Progress) {
    guard enabled else { return }
    let r = p.record
    if firstStep == nil { firstStep = r.step }
    if terminal {
      let now = Date()
      guard now.timeIntervalSince(lastDraw) > 0.1 || r.step >= p.lastStep else { return }
      lastDraw = now
      let done = Double(r.step - (firstStep ?? 0)), todo = Double(max(p.lastStep - (firstStep ?? 0), 1))
      let fraction = min(max(Double(r.step) / Double(max(p.lastStep, 1)), 0), 1)
      let width = 24
      let filled = Int((fraction * Double(width)).rounded(.down))
      let bar = String(repeating: "█", count: filled) + String(repeating: "·", count: width - filled)
      let elapsed = now.timeIntervalSince(started)
      let eta = done > 0 ? elapsed / done * (todo - done) : .nan
      var line = "\r\(bar) step \(r.step)/\(p.lastStep)  loss \(String(format: "%.4g", r.loss))"
      if let ratio = p.latestRatio { line += "  ratio \(String(format: "%.3f", ratio))" }
      if eta.isFinite { line += "  ETA \(Self.duration(eta))" }
      FileHandle.standardError.write(Data((line + "\u{1B}[K").utf8))
      drawn = true
    } else if let c = r.curvature {
      var line = "step \(r.step)/\(p.lastStep)  loss \(String(format: "%.6g", r.loss))"
      if let s = c.sharpness { line += "  sharpness \(String(format: "%.6g", s))" }
      if let s = c.preconditionedSharpness { line += "  preconditioned \(String(format: "%.6g", s))" }
      line += "  threshold \(String(format: "%.6g", c.threshold))"
      if let ratio = c.ratio { line += "  ratio \(String(format: "%.4f", ratio))" }
      printError(line)
    }
  }

  func end() {
    if drawn { FileHandle.standardError.write(Data("\n".utf8)) }
    drawn = false
  }

  static func duration(_ s: Double) -> String {
    let t = Int(s.rounded())
    return t >= 3600 ? String(format: "%d:%02d:%02d", t / 3600, t / 60 % 60, t % 60) : String(format: "%d:%02d", t / 60, t % 60)
  }
}
