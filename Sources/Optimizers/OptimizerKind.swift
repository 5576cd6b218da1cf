import Dynamics

/// Every optimizer of Cohen et al. 2022 (DESIGN.md, "Background"), by its
/// command-line name.
public enum OptimizerKind: String, CaseIterable, Sendable, Codable {
  case gd, hb
  case emaHB = "ema-hb"
  case nesterov
  case emaNesterov = "ema-nesterov"
  case rmsprop, adagrad, adam, adamw, amsgrad, padam, nadam, adafactor
  case frozenAdam = "frozen-adam"

  /// All names, space-separated, for help and error messages.
  public static var allNames: String { allCases.map(\.rawValue).joined(separator: " ") }

  /// Whether the method applies a diagonal preconditioner P (x ← x − ηP⁻¹·…);
  /// then its threshold governs λ₁(P⁻¹H) rather than λ₁(H).
  public var isPreconditioned: Bool {
    switch self {
    case .gd, .hb, .emaHB, .nesterov, .emaNesterov: false
    default: true
    }
  }

  /// Whether the method has a momentum parameter β₁ (`--beta1`).
  public var usesMomentum: Bool {
    switch self {
    case .gd, .rmsprop, .adagrad: false
    default: true
    }
  }

  /// Whether the method keeps a second-moment EMA with decay β₂ (`--beta2`).
  public var usesBeta2: Bool {
    switch self {
    case .rmsprop, .adam, .adamw, .amsgrad, .padam, .nadam, .adafactor, .frozenAdam: true
    default: false
    }
  }

  /// The governing quantity named in reports.
  public var quantity: String { isPreconditioned ? "preconditioned sharpness" : "sharpness" }

  /// The linear recurrence this method freezes to on a quadratic (with P fixed):
  /// its threshold and growth factor come from `Dynamics`, never from a table.
  public func frozenRecurrence(_ h: Hyperparameters) -> Recurrence {
    switch self {
    case .gd, .rmsprop, .adagrad: .builtin(.gd)
    case .hb: .builtin(.hb, beta: h.beta1)
    case .emaHB, .adam, .amsgrad, .padam, .adafactor, .frozenAdam: .builtin(.emaHB, beta: h.beta1)
    case .nesterov: .builtin(.nesterov, beta: h.beta1)
    case .emaNesterov, .nadam: .builtin(.emaNesterov, beta: h.beta1)
    case .adamw: .emaHeavyBallWithDecay(beta: h.beta1, weightDecay: h.weightDecay)
    }
  }
}

/// Hyper-parameters shared by all optimizers, with the paper's defaults
/// (DESIGN.md: β₁ = 0.9, β₂ = 0.999, ε = 1e-7, no bias correction, Padam p = 0.25).
public struct Hyperparameters: Sendable, Hashable, Codable {
  public var lr: Double
  public var beta1: Double = 0.9
  public var beta2: Double = 0.999
  public var eps: Double = 1e-7
  public var weightDecay: Double = 0
  public var biasCorrection: Bool = false
  public var padamP: Double = 0.25

  public init(
    lr: Double, beta1: Double = 0.9, beta2: Double = 0.999, eps: Double = 1e-7,
    weightDecay: Double = 0, biasCorrection: Bool = false, padamP: Double = 0.25
  ) {
    self.lr = lr
    self.beta1 = beta1
    self.beta2 = beta2
    self.eps = eps
    self.weightDecay = weightDecay
    self.biasCorrection = biasCorrection
    self.padamP = padamP
  }

  /// Checks every value against its accepted range; the error names the value.
  public func validate(for kind: OptimizerKind) throws(HyperparameterError) {
    guard lr.isFinite, lr > 0 else { throw .outOfRange(name: "lr", value: lr, expected: "a finite number > 0") }
    if kind.usesMomentum {
      guard beta1.isFinite, beta1 >= 0, beta1 < 1 else {
        throw .outOfRange(name: "beta1", value: beta1, expected: "a number in [0, 1)")
      }
    }
    if kind.usesBeta2 {
      guard beta2.isFinite, beta2 >= 0, beta2 < 1 else {
        throw .outOfRange(name: "beta2", value: beta2, expected: "a number in [0, 1)")
      }
    }
    if kind.isPreconditioned {
      guard eps.isFinite, eps > 0 else { throw .outOfRange(name: "eps", value: eps, expected: "a finite number > 0") }
    }
    guard weightDecay.isFinite, weightDecay >= 0 else {
      throw .outOfRange(name: "weight-decay", value: weightDecay, expected: "a finite number ≥ 0")
    }
    if kind == .padam {
      guard padamP.isFinite, padamP > 0, padamP <= 0.5 else {
        throw .outOfRange(name: "padam-p", value: padamP, expected: "a number in (0, 0.5]")
      }
    }
  }
}

/// A hyper-parameter outside its accepted range.
public enum HyperparameterError: Error, CustomStringConvertible, Equatable {
  case outOfRange(name: String, value: Double, expected: String)

  public var description: String {
    switch self {
    case let .outOfRange(name, value, expected): "invalid --\(name) \(value): expected \(expected)"
    }
  }
}
