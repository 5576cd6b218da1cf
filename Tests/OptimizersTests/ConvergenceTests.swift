import Optimizers
import PropertyBased
import TestSupport
import Testing

/// optax's pattern: every optimizer converges on a well-conditioned parabola and
/// makes progress on Rosenbrock, at a learning rate suited to it.
@Suite struct ConvergenceTests {
  /// A learning rate that is stable for curvatures ≤ 2 (below each frozen threshold:
  /// e.g. EMA-Nesterov's 13.57/η ≥ 2 needs η ≤ 6.7) and small enough for the
  /// adaptive methods' oscillation scale (~η/2, sign-like steps) to be small.
  static func parabolaRate(_ kind: OptimizerKind) -> Double {
    switch kind {
    case .gd, .hb, .nesterov: 0.3
    case .emaHB, .emaNesterov: 1
    case .adagrad: 0.5
    default: 0.01
    }
  }

  @Test(arguments: OptimizerKind.allCases)
  func convergesOnParabola(kind: OptimizerKind) async throws {
    await propertyCheckThrowing(count: 10, input: Gen.double(in: 1...2).array(of: 1...5), Gen.double(in: -2...2)) { a, shift in
      let n = a.count
      let h = Hyperparameters(lr: Self.parabolaRate(kind))
      let opt = try Optimizer(kind, h, parameterCount: n)
      // frozen-adam needs a ν: ν = 1 gives P ≈ 1.
      var state = try opt.initialState(secondMoment: kind.isPreconditioned ? [Double](repeating: 1, count: n) : nil, as: Double.self)
      let x0 = a.indices.map { shift + Double($0) * 0.3 + 0.5 }
      var x = x0
      for _ in 0..<3000 {
        let g = zip(a, x).map { $0 * $1 }
        opt.step(parameters: &x, gradient: g, state: &state)
      }
      let norm0 = x0.map { $0 * $0 }.reduce(0, +).squareRoot()
      let norm = x.map { $0 * $0 }.reduce(0, +).squareRoot()
      // Converged to within 2% of the start (adaptive methods may keep a small
      // oscillation of size ~η around the minimum; optax uses a 3% tolerance).
      #expect(norm <= 0.02 * max(norm0, 0.5), "\(kind): ‖x‖ = \(norm) from \(norm0)")
    }
  }

  static func rosenbrock(_ p: [Double]) -> (Double, [Double]) {
    let (x, y) = (p[0], p[1])
    let f = (1 - x) * (1 - x) + 100 * (y - x * x) * (y - x * x)
    return (f, [-2 * (1 - x) - 400 * x * (y - x * x), 200 * (y - x * x)])
  }

  static func rosenbrockRate(_ kind: OptimizerKind) -> Double {
    switch kind {
    case .gd, .hb, .nesterov: 1e-4
    case .emaHB, .emaNesterov: 1e-3
    case .adagrad: 0.05
    default: 1e-3
    }
  }

  @Test(arguments: OptimizerKind.allCases)
  func makesProgressOnRosenbrock(kind: OptimizerKind) throws {
    let opt = try Optimizer(kind, Hyperparameters(lr: Self.rosenbrockRate(kind)), parameterCount: 2)
    var state = try opt.initialState(secondMoment: kind == .frozenAdam ? [100.0, 100.0] : nil, as: Double.self)
    var x = [-1.2, 1.0]
    let f0 = Self.rosenbrock(x).0
    for _ in 0..<5000 {
      let g = Self.rosenbrock(x).1
      opt.step(parameters: &x, gradient: g, state: &state)
    }
    let f = Self.rosenbrock(x).0
    // Progress: the loss drops below a quarter of its starting value 24.2 (the
    // valley floor is reached; the minimum at (1, 1) is not required).
    #expect(f < 0.25 * f0, "\(kind): f = \(f) from \(f0), x = \(x)")
  }

  /// Float and Double runs agree to Float's precision over a few steps.
  @Test func floatAndDoubleAgree() async throws {
    await propertyCheckThrowing(count: 30, input: Gen.double(in: -2...2).array(of: 4).array(of: 1...5)) { grads in
      let opt = try Optimizer(.adam, Hyperparameters(lr: 0.01, biasCorrection: true), parameterCount: 4)
      var sd = try opt.initialState(as: Double.self)
      var sf = try opt.initialState(as: Float.self)
      var xd = [1.0, 2.0, -1.0, 0.5], xf = xd.map(Float.init)
      for g in grads {
        opt.step(parameters: &xd, gradient: g, state: &sd)
        opt.step(parameters: &xf, gradient: g.map(Float.init), state: &sf)
      }
      // Each step is ≤ ~0.03 in size; Float rounds at 6e-8 relative: 1e-5 absolute is ample.
      for i in 0..<4 { #expect(abs(Double(xf[i]) - xd[i]) < 1e-5) }
    }
  }
}
