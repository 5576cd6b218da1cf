#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The floating-point types the optimizers compute in: `Float` and `Double`.
///
/// Beyond `BinaryFloatingPoint` they provide a real power (for Padam's P = ν^p + ε),
/// which the standard library does not offer generically.
public protocol OptimizerScalar: BinaryFloatingPoint, Codable, Sendable {
  /// `self` raised to the real power `p` (self ≥ 0).
  func raised(to p: Self) -> Self
}

extension Float: OptimizerScalar {
  @inlinable public func raised(to p: Float) -> Float { powf(self, p) }
}

extension Double: OptimizerScalar {
  @inlinable public func raised(to p: Double) -> Double { pow(self, p) }
}

@usableFromInline func _cosine(_ x: Double) -> Double { cos(x) }

