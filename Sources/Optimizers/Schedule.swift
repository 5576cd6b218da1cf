/// A learning-rate schedule: the step size at step t (0-based) is η_t = η·factor(t).
///
/// - `constant`: factor 1.
/// - `linearWarmup(steps: W)`: factor min(1, (t+1)/W) — the first step already moves.
/// - `cosine(steps: T, warmupSteps: W, finalFactor: f)`: linear warm-up over the
///   first W steps, then f + (1 − f)·½(1 + cos(π·min(1, (t − W)/(T − W)))), which
///   decays from 1 at t = W to f at t ≥ T (Loshchilov & Hutter's SGDR without restarts).
public enum LearningRateSchedule: Sendable, Hashable, Codable {
  case constant
  case linearWarmup(steps: Int)
  case cosine(steps: Int, warmupSteps: Int = 0, finalFactor: Double = 0)

  /// The multiplier of the base learning rate at step `t` (t ≥ 0).
  @inlinable
  public func factor(at t: Int) -> Double {
    switch self {
    case .constant:
      return 1
    case let .linearWarmup(w):
      return min(1, Double(t + 1) / Double(w))
    case let .cosine(total, w, final):
      if t < w { return Double(t + 1) / Double(w) }
      let progress = min(1, Double(t - w) / Double(total - w))
      return final + (1 - final) * 0.5 * (1 + _cosine(Double.pi * progress))
    }
  }

  /// Checks the schedule's own numbers.
  public func validate() throws {
    switch self {
    case .constant: break
    case let .linearWarmup(w):
      guard w >= 1 else { throw OptimizerError("invalid warm-up steps \(w): expected an integer ≥ 1") }
    case let .cosine(total, w, final):
      guard w >= 0 else { throw OptimizerError("invalid warm-up steps \(w): expected an integer ≥ 0") }
      guard total > w else {
        throw OptimizerError("invalid cosine schedule length \(total): expected more steps than the \(w) warm-up steps")
      }
      guard final.isFinite, final >= 0, final <= 1 else {
        throw OptimizerError("invalid final learning-rate factor \(final): expected a number in [0, 1]")
      }
    }
  }
}
