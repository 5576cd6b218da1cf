import ArgumentParser
import Experiments

/// Hyper-parameter flags shared by every command that names an optimizer
/// (DESIGN.md, "Command line contract").
struct OptimizerOptions: ParsableArguments {
  @Option(name: .long, parsing: .unconditional, help: "Learning rate η (> 0).")
  var lr: Double?

  @Option(name: .long, parsing: .unconditional, help: "Momentum β₁ in [0, 1) (default 0.9; ignored for gd, rmsprop, adagrad).")
  var beta1: Double?

  @Option(name: .long, parsing: .unconditional, help: "Second-moment decay β₂ in [0, 1) (default 0.999).")
  var beta2: Double?

  @Option(name: .long, parsing: .unconditional, help: "ε added to the preconditioner, > 0 (default 1e-7).")
  var eps: Double?

  @Option(name: .customLong("weight-decay"), parsing: .unconditional, help: "Decoupled weight decay of adamw, ≥ 0 (default 0).")
  var weightDecay: Double?

  @Flag(name: .customLong("bias-correction"), help: "Adam's bias correction (off by default, as in the paper).")
  var biasCorrection = false

  @Option(name: .customLong("padam-p"), parsing: .unconditional, help: "Padam's exponent p in (0, 0.5] (default 0.25).")
  var padamP: Double?

  /// --lr, when given, must be a finite number > 0 (commands that need it say so
  /// with `requireLR()` in their own `validate()`).
  func validate() throws {
    if let lr, !(lr.isFinite && lr > 0) { throw ValidationError("invalid --lr \(lr): expected a finite number > 0") }
  }

  /// For commands that need a learning rate: call from `validate()`.
  func requireLR() throws {
    guard lr != nil else { throw ValidationError("missing --lr: give the learning rate η, a finite number > 0") }
  }

  /// The learning rate (checked by `validate()`).
  var learningRate: Double { lr ?? .nan }

  /// Whether any hyper-parameter flag was given (for `--resume`, which takes them from the run).
  var anyGiven: Bool {
    lr != nil || beta1 != nil || beta2 != nil || eps != nil || weightDecay != nil || biasCorrection || padamP != nil
  }

  func hyperparameters(lr: Double) -> Hyperparameters {
    let d = Hyperparameters(lr: lr)
    return Hyperparameters(
      lr: lr, beta1: beta1 ?? d.beta1, beta2: beta2 ?? d.beta2, eps: eps ?? d.eps, weightDecay: weightDecay ?? d.weightDecay,
      biasCorrection: biasCorrection, padamP: padamP ?? d.padamP)
  }

  /// Warns on stderr when --beta1 is given to a method without momentum.
  func noteIgnoredBeta(for name: String) {
    if beta1 != nil, let kind = OptimizerKind(rawValue: name), !kind.usesMomentum {
      printError("note: --beta1 is ignored for \(name), which has no momentum")
    }
  }
}

/// The subject of a theory command: OPTIMIZER or --rule with --param values.
struct SubjectOptions: ParsableArguments {
  @Argument(help: ArgumentHelp("Optimizer: \(OptimizerKind.allNames).", valueName: "optimizer"))
  var optimizer: String?

  @Option(name: .long, help: "A linear optimizer in the rule language, e.g. \"m' = beta*m + g; x' = x - eta*m'\".")
  var rule: String?

  @Option(name: .customLong("param"), parsing: .singleValue, help: ArgumentHelp("A rule parameter value, NAME=VALUE (repeatable).", valueName: "name=value"))
  var params: [String] = []

  func validate() throws {
    if optimizer == nil && rule == nil { throw ValidationError("give an OPTIMIZER (\(OptimizerKind.allNames)) or --rule \"RULES\"") }
    if optimizer != nil && rule != nil { throw ValidationError("give either an OPTIMIZER or --rule, not both") }
    if optimizer != nil && !params.isEmpty { throw ValidationError("--param applies to --rule; built-in optimizers take --beta1, --weight-decay, …") }
  }

  func parameterValues() throws -> [String: Double] {
    var out: [String: Double] = [:]
    for p in params {
      let parts = p.split(separator: "=", maxSplits: 1).map(String.init)
      guard parts.count == 2, !parts[0].isEmpty else { throw ValidationError("malformed --param \"\(p)\": expected NAME=VALUE") }
      let name = parts[0].trimmingCharacters(in: .whitespaces)
      guard name != "eta" else { throw ValidationError("--param eta: the learning rate is set by --lr") }
      guard let v = Double(parts[1].trimmingCharacters(in: .whitespaces)), v.isFinite else {
        throw ValidationError("malformed --param \(name)=\(parts[1]): expected a finite number")
      }
      out[name] = v
    }
    return out
  }

  func subject(_ o: OptimizerOptions, lr: Double) throws -> TheorySubject {
    if let rule {
      return try TheorySubject.rule(rule, parameters: parameterValues(), beta1: o.beta1)
    }
    let name = optimizer ?? ""
    o.noteIgnoredBeta(for: name)
    return try TheorySubject.optimizer(name, o.hyperparameters(lr: lr))
  }
}
