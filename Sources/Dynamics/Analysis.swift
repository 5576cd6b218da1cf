import Algebra
import Synchronization

/// A rule analysed at numeric values of η and every parameter: its stable set,
/// threshold (as a number and, where one exists, a closed form in η and the
/// parameters) and growth factor ρ(λ).
public struct StabilityAnalysis: Sendable {
  public let model: StateSpaceModel
  /// The numeric values used (`eta` and every parameter).
  public let values: [String: Double]
  public let numeric: NumericCharacteristic
  public let stableSet: StableSet

  /// - Parameters:
  ///   - values: `eta` and every parameter of the rule; all finite.
  public init(model: StateSpaceModel, values: [String: Double]) throws(RuleError) {
    self.model = model
    self.values = values
    var missing: [String] = []
    for name in model.rule.parameters where values[name] == nil { missing.append(name) }
    if values[UpdateRule.learningRate] == nil { missing.insert(UpdateRule.learningRate, at: 0) }
    guard missing.isEmpty else {
      let list = missing.map { $0 == "eta" ? "eta (--lr)" : "\($0) (--param \($0)=VALUE)" }.joined(separator: ", ")
      throw .parameter("the rule needs a value for \(list)")
    }
    var exact: [String: Rational] = [:]
    for (name, value) in values {
      guard value.isFinite else { throw .parameter("parameter \(name) = \(value) is not a finite number") }
      exact[name] = Rational.fromUserDouble(value)
    }
    numeric = try NumericCharacteristic(model: model, values: exact)
    do { stableSet = try numeric.stableSet() } catch RuleError.stability(let m) {
      throw .stability("\(m), at \(Self.describe(values))")
    } catch let e as RuleError { throw e } catch {
      throw .stability("root finding failed at \(Self.describe(values)): \(error)")
    }
  }

  /// "eta = 1e-320, beta = 0.9" (η first).
  static func describe(_ values: [String: Double]) -> String {
    values.keys.sorted { ($0 == UpdateRule.learningRate ? "" : $0) < ($1 == UpdateRule.learningRate ? "" : $1) }
      .map { "\($0) = \(values[$0] ?? .nan)" }.joined(separator: ", ")
  }

  /// λ*, or nil if the stable set near 0 is empty or unbounded.
  public var threshold: Double? {
    if case let .interval(t, _) = stableSet { return t }
    return nil
  }

  /// ρ(λ): the asymptotic growth factor at curvature λ (1 at the threshold).
  public func growthFactor(at lambda: Double) throws(RuleError) -> Double {
    guard lambda.isFinite else { throw .parameter("eigenvalue \(lambda) is not a finite number") }
    do { return try numeric.spectralRadius(at: lambda) } catch let e as RuleError { throw e } catch {
      throw .stability("root finding failed at λ = \(lambda): \(error)")
    }
  }

  /// The threshold as a closed form in η and the (symbolic) parameters: the factor
  /// of the boundary polynomial that vanishes at the numeric threshold, solved for
  /// λ when its degree in λ is 1 or 2. Nil when no closed form exists (higher
  /// degree) or when there is no finite threshold.
  ///
  /// Bounded by `closedFormBudget` (the symbolic boundary polynomial and its
  /// factorisation in every parameter can be expensive for large rules): nil when
  /// it runs out, and the threshold is then reported as a number only.
  public func closedForm() -> ClosedForm? {
    try? closedForm(budget: WorkBudget(Self.closedFormBudget))
  }

  /// Work budget of `closedForm()`, in coefficient products.
  public static let closedFormBudget = 2_000_000

  func closedForm(budget: WorkBudget) throws(BudgetExhausted) -> ClosedForm? {
    guard case let .interval(t, crossing) = stableSet, !model.coefficients.isEmpty else { return nil }
    let lam = UpdateRule.curvature
    let symbolic: Polynomial?
    switch crossing {
    case .plusOne: symbolic = StateSpaceModel.value(of: model.coefficients, at: 1).numerator
    case .minusOne: symbolic = StateSpaceModel.value(of: model.coefficients, at: -1).numerator
    case .complexPair:
      guard model.matrix.count <= NumericCharacteristic.maximumExactPairDimension else { return nil }
      symbolic = try StateSpaceModel.pairCrossing(model.matrix, budget: budget)?.numerator
    }
    guard let symbolic else { return nil }
    var exact: [String: Rational] = [:]
    for (k, v) in values { exact[k] = Rational.fromUserDouble(v) }
    var best: (Polynomial, Double)?
    for factor in try symbolic.factored(budget: budget).factors.map(\.base) where factor.degree(in: lam) >= 1 {
      let numericFactor = factor.substituting(exact)
      let cs = numericFactor.coefficients(in: lam).map { ($0.constantValue ?? Rational(0)).doubleValue }
      var value = 0.0, scale = 0.0, power = 1.0
      for c in cs { value += c * power; scale += abs(c * power); power *= t }
      let residual = scale > 0 ? abs(value) / scale : .infinity
      if best == nil || residual < best!.1 { best = (factor, residual) }
    }
    guard let (factor, residual) = best, residual < 1e-6 else { return nil }
    let c = factor.coefficients(in: lam).map { RationalFunction($0) }
    let form: ClosedForm
    switch c.count {
    case 2:
      guard let r = try? (-c[0]).dividing(by: c[1]) else { return nil }
      form = .rational(r)
    case 3:
      let plus = ClosedForm.quadraticRoot(a: c[2], b: c[1], c: c[0], sign: 1)
      let minus = ClosedForm.quadraticRoot(a: c[2], b: c[1], c: c[0], sign: -1)
      let ep = plus.evaluate(values).map { abs($0 - t) } ?? .infinity
      let em = minus.evaluate(values).map { abs($0 - t) } ?? .infinity
      form = ep <= em ? plus : minus
    default:
      return nil
    }
    guard let v = form.evaluate(values), abs(v - t) <= 1e-8 * max(1, abs(t)) else { return nil }
    return form
  }
}

extension Rational {
  /// The exact rational a user meant: the shortest decimal that round-trips to the
  /// double (so 1e-4 is 1/10000, not the nearest binary fraction).
  public static func fromUserDouble(_ x: Double) -> Rational {
    Rational(decimal: "\(x)") ?? Rational(x)
  }
}

/// Parsed rules and their state-space models, cached by rule text (thread-safe).
public enum RuleCache {
  fileprivate static let models = Mutex<[String: StateSpaceModel]>([:])
  fileprivate static let analyses = Mutex<[String: StabilityAnalysis]>([:])

  public static func model(for rule: String) throws(RuleError) -> StateSpaceModel {
    if let m = models.withLock({ $0[rule] }) { return m }
    let m = try StateSpaceModel(rule: UpdateRule(parsing: rule))
    models.withLock { $0[rule] = m }
    return m
  }
}

extension Recurrence {
  /// Values of `eta` and the parameters at learning rate `lr`.
  func values(lr: Double) -> [String: Double] {
    var v = parameters
    v[UpdateRule.learningRate] = lr
    return v
  }

  /// Full analysis at learning rate `lr`.
  public func analysis(lr: Double) throws(RuleError) -> StabilityAnalysis {
    guard lr.isFinite, lr > 0 else { throw .parameter("invalid learning rate \(lr): expected a finite number > 0") }
    let v = values(lr: lr)
    let key = rule + "|" + v.keys.sorted().map { "\($0)=\(v[$0]!.bitPattern)" }.joined(separator: ",")
    if let cached = RuleCache.analyses.withLock({ $0[key] }) { return cached }
    let a = try StabilityAnalysis(model: RuleCache.model(for: rule), values: v)
    RuleCache.analyses.withLock { cache in
      if cache.count > 4096 { cache.removeAll() }
      cache[key] = a
    }
    return a
  }

  /// The supremum λ* of the stable interval (0, λ*) at learning rate `lr`.
  public func threshold(lr: Double) throws(RuleError) -> Double {
    let a = try analysis(lr: lr)
    switch a.stableSet {
    case let .interval(t, _): return t
    case .unbounded: throw .stability("\(name) is stable for every λ > 0: its stable set is unbounded, so it has no threshold")
    case .empty: throw .stability("\(name) is unstable for every small λ > 0: its stable set near 0 is empty")
    }
  }

  /// ρ(λ), the asymptotic growth factor at curvature `eigenvalue`.
  public func growthFactor(eigenvalue: Double, lr: Double) throws(RuleError) -> Double {
    try analysis(lr: lr).growthFactor(at: eigenvalue)
  }
}

extension RuleCache {
  /// Forgets every parsed rule (for benchmarks that time whole derivations).
  public static func clear() {
    models.withLock { $0.removeAll() }
    analyses.withLock { $0.removeAll() }
  }
}
