/// The whole state of an optimizer between steps: a step count and named flat
/// arrays. A value type; an update returns (or writes in place) a new one.
///
/// Which arrays are non-empty depends on the method (see `Optimizer`):
///
/// | name | field | used by |
/// |---|---|---|
/// | `m` | `momentum` | every method with β₁ (not gd, rmsprop, adagrad) |
/// | `nu` | `secondMoment` | rmsprop, adagrad (Σg²), adam-like methods, frozen-adam (fixed ν); for adafactor the rank-1 blocks only, concatenated |
/// | `nu_max` | `maxSecondMoment` | amsgrad's running maximum ν̂ |
/// | `row`, `col` | `rowSecondMoment`, `columnSecondMoment` | adafactor's factored statistics of its matrix blocks, concatenated in block order |
/// | `frozen_p` | `frozenPreconditioner` | the fixed P of frozen-adam or of a frozen run |
///
/// The arrays plus `step` are everything needed to resume bit-identically.
public struct OptimizerState<T: OptimizerScalar>: Sendable, Hashable, Codable {
  /// Number of updates applied so far; the next update is step `step` (0-based),
  /// whose bias corrections use the count `step + 1`.
  public var step: Int
  public var momentum: [T]
  public var secondMoment: [T]
  public var maxSecondMoment: [T]
  public var rowSecondMoment: [T]
  public var columnSecondMoment: [T]
  /// When set, P is this vector at every step and the second moments are no longer updated.
  public var frozenPreconditioner: [T]?

  public init(
    step: Int = 0, momentum: [T] = [], secondMoment: [T] = [], maxSecondMoment: [T] = [],
    rowSecondMoment: [T] = [], columnSecondMoment: [T] = [], frozenPreconditioner: [T]? = nil
  ) {
    self.step = step
    self.momentum = momentum
    self.secondMoment = secondMoment
    self.maxSecondMoment = maxSecondMoment
    self.rowSecondMoment = rowSecondMoment
    self.columnSecondMoment = columnSecondMoment
    self.frozenPreconditioner = frozenPreconditioner
  }

  /// The non-empty arrays by name (`m`, `nu`, `nu_max`, `row`, `col`, `frozen_p`),
  /// for checkpoints.
  public var arrays: [String: [T]] {
    var out: [String: [T]] = [:]
    for (name, a) in [("m", momentum), ("nu", secondMoment), ("nu_max", maxSecondMoment), ("row", rowSecondMoment), ("col", columnSecondMoment)]
    where !a.isEmpty {
      out[name] = a
    }
    if let p = frozenPreconditioner { out["frozen_p"] = p }
    return out
  }

  /// Rebuilds a state from `arrays`' names; use `Optimizer.validate(_:)` to check
  /// the sizes against an optimizer.
  /// - Throws: `OptimizerError` for a name that is not one of the six, or a negative step.
  public init(step: Int, arrays: [String: [T]]) throws {
    guard step >= 0 else { throw OptimizerError("invalid optimizer step count \(step): expected an integer ≥ 0") }
    let known: Set<String> = ["m", "nu", "nu_max", "row", "col", "frozen_p"]
    if let bad = arrays.keys.sorted().first(where: { !known.contains($0) }) {
      throw OptimizerError("unknown optimizer state array \"\(bad)\": expected one of m, nu, nu_max, row, col, frozen_p")
    }
    self.init(
      step: step, momentum: arrays["m"] ?? [], secondMoment: arrays["nu"] ?? [],
      maxSecondMoment: arrays["nu_max"] ?? [], rowSecondMoment: arrays["row"] ?? [],
      columnSecondMoment: arrays["col"] ?? [], frozenPreconditioner: arrays["frozen_p"])
  }
}
