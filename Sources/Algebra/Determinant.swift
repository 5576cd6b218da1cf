/// Determinant of a square matrix of polynomials, exact.
///
/// Cofactor expansion for n ≤ 3; fraction-free Bareiss elimination (every division exact) above.
/// The empty matrix has determinant 1.
/// - Precondition: `m` is square (a programmer error otherwise).
public func determinant(_ m: [[Polynomial]]) -> Polynomial {
  Polynomial.unbounded { budget throws(BudgetExhausted) in try determinant(m, budget: budget) }
}

/// `determinant(_:)` within a work budget (each Bareiss update spends the products of
/// its operands' term counts).
public func determinant(_ m: [[Polynomial]], budget: WorkBudget?) throws(BudgetExhausted) -> Polynomial {
  let n = m.count
  for row in m { precondition(row.count == n, "determinant: matrix is not square (\(n) rows, a row of \(row.count))") }
  switch n {
  case 0: return .one
  case 1: return m[0][0]
  case 2: return m[0][0] * m[1][1] - m[0][1] * m[1][0]
  case 3:
    let a = m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1])
    let b = m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0])
    let c = m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0])
    return a - b + c
  default:
    var a = m
    var negate = false
    var previous = Polynomial.one
    for k in 0..<(n - 1) {
      if a[k][k].isZero {
        guard let p = ((k + 1)..<n).first(where: { !a[$0][k].isZero }) else { return .zero }
        a.swapAt(k, p)
        negate.toggle()
      }
      for i in (k + 1)..<n {
        for j in (k + 1)..<n {
          try budget.spendProduct(a[i][j].workWeight, a[k][k].workWeight)
          try budget.spendProduct(a[i][k].workWeight, a[k][j].workWeight)
          let numerator = a[i][j] * a[k][k] - a[i][k] * a[k][j]
          // exact division: one pass over the quotient per term of the dividend
          try budget.spendProduct(numerator.workWeight, max(1, numerator.terms.count / max(1, previous.terms.count)))
          // Sylvester's identity makes this division exact.
          guard let q = numerator.divided(by: previous) else {
            preconditionFailure("Bareiss: inexact division (internal error)")
          }
          a[i][j] = q
        }
        a[i][k] = .zero
      }
      previous = a[k][k]
    }
    return negate ? -a[n - 1][n - 1] : a[n - 1][n - 1]
  }
}

/// Determinant of a square matrix of rational functions, exact.
///
/// Each row is scaled by the lcm Lᵢ of its denominators to a polynomial row; then
/// det = det(polynomial matrix) / ∏ Lᵢ, dividing by one Lᵢ at a time.
/// - Precondition: `m` is square.
public func determinant(_ m: [[RationalFunction]]) -> RationalFunction {
  Polynomial.unbounded { budget throws(BudgetExhausted) in try determinant(m, budget: budget) }
}

/// `determinant(_:)` of rational functions within a work budget.
public func determinant(_ m: [[RationalFunction]], budget: WorkBudget?) throws(BudgetExhausted) -> RationalFunction {
  let n = m.count
  for row in m { precondition(row.count == n, "determinant: matrix is not square (\(n) rows, a row of \(row.count))") }
  var rows: [[Polynomial]] = []
  rows.reserveCapacity(n)
  var scales: [Polynomial] = []
  for row in m {
    var l = Polynomial.one
    for x in row where !x.isPolynomial {
      if l.isOne {
        l = x.denominator
      } else if l != x.denominator {
        l = Polynomial.lcm(l, x.denominator)
      }
    }
    rows.append(row.map { x in x.isPolynomial ? x.numerator * l : x.numerator * l.divided(by: x.denominator)! })
    if !l.isOne { scales.append(l) }
  }
  // Divide by one row scale at a time: each step cancels a gcd with a small polynomial.
  var result = RationalFunction(try determinant(rows, budget: budget))
  for l in scales {
    result = result * RationalFunction.normalizingDenominator(.one, l)
  }
  return result
}
