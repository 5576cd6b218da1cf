import Dynamics

/// Every optimizer of Cohen et al. 2022 (DESIGN.md, "Background"), by its
/// command-line name. What each one does is its `traits`, one value per method.
public enum OptimizerKind: String, CaseIterable, Sendable, Codable {
  case gd, hb
  case emaHB = "ema-hb"
  case nesterov
  case emaNesterov = "ema-nesterov"
  case rmsprop, adagrad, adam, adamw, amsgrad, padam, nadam, adafactor
  case frozenAdam = "frozen-adam"

  /// All names, space-separated, for help and error messages.
  public static var allNames: String { allCases.map(\.rawValue).joined(separator: " ") }

  /// The method, as pieces: the one place that says what each optimizer is. Adding a
  /// method is one arm here (plus its name above).
  public var traits: OptimizerTraits {
    switch self {
    case .gd: OptimizerTraits(momentum: .none, direction: .gradient)
    case .hb: OptimizerTraits(momentum: .plain, direction: .momentum)
    case .emaHB: OptimizerTraits(momentum: .ema, direction: .momentum)
    case .nesterov: OptimizerTraits(momentum: .plain, direction: .nesterov)
    case .emaNesterov: OptimizerTraits(momentum: .ema, direction: .nesterov)
    case .rmsprop: OptimizerTraits(momentum: .none, direction: .gradient, secondMoment: .ema)
    case .adagrad: OptimizerTraits(momentum: .none, direction: .gradient, secondMoment: .sum)
    case .adam: OptimizerTraits(momentum: .ema, direction: .momentum, secondMoment: .ema, biasCorrection: true)
    case .adamw: OptimizerTraits(momentum: .ema, direction: .momentum, secondMoment: .ema, biasCorrection: true, decoupledDecay: true)
    case .amsgrad: OptimizerTraits(momentum: .ema, direction: .momentum, secondMoment: .emaRunningMax, biasCorrection: true)
    case .padam: OptimizerTraits(momentum: .ema, direction: .momentum, secondMoment: .ema, root: .padam, biasCorrection: true)
    case .nadam: OptimizerTraits(momentum: .ema, direction: .nesterov, secondMoment: .ema, biasCorrection: true)
    case .adafactor: OptimizerTraits(momentum: .ema, direction: .momentum, secondMoment: .factored, biasCorrection: true)
    case .frozenAdam: OptimizerTraits(momentum: .ema, direction: .momentum, secondMoment: .fixed)
    }
  }

  /// Whether the method applies a diagonal preconditioner P (x ← x − ηP⁻¹·…);
  /// then its threshold governs λ₁(P⁻¹H) rather than λ₁(H).
  public var isPreconditioned: Bool { traits.secondMoment != .none }

  /// Whether the method has a momentum parameter β₁ (`--beta1`).
  public var usesMomentum: Bool { traits.momentum != .none }

  /// Whether the method keeps a second-moment EMA with decay β₂ (`--beta2`).
  public var usesBeta2: Bool {
    switch traits.secondMoment {
    case .ema, .emaRunningMax, .factored: true
    case .none, .sum, .fixed: false
    }
  }

  /// The governing quantity named in reports.
  public var quantity: String { isPreconditioned ? "preconditioned sharpness" : "sharpness" }

  /// The linear recurrence this method freezes to on a quadratic (with P fixed),
  /// read off its momentum, direction and decay: its threshold and growth factor
  /// come from `Dynamics`, never from a table.
  public func frozenRecurrence(_ h: Hyperparameters) -> Recurrence {
    let t = traits
    switch (t.momentum, t.direction) {
    case (.none, _): return .builtin(.gd)
    case (.plain, .nesterov): return .builtin(.nesterov, beta: h.beta1)
    case (.plain, _): return .builtin(.hb, beta: h.beta1)
    case (.ema, .nesterov): return .builtin(.emaNesterov, beta: h.beta1)
    case (.ema, _):
      return t.decoupledDecay ? .emaHeavyBallWithDecay(beta: h.beta1, weightDecay: h.weightDecay) : .builtin(.emaHB, beta: h.beta1)
    }
  }
}

/// What an optimizer does, in pieces (optax's view: a method is a chain of
/// transformations). With g the gradient, s = t + 1 the step count:
///
/// - `momentum`: none; `plain`, m ← β₁m + g; `ema`, m ← β₁m + (1−β₁)g.
/// - `direction`, what P⁻¹ (or I) is applied to: `gradient` g; `momentum` m;
///   `nesterov` β₁m + c·g with c the momentum's coefficient of g (1 or 1 − β₁).
/// - `secondMoment`, what P is made of: none (P = I); `ema` ν ← β₂ν + (1−β₂)g²;
///   `sum` ν ← ν + g²; `emaRunningMax` ν as `ema` and ν̂ ← max(ν̂, ν) in P;
///   `factored` Adafactor's row and column EMAs on matrix blocks; `fixed` ν₀ never
///   changes.
/// - `root`: P = √ν + ε (`squareRoot`) or ν^p + ε (`padam`).
/// - `biasCorrection`: whether `--bias-correction` applies (P = (1−β₁ˢ)(root(ν/(1−β₂ˢ)) + ε)).
/// - `decoupledDecay`: x ← x − η·wd·x besides the step (AdamW).
public struct OptimizerTraits: Sendable, Hashable {
  public enum Momentum: Sendable, Hashable { case none, plain, ema }
  public enum Direction: Sendable, Hashable { case gradient, momentum, nesterov }
  public enum SecondMoment: Sendable, Hashable { case none, ema, sum, emaRunningMax, factored, fixed }
  public enum Root: Sendable, Hashable { case squareRoot, padam }

  public var momentum: Momentum
  public var direction: Direction
  public var secondMoment: SecondMoment = .none
  public var root: Root = .squareRoot
  public var biasCorrection = false
  public var decoupledDecay = false

  public init(
    momentum: Momentum, direction: Direction, secondMoment: SecondMoment = .none, root: Root = .squareRoot,
    biasCorrection: Bool = false, decoupledDecay: Bool = false
  ) {
    self.momentum = momentum
    self.direction = direction
    self.secondMoment = secondMoment
    self.root = root
    self.biasCorrection = biasCorrection
    self.decoupledDecay = decoupledDecay
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

  /// Checks every value the method uses against its accepted range; the error names
  /// the value.
  public func validate(for kind: OptimizerKind) throws(HyperparameterError) {
    let t = kind.traits
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
    if t.root == .padam {
      guard padamP.isFinite, padamP > 0, padamP <= 0.5 else {
        throw .outOfRange(name: "padam-p", value: padamP, expected: "a number in (0, 0.5]")
      }
    }
  }
}
