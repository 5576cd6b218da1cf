import Foundation
import PropertyBased
import Testing
import TestSupport

@testable import Experiments

/// `aeos growth --slope`: dρ/d(λ/λ*) at the threshold, against closed forms worked out
/// by hand (docs/reference.md, "Hover or oscillate") and against a difference quotient
/// of ρ itself.
@Suite struct GrowthSlopeTests {
  /// With u = ηλ (η(1 − β)λ for the EMA forms, which are the same recurrences in
  /// relative units):
  /// - GD: ρ = u − 1 past u* = 2, so the slope is u* = 2;
  /// - heavy ball: p = z² − (1 + β − u)z + β, roots −1 and −β at u* = 2 + 2β;
  ///   dz/du = −(∂p/∂u)/(∂p/∂z) = −z/(2z − 1 − β + u) = −1/(1 − β) at z = −1, so
  ///   dρ/du = 1/(1 − β) and the slope is 2(1 + β)/(1 − β);
  /// - Nesterov: p = z² − (1 + β)(1 − u)z + β(1 − u), a root at −1 when
  ///   u* = (2 + 2β)/(1 + 2β); dρ/du = (1 + 2β)²/(1 + 3β), slope 2(1 + β)(1 + 2β)/(1 + 3β).
  static func expected(_ kind: OptimizerKind, beta b: Double) -> Double {
    switch kind {
    case .gd: 2
    case .hb, .emaHB: 2 * (1 + b) / (1 - b)
    case .nesterov, .emaNesterov: 2 * (1 + b) * (1 + 2 * b) / (1 + 3 * b)
    default: .nan
    }
  }

  @Test func closedForms() async {
    let kinds: [OptimizerKind] = [.gd, .hb, .emaHB, .nesterov, .emaNesterov]
    await propertyCheckThrowing(count: 100, input: Gen.double(in: 1e-4...1), Gen.double(in: 0...0.95), Gen.int(in: 0...4)) { lr, beta, k in
      let kind = kinds[k]
      let report = try GrowthSlopeReport(subject: try TheorySubject.optimizer(kind.rawValue, Hyperparameters(lr: lr, beta1: beta)), lr: lr)
      let want = Self.expected(kind, beta: beta)
      // 1e-7 relative: λ* is found to ~1e-12 relative, and the slope moves with λ at
      // most ~1/(distance to the double root) ≈ 1/(1 − √β)² ≈ 1600 times faster
      #expect(abs(report.slope - want) <= 1e-7 * want, "\(kind.rawValue) η = \(lr), β = \(beta): \(report.slope) vs \(want)")
    }
  }

  /// The slope is the limit of (ρ(λ*(1 + h)) − ρ(λ*))/h: at h = 1e-7 the quotient
  /// differs from it by about ρ''·h/2, under 1e-3 relative for these methods (ρ''
  /// in relative units stays below ~1e4·slope up to β = 0.95).
  @Test func differenceQuotient() async {
    let kinds: [OptimizerKind] = [.gd, .hb, .nesterov, .emaNesterov]
    await propertyCheckThrowing(count: 60, input: Gen.double(in: 1e-3...1), Gen.double(in: 0...0.95), Gen.int(in: 0...3)) { lr, beta, k in
      let kind = kinds[k]
      let rec = kind.frozenRecurrence(Hyperparameters(lr: lr, beta1: beta))
      let t = try rec.threshold(lr: lr)
      let h = 1e-7
      let q = (try rec.growthFactor(eigenvalue: t * (1 + h), lr: lr) - (try rec.growthFactor(eigenvalue: t, lr: lr))) / h
      let report = try GrowthSlopeReport(subject: try TheorySubject.optimizer(kind.rawValue, Hyperparameters(lr: lr, beta1: beta)), lr: lr)
      #expect(abs(q - report.slope) <= 1e-3 * report.slope, "\(kind.rawValue) η = \(lr), β = \(beta): quotient \(q), slope \(report.slope)")
    }
  }

  /// A user-written rule gets its slope too: QHM with ν = 1 is the EMA heavy ball.
  @Test func ruleSlope() throws {
    let subject = try TheorySubject.rule("m' = beta*m + (1-beta)*g; x' = x - eta*((1-nu)*g + nu*m')", parameters: ["beta": 0.9, "nu": 1], beta1: nil)
    let report = try GrowthSlopeReport(subject: subject, lr: 0.3)
    #expect(abs(report.slope - 38) < 1e-6)
  }
}
