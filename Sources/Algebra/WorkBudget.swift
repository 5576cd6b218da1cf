/// A bound on the work of an exact computation whose cost can explode with its input
/// (a determinant of polynomials, a multivariate gcd, a factorisation, the Jury table
/// of a symbolic polynomial). The unit is one product of two 64-bit coefficient words,
/// estimated before each polynomial product from the operands' `workWeight` (terms ×
/// coefficient words); deterministic, so the same input gives the same result on every
/// machine. One unit is roughly a microsecond here (hash-table insertion and rational
/// normalisation included). Used where a caller has a cheaper fallback: printing expanded instead of
/// factored, a numeric threshold instead of a closed form.
///
/// Not thread-safe: one budget per computation, on one thread.
public final class WorkBudget {
  public private(set) var remaining: Int
  public let limit: Int

  public init(_ units: Int) {
    limit = units
    remaining = units
  }

  /// Spends `units`; throws once the budget is exhausted.
  public func spend(_ units: Int) throws(BudgetExhausted) {
    remaining -= max(units, 1)
    if remaining < 0 { throw BudgetExhausted(limit: limit) }
  }

  /// The cost of the product of polynomials with these term counts.
  public func spendProduct(_ a: Int, _ b: Int) throws(BudgetExhausted) {
    let (p, overflow) = a.multipliedReportingOverflow(by: b)
    try spend(overflow ? Int.max / 2 : p)
  }
}

/// A `WorkBudget` ran out.
public struct BudgetExhausted: Error, Sendable, CustomStringConvertible {
  public let limit: Int
  public var description: String { "the exact computation needs more than \(limit) coefficient products (its work budget)" }
}

extension Optional where Wrapped == WorkBudget {
  /// Spends on the budget if there is one.
  @inline(__always) public func spendProduct(_ a: Int, _ b: Int) throws(BudgetExhausted) {
    if let budget = self { try budget.spendProduct(a, b) }
  }
}

extension Polynomial {
  /// terms × (1 + the largest coefficient's size in 64-bit words): the weight of this
  /// polynomial as an operand of a product, for `WorkBudget`.
  public var workWeight: Int {
    var words = 0
    for c in terms.values {
      words = max(words, (c.numerator.bitWidth + c.denominator.bitWidth + 63) / 64)
    }
    return terms.count * (1 + words)
  }
}

extension RationalFunction {
  /// `workWeight` of numerator and denominator together.
  public var workWeight: Int { numerator.workWeight + denominator.workWeight }
}
