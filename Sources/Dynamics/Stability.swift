import Algebra
import LinearAlgebra

/// A threshold in closed form: a rational function of η and the parameters, or a
/// root of a quadratic in λ, (−b ± √(b² − 4ac))/(2a).
public enum ClosedForm: Sendable, Hashable {
  case rational(RationalFunction)
  case quadraticRoot(a: RationalFunction, b: RationalFunction, c: RationalFunction, sign: Int)

  /// Evaluates at numeric values of η and the parameters.
  public func evaluate(_ values: [String: Double]) -> Double? {
    switch self {
    case let .rational(r): return r.evaluate(values)
    case let .quadraticRoot(a, b, c, sign):
      guard let a = a.evaluate(values), let b = b.evaluate(values), let c = c.evaluate(values) else { return nil }
      let d = b * b - 4 * a * c
      guard d >= 0, a != 0 else { return nil }
      return (-b + Double(sign) * d.squareRoot()) / (2 * a)
    }
  }

  public func formatted(_ format: OutputFormat) -> String {
    switch self {
    case let .rational(r): return r.formatted(format)
    case let .quadraticRoot(a, b, c, sign):
      let minusB = (-b).formatted(format)
      let disc = (b * b - RationalFunction(Polynomial(4)) * a * c).formatted(format)
      let twoA = (RationalFunction(Polynomial(2)) * a).formatted(format)
      switch format {
      case .text: return "(\(minusB) \(sign > 0 ? "+" : "−") √(\(disc)))/(\(twoA))"
      case .latex: return "\\frac{\(minusB) \(sign > 0 ? "+" : "-") \\sqrt{\(disc)}}{\(twoA)}"
      case .sympy: return "((\(minusB)) \(sign > 0 ? "+" : "-") sqrt(\(disc)))/(\(twoA))"
      }
    }
  }
}

/// The outcome of the search for the stable interval (0, λ*) that starts at 0.
public enum StableSet: Sendable, Hashable {
  /// (0, λ*) with every root strictly inside the unit circle; a root reaches the
  /// circle at λ*.
  case interval(threshold: Double, crossing: Crossing)
  /// Stable for every λ > 0.
  case unbounded
  /// Unstable for arbitrarily small λ > 0.
  case empty
}

/// The characteristic polynomial with η and every parameter replaced by numbers:
/// p(z; λ) = Σ_k c_k(λ) z^k, each c_k a polynomial in λ.
public struct NumericCharacteristic: Sendable {
  /// coefficients[k][j] multiplies z^k λ^j.
  public let coefficients: [[Double]]
  /// The exact specialised matrix (entries polynomials in λ with rational coefficients).
  let exactMatrix: [[RationalFunction]]
  let exactCoefficients: [RationalFunction]

  init(model: StateSpaceModel, values: [String: Rational]) throws(RuleError) {
    let a = try model.specialized(values)
    exactMatrix = a
    let p = StateSpaceModel.characteristic(a)
    let cs = StateSpaceModel.coefficientsInZ(p)
    exactCoefficients = cs
    var out: [[Double]] = []
    for c in cs {
      guard c.denominator.isConstant, let den = c.denominator.constantValue else {
        throw .parameter("the characteristic polynomial has λ in a denominator; the rule must be polynomial in g")
      }
      let inv = Rational(1) / den
      out.append(c.numerator.coefficients(in: UpdateRule.curvature).map { poly in
        ((poly.constantValue ?? Rational(0)) * inv).doubleValue
      })
    }
    coefficients = out
  }

  /// p(z; λ) as ascending coefficients in z.
  public func polynomial(at lambda: Double) -> [Double] {
    coefficients.map { cs in cs.reversed().reduce(0.0) { $0 * lambda + $1 } }
  }

  /// ρ(λ), the largest modulus of a root of p(·; λ).
  public func spectralRadius(at lambda: Double) throws -> Double {
    try SpectralRadius.of(polynomial(at: lambda))
  }

  /// Exact polynomial in λ (rational coefficients) whose zeros are the candidates of a crossing.
  func boundaryPolynomial(_ crossing: Crossing) -> Polynomial? {
    switch crossing {
    case .plusOne: return StateSpaceModel.value(of: exactCoefficients, at: 1).numerator
    case .minusOne: return StateSpaceModel.value(of: exactCoefficients, at: -1).numerator
    case .complexPair: return StateSpaceModel.pairCrossing(exactMatrix)?.numerator
    }
  }

  /// The stable set's component at 0: candidates are the positive real zeros of
  /// p(1), p(−1) and det(C₂(A) − I) in λ; the interval below the first one is
  /// verified numerically (ρ < 1 inside).
  public func stableSet() throws -> StableSet {
    var candidates: [(Double, Crossing)] = []
    for crossing in [Crossing.plusOne, .minusOne, .complexPair] {
      guard let poly = boundaryPolynomial(crossing) else { continue }
      for r in try PositiveRoots.of(poly, in: UpdateRule.curvature) { candidates.append((r, crossing)) }
    }
    candidates.sort { $0.0 < $1.0 }
    guard let first = candidates.first else {
      // stability cannot change on (0, ∞): test one point
      return try spectralRadius(at: 1) < 1 ? .unbounded : .empty
    }
    // (0, first) has constant stability; probe well inside it
    let probes = [first.0 * 0.5, first.0 * 0.01, first.0 * 0.99]
    for probe in probes where try spectralRadius(at: probe) >= 1 {
      return .empty
    }
    // prefer the crossing whose root matches best when several coincide
    let tied = candidates.prefix { abs($0.0 - first.0) <= 1e-12 * max(1, first.0) }
    let pick = tied.first { $0.1 != .complexPair } ?? first
    return .interval(threshold: pick.0, crossing: pick.1)
  }
}

/// Positive real zeros of a univariate polynomial with rational coefficients.
enum PositiveRoots {
  static func of(_ p: Polynomial, in v: String) throws -> [Double] {
    var cs = p.coefficients(in: v).map { $0.constantValue ?? Rational(0) }
    while let f = cs.first, f.isZero { cs.removeFirst() }  // zeros at λ = 0 are not candidates
    while let l = cs.last, l.isZero { cs.removeLast() }
    guard cs.count >= 2 else { return [] }
    if cs.count == 2 {
      let r = -cs[0] / cs[1]
      return r.sign > 0 ? [r.doubleValue] : []
    }
    // scale to avoid overflow in Double: divide by the largest magnitude coefficient
    let doubles = cs.map(\.doubleValue)
    let roots = try Polynomials.roots(doubles)
    var out: [Double] = []
    for r in roots where r.re > 0 && abs(r.im) <= 1e-7 * r.re {
      out.append(polish(r.re, doubles))
    }
    return out
  }

  /// A few Newton steps on a simple real root (no-op near a multiple root).
  static func polish(_ x0: Double, _ c: [Double]) -> Double {
    var x = x0
    for _ in 0..<4 {
      var p = 0.0, dp = 0.0
      for a in c.reversed() { dp = dp * x + p; p = p * x + a }
      guard dp != 0 else { break }
      let step = p / dp
      let next = x - step
      guard next.isFinite, abs(step) < 1e-6 * abs(x) else { break }
      x = next
    }
    return x
  }
}

/// The spectral radius of a real polynomial, accurate near double roots: the two
/// largest roots are refined as a quadratic factor (Bairstow), which stays
/// well-conditioned where the individual roots of a double root are not.
public enum SpectralRadius {
  /// Largest root modulus of c[0] + c[1] z + … + c[n] z^n.
  public static func of(_ coefficients: [Double]) throws -> Double {
    var c = coefficients
    while let l = c.last, l == 0 { c.removeLast() }
    guard c.allSatisfy(\.isFinite) else { throw RuleError.stability("non-finite coefficient in the characteristic polynomial") }
    switch c.count {
    case 0: throw RuleError.stability("the characteristic polynomial is zero")
    case 1: return 0
    case 2: return abs(c[0] / c[1])
    case 3: return quadraticRadius(u: c[1] / c[2], v: c[0] / c[2])
    default: break
    }
    let roots = try Polynomials.roots(c)
    guard let top = roots.max(by: { $0.modulus < $1.modulus }) else { return 0 }
    // partner: the conjugate, or the nearest other root if it is close
    let monic = c.map { $0 / c[c.count - 1] }
    var u: Double, v: Double
    if abs(top.im) > 0 {
      u = -2 * top.re
      v = top.re * top.re + top.im * top.im
    } else {
      let others = roots.enumerated().filter { !($0.element.re == top.re && $0.element.im == top.im) }
      let near = others.min { hypot2($0.element, top) < hypot2($1.element, top) }
      if let near, hypot2(near.element, top) < 1e-3 * max(1, top.modulus) {
        u = -(top.re + near.element.re)
        v = top.re * near.element.re - top.im * near.element.im
      } else {
        return accepted(abs(RootPolish.newton(top.re, monic)), raw: top.modulus)
      }
    }
    (u, v) = RootPolish.bairstow(u: u, v: v, monic)
    return accepted(quadraticRadius(u: u, v: v), raw: top.modulus)
  }

  /// A refinement only corrects the digits the root finder got wrong (~√ε at a
  /// double root): one that moves ρ further than that converged elsewhere and is
  /// discarded in favour of the companion-matrix value.
  static func accepted(_ refined: Double, raw: Double) -> Double {
    refined.isFinite && abs(refined - raw) <= 1e-6 * max(raw, .leastNormalMagnitude) ? refined : raw
  }

  /// Largest root modulus of z² + u z + v, by the stable formula.
  static func quadraticRadius(u: Double, v: Double) -> Double {
    let disc = u * u - 4 * v
    if disc < 0 { return v.squareRoot() }  // complex pair: |z|² = v
    let q = -0.5 * (u + (u >= 0 ? 1 : -1) * disc.squareRoot())
    let r1 = q
    let r2 = q != 0 ? v / q : 0
    return max(abs(r1), abs(r2))
  }

  static func hypot2(_ a: Complex, _ b: Complex) -> Double {
    ((a.re - b.re) * (a.re - b.re) + (a.im - b.im) * (a.im - b.im)).squareRoot()
  }
}

enum RootPolish {
  static func newton(_ x0: Double, _ monic: [Double]) -> Double {
    var x = x0
    for _ in 0..<6 {
      var p = 0.0, dp = 0.0
      for a in monic.reversed() { dp = dp * x + p; p = p * x + a }
      guard dp != 0 else { break }
      let next = x - p / dp
      guard next.isFinite else { break }
      if abs(next - x) <= 1e-16 * abs(x) { x = next; break }
      x = next
    }
    return x
  }

  /// Refines the quadratic factor z² + u z + v of a monic polynomial (ascending
  /// coefficients) by Bairstow's method; keeps the input if an iteration fails.
  static func bairstow(u u0: Double, v v0: Double, _ a: [Double]) -> (Double, Double) {
    let n = a.count - 1
    var u = u0, v = v0
    var bestU = u, bestV = v, bestResidual = Double.infinity
    for _ in 0..<12 {
      // synthetic division by z² + u z + v, descending
      var b = [Double](repeating: 0, count: n + 1)
      var cc = [Double](repeating: 0, count: n + 1)
      for k in stride(from: n, through: 0, by: -1) {
        let b1 = k + 1 <= n ? b[k + 1] : 0
        let b2 = k + 2 <= n ? b[k + 2] : 0
        b[k] = a[k] - u * b1 - v * b2
        let c1 = k + 1 <= n ? cc[k + 1] : 0
        let c2 = k + 2 <= n ? cc[k + 2] : 0
        cc[k] = b[k] - u * c1 - v * c2
      }
      let residual = abs(b[0]) + abs(b[1])
      if residual < bestResidual { bestResidual = residual; bestU = u; bestV = v }
      if residual == 0 { break }
      // Solve [c2 c3; c1 c2]·[du; dv] = [b1; b0]
      let c1 = cc[1], c2 = cc[2], c3 = n >= 3 ? cc[3] : 0
      let det = c2 * c2 - c1 * c3
      guard det != 0, det.isFinite else { break }
      let du = (b[1] * c2 - b[0] * c3) / det
      let dv = (b[0] * c2 - b[1] * c1) / det
      guard du.isFinite, dv.isFinite else { break }
      u += du
      v += dv
    }
    return (bestU, bestV)
  }
}
