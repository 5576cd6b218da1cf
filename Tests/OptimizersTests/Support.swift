import Optimizers

/// Relative distance |a − b| / max(scale, |a|, |b|) used for trajectory comparisons.
func relativeError(_ a: Double, _ b: Double, scale: Double = 1e-300) -> Double {
  abs(a - b) / max(scale, abs(a), abs(b))
}

/// Largest entrywise |a − b| relative to the largest magnitude in either vector.
func maxRelativeError<T: BinaryFloatingPoint>(_ a: [T], _ b: [T]) -> Double {
  precondition(a.count == b.count)
  var scale = 0.0, err = 0.0
  for (x, y) in zip(a, b) {
    scale = max(scale, abs(Double(x)), abs(Double(y)))
    err = max(err, abs(Double(x) - Double(y)))
  }
  return scale == 0 ? err : err / scale
}

/// Runs `steps` steps on the diagonal quadratic ½Σ aᵢxᵢ², returning every iterate (x₀ first).
func trajectory(
  _ opt: Optimizer, curvatures a: [Double], x0: [Double], steps: Int,
  state initial: OptimizerState<Double>? = nil, freezeAfter: Int? = nil
) throws -> [[Double]] {
  var state = try initial ?? opt.initialState(as: Double.self)
  var x = x0
  var out = [x]
  for t in 0..<steps {
    let g = zip(a, x).map { $0 * $1 }
    opt.step(parameters: &x, gradient: g, state: &state)
    if let f = freezeAfter, t + 1 == f { opt.freezePreconditioner(&state) }
    out.append(x)
  }
  return out
}

/// Every optimizer kind with the momentum coefficient of its frozen recurrence:
/// (coefficient of g in m, a, b) with the direction a·m + b·g.
let allKinds = OptimizerKind.allCases
