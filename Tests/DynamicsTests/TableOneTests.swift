import Algebra
import Dynamics
import PropertyBased
import TestSupport
import Testing

/// Cohen et al. 2022, Table 1: the closed forms must come out of the derivation
/// *as expressions* (equal rational functions), not merely as numbers.
@Suite struct TableOneTests {
  static let expected: [(BuiltinMethod, String, String)] = [
    (.gd, "2/eta", "2/η"),
    (.hb, "(2+2*beta)/eta", "(2 + 2β)/η"),
    (.emaHB, "(2+2*beta)/(eta*(1-beta))", "(2 + 2β)/(η(1 − β))"),
    (.nesterov, "(2+2*beta)/(eta*(1+2*beta))", "(2 + 2β)/(η(1 + 2β))"),
    (.emaNesterov, "(2+2*beta)/(eta*(1-beta)*(1+2*beta))", "(2 + 2β)/(η(1 − β)(1 + 2β))"),
  ]

  @Test(arguments: 0..<5)
  func closedFormEqualsTableOne(_ index: Int) throws {
    let (method, formula, text) = Self.expected[index]
    let derivation = try Derivation(rule: method.rule, values: [:])
    guard case let .rational(r)? = derivation.closedForm else {
      Issue.record("\(method.rawValue): no rational closed form")
      return
    }
    #expect(r == (try ExpressionParser.parse(formula)), "\(method.rawValue): \(r.formatted(.text))")
    #expect(r.formatted(.text) == text)
  }

  @Test func adamWThresholdWithDecay() throws {
    let rec = Recurrence.emaHeavyBallWithDecay(beta: 0.9, weightDecay: 0.1)
    let analysis = try rec.analysis(lr: 0.01)
    guard case let .rational(r)? = analysis.closedForm() else {
      Issue.record("AdamW: no closed form")
      return
    }
    #expect(r == (try ExpressionParser.parse("(1+beta)*(2-eta*wd)/(eta*(1-beta))")))
    #expect(r.formatted(.text) == "(1 + β)(2 − η·wd)/(η(1 − β))")
  }

  @Test func emaHBAtPaperSettings() throws {
    // DESIGN.md: aeos threshold ema-hb --lr 1e-4 --beta1 0.9 prints 380000
    let t = try Recurrence.builtin(.emaHB, beta: 0.9).threshold(lr: 1e-4)
    #expect(t == 380_000)
    // 38/η at β = 0.9 and 13.57/η for EMA Nesterov
    let n = try Recurrence.builtin(.emaNesterov, beta: 0.9).threshold(lr: 1)
    #expect(abs(n - 38.0 / 2.8) < 1e-12)
  }

  /// Figure 14 of Cohen et al. 2022: growth factors at 1.1× the threshold, reported
  /// to two decimals, so the tolerance is half a unit in the last place.
  @Test func figure14() throws {
    let cases: [(Recurrence, Double, Double)] = [
      (.builtin(.gd), 0.2, 1.20),
      (.builtin(.hb, beta: 0.9), 0.02, 1.77),
      (.builtin(.nesterov, beta: 0.9), 0.02, 1.28),
    ]
    for (rec, lr, expected) in cases {
      let t = try rec.threshold(lr: lr)
      let rho = try rec.growthFactor(eigenvalue: 1.1 * t, lr: lr)
      #expect(abs(rho - expected) < 0.005, "\(rec.name): ρ(1.1 λ*) = \(rho), paper \(expected)")
    }
  }
}

@Suite struct ThresholdProperties {
  /// Closed form = numeric threshold from the roots, for every built-in, at random
  /// η and β; tolerance 1e-10 relative: both are double evaluations of the same
  /// exact quantity (a degree-1 root computed exactly in rationals vs. the formula).
  @Test func closedFormMatchesNumeric() async throws {
    await propertyCheck(count: 60, input: Gen.double(in: 1e-4...10), Gen.double(in: 0...0.999), Gen.int(in: 0...4)) { lr, beta, k in
      let method = BuiltinMethod.allCases[k]
      let rec = Recurrence.builtin(method, beta: beta)
      guard let analysis = try? rec.analysis(lr: lr), let t = analysis.threshold else {
        Issue.record("no threshold for \(method.rawValue) at lr \(lr), beta \(beta)")
        return
      }
      guard let form = analysis.closedForm(), let v = form.evaluate(["eta": lr, "beta": beta]) else {
        Issue.record("no closed form for \(method.rawValue)")
        return
      }
      #expect(abs(v - t) <= 1e-10 * t)
    }
  }

  /// ρ(λ*) = 1: the threshold is where a root reaches the unit circle. The crossing
  /// root is simple, so ρ is Lipschitz there and 1e-9 absolute is generous.
  @Test func growthIsOneAtThreshold() async throws {
    await propertyCheck(count: 60, input: Gen.double(in: 1e-4...10), Gen.double(in: 0...0.99), Gen.int(in: 0...4)) { lr, beta, k in
      let rec = Recurrence.builtin(BuiltinMethod.allCases[k], beta: beta)
      let t = try? rec.threshold(lr: lr)
      let rho = t.flatMap { try? rec.growthFactor(eigenvalue: $0, lr: lr) }
      #expect(rho.map { abs($0 - 1) < 1e-9 } == true, "ρ(λ*) = \(String(describing: rho))")
    }
  }

  /// EMA method at η ≡ standard method at η(1 − β): thresholds agree.
  @Test func emaIsStandardAtScaledRate() async throws {
    await propertyCheck(count: 60, input: Gen.double(in: 1e-3...10), Gen.double(in: 0...0.99)) { lr, beta in
      for (ema, std) in [(BuiltinMethod.emaHB, BuiltinMethod.hb), (.emaNesterov, .nesterov)] {
        let a = try? Recurrence.builtin(ema, beta: beta).threshold(lr: lr)
        let b = try? Recurrence.builtin(std, beta: beta).threshold(lr: lr * (1 - beta))
        #expect(a != nil && b != nil && abs(a! - b!) <= 1e-10 * b!)
      }
    }
  }

  /// The Jury / Schur–Cohn conditions hold exactly where ρ < 1. Points within 1% of
  /// the threshold are skipped so rounding cannot decide the comparison.
  @Test func juryConditionsAgreeWithRoots() async throws {
    await propertyCheckThrowing(count: 40, input: Gen.double(in: 1e-3...1), Gen.double(in: 0...0.95), Gen.double(in: 0.01...3), Gen.int(in: 0...4)) { lr, beta, f, k in
      guard abs(f - 1) > 0.01 else { return }
      let method = BuiltinMethod.allCases[k]
      let values = method.hasMomentum ? ["eta": lr, "beta": beta] : ["eta": lr]
      guard let d = try? Derivation(rule: method.rule, values: values), let t = d.analysis.threshold else {
        Issue.record("derivation failed")
        return
      }
      let lambda = f * t
      let holds = d.conditions.allSatisfy { ($0.expression.evaluate(["lamda": lambda]) ?? -1) > 0 }
      let rho = try d.analysis.growthFactor(at: lambda)
      #expect(holds == (rho < 1), "\(method.rawValue) at \(f)× threshold: conditions \(holds), ρ = \(rho)")
    }
  }
}
