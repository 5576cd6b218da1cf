import BigInt

/// An exact rational number `numerator / denominator` with big-integer parts.
///
/// Invariant: `gcd(numerator, denominator) = 1` and `denominator > 0`, so equal values
/// have equal representations (and hash equal). Zero is `0/1`.
public struct Rational: Hashable, Comparable, Sendable, CustomStringConvertible, ExpressibleByIntegerLiteral {
  /// Numerator, coprime to the denominator; carries the sign.
  public let numerator: BigInt
  /// Denominator, always positive.
  public let denominator: BigInt

  /// Internal initialiser for parts already known to be reduced with positive denominator.
  @usableFromInline
  init(reduced numerator: BigInt, _ denominator: BigInt) {
    self.numerator = numerator.isZero ? BigInt(0) : numerator
    self.denominator = numerator.isZero ? BigInt(1) : denominator
  }

  /// The integer `n` as a rational number.
  public init(_ n: Int) {
    self.init(reduced: BigInt(n), BigInt(1))
  }

  /// The integer `n` as a rational number.
  public init(_ n: BigInt) {
    self.init(reduced: n, BigInt(1))
  }

  public init(integerLiteral value: Int) {
    self.init(value)
  }

  /// `numerator / denominator`, reduced to lowest terms with a positive denominator.
  /// - Precondition: `denominator != 0` (a programmer error; parsers check before calling).
  public init(_ numerator: BigInt, _ denominator: BigInt) {
    precondition(!denominator.isZero, "Rational: zero denominator")
    if numerator.isZero {
      self.init(reduced: 0, 1)
      return
    }
    var n = numerator
    var d = denominator
    if d.signum() < 0 {
      n = -n
      d = -d
    }
    if d == 1 {
      self.init(reduced: n, d)
      return
    }
    let g = n.greatestCommonDivisor(with: d)
    if g != 1 {
      n /= g
      d /= g
    }
    self.init(reduced: n, d)
  }

  /// `numerator / denominator` for machine integers. - Precondition: `denominator != 0`.
  public init(_ numerator: Int, _ denominator: Int) {
    self.init(BigInt(numerator), BigInt(denominator))
  }

  /// Parses a decimal literal exactly, without floating-point rounding:
  /// `"12"`, `"0.9"`, `".5"`, `"5."`, `"1e-3"`, `"2.5E+4"`, with an optional leading `+` or `-`.
  /// Returns `nil` for anything else (including empty digits, `"inf"`, `"nan"`, hex).
  public init?(decimal: String) {
    var chars = Substring(decimal)
    var negative = false
    if let first = chars.first, first == "+" || first == "-" {
      negative = first == "-"
      chars = chars.dropFirst()
    }
    var mantissa = ""
    var fractionDigits = 0
    var seenDot = false
    var exponentText = ""
    var inExponent = false
    for c in chars {
      if inExponent {
        if c.isASCII, c.isNumber {
          exponentText.append(c)
        } else if (c == "+" || c == "-") && exponentText.isEmpty {
          exponentText.append(c)
        } else {
          return nil
        }
      } else if c.isASCII, c.isNumber {
        mantissa.append(c)
        if seenDot { fractionDigits += 1 }
      } else if c == "." && !seenDot {
        seenDot = true
      } else if c == "e" || c == "E" {
        inExponent = true
      } else {
        return nil
      }
    }
    guard !mantissa.isEmpty else { return nil }
    var exponent = 0
    if inExponent {
      let digits = exponentText.drop { $0 == "+" || $0 == "-" }
      guard !digits.isEmpty, digits.count <= 9, let e = Int(exponentText) else { return nil }
      exponent = e
    }
    guard let m = BigInt(mantissa) else { return nil }
    let shift = exponent - fractionDigits
    let ten = BigInt(10)
    let value: Rational
    if shift >= 0 {
      value = Rational(reduced: m * ten.power(shift), 1)
    } else {
      value = Rational(m, ten.power(-shift))
    }
    self = negative ? -value : value
  }

  /// The exact binary value of a finite double (e.g. `Rational(0.1)` is `3602879701896397/36028797018963968`).
  /// - Precondition: `x.isFinite`.
  public init(_ x: Double) {
    precondition(x.isFinite, "Rational(Double): value must be finite, got \(x)")
    if x == 0 {
      self.init(reduced: 0, 1)
      return
    }
    // x = significand · 2^(exponent − 52) with an integer significand.
    let bits = x.significandBitPattern
    let isSubnormal = x.exponentBitPattern == 0
    let significand = isSubnormal ? bits : (bits | (UInt64(1) << 52))
    let exponent = isSubnormal ? -1074 : Int(x.exponent) - 52
    var n = BigInt(significand)
    if x.sign == .minus { n = -n }
    if exponent >= 0 {
      self.init(reduced: n << exponent, 1)
    } else {
      self.init(n, BigInt(1) << (-exponent))
    }
  }

  public static let zero = Rational(reduced: 0, 1)
  public static let one = Rational(reduced: 1, 1)

  public var isZero: Bool { numerator.isZero }
  public var isOne: Bool { numerator == 1 && denominator == 1 }
  /// Whether the denominator is 1.
  public var isInteger: Bool { denominator == 1 }
  /// −1, 0 or 1.
  public var sign: Int { numerator.isZero ? 0 : (numerator.signum() < 0 ? -1 : 1) }

  /// The nearest double (ties to even, up to subnormal double rounding), exact to < 1 ulp even when
  /// numerator and denominator are far beyond `Double`'s range; ±infinity on overflow.
  public var doubleValue: Double {
    if numerator.isZero { return 0 }
    // Fast path: both parts exactly representable, so one correctly rounded division.
    let limit = BigInt(1) << 53
    if numerator.magnitude < limit.magnitude && denominator < limit {
      return Double(Int(numerator)) / Double(Int(denominator))
    }
    let a = numerator.magnitude
    let b = denominator.magnitude
    // Choose s with 2^55 ≤ a·2^s / b < 2^57, then round the 57-bit quotient once (sticky bit).
    let s = 56 - (a.bitWidth - b.bitWidth)
    let (q, r) = s >= 0 ? (a << s).quotientAndRemainder(dividingBy: b)
      : a.quotientAndRemainder(dividingBy: b << (-s))
    var bitsQ = UInt64(q)
    bitsQ = (bitsQ << 1) | (r.isZero ? 0 : 1)
    // value = bitsQ · 2^(−s−1); Double(UInt64) rounds to nearest even, the sticky bit breaks ties.
    let magnitude = Double(sign: .plus, exponent: -s - 1, significand: Double(bitsQ))
    return numerator.signum() < 0 ? -magnitude : magnitude
  }

  /// ⌊log₂|self|⌋ within one (from the bit widths of numerator and denominator), for
  /// choosing a scale; nil for 0.
  public var binaryMagnitude: Int? {
    numerator.isZero ? nil : numerator.magnitude.bitWidth - denominator.magnitude.bitWidth
  }

  /// self · 2^k, exactly.
  public func timesPowerOfTwo(_ k: Int) -> Rational {
    if k >= 0 { return Rational(numerator << k, denominator) }
    return Rational(numerator, denominator << (-k))
  }

  public var description: String {
    denominator == 1 ? numerator.description : "\(numerator)/\(denominator)"
  }

  public static func < (lhs: Rational, rhs: Rational) -> Bool {
    lhs.numerator * rhs.denominator < rhs.numerator * lhs.denominator
  }

  public static prefix func - (x: Rational) -> Rational {
    Rational(reduced: -x.numerator, x.denominator)
  }

  public static func + (lhs: Rational, rhs: Rational) -> Rational {
    if lhs.isZero { return rhs }
    if rhs.isZero { return lhs }
    if lhs.denominator == rhs.denominator {
      if lhs.denominator == 1 { return Rational(reduced: lhs.numerator + rhs.numerator, 1) }
      return Rational(lhs.numerator + rhs.numerator, lhs.denominator)
    }
    return Rational(
      lhs.numerator * rhs.denominator + rhs.numerator * lhs.denominator,
      lhs.denominator * rhs.denominator)
  }

  public static func - (lhs: Rational, rhs: Rational) -> Rational {
    lhs + (-rhs)
  }

  public static func * (lhs: Rational, rhs: Rational) -> Rational {
    if lhs.isZero || rhs.isZero { return .zero }
    if lhs.denominator == 1 && rhs.denominator == 1 {
      return Rational(reduced: lhs.numerator * rhs.numerator, 1)
    }
    // Cross-reduce first: gcd(a, d) and gcd(c, b), keeping the numbers small.
    let g1 = lhs.numerator.greatestCommonDivisor(with: rhs.denominator)
    let g2 = rhs.numerator.greatestCommonDivisor(with: lhs.denominator)
    return Rational(
      reduced: (lhs.numerator / g1) * (rhs.numerator / g2),
      (lhs.denominator / g2) * (rhs.denominator / g1))
  }

  /// Division. - Precondition: `rhs` is nonzero.
  public static func / (lhs: Rational, rhs: Rational) -> Rational {
    precondition(!rhs.isZero, "Rational: division by zero")
    return lhs * rhs.reciprocal
  }

  public static func += (lhs: inout Rational, rhs: Rational) { lhs = lhs + rhs }
  public static func -= (lhs: inout Rational, rhs: Rational) { lhs = lhs - rhs }
  public static func *= (lhs: inout Rational, rhs: Rational) { lhs = lhs * rhs }
  public static func /= (lhs: inout Rational, rhs: Rational) { lhs = lhs / rhs }

  /// |x|.
  public var abs: Rational {
    numerator.signum() < 0 ? -self : self
  }

  /// 1/x. - Precondition: nonzero.
  public var reciprocal: Rational {
    precondition(!isZero, "Rational: reciprocal of zero")
    return numerator.signum() < 0
      ? Rational(reduced: -denominator, -numerator)
      : Rational(reduced: denominator, numerator)
  }

  /// x^k for any integer k. - Precondition: x ≠ 0 when k < 0.
  public func power(_ k: Int) -> Rational {
    if k == 0 { return .one }
    if k < 0 { return reciprocal.power(-k) }
    return Rational(reduced: numerator.power(k), denominator.power(k))
  }
}

/// |x| for a rational.
public func abs(_ x: Rational) -> Rational { x.abs }
