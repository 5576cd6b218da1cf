import Dynamics
import PropertyBased
import TestSupport
import Testing

/// Rules whose stable set has several pieces: the threshold is the supremum of the
/// piece that starts at 0 — the *first* boundary — not of the whole stable set.
///
/// The family used: x' = x − a·η·g + b·η·g(η·g). On the quadratic g = λx and
/// g(η·g) = λ·ηλx, so x' = f(u)·x with u = ηλ and f(u) = 1 − a·u + b·u²; the only
/// root is z = f(u), stable iff |f(u)| < 1. For 0 < r₁ < r₂ take
/// b = 2/(r₁r₂) and a = b·(r₁ + r₂) = 2/r₁ + 2/r₂. Then, worked by hand:
///   1 − f(u) = u·(a − b·u) = b·u·(r₁ + r₂ − u)  > 0  ⇔  0 < u < r₁ + r₂   (z = 1 at r₁ + r₂)
///   1 + f(u) = 2 − a·u + b·u² = b·(u − r₁)(u − r₂) > 0  ⇔  u < r₁ or u > r₂  (z = −1 at r₁, r₂)
/// (check: b·r₁r₂ = 2 and b·(r₁ + r₂) = a). So the stable set in λ is
///   (0, r₁/η) ∪ (r₂/η, (r₁ + r₂)/η),
/// the threshold is r₁/η (crossing z = −1), and the candidate boundaries in
/// ascending order are r₁/η, r₂/η, (r₁ + r₂)/η. With r₁ = 1, r₂ = 2 (a = 3, b = 1)
/// and η = 0.5 this is the rule x' = x − 3ηg + ηg(ηg), stable on (0, 2) ∪ (4, 6).
@Suite struct StableSetTests {
  static let family = "x' = x - a*eta*g + b*eta*g(eta*g)"

  /// The worked example: threshold 2, the supremum of (0, 2), not 4 or 6. The
  /// boundary polynomial has the simple roots 2 and 4 (exact, well separated), so
  /// the root finder gives 2 to a few ulps: 1e-12 relative.
  @Test func thresholdIsTheEndOfThePieceAtZero() throws {
    let rec = Recurrence(name: "two pieces", rule: "x' = x - 3*eta*g + eta*g(eta*g)", parameters: [:])
    let t = try rec.threshold(lr: 0.5)
    #expect(abs(t - 2) <= 1e-12 * 2, "threshold \(t), expected 2")
    let a = try rec.analysis(lr: 0.5)
    guard case let .interval(_, crossing) = a.stableSet else {
      Issue.record("stable set \(a.stableSet), expected an interval")
      return
    }
    #expect(crossing == .minusOne)
    // both pieces, the gap and beyond, from ρ = |f(u)|, f(u) = 1 − 3u + u², u = λ/2,
    // by hand: λ = 1 → f(0.5) = −0.25; λ = 3 → f(1.5) = −1.25; λ = 5 → f(2.5) = −0.25;
    // λ = 7 → f(3.5) = 2.75. A root of a linear polynomial: exact up to a few ulps.
    for (lambda, rho) in [(1.0, 0.25), (3.0, 1.25), (5.0, 0.25), (7.0, 2.75)] {
      #expect(abs(try a.growthFactor(at: lambda) - rho) <= 1e-12, "ρ(\(lambda))")
    }
  }

  /// The family over random r₁, r₂ = r₁·(1.1…5) and η: the threshold is r₁/η (first
  /// boundary), and the stable set does have a second piece (ρ < 1 in the middle of
  /// (r₂/η, (r₁ + r₂)/η), ρ > 1 in the middle of the gap), so a search that took a
  /// later boundary would be caught.
  ///
  /// Tolerance: the threshold is a simple root of b·(u − r₁)(u − r₂) with
  /// r₂ ≥ 1.1·r₁; its relative condition number, Σ|coefficient·uᵏ| / |u·∂u(1 + f)|
  /// at u = r₁, is (2 + a·r₁ + b·r₁²)/(b·r₁·(r₂ − r₁)) ≤ 8/(2·0.1/1.1) < 50, and a and
  /// b enter as decimals rounded once (≈1e-16): the computed root is within ~1e-13
  /// of r₁/η. 1e-9 relative is a wide margin and far below the distance to the next
  /// boundaries, r₂/η ≥ 1.1·r₁/η and (r₁ + r₂)/η ≥ 2.1·r₁/η.
  @Test func thresholdIsTheFirstBoundaryOfAMultiPieceSet() async {
    await propertyCheckThrowing(count: 100, input: Gen.double(in: 0.1...10), Gen.double(in: 1.1...5), Gen.double(in: 0.01...10)) { r1, spread, lr in
      let r2 = r1 * spread
      let b = 2 / (r1 * r2)
      let a = 2 / r1 + 2 / r2
      let rec = Recurrence(name: "multi-piece", rule: Self.family, parameters: ["a": a, "b": b])
      let expected = r1 / lr
      let t = try rec.threshold(lr: lr)
      #expect(abs(t - expected) <= 1e-9 * expected, "threshold \(t), expected r₁/η = \(expected) (r₂/η = \(r2 / lr), (r₁ + r₂)/η = \((r1 + r2) / lr))")
      let analysis = try rec.analysis(lr: lr)
      // the closed form (a root of the quadratic b·η²λ² − a·ηλ + 2) is the same number;
      // the quadratic formula loses at most ((r₁ + r₂)/(r₂ − r₁))² ≤ 441 ulps to
      // cancellation: 1e-9 still holds
      let form = try #require(analysis.closedForm())
      let value = try #require(form.evaluate(["a": a, "b": b, "eta": lr]))
      #expect(abs(value - expected) <= 1e-9 * expected)
      // the second piece exists: stable in its middle (f = −r₁/(2r₂), |f| ≤ 0.46),
      // unstable in the middle of the gap (|f| = 1 + (r₂ − r₁)²/(2r₁r₂) ≥ 1.0045)
      // and beyond (f(1.5(r₁ + r₂)) = 1 + 0.75·b·(r₁ + r₂)² > 4): all far from 1
      // compared with the round-off of ρ
      #expect(try analysis.growthFactor(at: (r2 + (r1 + r2)) / 2 / lr) < 1)
      #expect(try analysis.growthFactor(at: (r1 + r2) / 2 / lr) > 1)
      #expect(try analysis.growthFactor(at: 1.5 * (r1 + r2) / lr) > 1)
    }
  }
}
