extension Polynomial {
  /// The root in `v` of a polynomial of degree 1 in `v`: for c₁·v + c₀ (c₀, c₁ polynomials in
  /// the other variables), `−c₀/c₁`.
  /// - Throws: `AlgebraError.invalidArgument` if the degree in `v` is not 1.
  public func solveLinear(in v: String) throws -> RationalFunction {
    let cs = coefficients(in: v)
    guard cs.count == 2 else {
      throw AlgebraError.invalidArgument(
        "solveLinear: \(formatted(.text)) has degree \(degree(in: v)) in \(v), expected 1")
    }
    return try RationalFunction(numerator: -cs[0], denominator: cs[1])
  }

  /// The roots in `v` that come from factors of degree 1 in `v` (see `factored()`), each as a
  /// rational function of the other variables, with multiplicity, in factor order. Exact but not
  /// complete: roots of factors of higher degree in `v` (e.g. v² − 2) are not returned.
  public func linearRoots(in v: String) -> [(root: RationalFunction, multiplicity: Int)] {
    guard !isZero else { return [] }
    var roots: [(root: RationalFunction, multiplicity: Int)] = []
    for (base, e) in factored().factors where base.degree(in: v) == 1 {
      if let r = try? base.solveLinear(in: v) { roots.append((r, e)) }
    }
    return roots
  }
}
