import Foundation
import Dynamics
import LinearAlgebra
import Optimizers
import PropertyBased
import TestSupport
import Testing

@Suite struct ConfigurationTests {
  // MARK: Bad input

  @Test(arguments: [
    (Hyperparameters(lr: .nan), "lr"), (Hyperparameters(lr: 0), "lr"), (Hyperparameters(lr: -1), "lr"),
    (Hyperparameters(lr: 0.1, beta1: 1), "beta1"), (Hyperparameters(lr: 0.1, beta1: -0.1), "beta1"),
    (Hyperparameters(lr: 0.1, beta2: 1), "beta2"), (Hyperparameters(lr: 0.1, beta2: .nan), "beta2"),
    (Hyperparameters(lr: 0.1, eps: 0), "eps"), (Hyperparameters(lr: 0.1, eps: -1e-8), "eps"),
    (Hyperparameters(lr: 0.1, weightDecay: -1), "weight-decay"),
  ])
  func invalidHyperparametersAreNamed(h: Hyperparameters, name: String) {
    do {
      _ = try Optimizer(.adam, h, parameterCount: 3)
      Issue.record("accepted invalid --\(name)")
    } catch {
      #expect("\(error)".contains("--\(name)"), "message: \(error)")
    }
  }

  @Test func invalidPadamPower() {
    #expect(throws: HyperparameterError.self) { try Optimizer(.padam, Hyperparameters(lr: 0.1, padamP: 0.9), parameterCount: 1) }
  }

  @Test func badInitialStates() throws {
    let adam = try Optimizer(.adam, Hyperparameters(lr: 0.1), parameterCount: 3)
    #expect(throws: OptimizerError.self) { try adam.initialState(momentum: [1.0, 2.0], as: Double.self) }
    #expect(throws: OptimizerError.self) { try adam.initialState(secondMoment: [1.0, -2.0, 1.0], as: Double.self) }
    #expect(throws: OptimizerError.self) { try adam.initialState(secondMoment: [1.0, .nan, 1.0], as: Double.self) }
    let gd = try Optimizer(.gd, Hyperparameters(lr: 0.1), parameterCount: 3)
    #expect(throws: OptimizerError.self) { try gd.initialState(momentum: [1.0, 2.0, 3.0], as: Double.self) }
    #expect(throws: OptimizerError.self) { try gd.initialState(secondMoment: [1.0, 2.0, 3.0], as: Double.self) }
    do {
      _ = try adam.initialState(secondMoment: [1.0, -2.0, 1.0], as: Double.self)
    } catch {
      #expect("\(error)".contains("-2.0"))
    }
  }

  @Test func badLayoutsAndSchedules() throws {
    #expect(throws: LinearAlgebraError.self) { try ParameterLayout(shapes: [[2, 0]]) }
    #expect(throws: LinearAlgebraError.self) { try ParameterLayout(shapes: [[]]) }
    #expect(throws: LinearAlgebraError.self) { try ParameterLayout(shapes: [[Int.max, 3]]) }
    #expect(throws: LinearAlgebraError.self) {
      try ParameterLayout(blocks: [ParameterBlock(name: "a", shape: [2], offset: 0), ParameterBlock(name: "b", shape: [1], offset: 3)])
    }
    #expect(throws: OptimizerError.self) { try Optimizer(.adam, Hyperparameters(lr: 0.1), parameterCount: 1, schedule: .linearWarmup(steps: 0)) }
    #expect(throws: OptimizerError.self) { try Optimizer(.adam, Hyperparameters(lr: 0.1), parameterCount: 1, schedule: .cosine(steps: 5, warmupSteps: 5)) }
    #expect(throws: OptimizerError.self) { try Optimizer(.adam, Hyperparameters(lr: 0.1), parameterCount: -1) }
  }

  @Test func stateValidation() throws {
    let opt = try Optimizer(.adafactor, Hyperparameters(lr: 0.1), layout: try ParameterLayout(shapes: [[2, 3], [4]]))
    let good = try opt.initialState(as: Float.self)
    try opt.validate(good)
    var bad = good
    bad.rowSecondMoment = [1]
    #expect(throws: OptimizerError.self) { try opt.validate(bad) }
    #expect(throws: OptimizerError.self) { try OptimizerState<Double>(step: 0, arrays: ["velocity": [1]]) }
    let frozen = try Optimizer(.frozenAdam, Hyperparameters(lr: 0.1), parameterCount: 2)
    var noP = try frozen.initialState(as: Double.self)
    noP.frozenPreconditioner = nil
    #expect(throws: OptimizerError.self) { try frozen.validate(noP) }
  }

  // MARK: State round trips

  @Test func stateRoundTripsThroughArraysAndJSON() async throws {
    let kinds = OptimizerKind.allCases
    await propertyCheckThrowing(count: 40, input: Gen.int(in: 0...(kinds.count - 1)).map { kinds[$0] }, Gen.double(in: -2...2).array(of: 6).array(of: 0...4)) {
      kind, grads in
      let opt = try Optimizer(kind, Hyperparameters(lr: 0.1), layout: try ParameterLayout(shapes: [[2, 2], [2]]))
      var state = try opt.initialState(as: Double.self)
      var x = [Double](repeating: 1, count: 6)
      for g in grads { opt.step(parameters: &x, gradient: g, state: &state) }
      let rebuilt = try OptimizerState<Double>(step: state.step, arrays: state.arrays)
      #expect(rebuilt == state)
      try opt.validate(rebuilt)
      let json = try JSONEncoder().encode(state)
      #expect(try JSONDecoder().decode(OptimizerState<Double>.self, from: json) == state)
      // Resuming from the copy continues identically.
      var (x1, s1, x2, s2) = (x, state, x, rebuilt)
      opt.step(parameters: &x1, gradient: [1, 2, 3, 4, 5, 6], state: &s1)
      opt.step(parameters: &x2, gradient: [1, 2, 3, 4, 5, 6], state: &s2)
      #expect(x1 == x2 && s1 == s2)
    }
  }

  // MARK: Schedules

  @Test func schedules() async throws {
    await propertyCheck(count: 50, input: Gen.int(in: 1...100), Gen.int(in: 0...300), Gen.double(in: 0...1)) { w, t, final in
      let warm = LearningRateSchedule.linearWarmup(steps: w).factor(at: t)
      #expect(warm == min(1, Double(t + 1) / Double(w)))
      let total = w + 50
      let cosine = LearningRateSchedule.cosine(steps: total, warmupSteps: w, finalFactor: final)
      if t < w {
        #expect(cosine.factor(at: t) == warm)
      } else {
        let f = cosine.factor(at: t)
        // Between the final factor and 1, non-increasing after warm-up, ≈ final at the end.
        #expect(f >= final - 1e-15 && f <= 1 + 1e-15)
        #expect(cosine.factor(at: t + 1) <= f + 1e-15)
        #expect(abs(cosine.factor(at: w) - 1) < 1e-15)
        #expect(abs(cosine.factor(at: total) - final) < 1e-15)
      }
    }
    #expect(LearningRateSchedule.constant.factor(at: 12345) == 1)
  }

  @Test func scheduleScalesTheStep() throws {
    let opt = try Optimizer(.gd, Hyperparameters(lr: 0.5), parameterCount: 1, schedule: .linearWarmup(steps: 4))
    var state = try opt.initialState(as: Double.self)
    var x = [0.0]
    opt.step(parameters: &x, gradient: [1], state: &state)
    // η₀ = 0.5·1/4.
    #expect(x == [-0.125])
    #expect(opt.learningRate(at: 10) == 0.5)
  }

  // MARK: Theory comes from Dynamics

  /// Thresholds are the `Dynamics` recurrence's; spot-checked against DESIGN.md's
  /// closed forms (Cohen et al. 2022, Table 1) — bisection/roots to 1e-9 relative.
  @Test func thresholdsComeFromTheRecurrence() async throws {
    await propertyCheckThrowing(count: 30, input: Gen.double(in: 1e-4...10), Gen.double(in: 0...0.99)) { eta, beta in
      for kind in OptimizerKind.allCases where kind != .adamw {
        let opt = try Optimizer(kind, Hyperparameters(lr: eta, beta1: beta), parameterCount: 1)
        let th = try opt.threshold()
        #expect(th == (try kind.frozenRecurrence(opt.hyperparameters).threshold(lr: eta)))
        let closed: Double =
          switch kind.frozenRecurrence(opt.hyperparameters).name {
          case "gd": 2 / eta
          case "hb": (2 + 2 * beta) / eta
          case "ema-hb": (2 + 2 * beta) / (eta * (1 - beta))
          case "nesterov": (2 + 2 * beta) / (eta * (1 + 2 * beta))
          default: (2 + 2 * beta) / (eta * (1 - beta) * (1 + 2 * beta))
          }
        #expect(relativeError(th, closed) < 1e-9, "\(kind)")
      }
    }
  }

  @Test func adamWThresholdHasTheDecay() throws {
    let opt = try Optimizer(.adamw, Hyperparameters(lr: 0.01, beta1: 0.9, weightDecay: 0.1), parameterCount: 1)
    // (1+β)(2 − η·wd)/(η(1−β)) from DESIGN.md.
    #expect(relativeError(try opt.threshold(), 1.9 * (2 - 0.001) / (0.01 * 0.1)) < 1e-9)
    #expect(opt.quantity == "preconditioned sharpness")
  }
}
