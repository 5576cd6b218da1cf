import Foundation

/// One check of `aeos verify`: a claim of the theory held against a computation.
public struct Check: Sendable {
  public var layer: String
  public var name: String
  public var expected: String
  public var measured: String
  public var passed: Bool

  public init(layer: String, name: String, expected: String, measured: String, passed: Bool) {
    self.layer = layer
    self.name = name
    self.expected = expected
    self.measured = measured
    self.passed = passed
  }

  public var json: JSONValue {
    .object([("layer", .string(layer)), ("name", .string(name)), ("expected", .string(expected)), ("measured", .string(measured)), ("passed", .bool(passed))])
  }
}

/// `aeos verify`: the theory (layer 1) checked against the published closed forms
/// and growth factors; the quadratic, engine and training layers add theirs
/// (`quadraticChecks`, `engineChecks`, `trainingChecks`).
public enum Verify {
  /// Cohen et al. 2022, Table 1, as written in the paper.
  public static let tableOne: [(OptimizerKind, String)] = [
    (.gd, "2/eta"),
    (.hb, "(2+2*beta)/eta"),
    (.emaHB, "(2+2*beta)/(eta*(1-beta))"),
    (.nesterov, "(2+2*beta)/(eta*(1+2*beta))"),
    (.emaNesterov, "(2+2*beta)/(eta*(1-beta)*(1+2*beta))"),
  ]

  /// - Parameter thresholdScale: multiplies every threshold the checks hold results
  ///   against (1 in `aeos verify`; a test sets another to see the checks fail).
  public static func theoryChecks(thresholdScale: Double = 1) -> [Check] {
    var checks: [Check] = []
    for (kind, paper) in tableOne {
      let rec = kind.frozenRecurrence(Hyperparameters(lr: 1))
      do {
        let d = try Derivation(rule: rec.rule, values: [:])
        var expected = try ExpressionParser.parse(paper)
        if thresholdScale != 1 { expected = expected * Rational.fromUserDouble(thresholdScale) }
        let got: String
        var ok = false
        if case let .rational(r)? = d.closedForm {
          got = r.formatted(.text)
          ok = r == expected
        } else {
          got = d.closedForm?.formatted(.text) ?? "none"
        }
        checks.append(Check(layer: "theory", name: "Table 1 closed form, \(kind.rawValue)", expected: expected.formatted(.text), measured: got, passed: ok))
      } catch {
        checks.append(Check(layer: "theory", name: "Table 1 closed form, \(kind.rawValue)", expected: paper, measured: "error: \(error)", passed: false))
      }
    }
    // Adaptive methods take their thresholds from the recurrence they freeze to.
    for (kind, paper) in [(OptimizerKind.adam, 38.0), (.nadam, 38.0 / 2.8), (.rmsprop, 2.0), (.adafactor, 38.0)] {
      let expected = paper * thresholdScale
      let t = try? kind.frozenRecurrence(Hyperparameters(lr: 1)).threshold(lr: 1)
      checks.append(Check(
        layer: "theory", name: "\(kind.rawValue) threshold at η = 1, β₁ = 0.9", expected: formatHuman(expected),
        measured: t.map(formatHuman) ?? "error", passed: t.map { abs($0 - expected) < 1e-9 * expected } ?? false))
    }
    // Figure 14: growth factors at 1.1× the threshold.
    for (kind, lr, paper) in [(OptimizerKind.gd, 0.2, 1.20), (.hb, 0.02, 1.77), (.nesterov, 0.02, 1.28)] {
      let rec = kind.frozenRecurrence(Hyperparameters(lr: lr))
      let rho = (try? rec.threshold(lr: lr)).flatMap { try? rec.growthFactor(eigenvalue: 1.1 * thresholdScale * $0, lr: lr) }
      checks.append(Check(
        layer: "theory", name: "Figure 14: ρ at 1.1× threshold, \(kind.rawValue)(η = \(lr))", expected: String(format: "%.2f", paper),
        measured: rho.map { String(format: "%.4f", $0) } ?? "error", passed: rho.map { abs($0 - paper) < 0.005 } ?? false))
    }
    return checks
  }

  public static func report(_ checks: [Check]) -> String {
    var lines: [String] = []
    var layer = ""
    for c in checks {
      if c.layer != layer { layer = c.layer; lines.append("\n[\(layer)]") }
      lines.append("\(c.passed ? "✓" : "✗") \(c.name): expected \(c.expected), got \(c.measured)")
    }
    let failed = checks.filter { !$0.passed }.count
    lines.append("\n\(checks.count - failed) passed, \(failed) failed")
    return lines.joined(separator: "\n")
  }
}
