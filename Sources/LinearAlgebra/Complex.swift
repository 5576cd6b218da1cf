#if canImport(Glibc)
import Glibc
#else
import Foundation
#endif

/// A complex number z = re + i·im in double precision: the value type in which
/// eigenvalues and polynomial roots are reported.
///
/// Only what those results need is here (no arithmetic library): use
/// swift-numerics' `Complex` where complex arithmetic is needed.
public struct Complex: Hashable, Sendable, CustomStringConvertible {
  /// The real part.
  public var re: Double
  /// The imaginary part.
  public var im: Double

  public init(re: Double, im: Double = 0) {
    self.re = re
    self.im = im
  }

  /// |z| = √(re² + im²), computed with `hypot`, so it neither overflows nor
  /// underflows prematurely.
  public var modulus: Double { hypot(re, im) }

  /// arg z ∈ (−π, π], computed with `atan2(im, re)`.
  public var argument: Double { atan2(im, re) }

  /// The complex conjugate re − i·im.
  public var conjugate: Complex { Complex(re: re, im: -im) }

  /// Whether the imaginary part is exactly zero.
  public var isReal: Bool { im == 0 }

  public var description: String {
    if im == 0 { return "\(re)" }
    return im < 0 ? "\(re) - \(-im)i" : "\(re) + \(im)i"
  }
}
