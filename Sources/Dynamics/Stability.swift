import Algebra
import LinearAlgebra
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

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

  /// matrixCoefficients[i][j][k] multiplies λ^k in A[i][j] (the specialised state
  /// matrix), for the eigenvalues of A(λ) in large rules.
  let matrixCoefficients: [[[Double]]]
  /// For large rules (more than `maximumExactPairDimension` state variables):
  /// det(I − A) and det(−I − A), whose zeros are p(1) = 0 and p(−1) = 0.
  let realBoundaries: [RationalFunction]?

  init(model: StateSpaceModel, values: [String: Rational]) throws(RuleError) {
    let a = try model.specialized(values)
    exactMatrix = a
    for row in a {
      for entry in row where !entry.denominator.isConstant {
        throw .parameter("the state matrix has λ in a denominator (\(entry.formatted(.text))); the rule must be polynomial in g")
      }
    }
    matrixCoefficients = a.map { row in
      row.map { entry in
        let den = entry.denominator.constantValue ?? Rational(1)
        return entry.numerator.coefficients(in: UpdateRule.curvature).map { (($0.constantValue ?? Rational(0)) / den).doubleValue }
      }
    }
    // The exact characteristic polynomial, unless the rule is large or its exact
    // coefficients are too costly (values like 0.7345283013 make every entry a
    // 17-digit fraction): then ρ comes from the eigenvalues of A(λ) and the real
    // crossings from det(±I − A(λ)), univariate in λ.
    let p = a.count > Self.maximumExactPairDimension ? nil : try? StateSpaceModel.characteristic(a, budget: WorkBudget(Self.exactBudget))
    guard let p else {
      func boundary(_ s: Int) throws(RuleError) -> RationalFunction {
        var m = a.map { $0.map { -$0 } }
        for i in 0..<a.count { m[i][i] = m[i][i] + RationalFunction(Polynomial(s)) }
        do { return try determinant(m, budget: WorkBudget(Self.exactBudget)) } catch {
          throw .stability(
            "the rule is too large for its numeric analysis: det(±I − A(λ)) with \(a.count) state variables needs more than \(Self.exactBudget) coefficient products; use fewer state variables or parameter values with fewer digits")
        }
      }
      realBoundaries = [try boundary(1), try boundary(-1)]
      exactCoefficients = []
      coefficients = []
      return
    }
    realBoundaries = nil
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

  /// p(z; λ) as ascending coefficients in z, evaluated exactly at the rational value
  /// of λ and scaled by one common power of two so that every coefficient is a
  /// normal double or 0 (ρ does not change when all coefficients are scaled), for
  /// coefficients or values of λ where doubles would overflow or lose their digits.
  func exactPolynomial(at lambda: Double) -> [Double] {
    let x = Rational(lambda)
    let values: [Rational] = exactCoefficients.map { c in
      let poly = c.numerator.coefficients(in: UpdateRule.curvature).map { $0.constantValue ?? Rational(0) }
      let den = c.denominator.constantValue ?? Rational(1)
      return poly.reversed().reduce(Rational(0)) { $0 * x + $1 } / den
    }
    let top = values.compactMap(\.binaryMagnitude).max() ?? 0
    return values.map { $0.timesPowerOfTwo(-top).doubleValue }
  }

  /// ρ(λ) as the largest eigenvalue modulus of the state matrix A(λ) (LAPACK dgeev),
  /// for rules of more than `maximumExactPairDimension` state variables: the roots of
  /// a high-degree characteristic polynomial in the monomial basis are ill-conditioned
  /// (clustered roots are perturbed by ε^{1/m}, Wilkinson's example), the eigenvalues
  /// of A are not (a simple eigenvalue to about ε‖A‖).
  func matrixSpectralRadius(at lambda: Double) throws -> Double {
    let n = matrixCoefficients.count
    var a = [Double](repeating: 0, count: n * n)
    for i in 0..<n {
      for j in 0..<n { a[i * n + j] = matrixCoefficients[i][j].reversed().reduce(0.0) { $0 * lambda + $1 } }
    }
    guard a.allSatisfy(\.isFinite) else {
      throw RuleError.stability("the state matrix at λ = \(lambda) has entries beyond the range of a double")
    }
    let values = try Eigen.eigenvalues(general: a, n: n)
    return values.map(\.modulus).max() ?? 0
  }

  /// ρ(λ), the largest modulus of a root of p(·; λ) (for more than
  /// `maximumExactPairDimension` state variables, of an eigenvalue of A(λ)).
  /// - Throws: `RuleError.stability` naming λ when ρ is beyond the range of a double.
  public func spectralRadius(at lambda: Double) throws -> Double {
    if exactCoefficients.isEmpty {
      let rho = try matrixSpectralRadius(at: lambda)
      guard rho.isFinite else {
        throw RuleError.stability("the growth factor ρ at λ = \(lambda) is beyond the range of a double (above 1.8e308)")
      }
      return rho
    }
    var c = polynomial(at: lambda)
    if !c.allSatisfy(\.isFinite) || c.contains(where: { $0 != 0 && abs($0) < Double.leastNormalMagnitude }) {
      c = exactPolynomial(at: lambda)
    }
    let rho = try SpectralRadius.of(c)
    guard rho.isFinite else {
      throw RuleError.stability("the growth factor ρ at λ = \(lambda) is beyond the range of a double (above 1.8e308)")
    }
    return rho
  }

  /// Exact polynomial in λ (rational coefficients) whose zeros are the candidates of a crossing.
  func boundaryPolynomial(_ crossing: Crossing) -> Polynomial? {
    if let realBoundaries {
      switch crossing {
      case .plusOne: return realBoundaries[0].numerator
      case .minusOne: return realBoundaries[1].numerator
      case .complexPair: return nil
      }
    }
    switch crossing {
    case .plusOne: return StateSpaceModel.value(of: exactCoefficients, at: 1).numerator
    case .minusOne: return StateSpaceModel.value(of: exactCoefficients, at: -1).numerator
    case .complexPair: return StateSpaceModel.pairCrossing(exactMatrix)?.numerator
    }
  }

  /// The exact coefficients of p(·; λ) at the rational value of λ, ascending.
  func exactValues(at lambda: Double) -> [Rational] {
    let x = Rational(lambda)
    return exactCoefficients.map { c in
      let poly = c.numerator.coefficients(in: UpdateRule.curvature).map { $0.constantValue ?? Rational(0) }
      let den = c.denominator.constantValue ?? Rational(1)
      return poly.reversed().reduce(Rational(0)) { $0 * x + $1 } / den
    }
  }

  /// Whether every root of p(·; λ) lies strictly inside the unit circle, decided
  /// exactly (no rounding) at the rational value of λ by the Schur–Cohn recursion:
  /// q is stable iff |q(0)| < |lead(q)| and (lead(q)·q(z) − q(0)·zᵐq(1/z))/z is stable
  /// (each level scaled by its positive leading coefficient a² − b²). Exact where ρ is
  /// within rounding of 1: ρ = 1 − ηλ⁹ near λ = 0, or ρ = √β with β = 1 − 10⁻¹².
  func isStableExactly(at lambda: Double) -> Bool {
    var q = exactValues(at: lambda)
    while let last = q.last, last.isZero { q.removeLast() }
    while q.count > 1 {
      let a = q[q.count - 1], b = q[0]
      let lead = a * a - b * b
      guard lead.sign > 0 else { return false }
      let m = q.count - 1
      let inverse = Rational(1) / lead
      q = (0..<m).map { j in (a * q[j + 1] - b * q[m - j - 1]) * inverse }
    }
    return true
  }

  /// The stable set's component at 0: candidates are the positive real zeros of
  /// p(1), p(−1) and det(C₂(A) − I) in λ; the interval below the first one is
  /// verified numerically (ρ < 1 inside).
  ///
  /// The complex-pair polynomial det(C₂(A) − I) is the determinant of an
  /// n(n−1)/2-square matrix of polynomials in λ, whose exact cost grows about 2.7-fold
  /// per state variable (0.7 s at n = 9 on this project's machines, minutes at
  /// n = 13). Beyond `maximumExactPairDimension` state variables the complex
  /// crossings are found numerically instead (`numericStableSet`).
  public func stableSet() throws -> StableSet {
    if realBoundaries != nil { return try numericStableSet() }
    var candidates: [(Double, Crossing)] = []
    for crossing in [Crossing.plusOne, .minusOne] {
      guard let poly = boundaryPolynomial(crossing) else { continue }
      for r in try PositiveRoots.of(poly, in: UpdateRule.curvature) { candidates.append((r, crossing)) }
    }
    // The complex-pair polynomial within `exactBudget`; beyond it, the numeric scan.
    let pair: RationalFunction??
    do { pair = try StateSpaceModel.pairCrossing(exactMatrix, budget: WorkBudget(Self.exactBudget)) } catch { pair = nil }
    guard let pair else { return try numericStableSet() }
    if let poly = pair?.numerator {
      for r in try PositiveRoots.of(poly, in: UpdateRule.curvature) { candidates.append((r, .complexPair)) }
    }
    candidates.sort { $0.0 < $1.0 }
    guard let first = candidates.first else {
      // stability cannot change on (0, ∞): one exact test decides; a marginal method
      // (a root on the unit circle for every λ) is not stable
      return isStableExactly(at: 1) ? .unbounded : .empty
    }
    guard first.0.isFinite else {
      throw RuleError.stability("the end of the stable interval is beyond the range of a double (above 1.8e308)")
    }
    // (0, first) has constant stability: one exact test in the middle decides
    guard isStableExactly(at: first.0 * 0.5) else { return .empty }
    // prefer the crossing whose root matches best when several coincide
    let tied = candidates.prefix { abs($0.0 - first.0) <= 1e-12 * max(1, first.0) }
    let pick = tied.first { $0.1 != .complexPair } ?? first
    return .interval(threshold: pick.0, crossing: pick.1)
  }
}

extension NumericCharacteristic {
  /// Largest state dimension for which the complex-pair boundary det(C₂(A) − I) is
  /// computed exactly (see `stableSet()`).
  public static let maximumExactPairDimension = 9

  /// Work budget (`WorkBudget` units, about a microsecond each) of each exact
  /// polynomial of a numeric analysis — det(zI − A), det(C₂(A) − I), det(±I − A) —
  /// beyond which the analysis takes its numeric path.
  public static let exactBudget = 3_000_000

  /// Points of the numeric scan per decade of λ.
  static let scanPointsPerDecade = 400

  /// The stable set's component at 0 for large rules: the real crossings (p(±1) = 0)
  /// exactly, as in `stableSet()`; a complex pair leaving the unit circle by a scan of
  /// ρ(λ) on a geometric grid of `scanPointsPerDecade` points per decade (steps of
  /// 0.6 %) over twelve decades below the first real crossing (or over 10^±8 when
  /// there is none), then bisection to the last bit. A window of instability
  /// narrower than a grid step can be missed; points where |ρ − 1| is below 1e-9
  /// (near λ = 0, where ρ → 1) decide nothing.
  func numericStableSet() throws -> StableSet {
    var real: [(Double, Crossing)] = []
    for crossing in [Crossing.plusOne, .minusOne] {
      guard let poly = boundaryPolynomial(crossing) else { continue }
      for r in try PositiveRoots.of(poly, in: UpdateRule.curvature) { real.append((r, crossing)) }
    }
    real.sort { $0.0 < $1.0 }
    if let first = real.first, !first.0.isFinite {
      throw RuleError.stability("the end of the stable interval is beyond the range of a double (above 1.8e308)")
    }
    let top = real.first?.0 ?? 1e8
    let bottom = real.first.map { $0.0 * 1e-12 } ?? 1e-8
    let decades = log10(top / bottom)
    let count = max(2, Int((decades * Double(Self.scanPointsPerDecade)).rounded(.up)))
    // stable (true), unstable (false) or undecided (nil) at λ
    func state(_ lambda: Double) throws -> Bool? {
      let rho = try matrixSpectralRadius(at: lambda)
      return abs(rho - 1) > 1e-9 ? rho < 1 : nil
    }
    var lastStable: Double?
    for k in 0..<count {
      // below the first real crossing: stop just short of it
      let lambda = bottom * pow(top / bottom, Double(k) / Double(count)) * (real.isEmpty ? 1 : 1 - 1e-9)
      guard let stable = try state(lambda) else { continue }
      if stable {
        lastStable = lambda
        continue
      }
      guard var lo = lastStable else { return .empty }
      var hi = lambda
      for _ in 0..<200 {
        let mid = 0.5 * (lo + hi)
        guard mid > lo, mid < hi else { break }
        if try state(mid) == false { hi = mid } else { lo = mid }
      }
      return .interval(threshold: hi, crossing: .complexPair)
    }
    guard lastStable != nil else { return .empty }
    if let first = real.first { return .interval(threshold: first.0, crossing: first.1) }
    return .unbounded
  }
}

/// Positive real zeros of a univariate polynomial with rational coefficients.
enum PositiveRoots {
  /// The zeros are found in doubles after an exact rescaling λ = 2^k·μ that balances
  /// the coefficients (k from the geometric mean of the root magnitudes, |c₀/cₙ|^{1/n}),
  /// then normalised by the largest: so coefficients far outside the range of a double
  /// (a learning rate of 1e-300, a root near 1e200) neither overflow nor vanish.
  static func of(_ p: Polynomial, in v: String) throws -> [Double] {
    var cs = p.coefficients(in: v).map { $0.constantValue ?? Rational(0) }
    while let f = cs.first, f.isZero { cs.removeFirst() }  // zeros at λ = 0 are not candidates
    while let l = cs.last, l.isZero { cs.removeLast() }
    guard cs.count >= 2 else { return [] }
    if cs.count == 2 {
      let r = -cs[0] / cs[1]
      return r.sign > 0 ? [r.doubleValue] : []
    }
    let n = cs.count - 1
    let k = Int((Double((cs[0].binaryMagnitude ?? 0) - (cs[n].binaryMagnitude ?? 0)) / Double(n)).rounded())
    let scaled = cs.enumerated().map { $0.element.timesPowerOfTwo(k * $0.offset) }
    let top = scaled.compactMap(\.binaryMagnitude).max() ?? 0
    let doubles = scaled.map { $0.timesPowerOfTwo(-top).doubleValue }
    var trimmed = doubles
    while let l = trimmed.last, l == 0 { trimmed.removeLast() }
    let roots = try Polynomials.roots(trimmed)
    var out: [Double] = []
    for r in roots where r.re > 0 && abs(r.im) <= 1e-7 * r.re {
      let mu = polish(r.re, trimmed)
      out.append(Double(sign: .plus, exponent: k, significand: mu))
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
  ///
  /// Where the roots are far from 1 in magnitude (ρ beyond 2^±200, e.g. at
  /// λ = 1e308), z = 2^e·w is substituted first (cₖ ← cₖ·2^{e(k−n)}, by exponent
  /// arithmetic, so nothing overflows), and ρ = 2^e·ρ(w); ρ may then be +∞ when it
  /// is beyond the range of a double.
  /// - Throws: `RuleError.stability` for a non-finite or zero polynomial.
  public static func of(_ coefficients: [Double]) throws -> Double {
    var c = coefficients
    while let l = c.last, l == 0 { c.removeLast() }
    guard c.allSatisfy(\.isFinite) else {
      throw RuleError.stability("the characteristic polynomial has a coefficient that is not a finite double: \(coefficients)")
    }
    guard c.count >= 3 else { return try unscaled(c) }
    // Fujiwara's bound 2·max |c_k/c_n|^{1/(n−k)} ≥ ρ, in exponents only.
    let n = c.count - 1
    var e = Int.min
    for k in 0..<n where c[k] != 0 {
      let ratio = Double(c[k].exponent - c[n].exponent + 1) / Double(n - k)
      e = max(e, Int(ratio.rounded(.up)))
    }
    guard e != Int.min, abs(e) > 200 else { return try unscaled(c) }
    let w = c.enumerated().map { k, x in x == 0 ? 0 : Double(sign: x.sign, exponent: x.exponent + e * (k - n), significand: x.significand) }
    let r = try unscaled(w)
    return Double(sign: .plus, exponent: e, significand: r)
  }

  static func unscaled(_ c: [Double]) throws -> Double {
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
