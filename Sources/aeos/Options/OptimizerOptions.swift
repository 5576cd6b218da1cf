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

  /// Where the hyper-parameters go: a threshold or growth factor (which comes from the
  /// recurrence the method freezes to) or a run of the method itself.
  enum Use { case theory, run }

  /// The flags given that `kind` does not use, each with the reason.
  func ignored(for kind: OptimizerKind, use: Use) -> [(flag: String, reason: String)] {
    let t = kind.traits
    let name = kind.rawValue
    var out: [(String, String)] = []
    if beta1 != nil && !kind.usesMomentum { out.append(("--beta1", "\(name), which has no momentum")) }
    let frozen = "the threshold of \(name): it is that of the recurrence \(name) freezes to, which depends on η and β₁ only"
    func second(_ flag: String, _ given: Bool, _ uses: Bool, _ why: String) {
      guard given else { return }
      if !uses { out.append((flag, "\(name), \(why)")) } else if use == .theory { out.append((flag, frozen)) }
    }
    second("--beta2", beta2 != nil, kind.usesBeta2, kind.isPreconditioned ? "whose second moment has no decay β₂" : "which has no second moment")
    second("--eps", eps != nil, kind.isPreconditioned, "which has no preconditioner")
    second("--bias-correction", biasCorrection, t.biasCorrection, "which has no bias correction")
    second("--padam-p", padamP != nil, t.root == .padam, "which is not padam")
    if weightDecay != nil && !t.decoupledDecay { out.append(("--weight-decay", "\(name) (only adamw decays the weights)")) }
    return out
  }

  /// Notes on stderr for every flag given that `kind` does not use.
  func noteIgnored(for kind: OptimizerKind, use: Use) {
    for (flag, reason) in ignored(for: kind, use: use) { printError("note: \(flag) is ignored for \(reason)") }
  }

  /// Notes on stderr for every hyper-parameter flag given with --rule besides --lr and
  /// --beta1 (a rule's parameters come from --param; --beta1 is handled with them).
  func noteIgnoredForRule() {
    let given = [("--beta2", beta2 != nil), ("--eps", eps != nil), ("--weight-decay", weightDecay != nil), ("--bias-correction", biasCorrection), ("--padam-p", padamP != nil)]
    for (flag, isGiven) in given where isGiven {
      printError("note: \(flag) is ignored with --rule: a rule's parameters are set by --param NAME=VALUE")
    }
  }

  /// Warns on stderr when --beta1 is given to a method without momentum.
  func noteIgnoredBeta(for name: String) {
    if let kind = OptimizerKind(rawValue: name) { noteIgnored(for: kind, use: .theory) }
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
    if let optimizer, rule != nil {
      // Naming the positional value shows when a stray word was taken for the optimizer.
      throw ValidationError("give either an OPTIMIZER (here \"\(optimizer)\") or --rule, not both")
    }
    if optimizer != nil && !params.isEmpty { throw ValidationError("--param applies to --rule; built-in optimizers take --beta1, --weight-decay, …") }
  }

  /// The --param values; a name given twice, `eta`, or a value that is not a finite
  /// number is refused.
  func parameterValues() throws -> [String: Double] {
    try parseParameterAssignments(params)
  }

  func subject(_ o: OptimizerOptions, lr: Double) throws -> TheorySubject {
    if let rule {
      o.noteIgnoredForRule()
      let subject = try TheorySubject.rule(rule, parameters: parameterValues(), beta1: o.beta1)
      for note in subject.notes { printError("note: \(note)") }
      return subject
    }
    let name = optimizer ?? ""
    // The values are checked before the notes, so a refused value is not first called ignored.
    let subject = try TheorySubject.optimizer(name, o.hyperparameters(lr: lr))
    o.noteIgnoredBeta(for: name)
    return subject
  }
}
