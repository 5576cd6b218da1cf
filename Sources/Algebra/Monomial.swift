/// A monomial: a product of named symbols to positive integer powers, e.g. `η²β`.
///
/// Stored canonically as names sorted ascending (by `String` order) with positive exponents, so
/// equal monomials are `==` and hash equal. The empty monomial is the constant 1.
///
/// Order (`<`): graded lexicographic — first by total degree, then by comparing exponents of the
/// variables from the *largest* name downwards. This is a monomial order (compatible with
/// multiplication, 1 is smallest), used for exact division, leading coefficients and printing.
public struct Monomial: Hashable, Comparable, Sendable {
  /// Variable names, sorted ascending, without duplicates.
  @usableFromInline var names: [String]
  /// Positive exponents, parallel to `names`.
  @usableFromInline var exponents: [Int]
  /// Total degree (sum of exponents), cached.
  public private(set) var degree: Int

  /// The constant monomial 1.
  public static let one = Monomial()

  public init() {
    names = []
    exponents = []
    degree = 0
  }

  /// The monomial `∏ name^power`; zero powers are dropped.
  /// - Precondition: powers are non-negative.
  public init(_ powers: [String: Int]) {
    let sorted = powers.filter { $0.value != 0 }.sorted { $0.key < $1.key }
    for (name, e) in sorted { precondition(e > 0, "Monomial: negative power \(e) of \(name)") }
    names = sorted.map(\.key)
    exponents = sorted.map(\.value)
    degree = exponents.reduce(0, +)
  }

  /// A single variable to a positive power.
  public init(_ name: String, _ power: Int = 1) {
    precondition(power >= 0, "Monomial: negative power \(power) of \(name)")
    if power == 0 {
      self.init(names: [], exponents: [])
    } else {
      self.init(names: [name], exponents: [power])
    }
  }

  init(names: [String], exponents: [Int]) {
    self.names = names
    self.exponents = exponents
    degree = exponents.reduce(0, +)
  }

  /// The powers as a dictionary (variables absent have power 0).
  public var powers: [String: Int] {
    get { Dictionary(uniqueKeysWithValues: zip(names, exponents)) }
    set { self = Monomial(newValue) }
  }

  /// Whether this is the constant monomial 1.
  public var isOne: Bool { names.isEmpty }

  /// The variables with positive power, ascending by name.
  public var variables: [String] { names }

  /// Power of `v` in this monomial (0 if absent).
  public func power(of v: String) -> Int {
    if let i = names.firstIndex(of: v) { return exponents[i] }
    return 0
  }

  /// Product of monomials: exponents add.
  public static func * (lhs: Monomial, rhs: Monomial) -> Monomial {
    if lhs.names.isEmpty { return rhs }
    if rhs.names.isEmpty { return lhs }
    var n: [String] = []
    var e: [Int] = []
    n.reserveCapacity(lhs.names.count + rhs.names.count)
    e.reserveCapacity(lhs.names.count + rhs.names.count)
    var i = 0
    var j = 0
    while i < lhs.names.count || j < rhs.names.count {
      if j >= rhs.names.count || (i < lhs.names.count && lhs.names[i] < rhs.names[j]) {
        n.append(lhs.names[i]); e.append(lhs.exponents[i]); i += 1
      } else if i >= lhs.names.count || rhs.names[j] < lhs.names[i] {
        n.append(rhs.names[j]); e.append(rhs.exponents[j]); j += 1
      } else {
        n.append(lhs.names[i]); e.append(lhs.exponents[i] + rhs.exponents[j]); i += 1; j += 1
      }
    }
    var m = Monomial()
    m.names = n
    m.exponents = e
    m.degree = lhs.degree + rhs.degree
    return m
  }

  /// `self / d` if `d` divides `self` (every exponent of `d` at most that of `self`), else nil.
  public func divided(by d: Monomial) -> Monomial? {
    if d.names.isEmpty { return self }
    var n: [String] = []
    var e: [Int] = []
    var j = 0
    for i in 0..<names.count {
      if j < d.names.count && d.names[j] == names[i] {
        let r = exponents[i] - d.exponents[j]
        if r < 0 { return nil }
        if r > 0 { n.append(names[i]); e.append(r) }
        j += 1
      } else {
        if j < d.names.count && d.names[j] < names[i] { return nil }
        n.append(names[i]); e.append(exponents[i])
      }
    }
    if j < d.names.count { return nil }
    return Monomial(names: n, exponents: e)
  }

  /// Greatest common divisor: the minimum of each exponent.
  public static func gcd(_ a: Monomial, _ b: Monomial) -> Monomial {
    var n: [String] = []
    var e: [Int] = []
    var i = 0
    var j = 0
    while i < a.names.count && j < b.names.count {
      if a.names[i] == b.names[j] {
        n.append(a.names[i]); e.append(min(a.exponents[i], b.exponents[j])); i += 1; j += 1
      } else if a.names[i] < b.names[j] {
        i += 1
      } else {
        j += 1
      }
    }
    return Monomial(names: n, exponents: e)
  }

  /// This monomial without variable `v`, and the power `v` had.
  func removing(_ v: String) -> (Monomial, Int) {
    guard let i = names.firstIndex(of: v) else { return (self, 0) }
    var m = self
    let e = m.exponents.remove(at: i)
    m.names.remove(at: i)
    m.degree -= e
    return (m, e)
  }

  /// Graded lexicographic order with larger names more significant (see type documentation).
  public static func < (lhs: Monomial, rhs: Monomial) -> Bool {
    if lhs.degree != rhs.degree { return lhs.degree < rhs.degree }
    var i = lhs.names.count - 1
    var j = rhs.names.count - 1
    while i >= 0 && j >= 0 {
      let a = lhs.names[i]
      let b = rhs.names[j]
      if a == b {
        if lhs.exponents[i] != rhs.exponents[j] { return lhs.exponents[i] < rhs.exponents[j] }
        i -= 1; j -= 1
      } else {
        // The side holding the larger name has a positive power where the other has 0.
        return a < b
      }
    }
    return i < j
  }
}
