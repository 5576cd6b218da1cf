import Dynamics
import Foundation
import LinearAlgebra
import Optimizers
import PropertyBased
import TestSupport
import Testing

/// A random quadratic loss in n dimensions: ∇L(x) = A·x + b with A symmetric.
struct LinearGradient {
  var n: Int
  /// Row-major n×n, symmetric.
  var a: [Double]
  var b: [Double]

  /// A = (B + Bᵀ)/2 with Bᵢⱼ uniform in [−1, 1] (indefinite), or BᵀB/n² when
  /// `semidefinite` (eigenvalues in [0, 1], since ‖B‖₂ ≤ ‖B‖_F ≤ n); b uniform in [−1, 1].
  init(n: Int, seed: UInt64, semidefinite: Bool = false) {
    var rng = SeededGenerator(seed: seed)
    let raw = (0..<(n * n)).map { _ in 2 * rng.nextUniform() - 1 }
    var a = [Double](repeating: 0, count: n * n)
    for i in 0..<n {
      for j in 0..<n {
        if semidefinite {
          var s = 0.0
          for k in 0..<n { s += raw[k * n + i] * raw[k * n + j] }
          a[i * n + j] = s / Double(n * n)
        } else {
          a[i * n + j] = (raw[i * n + j] + raw[j * n + i]) / 2
        }
      }
    }
    self.n = n
    self.a = a
    self.b = (0..<n).map { _ in 2 * rng.nextUniform() - 1 }
  }

  func callAsFunction<T: OptimizerScalar>(_ x: [T]) -> [T] {
    (0..<n).map { i in
      var s = T(b[i])
      for j in 0..<n { s += T(a[i * n + j]) * x[j] }
      return s
    }
  }
}

func maxMagnitude<T: BinaryFloatingPoint>(_ vs: [T]...) -> Double {
  vs.flatMap { $0 }.reduce(0.0) { max($0, abs(Double($1))) }
}

@Suite struct RuleOptimizerTests {
  static let builtins: [(BuiltinMethod, OptimizerKind)] = [
    (.gd, .gd), (.hb, .hb), (.emaHB, .emaHB), (.nesterov, .nesterov), (.emaNesterov, .emaNesterov),
  ]

  /// Each built-in rule, executed, takes the same step as `Optimizer` of its kind from
  /// the same state (x, m), along the optimizer's own trajectory under a warm-up
  /// schedule (so η changes every step), in Double and Float.
  ///
  /// Tolerance: each new entry is a sum of at most three products c·u (x, m or g,
  /// coefficients η, ηβ, 1 − β, …), computed in a different order on each side with
  /// coefficients rounded differently (η·β formed in Double and then rounded to T, or
  /// multiplied in T): at most ~10 roundings of quantities ≤ (1 + 3η)·M ≤ 2.5M, M the
  /// largest |x|, |m|, |g| entry. 256 ulps of M bounds that with room to spare.
  @Test func builtinRulesStepLikeTheOptimizers() async throws {
    await propertyCheckThrowing(
      count: 100, input: Gen.int(in: 0...4), Gen.int(in: 1...6), Gen.int(in: 0...1_000_000), Gen.double(in: 0.001...0.5),
      Gen.double(in: 0...0.99), Gen.int(in: 1...25), Gen.int(in: 1...10)
    ) { which, n, seed, eta, beta, steps, warmup in
      let (method, kind) = Self.builtins[which]
      let schedule = LearningRateSchedule.linearWarmup(steps: warmup)
      let params = method.hasMomentum ? ["beta": beta] : [:]
      let rule = try RuleOptimizer(rule: method.rule, parameters: params, lr: eta, schedule: schedule)
      let optimizer = try Optimizer(kind, Hyperparameters(lr: eta, beta1: beta), parameterCount: n, schedule: schedule)
      let grad = LinearGradient(n: n, seed: UInt64(seed))
      try Self.compare(Double.self, rule, optimizer, grad, steps: steps, momentum: method.hasMomentum)
      try Self.compare(Float.self, rule, optimizer, grad, steps: steps, momentum: method.hasMomentum)
    }
  }

  static func compare<T: OptimizerScalar>(
    _: T.Type, _ rule: RuleOptimizer, _ optimizer: Optimizer, _ grad: LinearGradient, steps: Int, momentum: Bool
  ) throws {
    let n = grad.n
    var x = (0..<n).map { T(Double($0 + 1) / Double(n) - 0.3) }
    var state = try optimizer.initialState(as: T.self)
    for t in 0..<steps {
      let g: [T] = grad(x)
      // the rule from the optimizer's current state
      var rx = x
      var rstate = RuleState<T>(step: t, vectors: momentum ? ["m": state.momentum] : [:])
      try rule.validate(rstate, count: n)
      let scale = maxMagnitude(x, state.momentum, g)
      var calls = 0
      try rule.step(parameters: &rx, state: &rstate, gradientAtIterate: g) { p in
        calls += 1
        return grad(p)
      }
      optimizer.step(parameters: &x, gradient: g, state: &state)
      let tolerance = 256 * Double(T.ulpOfOne) * max(scale, Double(T.leastNormalMagnitude))
      let dx = zip(rx, x).map { abs(Double($0) - Double($1)) }.max() ?? 0
      #expect(dx <= tolerance, "\(T.self) \(rule.rule) step \(t): x differs by \(dx) > \(tolerance)")
      if momentum {
        let dm = zip(rstate.vectors["m"] ?? [], state.momentum).map { abs(Double($0) - Double($1)) }.max() ?? .infinity
        #expect(dm <= tolerance, "\(T.self) \(rule.rule) step \(t): m differs by \(dm) > \(tolerance)")
      }
      #expect(rstate.step == t + 1)
      #expect(calls == 0, "the only point is x, whose gradient was given")
    }
  }

  /// The look-ahead (Sutskever) form v' = βv − η∇L(x + βv); x' = x + v' is standard
  /// Nesterov under the change of variables y = x + βv, m = −v/η (constant η):
  /// then v' = −η(βm + ∇L(y)) = −ηm', and
  /// y' = x' + βv' = y − βv + (1 + β)v' = y − η[(1 + β)m' − βm] = y − η(βm' + ∇L(y)),
  /// since (1 + β)m' − βm = βm' + (m' − βm) = βm' + ∇L(y). From v₀ = 0, y₀ = x₀ and
  /// m₀ = 0, so the `Optimizer(.nesterov)` iterates are x_t + βv_t of the rule.
  ///
  /// Tolerance: A is positive semidefinite with eigenvalues ≤ 1, and η ≤ 0.5, β ≤ 0.9
  /// put Nesterov's threshold (2 + 2β)/(η(1 + 2β)) above 1.4, beyond every eigenvalue:
  /// both recurrences are stable and their powers stay bounded (transient growth
  /// ≲ 1/(1 − β) ≤ 10). Each step adds ≲ 10 roundings of the running scale S (largest
  /// |y|, |v|, |g| so far); over ≤ 40 steps the difference stays below
  /// 40·10·10·ε·S ≈ 1e-12·S, and 1e-10·S is the bound.
  @Test func lookAheadIsNesterovInOtherVariables() async throws {
    let lookAhead = "v' = beta*v - eta*g(x + beta*v); x' = x + v'"
    await propertyCheckThrowing(
      count: 100, input: Gen.int(in: 1...6), Gen.int(in: 0...1_000_000), Gen.double(in: 0.001...0.5), Gen.double(in: 0...0.9),
      Gen.int(in: 1...40)
    ) { n, seed, eta, beta, steps in
      let grad = LinearGradient(n: n, seed: UInt64(seed), semidefinite: true)
      let rule = try RuleOptimizer(rule: lookAhead, parameters: ["beta": beta], lr: eta)
      #expect(rule.stateVariables == ["v"] && rule.gradientPoints == 1 && !rule.usesGradientAtIterate)
      let nesterov = try Optimizer(.nesterov, Hyperparameters(lr: eta, beta1: beta), parameterCount: n)
      let x0 = (0..<n).map { Double($0) - 1.5 }
      var x = x0, y = x0
      var rstate = rule.initialState(count: n, as: Double.self)
      var nstate = try nesterov.initialState(as: Double.self)
      var scale = maxMagnitude(x0, grad(x0))
      for t in 0..<steps {
        try rule.step(parameters: &x, state: &rstate, gradientAtIterate: grad(x)) { grad($0) }
        nesterov.step(parameters: &y, gradient: grad(y), state: &nstate)
        let v = rstate.vectors["v"] ?? []
        let lookAheadPoint = zip(x, v).map { $0 + beta * $1 }
        scale = max(scale, maxMagnitude(y, v, grad(y)))
        let d = zip(lookAheadPoint, y).map { abs($0 - $1) }.max() ?? .infinity
        #expect(d <= 1e-10 * scale, "step \(t): x + βv = \(lookAheadPoint), nesterov \(y)")
      }
      // and the analysis agrees: the same threshold as the built-in nesterov
      let t1 = try rule.threshold(), t2 = try nesterov.threshold()
      #expect(abs(t1 - t2) <= 1e-9 * t2)
    }
  }

  /// One gradient per distinct point: a point written twice (in two spellings) is
  /// evaluated once; the point x costs nothing when its gradient is given.
  @Test func oneGradientPerDistinctPoint() throws {
    let cases: [(rule: String, points: Int, atIterate: Bool)] = [
      ("v' = beta*v - eta*g(x + beta*v); x' = x + v' - eta*g(x + v*beta)/2", 1, false),
      ("x' = x - eta*(g + g(x))/2", 1, true),
      ("x' = x - eta*g(x - eta*g)", 2, true),
      ("m' = beta*m + g; u' = g(x - eta*m'); x' = x - eta*g(x - eta*(beta*m + g))", 2, true),
      ("m' = beta*m + g(x + beta*m); x' = x - eta*(g(beta*m + x) + m')", 1, false),
    ]
    let grad = LinearGradient(n: 3, seed: 7)
    for (text, points, atIterate) in cases {
      let beta = try RuleProgram(parsing: text).parameters.contains("beta") ? ["beta": 0.8] : [:]
      let rule = try RuleOptimizer(rule: text, parameters: beta, lr: 0.1)
      #expect(rule.gradientPoints == points, "\(text)")
      #expect(rule.usesGradientAtIterate == atIterate, "\(text)")
      var x = [1.0, -2.0, 0.5]
      var state = rule.initialState(count: 3, as: Double.self)
      for _ in 0..<3 {
        var withGiven = 0, without = 0
        var x2 = x, state2 = state
        try rule.step(parameters: &x, state: &state, gradientAtIterate: grad(x)) { p in
          withGiven += 1
          return grad(p)
        }
        try rule.step(parameters: &x2, state: &state2, gradientAtIterate: nil) { p in
          without += 1
          return grad(p)
        }
        #expect(withGiven == points - (atIterate ? 1 : 0), "\(text): \(withGiven) calls with ∇L(x) given")
        #expect(without == points, "\(text): \(without) calls without")
        // the same step either way (the given gradient is the one the rule would compute)
        #expect(x == x2 && state == state2)
      }
    }
  }

  /// The extragradient rule evaluates at x, then at x − η∇L(x), in that order.
  @Test func pointsAreEvaluatedInOrder() throws {
    let rule = try RuleOptimizer(rule: "x' = x - eta*g(x - eta*g)", parameters: [:], lr: 0.25)
    let grad = LinearGradient(n: 2, seed: 3)
    var x = [1.0, 2.0]
    let x0 = x
    var state = rule.initialState(count: 2, as: Double.self)
    var seen: [[Double]] = []
    try rule.step(parameters: &x, state: &state, gradientAtIterate: nil) { p in
      seen.append(p)
      return grad(p)
    }
    let g0 = grad(x0)
    let p1 = zip(x0, g0).map { $0 - 0.25 * $1 }
    #expect(seen.count == 2 && seen[0] == x0 && seen[1] == p1)
    #expect(x == zip(x0, grad(p1)).map { $0 - 0.25 * $1 })
  }

  /// On the one-dimensional quadratic (∇L(x) = λx) the executed step is the linear
  /// map of `StateSpaceModel(rule:).matrix` at the same numbers: column j is the step
  /// from the j-th unit state. This ties execution to the analysis.
  ///
  /// Tolerance: matrix entries are polynomials of degree ≤ 4 in η|λ| ≤ 6 and
  /// parameters < 1; both sides evaluate the same exact numbers in a different order
  /// with ≲ 30 roundings of terms ≤ 4(1 + η|λ|)³, so 1e-12 of that is ample.
  @Test func oneStepMapIsTheStateMatrix() async throws {
    let rules = [
      BuiltinMethod.gd.rule, BuiltinMethod.hb.rule, BuiltinMethod.emaHB.rule, BuiltinMethod.nesterov.rule,
      BuiltinMethod.emaNesterov.rule,
      "m' = beta*m + (1-beta)*g; x' = x - eta*((1-nu)*g + nu*m')",
      "u' = beta*u + g; v' = nu*v + g; x' = x - eta*(u' + v')/2",
      "v' = beta*v - eta*g(x + beta*v); x' = x + v'",
      "x' = x - eta*g(x - eta*g)",
      "x' = x - eta*m; m' = beta*m + g(x')",
      "m' = beta*m + (1-beta)*g; x' = x - eta*m' - eta*nu*x",
      // 4 and 8 terms: combinations that take more than one pass over the vectors
      "m' = beta*m + g; x' = x - eta*(m' + nu*m + g)",
      "a' = beta*a + g; b' = nu*b + g; c' = beta*nu*c + g; x' = x - eta*(a' + b' + c' + a + 2*b + 3*c + g)/7",
    ]
    await propertyCheckThrowing(
      count: 120, input: Gen.int(in: 0...(rules.count - 1)), Gen.double(in: 0.01...2), Gen.double(in: -3...3),
      Gen.double(in: 0...0.95), Gen.double(in: 0...0.95)
    ) { which, eta, lambda, beta, nu in
      let text = rules[which]
      let model = try StateSpaceModel(rule: UpdateRule(parsing: text))
      let program = try RuleProgram(parsing: text)
      let params = ["beta": beta, "nu": nu].filter { program.parameters.contains($0.key) }
      let rule = try RuleOptimizer(rule: text, parameters: params, lr: eta)
      let names = model.rule.stateVariables
      var values = params
      values["eta"] = eta
      values["lamda"] = lambda
      let tolerance = 1e-12 * 4 * pow(1 + eta * abs(lambda), 3)
      for (j, column) in names.enumerated() {
        var x = [column == "x" ? 1.0 : 0.0]
        var state = RuleState<Double>(step: 0, vectors: [:])
        for name in names where name != "x" { state.vectors[name] = [name == column ? 1.0 : 0.0] }
        try rule.step(parameters: &x, state: &state, gradientAtIterate: nil) { p in [lambda * p[0]] }
        for (i, name) in names.enumerated() {
          let executed = name == "x" ? x[0] : state.vectors[name]?[0] ?? .nan
          let expected = model.matrix[i][j].evaluate(values) ?? .nan
          #expect(abs(executed - expected) <= tolerance, "\(text): A[\(name)][\(column)] = \(expected), executed \(executed)")
        }
      }
    }
  }

  /// Above 2¹⁷ entries the combinations are split across cores (as the built-in
  /// optimizers' loops): the result is the same as the built-in heavy ball's, entry by
  /// entry, on a diagonal quadratic with 2¹⁸ + 3 parameters (tolerance as in
  /// `builtinRulesStepLikeTheOptimizers`: 256 ulps of the largest |x|, |m|, |g|).
  @Test func largeVectorsSplitAcrossCores() throws {
    let n = (1 << 18) + 3
    let rule = try RuleOptimizer(rule: BuiltinMethod.hb.rule, parameters: ["beta": 0.9], lr: 0.05)
    let hb = try Optimizer(.hb, Hyperparameters(lr: 0.05, beta1: 0.9), parameterCount: n)
    let d = (0..<n).map { 0.5 + Double($0 % 97) / 10 }
    var y = (0..<n).map { Double($0 % 13) - 6 }
    var hs = try hb.initialState(as: Double.self)
    for t in 0..<5 {
      // one step of each from the built-in's state
      let g = zip(d, y).map { $0 * $1 }
      var x = y
      var rs = RuleState(step: t, vectors: ["m": hs.momentum])
      let scale = maxMagnitude(y, hs.momentum, g)
      try rule.step(parameters: &x, state: &rs, gradientAtIterate: g) { _ in g }
      hb.step(parameters: &y, gradient: g, state: &hs)
      let dx = zip(x, y).map { abs($0 - $1) }.max() ?? .infinity
      let dm = zip(rs.vectors["m"] ?? [], hs.momentum).map { abs($0 - $1) }.max() ?? .infinity
      #expect(max(dx, dm) <= 256 * Double.ulpOfOne * scale, "step \(t): x differs by \(dx), m by \(dm)")
    }
  }

  @Test func badRulesAndValuesAreNamed() throws {
    let rules: [(String, [String: Double], String)] = [
      ("x' = x - eta*g*x", [:], "degree 2"),
      ("x' = x - eta*g(x)*g", [:], "degree 2"),
      ("m' = beta*m + g; x' = x - eta*g*m'/x", ["beta": 0.9], "divides by x"),
      ("x' = x - eta*g(2*x)*x/g", [:], "divides by g"),
      ("x' = x - eta*g(0*x)", [:], "g(0*x)"),
      ("m' = beta*m + g(x*m); x' = x - eta*m'", ["beta": 0.9], "degree 2"),
      ("x' = x - eta*c*g", [:], "c (--param c=VALUE)"),
      ("m' = beta*m + g; x' = x - eta*m'", ["beta": 0.9, "nu": 1], "no parameter \"nu\""),
      ("m' = beta*m + g; x' = x - eta*m'", ["beta": .nan], "beta = nan"),
      ("m' = beta*m + g; x' = x - eta*m'", ["beta": 0.9, "eta": 1], "eta is the learning rate"),
      ("x' = x - eta*g/(1 - beta)", ["beta": 1], "divides by zero"),
      ("x' = x - eta*", [:], "cannot parse"),
    ]
    for (text, params, mention) in rules {
      do {
        _ = try RuleOptimizer(rule: text, parameters: params, lr: 0.1)
        Issue.record("accepted \"\(text)\" with \(params)")
      } catch {
        #expect("\(error)".contains(mention), "\"\(text)\": \(error)")
      }
    }
    #expect(throws: HyperparameterError.outOfRange(name: "lr", value: -1, expected: "a finite number > 0")) {
      try RuleOptimizer(rule: "x' = x - eta*g", parameters: [:], lr: -1)
    }
    // a coefficient that divides by zero at one η only: named when the step reaches it
    let odd = try RuleOptimizer(rule: "x' = x - g/(1 - eta)", parameters: [:], lr: 1)
    var x = [1.0]
    var state = odd.initialState(count: 1, as: Double.self)
    do {
      try odd.step(parameters: &x, state: &state, gradientAtIterate: [1]) { $0 }
      Issue.record("stepped with an infinite coefficient")
    } catch {
      #expect("\(error)".contains("at eta = 1.0") && "\(error)".contains("coefficient of g"), "\(error)")
    }
    #expect(x == [1.0] && state.step == 0, "a failed step changes nothing")
  }

  @Test func statesAreCheckedAndRoundTrip() throws {
    let rule = try RuleOptimizer(rule: "u' = b1*u + g; v' = b2*v + g; x' = x - eta*(u' + v')/2", parameters: ["b1": 0.9, "b2": 0.5], lr: 0.1)
    #expect(rule.stateVariables == ["u", "v"])
    var state = rule.initialState(count: 4, as: Float.self)
    #expect(state.vectors == ["u": [0, 0, 0, 0], "v": [0, 0, 0, 0]])
    var x: [Float] = [1, 2, 3, 4]
    try rule.step(parameters: &x, state: &state, gradientAtIterate: x) { $0 }
    let data = try JSONEncoder().encode(state)
    let back = try JSONDecoder().decode(RuleState<Float>.self, from: data)
    #expect(back == state)
    try rule.validate(back, count: 4)
    let bad: [(RuleState<Float>, String)] = [
      (RuleState(step: 1, vectors: ["u": [0, 0, 0, 0]]), "lacks its vector \"v\""),
      (RuleState(step: 1, vectors: ["u": [0, 0, 0, 0], "v": [0, 0, 0]]), "\"v\" has 3 entries: expected 4"),
      (RuleState(step: 1, vectors: ["u": [0, 0, 0, 0], "v": [0, 0, 0, 0], "m": []]), "unknown rule state vector \"m\""),
      (RuleState(step: -1, vectors: [:]), "step count -1"),
    ]
    for (s, mention) in bad {
      #expect(throws: OptimizerError.self) { try rule.validate(s, count: 4) }
      do { try rule.validate(s, count: 4) } catch { #expect("\(error)".contains(mention), "\(error)") }
    }
    // a gradient of the wrong length is refused
    #expect(throws: OptimizerError.self) {
      try rule.step(parameters: &x, state: &state, gradientAtIterate: nil) { _ in [1, 2] }
    }
  }

  /// The learning rate follows the schedule, and the threshold is the rule's.
  @Test func scheduleAndThreshold() throws {
    let rule = try RuleOptimizer(
      rule: BuiltinMethod.emaHB.rule, parameters: ["beta": 0.9], lr: 0.01, schedule: .linearWarmup(steps: 4))
    #expect(rule.learningRate(at: 0) == 0.0025 && rule.learningRate(at: 10) == 0.01)
    // (2 + 2β)/(η(1 − β)) = 38/η
    #expect(abs(try rule.threshold() - 3800) <= 1e-9 * 3800)
    #expect(abs(try rule.threshold(lr: 1) - 38) <= 1e-9 * 38)
    #expect(rule.recurrence.name == "rule")
  }
}
