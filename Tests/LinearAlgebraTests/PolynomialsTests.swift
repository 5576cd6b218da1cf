#if canImport(Glibc)
import Glibc
#else
import Foundation
#endif
import PropertyBased
import TestSupport
import Testing

@testable import LinearAlgebra

/// Root "slots" that are well separated by construction. Slot s has modulus
/// level 0.1·3^(s / 5) (0.1, 0.3, 0.9, 2.7) and one of five shapes: a positive
/// real root, a negative real root, or a conjugate pair at angle ≈ π/4, π/2, 3π/4.
/// A jitter multiplies the modulus by [1, 1.1] and moves the angle by ±π/16, so
/// every modulus is in [0.1, 2.97] and any two roots z, w from distinct slots (or
/// a pair and its conjugate) satisfy |z − w| ≥ 0.3·max(|z|, |w|):
/// - different levels: moduli differ by a factor ≥ 3/1.1, so |z − w| ≥ 0.63·max;
/// - same level, different angles: angles differ by ≥ π/4 − π/8 = π/8 (≥ π/2 −
///   π/8 from a conjugate, ≥ π/4 − π/16 from a real slot), so |z − w| ≥ 0.35·max.
private func slotRoots(_ slot: Int, modulusJitter u: Double, angleJitter v: Double) -> [Complex] {
  let r = 0.1 * [1.0, 3, 9, 27][slot / 5] * (1 + 0.1 * u)
  switch slot % 5 {
  case 0: return [Complex(re: r)]
  case 1: return [Complex(re: -r)]
  default:
    let theta = Double(slot % 5 - 1) * Double.pi / 4 + (2 * v - 1) * Double.pi / 16
    let z = Complex(re: r * cos(theta), im: r * sin(theta))
    return [z, z.conjugate]
  }
}

/// c₀…cₙ of lead·Π(z − zᵢ) (real, since non-real roots come in conjugate pairs).
private func polynomial(withRoots roots: [Complex], lead: Double) -> [Double] {
  var c = [Complex(re: lead)]
  for z in roots {
    // c(z)·(z − zᵢ): shift up, subtract zᵢ·c.
    var next = [Complex(re: 0)] + c
    for k in 0..<c.count { next[k] = next[k] - z * c[k] }
    c = next
  }
  return c.map(\.re)
}

/// Each expected root has a computed root within `relative`·|expected|, and the
/// counts agree (so, for well-separated roots, the match is a bijection).
private func expectRootsMatch(_ computed: [Complex], _ expected: [Complex], relative: Double, sourceLocation: SourceLocation = #_sourceLocation) {
  #expect(computed.count == expected.count, sourceLocation: sourceLocation)
  var unused = computed
  for z in expected {
    guard let i = unused.indices.min(by: { (unused[$0] - z).modulus < (unused[$1] - z).modulus }) else { break }
    let err = (unused[i] - z).modulus
    #expect(err <= relative * z.modulus, "root \(z) found as \(unused[i])", sourceLocation: sourceLocation)
    unused.remove(at: i)
  }
}

@Suite struct PolynomialsTests {
  /// Polynomials of degree 1…6 built from well-separated roots give those roots back.
  ///
  /// Tolerance 1e-8 relative. The roots come from a backward-stable eigensolver,
  /// so each is the exact root of a polynomial with coefficients perturbed by
  /// about c·ε|cₖ| (c a small constant depending on degree), which moves a simple
  /// root zᵢ by at most ≈ c·ε·Σ|cₖ||zᵢ|ᵏ/|p′(zᵢ)| ≤ 2cε|zᵢ|·Π_{j≠i}(|zᵢ|+|zⱼ|)/|zᵢ−zⱼ|.
  /// With the slot separation |zᵢ−zⱼ| ≥ 0.3·max(|zᵢ|,|zⱼ|) each factor is ≤ 6.7,
  /// and there are at most 5, so the relative error is ≤ 2c·ε·1.4e4 ≈ c·6e-12:
  /// 1e-8 leaves a margin of over a thousand for c.
  @Test func recoversWellSeparatedRoots() async {
    await propertyCheckThrowing(
      count: 200,
      input: Gen.int(in: 0...19).array(of: 1...3), Gen.double(in: 0...1).array(of: 6),
      Gen.double(in: 0.25...4), Gen.bool
    ) { slots, jitter, scale, negative in
      let distinct = Array(Set(slots)).sorted()
      var expected: [Complex] = []
      for (i, s) in distinct.enumerated() {
        expected += slotRoots(s, modulusJitter: jitter[2 * i], angleJitter: jitter[2 * i + 1])
      }
      let c = polynomial(withRoots: expected, lead: negative ? -scale : scale)
      let computed = try Polynomials.roots(c)
      expectRootsMatch(computed, expected, relative: 1e-8)
      // Non-real roots come in exact conjugate pairs (both paths produce them so).
      let nonReal = computed.filter { $0.im != 0 }
      #expect(nonReal.allSatisfy { z in nonReal.contains(z.conjugate) })
    }
  }

  /// Trailing zero coefficients do not change the roots; leading zeros add exact
  /// zero roots. Compared exactly: trimming happens before any arithmetic.
  @Test func zeroCoefficientsAreTrimmed() async {
    await propertyCheckThrowing(
      count: 50,
      input: Gen.double(in: 0.5...2).array(of: 2...6), Gen.int(in: 0...3), Gen.int(in: 0...3)
    ) { c, leading, trailing in
      let base = try Polynomials.roots(c)
      let padded = [Double](repeating: 0, count: leading) + c + [Double](repeating: 0, count: trailing)
      let roots = try Polynomials.roots(padded)
      #expect(roots.count == base.count + leading)
      #expect(roots.filter { $0 == Complex(re: 0) }.count >= leading)
      #expect(Array(roots.dropFirst(leading)) == base)
    }
  }

  /// Degree 1: z = −c₀/c₁, one correctly rounded division.
  @Test func linear() async {
    await propertyCheckThrowing(input: Gen.double(in: -10...10), Gen.double(in: 0.1...10)) { c0, c1 in
      let roots = try Polynomials.roots([c0, c1])
      #expect(roots == [Complex(re: -c0 / c1)])
    }
  }

  /// z² − 10⁸z + 1 has roots r and 1/r with r + 1/r = 10⁸, i.e. the small root is
  /// 1/(10⁸ − 10⁻⁸ − …) = 1e-8·(1 + 1e-16 + …). The textbook formula loses all its
  /// digits to cancellation (it returns ≈ 7.45e-9); the stable form must be good
  /// to a few ulps, so we ask for 1e-14 relative.
  @Test func quadraticWithoutCancellation() throws {
    let roots = try Polynomials.roots([1, -1e8, 1]).map(\.re).sorted()
    #expect(abs(roots[0] - 1e-8) <= 1e-14 * 1e-8)
    #expect(abs(roots[1] - 1e8) <= 1e-14 * 1e8)
  }

  /// Scaling every coefficient by 4ʲ does not change the roots, bit for bit: the
  /// companion matrix depends only on the ratios cₖ/cₙ (exact under power-of-two
  /// scaling), and the quadratic formula's scaled discriminant uses √|c₂|·√|c₀|,
  /// which scales exactly by 2ʲ·2ʲ. Coefficient magnitudes stay within 2^±402, far
  /// from overflow and subnormals, so exact equality is the right check.
  @Test func rootsAreScaleInvariant() async throws {
    await propertyCheckThrowing(
      count: 100, input: Gen.double(in: 0.5...2).array(of: 2...7), Gen.bool.array(of: 7), Gen.int(in: -200...200)
    ) { magnitudes, signs, j in
      let c = magnitudes.enumerated().map { signs[$0.offset] ? -$0.element : $0.element }
      let scale = Double(sign: .plus, exponent: 2 * j, significand: 1)
      let (base, scaled) = (try Polynomials.roots(c), try Polynomials.roots(c.map { $0 * scale }))
      #expect(base == scaled)
    }
  }

  /// Quadratics whose discriminant over- or underflows if formed directly:
  /// 10³⁰⁰ + 10⁻³⁰⁰z² has roots ±i·10³⁰⁰, and 10⁻³⁰⁰ + 10³⁰⁰z² has ±i·10⁻³⁰⁰;
  /// 10²⁰⁰z² − 3·10²⁰⁰z + 2·10²⁰⁰ has 1 and 2. A few ulps each: 1e-14 relative.
  @Test func quadraticExtremeScales() throws {
    let big = try Polynomials.roots([1e300, 0, 1e-300])
    #expect(big.allSatisfy { abs($0.re) == 0 && abs(abs($0.im) - 1e300) <= 1e-14 * 1e300 })
    let small = try Polynomials.roots([1e-300, 0, 1e300])
    #expect(small.allSatisfy { abs($0.re) == 0 && abs(abs($0.im) - 1e-300) <= 1e-14 * 1e-300 })
    #expect(Set(big.map(\.im.sign)).count == 2 && Set(small.map(\.im.sign)).count == 2)
    let ordinary = try Polynomials.roots([2e200, -3e200, 1e200]).map(\.re).sorted()
    #expect(ordinary.count == 2 && abs(ordinary[0] - 1) <= 1e-14 && abs(ordinary[1] - 2) <= 2e-14)
  }

  /// The degree-0 polynomial (a non-zero constant) has no roots.
  @Test func constantHasNoRoots() throws {
    let (a, b) = (try Polynomials.roots([3]), try Polynomials.roots([-2, 0, 0]))
    #expect(a.isEmpty && b.isEmpty)
  }

  @Test func rejectsZeroAndNonFinite() {
    for bad in [[], [0.0], [0, 0, 0], [1, .nan, 2], [.infinity, 1], [1, 2, 3, -.infinity]] as [[Double]] {
      #expect(throws: LinearAlgebraError.self, "\(bad)") { try Polynomials.roots(bad) }
    }
  }
}
