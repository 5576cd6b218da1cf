import Foundation
import LinearAlgebra

/// `aeos growth OPTIMIZER --lr η --slope`: how fast the asymptotic growth factor ρ
/// rises past the threshold, s = dρ/d(λ/λ*) at λ = λ* from above (λ measured in
/// multiples of the threshold, so s does not depend on η for the built-in methods).
///
/// Computed exactly rather than by differences: at λ* the dominant roots z₀ of
/// p(z; λ) = Σ c_k(λ) z^k lie on the unit circle, and for a simple root
/// dz/dλ = −(∂p/∂λ)/(∂p/∂z), so d|z|/dλ = Re(z̄₀·dz/dλ)/|z₀|; s = λ*·max over the
/// roots on the circle. ∂p/∂λ uses the exact λ-derivative of each c_k (the
/// coefficients are polynomials in λ). A double root on the circle has ∂p/∂z = 0: ρ
/// then rises like a square root and s is infinite.
///
/// Closed forms (worked out in docs/reference.md, checked in the tests): GD 2 (ρ = ηλ − 1
/// past 2/η); heavy ball and EMA heavy ball 2(1 + β)/(1 − β), 38 at β = 0.9; Nesterov
/// and EMA Nesterov 2(1 + β)(1 + 2β)/(1 + 3β), 2.88 at β = 0.9. Appendix C of the AEoS
/// paper reads a slow rise as "hover just above" and a steep one as "oscillate around"
/// the threshold.
public struct GrowthSlopeReport: Sendable {
  public let subject: TheorySubject
  public let lr: Double
  public let threshold: Double
  /// dρ/d(λ/λ*) at λ*, from above; +∞ for a double root on the unit circle.
  public let slope: Double
  /// The roots of p(·; λ*) on the unit circle (where the slope is taken).
  public let rootsOnCircle: [Complex]

  public init(subject: TheorySubject, lr: Double) throws {
    self.subject = subject
    self.lr = lr
    let analysis = try subject.recurrence.analysis(lr: lr)
    guard let t = analysis.threshold else {
      throw TheoryError("\(subject.label) at lr \(lr) has no threshold (its stable set near 0 is empty or unbounded), so no slope there")
    }
    threshold = t
    let c = analysis.numeric.coefficients
    let p = analysis.numeric.polynomial(at: t)
    // c_k'(λ*) = Σ_j j·c_kj·λ*^(j−1)
    let dp: [Double] = c.map { cs in
      var d = 0.0, power = 1.0
      for j in cs.indices.dropFirst() {
        d += Double(j) * cs[j] * power
        power *= t
      }
      return d
    }
    let roots = try Polynomials.roots(p)
    let top = roots.map(\.modulus).max() ?? 0
    // Roots within 1e-7 of the circle: the threshold is found to ~1e-12 relative, and
    // a simple root moves by O(that); a second root 1e-7 inside is not on the circle.
    let onCircle = roots.filter { abs($0.modulus - top) <= 1e-7 * max(1, top) }
    rootsOnCircle = onCircle
    func horner(_ coefficients: [Double], _ z: Complex) -> Complex {
      var re = 0.0, im = 0.0
      for a in coefficients.reversed() {
        (re, im) = (re * z.re - im * z.im + a, re * z.im + im * z.re)
      }
      return Complex(re: re, im: im)
    }
    var best = -Double.infinity
    for z in onCircle {
      let pz = horner(p.indices.dropFirst().map { Double($0) * p[$0] }, z)  // ∂p/∂z
      let pl = horner(dp, z)  // ∂p/∂λ
      let scale = p.enumerated().map { abs($1) * Double($0) }.reduce(0, +)
      if pz.modulus <= 1e-9 * max(scale, 1) {
        best = .infinity
        continue
      }
      // dz/dλ = −pl/pz
      let den = pz.re * pz.re + pz.im * pz.im
      let dzRe = -(pl.re * pz.re + pl.im * pz.im) / den
      let dzIm = -(pl.im * pz.re - pl.re * pz.im) / den
      let dmod = (z.re * dzRe + z.im * dzIm) / z.modulus
      best = max(best, dmod * t)
    }
    slope = best
  }

  public var json: JSONValue {
    .object(
      subject.jsonHead(lr: lr) + [
        ("threshold", .number(threshold)), ("slope", slope.isFinite ? .number(slope) : .string("infinity")),
        ("definition", .string("dρ/d(λ/λ*) at λ = λ* from above")),
      ])
  }

  public var text: String {
    let head = "\(subject.label) at lr \(formatHuman(lr))" + (subject.beta1.map { ", β₁ = \(formatHuman($0))" } ?? "")
      + "; threshold \(formatHuman(threshold))"
    let s = slope.isFinite ? formatHuman(slope) : "∞ (a double root on the unit circle: ρ rises like a square root)"
    return head + "\nslope dρ/d(λ/λ*) at the threshold, from above: " + s
  }
}
