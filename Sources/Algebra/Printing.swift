import BigInt

/// Output formats for formulas.
///
/// - `text`: Unicode for people: Greek letters (`eta` → η, `beta1` → β₁), superscript powers,
///   juxtaposition for products (`2β`, `η²β`; `·` next to multi-letter Latin names: `η·wd`;
///   inside a product `eta` comes first, then the other symbols by name),
///   Unicode minus with spaces (`1 − β`), rational functions factored: `(2 + 2β)/(η(1 − β))`.
/// - `latex`: `\frac{2 + 2\beta}{\eta (1 - \beta)}`, `\beta_{1}`, `\mathrm{wd}`.
/// - `sympy`: a Python expression for SymPy after `from sympy import symbols, Rational` and
///   defining the symbols: `*`, `**`, `Rational(1, 3)`; `lambda` is spelled `lamda`, a primed
///   name `m'` is spelled `m_p` (`m''` → `m_pp`).
public enum OutputFormat: String, Sendable, CaseIterable {
  case text, latex, sympy
}

/// Internal rendering styles: the three public formats plus a plain-ASCII form that
/// `ExpressionParser` reads back (`x^2*y - 1/3*z`).
enum Style {
  case text, latex, sympy, ascii

  init(_ f: OutputFormat) {
    switch f {
    case .text: self = .text
    case .latex: self = .latex
    case .sympy: self = .sympy
    }
  }

  var minus: String { self == .text ? "−" : "-" }
}

// MARK: - Symbols

private let greekLetters: [String: (unicode: String, latex: String)] = [
  "eta": ("η", "\\eta"), "beta": ("β", "\\beta"), "lamda": ("λ", "\\lambda"), "lambda": ("λ", "\\lambda"),
  "nu": ("ν", "\\nu"), "alpha": ("α", "\\alpha"), "gamma": ("γ", "\\gamma"), "rho": ("ρ", "\\rho"),
  "mu": ("μ", "\\mu"), "epsilon": ("ε", "\\epsilon"), "theta": ("θ", "\\theta"), "sigma": ("σ", "\\sigma"),
  "tau": ("τ", "\\tau"), "delta": ("δ", "\\delta"), "omega": ("ω", "\\omega"), "kappa": ("κ", "\\kappa"),
]

private let superscriptDigits: [Character] = ["⁰", "¹", "²", "³", "⁴", "⁵", "⁶", "⁷", "⁸", "⁹"]
private let subscriptDigits: [Character] = ["₀", "₁", "₂", "₃", "₄", "₅", "₆", "₇", "₈", "₉"]

/// The digits of n as Unicode superscripts (¹²³).
public func superscript(_ n: Int) -> String {
  String(String(n).map { c in c.wholeNumberValue.map { superscriptDigits[$0] } ?? c })
}

func subscripted(_ digits: Substring) -> String {
  String(digits.map { c in c.wholeNumberValue.map { subscriptDigits[$0] } ?? c })
}

/// A name split as letters-and-underscores stem, trailing digits, trailing primes.
private struct NameParts {
  var stem: Substring
  var digits: Substring
  var primes: Int

  init(_ name: String) {
    var body = Substring(name)
    var primes = 0
    while body.last == "'" {
      body = body.dropLast()
      primes += 1
    }
    var cut = body.endIndex
    while cut > body.startIndex {
      let before = body.index(before: cut)
      guard body[before].isASCII, body[before].isNumber else { break }
      cut = before
    }
    stem = body[..<cut]
    digits = body[cut...]
    self.primes = primes
  }

  var greek: (unicode: String, latex: String)? { greekLetters[String(stem)] }
}

/// Whether a symbol is written with `·` next to other factors in text (multi-letter, not Greek).
func needsDot(_ name: String) -> Bool {
  let parts = NameParts(name)
  if parts.greek != nil { return false }
  return parts.stem.count + parts.digits.count > 1
}

/// A symbol name in a style.
func renderSymbol(_ name: String, _ style: Style) -> String {
  let parts = NameParts(name)
  let primes = String(repeating: "'", count: parts.primes)
  switch style {
  case .ascii:
    return name
  case .sympy:
    let body = name.dropLast(parts.primes)
    let base = body == "lambda" ? "lamda" : String(body)
    return parts.primes == 0 ? base : base + "_" + String(repeating: "p", count: parts.primes)
  case .text:
    if let g = parts.greek { return g.unicode + subscripted(parts.digits) + primes }
    return name
  case .latex:
    if let g = parts.greek {
      return g.latex + (parts.digits.isEmpty ? "" : "_{\(parts.digits)}") + primes
    }
    if parts.stem.count == 1 {
      return String(parts.stem) + (parts.digits.isEmpty ? "" : "_{\(parts.digits)}") + primes
    }
    let escaped = String(name.dropLast(parts.primes)).replacingAll("_", with: "\\_")
    return "\\mathrm{\(escaped)}" + primes
  }
}

extension String {
  func replacingAll(_ target: Character, with replacement: String) -> String {
    var out = ""
    for c in self { if c == target { out += replacement } else { out.append(c) } }
    return out
  }
}

// MARK: - Numbers

/// |r| or r as a coefficient-free number in a style (`1/3`, `\frac{1}{3}`, `Rational(1, 3)`).
func renderRational(_ r: Rational, _ style: Style) -> String {
  let negative = r.sign < 0
  let a = r.abs
  let body: String
  if a.isInteger {
    body = a.numerator.description
  } else {
    switch style {
    case .text, .ascii: body = "\(a.numerator)/\(a.denominator)"
    case .latex: body = "\\frac{\(a.numerator)}{\(a.denominator)}"
    case .sympy:
      return "Rational(\(negative ? "-" : "")\(a.numerator), \(a.denominator))"
    }
  }
  return (negative ? style.minus : "") + body
}

// MARK: - Products

/// One factor of a printed product.
private enum Item {
  case number(Rational)       // positive
  case symbol(String, Int)
  case group(String, Int)     // a rendered sum, to be parenthesised, and its power
}

private func power(_ base: String, _ e: Int, _ style: Style) -> String {
  if e == 1 { return base }
  switch style {
  case .text: return base + superscript(e)
  case .latex: return base + "^{\(e)}"
  case .sympy: return base + "**\(e)"
  case .ascii: return base + "^\(e)"
  }
}

private func renderItem(_ item: Item, _ style: Style, alone: Bool) -> String {
  switch item {
  case .number(let r):
    let s = renderRational(r, style)
    if !alone && !r.isInteger && (style == .text) { return "(\(s))" }
    return s
  case .symbol(let name, let e):
    return power(renderSymbol(name, style), e, style)
  case .group(let body, let e):
    return power("(\(body))", e, style)
  }
}

/// Renders a product of items; `isSum`-free by construction.
private func renderProduct(_ items: [Item], _ style: Style) -> String {
  if items.isEmpty { return "1" }
  var out = ""
  for (i, item) in items.enumerated() {
    let s = renderItem(item, style, alone: items.count == 1)
    if i > 0 {
      switch style {
      case .sympy, .ascii:
        out += "*"
      case .latex:
        if case .number = items[i - 1], case .symbol = item { break }
        out += " "
      case .text:
        var dot = false
        if case .symbol(let name, _) = item, needsDot(name) { dot = true }
        if case .symbol(let name, _) = items[i - 1], needsDot(name) {
          if case .group = item {} else { dot = true }
        }
        if case .number(let r) = items[i - 1], !r.isInteger { dot = false }
        if dot { out += "·" }
      }
    }
    out += s
  }
  return out
}

private func items(of m: Monomial) -> [Item] {
  zip(m.names, m.exponents)
    .sorted { symbolPrintOrder($0.0, $1.0) }
    .map { Item.symbol($0, $1) }
}

/// Order of symbols inside a printed product: the learning rate `eta` first (`ηβ`, `η²β`,
/// `ηλ`, `η·wd`), then the others by name.
func symbolPrintOrder(_ a: String, _ b: String) -> Bool {
  let ka = a == "eta" ? 0 : 1
  let kb = b == "eta" ? 0 : 1
  if ka != kb { return ka < kb }
  return a < b
}

// MARK: - Polynomials

extension Polynomial {
  /// Expanded form: constant term first, then ascending total degree (graded monomial order).
  func render(_ style: Style) -> String {
    if isZero { return "0" }
    var out = ""
    for (i, (m, c)) in sortedTerms.enumerated() {
      let negative = c.sign < 0
      if i == 0 {
        if negative { out += style.minus }
      } else {
        out += negative ? " \(style.minus) " : " + "
      }
      let a = c.abs
      if m.isOne {
        out += renderRational(a, style)
      } else if a.isOne {
        out += renderProduct(items(of: m), style)
      } else {
        out += renderProduct([.number(a)] + items(of: m), style)
      }
    }
    return out
  }

  /// The polynomial, expanded, in the given format (see `OutputFormat`).
  public func formatted(_ f: OutputFormat = .text) -> String {
    render(Style(f))
  }

  /// A plain-ASCII form that `ExpressionParser.parse` reads back exactly (`1/3*x^2*y - z`).
  public var asciiDescription: String { render(.ascii) }
}

extension Polynomial: CustomStringConvertible {
  public var description: String { formatted(.text) }
}

extension Rational {
  /// The number in the given format: `1/3`, `−1/3` (text), `\frac{1}{3}`, `Rational(1, 3)`.
  public func formatted(_ f: OutputFormat = .text) -> String {
    renderRational(self, Style(f))
  }
}

// MARK: - Rational functions

extension RationalFunction {
  /// Rendered NUM/DEN, both factored (see `OutputFormat` and `Polynomial.factored()`).
  func render(_ style: Style) -> String {
    if isPolynomial { return numerator.render(style) }
    let nf = numerator.factoredForPrinting()
    let df = denominator.factoredForPrinting()
    let total = nf.content / df.content
    let negative = total.sign < 0
    // Integer part of the content goes to the numerator, its denominator in front of the
    // denominator: x/3 − y²/(3z) prints as (xz − y²)/(3z) rather than with fractions inside.
    let c = Rational(total.abs.numerator)
    let denominatorNumber = Rational(total.abs.denominator)

    func split(_ f: Factorization) -> (monomials: [Item], others: [(Polynomial, Int)]) {
      var monomials: [Item] = []
      var others: [(Polynomial, Int)] = []
      for (b, e) in f.factors {
        if b.terms.count == 1, let m = b.terms.keys.first, m.names.count == 1 {
          monomials.append(.symbol(m.names[0], e))
        } else {
          others.append((b, e))
        }
      }
      return (monomials, others)
    }

    let (nm, no) = split(nf)
    let (dm, dOthers) = split(df)
    var numText: String
    var numIsSum = false
    if no.count == 1 && no[0].1 == 1 {
      // One non-monomial factor: multiply the numeric content back into it.
      let merged = no[0].0 * c
      if nm.isEmpty {
        numText = merged.render(style)
        numIsSum = merged.terms.count > 1
      } else {
        numText = renderProduct(nm + [.group(merged.render(style), 1)], style)
      }
    } else {
      var its: [Item] = []
      if !c.isOne || (nm.isEmpty && no.isEmpty) { its.append(.number(c)) }
      its += nm
      its += no.map { Item.group($0.0.render(style), $0.1) }
      numText = renderProduct(its, style)
    }
    let denItems = (denominatorNumber.isOne ? [] : [Item.number(denominatorNumber)])
      + dm + dOthers.map { Item.group($0.0.render(style), $0.1) }
    let denText = renderProduct(denItems, style)
    let sign = negative ? style.minus : ""
    if style == .latex {
      return "\(sign)\\frac{\(numText)}{\(denText)}"
    }
    let n = numIsSum ? "(\(numText))" : numText
    let d = denItems.count > 1 ? "(\(denText))" : denText
    return "\(sign)\(n)/\(d)"
  }

  /// NUM/DEN in the given format, factored: e.g. `(2 + 2β)/(η(1 − β))`,
  /// `(1 + β)(2 − η·wd)/(η(1 − β))`; a polynomial prints expanded.
  public func formatted(_ f: OutputFormat = .text) -> String {
    render(Style(f))
  }

  /// A plain-ASCII form that `ExpressionParser.parse` reads back exactly.
  public var asciiDescription: String { render(.ascii) }
}

extension RationalFunction: CustomStringConvertible {
  public var description: String { formatted(.text) }
}
