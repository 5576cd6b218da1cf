

extension RationalFunction {
  /// Like `formatted`, but a polynomial with at least two non-constant factors
  /// prints as their product — `ηλ(1 − β)` rather than `ηλ − βηλ` — which is how a
  /// person reads a state-matrix entry or a stability condition.
  public func formattedFactored(_ f: OutputFormat) -> String {
    guard isPolynomial else { return formatted(f) }
    let fz = numerator.factoredForPrinting()
    let nonConstant = fz.factors.filter { !$0.base.isConstant }
    guard nonConstant.count >= 2 else { return formatted(f) }
    var pieces: [(text: String, grouped: Bool)] = []
    for (base, exponent) in nonConstant {
      var s = base.formatted(f)
      let grouped = base.terms.count > 1
      if grouped { s = f == .latex ? "\\left(\(s)\\right)" : "(\(s))" }
      if exponent > 1 {
        switch f {
        case .text: s += superscript(exponent)
        case .latex: s = (grouped ? s : "{\(s)}") + "^{\(exponent)}"
        case .sympy: s += "**\(exponent)"
        }
      }
      pieces.append((s, grouped))
    }
    // single-symbol factors first, then sums (ηλ(1 − β))
    pieces.sort { !$0.grouped && $1.grouped }
    var out = ""
    for (k, p) in pieces.enumerated() {
      if k > 0 {
        switch f {
        case .sympy: out += "*"
        case .latex: out += " "
        case .text:
          let prev = pieces[k - 1]
          let short = { (s: String) in s.unicodeScalars.filter { !"⁰¹²³⁴⁵⁶⁷⁸⁹".unicodeScalars.contains($0) }.count == 1 }
          if !(p.grouped || prev.grouped || (short(prev.text) && short(p.text))) { out += "·" }
        }
      }
      out += p.text
    }
    let c = fz.content
    if c == Rational(1) { return out }
    if c == Rational(-1) { return (f == .text ? "−" : "-") + out }
    let mul = f == .sympy ? "*" : (f == .latex ? " " : "")
    let cs = c.formatted(f)
    let needsParens = f != .latex && cs.contains("/")
    return (needsParens ? "(\(cs))" : cs) + mul + out
  }
}
