import Dynamics
import LinearAlgebra

/// An optimizer of DESIGN.md's tables: a method (`kind`, whose pieces are
/// `kind.traits`), its hyper-parameters, the block layout of the parameter vector and
/// a learning-rate schedule. A value with
/// no hidden state; the state lives in `OptimizerState` and is passed in.
///
/// With g the gradient at x, η_t = lr·schedule(t), t the 0-based step and
/// s = t + 1 the count used by bias corrections, the update rules are:
///
/// | kind | rule |
/// |---|---|
/// | `gd` | x ← x − η g |
/// | `hb` | m ← βm + g; x ← x − η m |
/// | `ema-hb` | m ← βm + (1−β)g; x ← x − η m |
/// | `nesterov` | m ← βm + g; x ← x − η(βm + g) |
/// | `ema-nesterov` | m ← βm + (1−β)g; x ← x − η(βm + (1−β)g) |
/// | `rmsprop` | ν ← β₂ν + (1−β₂)g²; P = √ν + ε; x ← x − η P⁻¹g |
/// | `adagrad` | ν ← ν + g²; P = √ν + ε; x ← x − η P⁻¹g |
/// | `adam` | m ← β₁m + (1−β₁)g; ν ← β₂ν + (1−β₂)g²; P = √ν + ε; x ← x − η P⁻¹m |
/// | `adam`, bias correction | P = (1−β₁ˢ)(√(ν/(1−β₂ˢ)) + ε) — textbook Adam |
/// | `adamw` | adam, then decoupled decay: x ← x − η P⁻¹m − η·wd·x (x before the step) |
/// | `amsgrad` | adam with ν̂ ← max(ν̂, ν) (bias-corrected ν when correcting, as optax) and P = f(√ν̂ + ε) |
/// | `padam` | adam with P = ν^p + ε (bias correction: (1−β₁ˢ)((ν/(1−β₂ˢ))^p + ε)) |
/// | `nadam` | Dozat's Nadam, constant β₁: x ← x − η P⁻¹(β₁m + (1−β₁)g), m and P as adam |
/// | `adafactor` | adam whose ν is factored on matrix blocks (the [out, fan-in] view): R ← β₂R + (1−β₂)·rowmean(g²), C ← β₂C + (1−β₂)·colmean(g²), ν̂ᵢⱼ = RᵢCⱼ/mean(R); full ν on rank-1 blocks |
/// | `frozen-adam` | adam whose P = √ν + ε is fixed from the initial ν |
///
/// In every preconditioned method the P applied at step t is computed from ν
/// already updated with g_t, and `preconditioner(_:)` returns exactly that P.
///
/// Caveats, where frameworks differ:
/// - With bias correction, Nadam's two terms get different corrections
///   (optax, Dozat): x ← x − η(β₁m/(1−β₁ˢ⁺¹) + (1−β₁)g/(1−β₁ˢ))/(√ν̂ + ε); the P
///   reported is (1−β₁ˢ)(√ν̂ + ε), exact for the g term.
/// - Adafactor here keeps momentum of gradients (as Adam) rather than of
///   preconditioned updates, uses a constant β₂ (the paper's 1 − t^−0.8 schedule is
///   not used), adds ε to √ν̂ (the paper adds ε₁ = 1e-30 to g²), and has no update
///   clipping and no relative step size. Frozen, both forms are the same recurrence.
/// - Adafactor factors every block of rank ≥ 2 as its [out, fan-in] matrix
///   (`ParameterBlock.matrixShape`): a dense weight [out, in] as out × in, a
///   convolution kernel [F, C, K, K] as F × C·K·K (one statistic per filter and one
///   per input channel and kernel position). optax's `_factored_dims` instead factors
///   over the two largest dimensions of the shape, keeps the others as a batch, and
///   factors nothing whose second-largest dimension is below
///   `min_dim_size_to_factor` = 128 — so it keeps a full ν for the paper's
///   784-200-…-10 output layer [10, 200] and for 5×5 kernels, where we factor.
/// - rmsprop, adagrad and frozen-adam ignore `biasCorrection`; only adamw uses
///   `weightDecay`; gd, rmsprop and adagrad ignore `beta1`.
/// - frozen-adam: P never changes; `--freeze-preconditioner` (see
///   `freezePreconditioner(_:)`) does the same for any method after some step.
///
/// The threshold and growth factor come from the `Dynamics` recurrence the method
/// freezes to (`recurrence`), never from a table.
public struct Optimizer: Sendable, Hashable, Codable {
  public let kind: OptimizerKind
  public let hyperparameters: Hyperparameters
  public let layout: ParameterLayout
  public let schedule: LearningRateSchedule

  /// - Throws: `HyperparameterError` for a value out of range, `OptimizerError` for a bad schedule.
  public init(
    _ kind: OptimizerKind, _ hyperparameters: Hyperparameters, layout: ParameterLayout,
    schedule: LearningRateSchedule = .constant
  ) throws {
    try hyperparameters.validate(for: kind)
    try schedule.validate()
    self.kind = kind
    self.hyperparameters = hyperparameters
    self.layout = layout
    self.schedule = schedule
  }

  /// A flat parameter vector of `parameterCount` entries (one rank-1 block).
  public init(
    _ kind: OptimizerKind, _ hyperparameters: Hyperparameters, parameterCount: Int,
    schedule: LearningRateSchedule = .constant
  ) throws {
    guard parameterCount >= 0 else {
      throw OptimizerError("invalid parameter count \(parameterCount): expected an integer ≥ 0")
    }
    try self.init(kind, hyperparameters, layout: .flat(parameterCount), schedule: schedule)
  }

  // MARK: Theory

  /// The linear recurrence this method is on a quadratic once P is frozen.
  public var recurrence: Recurrence { kind.frozenRecurrence(hyperparameters) }

  /// Whether the threshold governs λ₁(P⁻¹H) (true) or λ₁(H).
  public var isPreconditioned: Bool { kind.isPreconditioned }

  /// "sharpness" or "preconditioned sharpness".
  public var quantity: String { kind.quantity }

  /// The stability threshold of `recurrence` at learning rate `lr` (default: the base lr).
  public func threshold(lr: Double? = nil) throws -> Double {
    try recurrence.threshold(lr: lr ?? hyperparameters.lr)
  }

  /// ρ(λ), the largest root modulus of `recurrence` at curvature λ (of P⁻¹H for
  /// preconditioned methods).
  public func growthFactor(eigenvalue: Double, lr: Double? = nil) throws -> Double {
    try recurrence.growthFactor(eigenvalue: eigenvalue, lr: lr ?? hyperparameters.lr)
  }

  /// η_t = lr · schedule.factor(t).
  @inlinable
  public func learningRate(at step: Int) -> Double { hyperparameters.lr * schedule.factor(at: step) }

  // MARK: State

  /// The state before the first step. `momentum` (m₀) and `secondMoment` (ν₀, the
  /// full vector even for adafactor, which keeps its row and column means) default
  /// to zeros; frozen-adam fixes P = √ν₀ + ε here.
  /// - Throws: `OptimizerError` for a wrong length, a negative or non-finite ν₀ or
  ///   m₀, or an initial vector the method does not keep.
  public func initialState<T: OptimizerScalar>(
    momentum: [T]? = nil, secondMoment: [T]? = nil, as _: T.Type = T.self
  ) throws -> OptimizerState<T> {
    let n = layout.count
    var state = OptimizerState<T>()
    if let m = momentum {
      guard kind.usesMomentum else { throw OptimizerError("an initial momentum was given, but \(kind.rawValue) keeps no momentum") }
      guard m.count == n else { throw OptimizerError("initial momentum has \(m.count) entries: expected \(n)") }
      guard m.allSatisfy(\.isFinite) else { throw OptimizerError("initial momentum has a non-finite entry: expected finite numbers") }
      state.momentum = m
    } else if kind.usesMomentum {
      state.momentum = [T](repeating: 0, count: n)
    }
    if let v = secondMoment {
      guard kind.isPreconditioned else { throw OptimizerError("an initial second moment ν was given, but \(kind.rawValue) keeps none") }
      guard v.count == n else { throw OptimizerError("initial second moment ν has \(v.count) entries: expected \(n)") }
      if let bad = v.first(where: { !($0.isFinite && $0 >= 0) }) {
        throw OptimizerError("initial second moment ν has entry \(bad): expected finite numbers ≥ 0")
      }
    }
    let nu0 = secondMoment ?? [T](repeating: 0, count: kind.isPreconditioned ? n : 0)
    switch traits.secondMoment {
    case .none:
      break
    case .ema, .sum:
      state.secondMoment = nu0
    case .emaRunningMax:
      state.secondMoment = nu0
      state.maxSecondMoment = nu0
    case .fixed:
      state.secondMoment = nu0
      let eps = T(hyperparameters.eps)
      state.frozenPreconditioner = nu0.map { _root($0) + eps }
    case .factored:
      for block in layout.blocks {
        let slice = Array(nu0[block.range])
        if let (r, c) = block.matrixShape {
          var rows = [T](repeating: 0, count: r), cols = [T](repeating: 0, count: c)
          for i in 0..<r {
            for j in 0..<c {
              rows[i] += slice[i * c + j]
              cols[j] += slice[i * c + j]
            }
          }
          state.rowSecondMoment += rows.map { $0 / T(c) }
          state.columnSecondMoment += cols.map { $0 / T(r) }
        } else {
          state.secondMoment += slice
        }
      }
    }
    return state
  }

  /// Checks that `state`'s arrays have the sizes this optimizer expects (for a
  /// state read from a checkpoint).
  public func validate<T: OptimizerScalar>(_ state: OptimizerState<T>) throws {
    let n = layout.count
    func check(_ name: String, _ a: [T], _ expected: Int) throws {
      guard a.count == expected else {
        throw OptimizerError("optimizer state array \"\(name)\" has \(a.count) entries: expected \(expected) for \(kind.rawValue)")
      }
    }
    guard state.step >= 0 else { throw OptimizerError("invalid optimizer step count \(state.step): expected an integer ≥ 0") }
    try check("m", state.momentum, kind.usesMomentum ? n : 0)
    let sizes = _factoredSizes
    let second = traits.secondMoment
    switch second {
    case .none: try check("nu", state.secondMoment, 0)
    case .factored:
      try check("nu", state.secondMoment, sizes.full)
      try check("row", state.rowSecondMoment, sizes.rows)
      try check("col", state.columnSecondMoment, sizes.columns)
    case .ema, .sum, .emaRunningMax, .fixed: try check("nu", state.secondMoment, n)
    }
    if second != .factored {
      try check("row", state.rowSecondMoment, 0)
      try check("col", state.columnSecondMoment, 0)
    }
    try check("nu_max", state.maxSecondMoment, second == .emaRunningMax ? n : 0)
    if let p = state.frozenPreconditioner {
      guard kind.isPreconditioned else { throw OptimizerError("a frozen preconditioner was given, but \(kind.rawValue) applies none") }
      try check("frozen_p", p, n)
    } else if second == .fixed {
      throw OptimizerError("frozen-adam state lacks its fixed preconditioner \"frozen_p\"")
    }
  }

  // MARK: Update

  /// One step in place: x ← x − η_t·(update of `kind`), state advanced by one.
  /// - Precondition: `parameters` and `gradient` have `layout.count` entries and
  ///   `state` comes from this optimizer (`initialState` or `validate`).
  /// - Complexity: O(n), one fused pass over the arrays for gd, the momentum
  ///   methods and the elementwise adaptive methods.
  @inlinable
  public func step<T: OptimizerScalar>(parameters x: inout [T], gradient g: [T], state: inout OptimizerState<T>) {
    precondition(x.count == layout.count && g.count == layout.count, "step: parameters and gradient must have \(layout.count) entries")
    let t = state.step
    let eta = learningRate(at: t)
    if !kind.isPreconditioned {
      _linearStep(x: &x, g: g, m: &state.momentum, eta: eta)
    } else if state.frozenPreconditioner == nil && _isFusable {
      _fusedAdaptiveStep(x: &x, g: g, state: &state, eta: eta)
    } else {
      if state.frozenPreconditioner == nil { _advanceSecondMoment(g, &state, count: t + 1) }
      let p = state.frozenPreconditioner ?? _preconditioner(state, count: t + 1)
      _preconditionedStep(x: &x, g: g, m: &state.momentum, p: p, eta: eta, count: t + 1)
    }
    state.step += 1
  }

  /// The pure form of `step`: the new parameters and the new state.
  public func update<T: OptimizerScalar>(
    parameters: [T], gradient: [T], state: OptimizerState<T>
  ) -> (parameters: [T], state: OptimizerState<T>) {
    var x = parameters, s = state
    step(parameters: &x, gradient: gradient, state: &s)
    return (x, s)
  }

  // MARK: Preconditioner

  /// The diagonal P that the last step applied (x ← x − η P⁻¹·…): computed from ν
  /// already updated with that step's gradient, bias factors with the count
  /// `state.step`. `nil` for methods without P, and for adaptive methods before
  /// their first step (frozen-adam and frozen states always have one).
  public func preconditioner<T: OptimizerScalar>(_ state: OptimizerState<T>) -> [T]? {
    guard kind.isPreconditioned else { return nil }
    if let p = state.frozenPreconditioner { return p }
    guard state.step >= 1 else { return nil }
    return _preconditioner(state, count: state.step)
  }

  /// The P that the next step would apply if its gradient were `gradient` (ν
  /// updated with it); the state is not changed. `nil` for methods without P.
  public func preconditioner<T: OptimizerScalar>(forGradient gradient: [T], state: OptimizerState<T>) -> [T]? {
    guard kind.isPreconditioned else { return nil }
    precondition(gradient.count == layout.count, "preconditioner: gradient must have \(layout.count) entries")
    if let p = state.frozenPreconditioner { return p }
    var s = state
    _advanceSecondMoment(gradient, &s, count: state.step + 1)
    return _preconditioner(s, count: state.step + 1)
  }

  /// Fixes P from now on at the one the last step applied (`--freeze-preconditioner`):
  /// the method becomes its frozen recurrence on P⁻¹H exactly, and the second
  /// moments stop being updated. Without a step yet, freezes the P the next step
  /// would apply for a zero gradient.
  public func freezePreconditioner<T: OptimizerScalar>(_ state: inout OptimizerState<T>) {
    guard kind.isPreconditioned, state.frozenPreconditioner == nil else { return }
    state.frozenPreconditioner =
      preconditioner(state) ?? preconditioner(forGradient: [T](repeating: 0, count: layout.count), state: state)
  }
}

// MARK: - Implementation details

extension Optimizer {
  /// The method's pieces (`OptimizerKind.traits`).
  @inlinable public var traits: OptimizerTraits { kind.traits }

  /// Whether the method's P is elementwise √(ν·q) + ε with an EMA or sum ν: one fused pass.
  @usableFromInline var _isFusable: Bool {
    let t = traits
    return (t.secondMoment == .ema || t.secondMoment == .sum) && t.root == .squareRoot
  }

  /// Whether bias correction applies to this method (and is switched on).
  @usableFromInline var _corrects: Bool { traits.biasCorrection && hyperparameters.biasCorrection }

  /// The coefficient c of g in the momentum update m ← β₁m + c·g.
  @usableFromInline var _momentumGradientCoefficient: Double {
    traits.momentum == .plain ? 1 : 1 - hyperparameters.beta1
  }

  /// (a, b) in the direction a·m + b·g that P⁻¹ (or I) is applied to; `count` is s = t + 1.
  /// With bias correction, Nesterov's look-ahead momentum term takes the next
  /// step's correction (Dozat's Nadam).
  @usableFromInline func _direction(count s: Int) -> (a: Double, b: Double) {
    let beta = hyperparameters.beta1
    switch traits.direction {
    case .gradient: return (0, 1)
    case .momentum: return (1, 0)
    case .nesterov:
      let c = _momentumGradientCoefficient
      if _corrects { return (beta * (1 - _power(beta, s)) / (1 - _power(beta, s + 1)), c) }
      return (beta, c)
    }
  }

  /// (f, q) in P = f·(root(q·ν) + ε): bias-correction factors for the count s.
  @usableFromInline func _biasFactors(count s: Int) -> (f: Double, q: Double) {
    guard _corrects else { return (1, 1) }
    let f = 1 - _power(hyperparameters.beta1, s)
    // amsgrad's ν̂ is already corrected when it is formed.
    let q = traits.secondMoment == .emaRunningMax ? 1 : 1 / (1 - _power(hyperparameters.beta2, s))
    return (f, q)
  }

  /// (keep, new) in ν ← keep·ν + new·g².
  @usableFromInline var _secondMomentCoefficients: (keep: Double, new: Double) {
    traits.secondMoment == .sum ? (1, 1) : (hyperparameters.beta2, 1 - hyperparameters.beta2)
  }

  /// The factor of x in the step, 1 − η·wd for decoupled decay, else 1.
  @usableFromInline func _decay(eta: Double) -> Double {
    traits.decoupledDecay ? 1 - eta * hyperparameters.weightDecay : 1
  }

  /// Total number of row (resp. column) statistics Adafactor keeps, and of full
  /// second-moment entries (rank-1 blocks).
  var _factoredSizes: (rows: Int, columns: Int, full: Int) {
    var r = 0, c = 0, f = 0
    for b in layout.blocks {
      if let m = b.matrixShape {
        r += m.rows
        c += m.columns
      } else {
        f += b.count
      }
    }
    return (r, c, f)
  }

  @inlinable func _linearStep<T: OptimizerScalar>(x: inout [T], g: [T], m: inout [T], eta: Double) {
    let n = x.count
    let eta = T(eta)
    if traits.momentum == .none {
      x.withUnsafeMutableBufferPointer { px in
        g.withUnsafeBufferPointer { pg in
          for i in 0..<n { px[i] -= eta * pg[i] }
        }
      }
      return
    }
    let beta = T(hyperparameters.beta1), c = T(_momentumGradientCoefficient)
    let (a0, b0) = _direction(count: 1)
    let a = T(a0), b = T(b0)
    x.withUnsafeMutableBufferPointer { px in
      g.withUnsafeBufferPointer { pg in
        m.withUnsafeMutableBufferPointer { pm in
          _forEachChunk(n) { range in _momentumKernel(px, pg, pm, range, beta, c, a, b, eta) }
        }
      }
    }
  }

  @inlinable func _fusedAdaptiveStep<T: OptimizerScalar>(x: inout [T], g: [T], state: inout OptimizerState<T>, eta: Double) {
    let n = x.count
    let s = state.step + 1
    let (f0, q0) = _biasFactors(count: s)
    let (a0, b0) = _direction(count: s)
    let (keep0, new0) = _secondMomentCoefficients
    let f = T(f0), q = T(q0), a = T(a0), b = T(b0), keep = T(keep0), new = T(new0)
    let eps = T(hyperparameters.eps), etaT = T(eta)
    let decay = T(_decay(eta: eta))
    if kind.usesMomentum {
      let beta = T(hyperparameters.beta1), c = T(_momentumGradientCoefficient)
      x.withUnsafeMutableBufferPointer { px in
        g.withUnsafeBufferPointer { pg in
          state.momentum.withUnsafeMutableBufferPointer { pm in
            state.secondMoment.withUnsafeMutableBufferPointer { pv in
              let k = _AdaptiveCoefficients(
                beta: beta, c: c, keep: keep, new: new, f: f, q: q, eps: eps, eta: etaT, a: a, b: b, decay: decay)
              _forEachChunk(n) { range in _adaptiveMomentumKernel(px, pg, pm, pv, range, k) }
            }
          }
        }
      }
    } else {
      x.withUnsafeMutableBufferPointer { px in
        g.withUnsafeBufferPointer { pg in
          state.secondMoment.withUnsafeMutableBufferPointer { pv in
            let k = _AdaptiveCoefficients(
              beta: 0, c: 0, keep: keep, new: new, f: f, q: q, eps: eps, eta: etaT, a: 0, b: 1, decay: decay)
            _forEachChunk(n) { range in _adaptiveKernel(px, pg, pv, range, k) }
          }
        }
      }
    }
  }

  /// Updates ν (and ν̂, R, C) with g for the count s; nothing for a fixed ν.
  @_specialize(where T == Float)
  @_specialize(where T == Double)
  @usableFromInline func _advanceSecondMoment<T: OptimizerScalar>(_ g: [T], _ state: inout OptimizerState<T>, count s: Int) {
    let (keep0, new0) = _secondMomentCoefficients
    let keep = T(keep0), new = T(new0)
    switch traits.secondMoment {
    case .none, .fixed:
      return
    case .ema, .sum, .emaRunningMax:
      for i in g.indices { state.secondMoment[i] = keep * state.secondMoment[i] + new * g[i] * g[i] }
      if traits.secondMoment == .emaRunningMax {
        let q = _corrects ? T(1 / (1 - _power(hyperparameters.beta2, s))) : 1
        for i in g.indices { state.maxSecondMoment[i] = max(state.maxSecondMoment[i], q * state.secondMoment[i]) }
      }
    case .factored:
      var r0 = 0, c0 = 0, v0 = 0
      for block in layout.blocks {
        let o = block.offset
        if let (rows, cols) = block.matrixShape {
          var colSums = [T](repeating: 0, count: cols)
          for i in 0..<rows {
            var rowSum: T = 0
            for j in 0..<cols {
              let g2 = g[o + i * cols + j] * g[o + i * cols + j]
              rowSum += g2
              colSums[j] += g2
            }
            state.rowSecondMoment[r0 + i] = keep * state.rowSecondMoment[r0 + i] + new * rowSum / T(cols)
          }
          for j in 0..<cols {
            state.columnSecondMoment[c0 + j] = keep * state.columnSecondMoment[c0 + j] + new * colSums[j] / T(rows)
          }
          r0 += rows
          c0 += cols
        } else {
          for k in 0..<block.count {
            state.secondMoment[v0 + k] = keep * state.secondMoment[v0 + k] + new * g[o + k] * g[o + k]
          }
          v0 += block.count
        }
      }
    }
  }

  /// The (unfrozen) P from the state's second moments with bias factors for the count s.
  @_specialize(where T == Float)
  @_specialize(where T == Double)
  @usableFromInline func _preconditioner<T: OptimizerScalar>(_ state: OptimizerState<T>, count s: Int) -> [T] {
    let (f0, q0) = _biasFactors(count: s)
    let f = T(f0), q = T(q0), eps = T(hyperparameters.eps)
    let p = T(hyperparameters.padamP)
    let padam = traits.root == .padam
    /// f·(root(q·ν) + ε), with root = √ or the Padam power.
    func precondition(_ nu: [T]) -> [T] {
      padam ? nu.map { f * ((q * $0).raised(to: p) + eps) } : nu.map { f * (_root(q * $0) + eps) }
    }
    switch traits.secondMoment {
    case .none:
      return [T](repeating: 1, count: layout.count)
    case .fixed:
      return state.frozenPreconditioner ?? state.secondMoment.map { _root($0) + eps }
    case .ema, .sum:
      return precondition(state.secondMoment)
    case .emaRunningMax:
      return precondition(state.maxSecondMoment)
    case .factored:
      var out = [T](repeating: 0, count: layout.count)
      var r0 = 0, c0 = 0, v0 = 0
      for block in layout.blocks {
        let o = block.offset
        if let (rows, cols) = block.matrixShape {
          var rowMean: T = 0
          for i in 0..<rows { rowMean += state.rowSecondMoment[r0 + i] }
          rowMean /= T(rows)
          for i in 0..<rows {
            for j in 0..<cols {
              let nu = rowMean > 0 ? state.rowSecondMoment[r0 + i] * state.columnSecondMoment[c0 + j] / rowMean : 0
              out[o + i * cols + j] = f * (_root(q * nu) + eps)
            }
          }
          r0 += rows
          c0 += cols
        } else {
          for k in 0..<block.count { out[o + k] = f * (_root(q * state.secondMoment[v0 + k]) + eps) }
          v0 += block.count
        }
      }
      return out
    }
  }

  /// m ← β₁m + c·g (if kept); x ← decay·x − η P⁻¹(a·m + b·g).
  @_specialize(where T == Float)
  @_specialize(where T == Double)
  @usableFromInline func _preconditionedStep<T: OptimizerScalar>(x: inout [T], g: [T], m: inout [T], p: [T], eta: Double, count s: Int) {
    let (a0, b0) = _direction(count: s)
    let a = T(a0), b = T(b0), etaT = T(eta)
    let decay = T(_decay(eta: eta))
    if kind.usesMomentum {
      let beta = T(hyperparameters.beta1), c = T(_momentumGradientCoefficient)
      for i in x.indices {
        m[i] = beta * m[i] + c * g[i]
        x[i] = decay * x[i] - etaT * (a * m[i] + b * g[i]) / p[i]
      }
    } else {
      for i in x.indices { x[i] = decay * x[i] - etaT * g[i] / p[i] }
    }
  }
}

/// The per-step constants of the fused adaptive update (passed by value, so the
/// loops read them from registers, not from a closure context that might alias).
@usableFromInline struct _AdaptiveCoefficients<T: OptimizerScalar>: Sendable {
  @usableFromInline let beta, c, keep, new, f, q, eps, eta, a, b, decay: T
  @inlinable init(beta: T, c: T, keep: T, new: T, f: T, q: T, eps: T, eta: T, a: T, b: T, decay: T) {
    (self.beta, self.c, self.keep, self.new, self.f, self.q) = (beta, c, keep, new, f, q)
    (self.eps, self.eta, self.a, self.b, self.decay) = (eps, eta, a, b, decay)
  }
}

/// m ← βm + c·g; ν ← keep·ν + new·g²; P = f(√(qν) + ε); x ← decay·x − η(a·m + b·g)/P on `range`.
@inlinable
func _adaptiveMomentumKernel<T: OptimizerScalar>(
  _ px: UnsafeMutableBufferPointer<T>, _ pg: UnsafeBufferPointer<T>, _ pm: UnsafeMutableBufferPointer<T>,
  _ pv: UnsafeMutableBufferPointer<T>, _ range: Range<Int>, _ k: _AdaptiveCoefficients<T>
) {
  let (beta, c, keep, new, f, q, eps, eta, a, b, decay) = (k.beta, k.c, k.keep, k.new, k.f, k.q, k.eps, k.eta, k.a, k.b, k.decay)
  for i in range {
    let gi = pg[i]
    let mi = beta * pm[i] + c * gi
    pm[i] = mi
    let vi = keep * pv[i] + new * gi * gi
    pv[i] = vi
    px[i] = decay * px[i] - eta * (a * mi + b * gi) / (f * (_root(q * vi) + eps))
  }
}

/// ν ← keep·ν + new·g²; P = f(√(qν) + ε); x ← decay·x − η g/P on `range`.
@inlinable
func _adaptiveKernel<T: OptimizerScalar>(
  _ px: UnsafeMutableBufferPointer<T>, _ pg: UnsafeBufferPointer<T>, _ pv: UnsafeMutableBufferPointer<T>,
  _ range: Range<Int>, _ k: _AdaptiveCoefficients<T>
) {
  let (keep, new, f, q, eps, eta, decay) = (k.keep, k.new, k.f, k.q, k.eps, k.eta, k.decay)
  for i in range {
    let gi = pg[i]
    let vi = keep * pv[i] + new * gi * gi
    pv[i] = vi
    px[i] = decay * px[i] - eta * gi / (f * (_root(q * vi) + eps))
  }
}

/// m ← βm + c·g; x ← x − η(a·m + b·g) on `range`.
@inlinable
func _momentumKernel<T: OptimizerScalar>(
  _ px: UnsafeMutableBufferPointer<T>, _ pg: UnsafeBufferPointer<T>, _ pm: UnsafeMutableBufferPointer<T>,
  _ range: Range<Int>, _ beta: T, _ c: T, _ a: T, _ b: T, _ eta: T
) {
  for i in range {
    let gi = pg[i]
    let mi = beta * pm[i] + c * gi
    pm[i] = mi
    px[i] -= eta * (a * mi + b * gi)
  }
}

/// Runs `body` over `0 ..< n` split into contiguous chunks, in parallel on the
/// available cores when n is large (≥ 2¹⁶ entries per chunk), else in one call.
/// The fused updates are elementwise, so the result does not depend on the split.
@inlinable @inline(__always)
func _forEachChunk(_ n: Int, _ body: (Range<Int>) -> Void) {
  let k = min(Parallel.coreCount, n >> 16)
  // One chunk: called here, so the kernel inlines into the step.
  if k <= 1 { body(0..<n) } else { Parallel.forEachChunk(n, chunks: k, body) }
}

/// √|v|, the square root used for every P. ν ≥ 0 always, so this is √ν; taking
/// the magnitude first lets the compiler prove the argument non-negative and emit
/// packed `sqrtpd` instead of a libm call with an errno branch per element, which
/// keeps the fused loops vectorised (≈ 2–3× faster on x86-64).
@inlinable @inline(__always)
func _root<T: OptimizerScalar>(_ v: T) -> T { v.magnitude.squareRoot() }

/// β^k for a small integer k ≥ 0 (repeated squaring, exact for k = 0).
@usableFromInline func _power(_ beta: Double, _ k: Int) -> Double {
  var result = 1.0, base = beta, e = k
  while e > 0 {
    if e & 1 == 1 { result *= base }
    base *= base
    e >>= 1
  }
  return result
}
