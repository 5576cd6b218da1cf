import LinearAlgebra
import NeuralEngine
import Optimizers

/// The update rule of a training run with its state: one of the 14 optimizers, or a
/// user-written linear rule run per coordinate. The training loop sees one interface.
struct MethodRunner<T: BLASScalar & OptimizerScalar> {
  enum Core {
    case optimizer(Optimizer, OptimizerState<T>)
    case rule(RuleOptimizer, RuleState<T>)
  }

  private(set) var core: Core
  /// Number of parameters.
  let count: Int
  /// Name in reports: the optimizer's name, or "rule".
  let name: String
  /// The frozen recurrence whose threshold the governing sharpness is held against.
  let recurrence: Recurrence
  private var thresholds: [Double: Double] = [:]

  /// - Throws: `TrainingError` for bad settings (names the value).
  init(spec: MethodSpec, layout: ParameterLayout, schedule: LearningRateSchedule, secondMoment: [T]? = nil) throws {
    count = layout.count
    guard let kind = try spec.kind() else {
      do {
        let rule = try RuleOptimizer(
          rule: spec.rule ?? "", parameters: spec.parameters, lr: spec.hyperparameters.lr, schedule: schedule)
        core = .rule(rule, rule.initialState(count: layout.count, as: T.self))
        recurrence = rule.recurrence
      } catch {
        throw TrainingError("\(error)")
      }
      if secondMoment != nil { throw TrainingError("--nu0 applies to preconditioned optimizers, not to --rule") }
      name = "rule"
      return
    }
    do {
      let optimizer = try Optimizer(kind, spec.hyperparameters, layout: layout, schedule: schedule)
      let state: OptimizerState<T> = try optimizer.initialState(secondMoment: secondMoment)
      core = .optimizer(optimizer, state)
      recurrence = optimizer.recurrence
    } catch let e as TrainingError {
      throw e
    } catch {
      throw TrainingError("\(error)")
    }
    name = kind.rawValue
  }

  var isPreconditioned: Bool {
    switch core {
    case .optimizer(let o, _): o.isPreconditioned
    case .rule: false
    }
  }

  /// "sharpness" or "preconditioned sharpness".
  var quantity: String { isPreconditioned ? "preconditioned sharpness" : "sharpness" }

  /// Updates applied so far.
  var stepCount: Int {
    switch core {
    case .optimizer(_, let s): s.step
    case .rule(_, let s): s.step
    }
  }

  func learningRate(at step: Int) -> Double {
    switch core {
    case .optimizer(let o, _): o.learningRate(at: step)
    case .rule(let r, _): r.learningRate(at: step)
    }
  }

  /// The threshold of the frozen recurrence at learning rate `lr` (cached per value).
  mutating func threshold(lr: Double) throws -> Double {
    if let t = thresholds[lr] { return t }
    let t = try recurrence.threshold(lr: lr)
    thresholds[lr] = t
    return t
  }

  /// The diagonal P the next step applies if its gradient is `gradient`; nil without P.
  func preconditioner(forGradient gradient: [T]) -> [T]? {
    switch core {
    case .optimizer(let o, let s): o.preconditioner(forGradient: gradient, state: s)
    case .rule: nil
    }
  }

  /// The P the last step applied (from the state), nil without P or before a step.
  var lastPreconditioner: [T]? {
    switch core {
    case .optimizer(let o, let s): o.preconditioner(s)
    case .rule: nil
    }
  }

  /// Fixes P at `p` for every later step.
  mutating func freezePreconditioner(at p: [T]) {
    switch core {
    case .optimizer(let o, var s):
      guard o.isPreconditioned else { return }
      s.frozenPreconditioner = p
      core = .optimizer(o, s)
    case .rule: return
    }
  }

  var isFrozen: Bool {
    switch core {
    case .optimizer(_, let s): s.frozenPreconditioner != nil
    case .rule: false
    }
  }

  /// One update of `x` with the gradient at x (`gradient`); `gradientAt` gives the
  /// gradient at another point (look-ahead rules).
  mutating func step(_ x: inout [T], gradient: [T], gradientAt: ([T]) throws -> [T]) throws {
    switch core {
    case .optimizer(let o, var s):
      o.step(parameters: &x, gradient: gradient, state: &s)
      core = .optimizer(o, s)
    case .rule(let r, var s):
      try r.step(parameters: &x, state: &s, gradientAtIterate: gradient, gradient: gradientAt)
      core = .rule(r, s)
    }
  }

  /// The state arrays by name, for the checkpoint (a rule's by its state variables).
  var stateArrays: [String: [T]] {
    switch core {
    case .optimizer(_, let s): s.arrays
    case .rule(_, let s): s.vectors
    }
  }

  /// Restores the state from a checkpoint.
  mutating func restore(step: Int, arrays: [String: [T]]) throws {
    switch core {
    case .optimizer(let o, _):
      do {
        let s = try OptimizerState<T>(step: step, arrays: arrays)
        try o.validate(s)
        core = .optimizer(o, s)
      } catch {
        throw TrainingError("the optimizer state in the checkpoint does not fit this run: \(error)")
      }
    case .rule(let r, _):
      let s = RuleState<T>(step: step, vectors: arrays)
      do { try r.validate(s, count: count) } catch {
        throw TrainingError("the rule's state in the checkpoint does not fit this run: \(error)")
      }
      core = .rule(r, s)
    }
  }
}
