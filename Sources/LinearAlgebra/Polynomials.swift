import CGSL

/// Roots of real polynomials.
public enum Polynomials {
  /// The complex roots of p(z) = c₀ + c₁z + … + cₙzⁿ, with multiplicity.
  ///
  /// Trailing zero coefficients are trimmed first, so the degree n is that of the
  /// last non-zero cₙ. Leading zero coefficients c₀ = … = c_{k−1} = 0 give the root
  /// z = 0 exactly k times and are divided out before solving. What is left:
  /// - degree 1: z = −c₀/c₁;
  /// - degree 2: the quadratic formula in its cancellation-free form
  ///   q = −(c₁ + sign(c₁)·√(c₁² − 4c₂c₀))/2, z₁ = q/c₂, z₂ = c₀/q (real case) or
  ///   z = −c₁/(2c₂) ± i·√(4c₂c₀ − c₁²)/(2|c₂|) (complex pair), with the
  ///   discriminant evaluated in a scaled form that cannot overflow or underflow
  ///   unless a root itself does;
  /// - degree ≥ 3: GSL's `gsl_poly_complex_solve`, the eigenvalues of the balanced
  ///   companion matrix by the Hessenberg QR algorithm.
  ///
  /// Real coefficients give non-real roots in conjugate pairs. The order of the
  /// roots is unspecified. Accuracy: a simple, well-separated root is found to a
  /// few ulps relative to the polynomial's coefficient scale; a root of multiplicity
  /// m is perturbed by about ε^{1/m} (intrinsic to the problem, not to the method).
  ///
  /// - Parameter coefficients: c₀, c₁, …, cₙ, lowest degree first.
  /// - Returns: n roots (an empty array for a non-zero constant).
  /// - Throws: `LinearAlgebraError.invalidInput` if a coefficient is NaN or
  ///   infinite, or all are zero (every z is a root); `LinearAlgebraError.gsl` if
  ///   the QR iteration does not converge.
  /// - Complexity: O(n³) for degree n ≥ 3.
  public static func roots(_ coefficients: [Double]) throws -> [Complex] {
    try requireFinite(coefficients, "polynomial coefficients")
    guard let last = coefficients.lastIndex(where: { $0 != 0 }) else {
      throw LinearAlgebraError.invalidInput(
        "polynomial coefficients \(coefficients) are all zero; expected at least one non-zero coefficient")
    }
    // c[first...last] is non-zero at both ends; z^first divides p.
    let first = coefficients.firstIndex(where: { $0 != 0 })!  // exists: last does
    var roots = [Complex](repeating: Complex(re: 0), count: first)
    let c = Array(coefficients[first...last])
    switch c.count - 1 {
    case 0:
      break
    case 1:
      roots.append(Complex(re: -c[0] / c[1]))
    case 2:
      roots += quadraticRoots(c[0], c[1], c[2])
    default:
      roots += try companionRoots(c)
    }
    return roots
  }

  /// Roots of c₀ + c₁z + c₂z² with c₀ ≠ 0 and c₂ ≠ 0, without cancellation and
  /// without overflow or underflow in intermediate results.
  ///
  /// With a = c₂, h = −c₁/2, c = c₀ the roots are (h ± √D)/a, D = h² − ac. D is
  /// never formed directly: with g = √|a|·√|c| and s = sign(ac),
  /// √|D| = |h|·√|1 − s(g/h)²| when |h| ≥ g, and g·√|(h/g)² − s| otherwise, where
  /// every ratio is at most 1. For D ≥ 0, q = h + sign(h)√D adds terms of one sign,
  /// and the roots are q/a and c/q (Vieta: their product is c/a). For D < 0 the
  /// roots are h/a ± i·√|D|/|a|.
  static func quadraticRoots(_ c0: Double, _ c1: Double, _ c2: Double) -> [Complex] {
    let (a, h, c) = (c2, -c1 / 2, c0)
    let g = abs(a).squareRoot() * abs(c).squareRoot()
    let s: Double = (a < 0) == (c < 0) ? 1 : -1
    let rootAbsD: Double
    let nonNegative: Bool
    if abs(h) >= g {
      let rho = g / abs(h)
      let inner = 1 - s * rho * rho
      (rootAbsD, nonNegative) = (abs(h) * abs(inner).squareRoot(), inner >= 0)
    } else {
      let rho = abs(h) / g
      let inner = rho * rho - s
      (rootAbsD, nonNegative) = (g * abs(inner).squareRoot(), inner >= 0)
    }
    if nonNegative {
      // q ≠ 0: either h ≠ 0 (same-sign sum) or h = 0 and √D = g > 0.
      let q = h + Double(signOf: h == 0 ? 1 : h, magnitudeOf: rootAbsD)
      return [Complex(re: q / a), Complex(re: c / q)]
    }
    let re = h / a
    let im = rootAbsD / abs(a)
    return [Complex(re: re, im: im), Complex(re: re, im: -im)]
  }

  /// Roots of a polynomial of degree ≥ 3 with non-zero end coefficients, by GSL.
  static func companionRoots(_ c: [Double]) throws -> [Complex] {
    _ = gslReady
    let n = c.count
    guard let workspace = gsl_poly_complex_workspace_alloc(n) else {
      throw LinearAlgebraError.gsl(routine: "gsl_poly_complex_workspace_alloc", status: -1, message: "allocation failed for degree \(n - 1)")
    }
    defer { gsl_poly_complex_workspace_free(workspace) }
    var z = [Double](repeating: 0, count: 2 * (n - 1))
    let status = c.withUnsafeBufferPointer { pc in
      z.withUnsafeMutableBufferPointer { pz in
        gsl_poly_complex_solve(pc.baseAddress, n, workspace, pz.baseAddress)
      }
    }
    try checkGSL(status, "gsl_poly_complex_solve")
    return (0..<(n - 1)).map { Complex(re: z[2 * $0], im: z[2 * $0 + 1]) }
  }
}
