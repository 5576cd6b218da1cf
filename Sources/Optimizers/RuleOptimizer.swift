import Dynamics
import LinearAlgebra

/// A user-written linear optimizer: a rule of the rule language (DESIGN.md, "The
/// rule language"), executed on parameter vectors.
///
///     let hb = try RuleOptimizer(rule: "m' = beta*m + g; x' = x - eta*m'", parameters: ["beta": 0.9], lr: 0.1)
///     var state = hb.initialState(count: x.count, as: Double.self)
///     try hb.step(parameters: &x, state: &state, gradientAtIterate: loss.gradient(x)) { loss.gradient($0) }
///
/// Each step applies the assignments in order, each new value a linear combination
/// of the old state vectors, the new ones assigned before it and gradient
/// evaluations (`RuleProgram`); `eta` is η_t = lr·schedule(t). The threshold comes
/// from the same rule's recurrence in `Dynamics` (`recurrence`), on the sharpness λ₁(H).
///
/// **Cost per step:** one gradient evaluation per distinct point (`gradientPoints`;
/// `g` and `g(x)` are one point, and so are two spellings of one combination), one
/// fewer when the caller passes the gradient at the iterate it already has
/// (`usesGradientAtIterate`); then one pass over n entries per group of up to three
/// terms of each combination, and one fresh n-vector per state variable (x
/// included) and per point other than x. Nothing is allocated per entry.
public struct RuleOptimizer: Sendable {
  /// The rule as written.
  public let rule: String
  /// Values of the rule's parameters (never `eta`).
  public let parameters: [String: Double]
  /// The base learning rate.
  public let lr: Double
  public let schedule: LearningRateSchedule
  /// The compiled rule with its parameters bound.
  public let program: BoundRuleProgram

  /// - Throws: `RuleError` for a rule that does not parse, is not linear on vectors,
  ///   or whose parameters are missing, unknown or not finite (the message names
  ///   them); `HyperparameterError` for an lr that is not a finite number > 0;
  ///   `OptimizerError` for a bad schedule.
  public init(rule: String, parameters: [String: Double], lr: Double, schedule: LearningRateSchedule = .constant) throws {
    guard lr.isFinite, lr > 0 else { throw HyperparameterError.outOfRange(name: "lr", value: lr, expected: "a finite number > 0") }
    try schedule.validate()
    self.program = try RuleProgram(parsing: rule).bound(to: parameters)
    self.rule = rule
    self.parameters = parameters
    self.lr = lr
    self.schedule = schedule
  }

  // MARK: Theory

  /// The rule's linear recurrence on the quadratic, named "rule".
  public var recurrence: Recurrence { Recurrence(name: "rule", rule: rule, parameters: parameters) }

  /// The governing quantity: a rule applies no preconditioner.
  public var quantity: String { "sharpness" }

  /// The stability threshold of `recurrence` at learning rate `lr` (default: the base lr).
  public func threshold(lr: Double? = nil) throws -> Double {
    try recurrence.threshold(lr: lr ?? self.lr)
  }

  /// ρ(λ), the largest root modulus of `recurrence` at curvature λ.
  public func growthFactor(eigenvalue: Double, lr: Double? = nil) throws -> Double {
    try recurrence.growthFactor(eigenvalue: eigenvalue, lr: lr ?? self.lr)
  }

  /// η_t = lr · schedule.factor(t).
  public func learningRate(at step: Int) -> Double { lr * schedule.factor(at: step) }

  // MARK: Shape

  /// The state besides x, in order of assignment (e.g. `["m"]`).
  public var stateVariables: [String] { program.program.variables.filter { $0 != "x" } }

  /// Distinct gradient evaluations per step (the point x included).
  public var gradientPoints: Int { program.program.points.count }

  /// Whether one of the points is the iterate x itself, whose gradient the caller
  /// may pass as `gradientAtIterate`.
  public var usesGradientAtIterate: Bool { program.program.points.contains(where: \.isIterate) }

  // MARK: State

  /// Zeros for every state variable but x, at step 0.
  public func initialState<T: OptimizerScalar>(count: Int, as _: T.Type = T.self) -> RuleState<T> {
    var vectors: [String: [T]] = [:]
    for name in stateVariables { vectors[name] = [T](repeating: 0, count: max(0, count)) }
    return RuleState(step: 0, vectors: vectors)
  }

  /// Checks a state read back (a checkpoint) against this rule and `count` parameters.
  /// - Throws: `OptimizerError` naming a negative step, a missing or unknown vector,
  ///   or a vector of the wrong length.
  public func validate<T: OptimizerScalar>(_ state: RuleState<T>, count: Int) throws {
    guard state.step >= 0 else { throw OptimizerError("invalid optimizer step count \(state.step): expected an integer ≥ 0") }
    let names = stateVariables
    let expected = names.isEmpty ? "none (the rule keeps no state besides x)" : names.joined(separator: ", ")
    if let unknown = state.vectors.keys.sorted().first(where: { !names.contains($0) }) {
      throw OptimizerError("unknown rule state vector \"\(unknown)\": expected \(expected)")
    }
    for name in names {
      guard let v = state.vectors[name] else { throw OptimizerError("the rule state lacks its vector \"\(name)\": expected \(expected)") }
      guard v.count == count else {
        throw OptimizerError("rule state vector \"\(name)\" has \(v.count) entries: expected \(count)")
      }
    }
  }

  // MARK: Update

  /// One step in place: x and every state vector advanced by the rule, `state.step`
  /// by one.
  ///
  /// - Parameters:
  ///   - gradientAtIterate: ∇L(x) if the caller has it; used for the point x
  ///     (saving an evaluation), ignored when the rule never evaluates at x.
  ///   - gradient: ∇L at a point (same length as x); called once per other distinct
  ///     point, in order (and for x itself when `gradientAtIterate` is nil).
  /// - Throws: `OptimizerError` for a state or gradient of the wrong length,
  ///   `RuleError` for a coefficient that is not finite at this step's η, and
  ///   whatever `gradient` throws. On a throw, x and `state` are unchanged.
  @_specialize(where T == Float)
  @_specialize(where T == Double)
  public func step<T: OptimizerScalar>(
    parameters x: inout [T], state: inout RuleState<T>, gradientAtIterate: [T]?,
    gradient: (_ point: [T]) throws -> [T]
  ) throws {
    let n = x.count
    let compiled = program.program
    let coefficients = try program.coefficients(eta: learningRate(at: state.step))
    var old: [[T]] = []
    old.reserveCapacity(compiled.variables.count)
    for name in compiled.variables {
      if name == "x" {
        old.append(x)
        continue
      }
      guard let v = state.vectors[name] else { throw OptimizerError("the rule state lacks its vector \"\(name)\"") }
      guard v.count == n else { throw OptimizerError("rule state vector \"\(name)\" has \(v.count) entries: expected \(n), the size of x") }
      old.append(v)
    }
    if let g = gradientAtIterate, g.count != n {
      throw OptimizerError("the gradient at the iterate has \(g.count) entries: expected \(n), the size of x")
    }
    var new = [[T]](repeating: [], count: compiled.variables.count)
    var gradients: [[T]] = []
    gradients.reserveCapacity(compiled.points.count)

    func combination(_ terms: [RuleProgram.Term], _ cs: [Double]) -> [T] {
      var pairs: [(T, [T])] = []
      pairs.reserveCapacity(terms.count)
      for (term, c) in zip(terms, cs) {
        switch term.operand {
        case let .old(i): pairs.append((T(c), old[i]))
        case let .new(i): pairs.append((T(c), new[i]))
        case let .gradient(k): pairs.append((T(c), gradients[k]))
        }
      }
      return _linearCombination(pairs, count: n)
    }

    for (i, assignment) in compiled.assignments.enumerated() {
      for k in assignment.gradients {
        let point = compiled.points[k]
        let g: [T]
        if point.isIterate {
          g = try gradientAtIterate ?? gradient(x)
        } else {
          g = try gradient(combination(point.terms, coefficients.points[k]))
        }
        guard g.count == n else {
          throw OptimizerError("the gradient at the point of \(point.text) has \(g.count) entries: expected \(n), the size of x")
        }
        gradients.append(g)
      }
      let value = combination(assignment.terms, coefficients.assignments[i])
      new[assignment.variable] = value
    }
    for (i, name) in compiled.variables.enumerated() {
      if name == "x" { x = new[i] } else { state.vectors[name] = new[i] }
    }
    state.step += 1
  }
}

/// The state of a `RuleOptimizer` between steps: the step count and one vector per
/// state variable besides x, by name (`m`, `v`, …); everything needed to resume.
public struct RuleState<T: OptimizerScalar>: Sendable, Hashable, Codable {
  /// Number of steps taken; the next is step `step` (0-based), with η = lr·schedule(step).
  public var step: Int
  /// By state-variable name (not x); for checkpoints.
  public var vectors: [String: [T]]

  public init(step: Int = 0, vectors: [String: [T]]) {
    self.step = step
    self.vectors = vectors
  }
}

// MARK: - Implementation details

/// Σ cₖ·vₖ into a fresh vector of n entries: a first pass writes up to three terms,
/// each further pass adds up to three more; plain loops over buffers, split across
/// cores for large n like the built-in optimizers (`_forEachChunk`).
@_specialize(where T == Float)
@_specialize(where T == Double)
@usableFromInline func _linearCombination<T: OptimizerScalar>(_ terms: [(T, [T])], count n: Int) -> [T] {
  precondition(terms.allSatisfy { $0.1.count == n }, "linear combination: every vector must have \(n) entries")
  guard !terms.isEmpty else { return [T](repeating: 0, count: n) }
  return [T](unsafeUninitializedCapacity: n) { out, initialized in
    var k = 0
    while k < terms.count {
      let accumulate = k > 0
      switch terms.count - k {
      case 1:
        let (c0, v0) = terms[k]
        v0.withUnsafeBufferPointer { p0 in
          _forEachChunk(n) { r in
            if accumulate { for i in r { out[i] += c0 * p0[i] } } else { for i in r { out[i] = c0 * p0[i] } }
          }
        }
        k += 1
      case 2:
        let (c0, v0) = terms[k], (c1, v1) = terms[k + 1]
        v0.withUnsafeBufferPointer { p0 in
          v1.withUnsafeBufferPointer { p1 in
            _forEachChunk(n) { r in
              if accumulate {
                for i in r { out[i] += c0 * p0[i] + c1 * p1[i] }
              } else {
                for i in r { out[i] = c0 * p0[i] + c1 * p1[i] }
              }
            }
          }
        }
        k += 2
      default:
        let (c0, v0) = terms[k], (c1, v1) = terms[k + 1], (c2, v2) = terms[k + 2]
        v0.withUnsafeBufferPointer { p0 in
          v1.withUnsafeBufferPointer { p1 in
            v2.withUnsafeBufferPointer { p2 in
              _forEachChunk(n) { r in
                if accumulate {
                  for i in r { out[i] += c0 * p0[i] + c1 * p1[i] + c2 * p2[i] }
                } else {
                  for i in r { out[i] = c0 * p0[i] + c1 * p1[i] + c2 * p2[i] }
                }
              }
            }
          }
        }
        k += 3
      }
    }
    initialized = n
  }
}
