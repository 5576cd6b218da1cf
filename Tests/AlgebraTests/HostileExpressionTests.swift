import Algebra
import Foundation
import PropertyBased
import TestSupport
import Testing

/// Hostile input to the expression parser: deep nesting, huge and tiny literals, powers
/// that would explode, random token soup. Every call must return in-process (no stack
/// overflow, no trap), within a time bound, with a value or an `AlgebraError` whose
/// message names the offending position or literal.
///
/// Time bound: every input here parses or is refused in well under 0.1 s on an idle
/// machine; these 2-core machines are shared (load averages of 10–15 seen while the
/// suite runs), so the bound is 10 s: far above any honest parse, far below the minutes
/// (or the crash) of an unbounded one.
@Suite struct HostileExpressionTests {
  static let bound = 10.0

  /// Parses and checks the outcome: a value, or an error that says where.
  static func parseChecked(_ text: String) -> (value: RationalFunction?, message: String?, seconds: Double) {
    let start = ContinuousClock.now
    var value: RationalFunction?
    var message: String?
    do { value = try ExpressionParser.parse(text) } catch let e as AlgebraError {
      message = e.description
    } catch {
      message = "unexpected error type: \(error)"
    }
    let d = ContinuousClock.now - start
    return (value, message, Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18)
  }

  /// An error message names a position, a literal or what was divided by zero.
  static func namesTheProblem(_ message: String) -> Bool {
    message.contains("position") || message.contains("division by zero")
  }

  /// Nesting of parentheses, unary signs and powers far beyond the limit: refused with
  /// the position where the limit was passed, never a stack overflow.
  @Test func deepNestingIsRefusedAtItsPosition() async {
    let kinds = ["(", "-", "+", "2^"]
    await propertyCheck(count: 40, input: Gen.int(in: 101...20_000), Gen.int(in: 0...3)) { depth, kind in
      let open = kinds[kind]
      let text = String(repeating: open, count: depth) + "x" + (open == "(" ? String(repeating: ")", count: depth) : "")
      let r = Self.parseChecked(text)
      #expect(r.seconds < Self.bound, "\(depth) × \(open) took \(r.seconds) s")
      #expect(r.value == nil, "\(depth) × \(open) parsed although nested beyond \(ExpressionParser.maximumNesting)")
      #expect(r.message?.contains("nested too deeply at position") == true, "\(depth) × \(open): \(r.message ?? "no error")")
    }
  }

  /// Nesting within the limit parses to the right value: −…−x with k signs is (−1)ᵏx,
  /// and k parentheses around x are x.
  @Test func nestingWithinTheLimitParses() async {
    await propertyCheck(count: 40, input: Gen.int(in: 1...(ExpressionParser.maximumNesting - 2))) { k in
      let signs = Self.parseChecked(String(repeating: "-", count: k) + "x")
      #expect(signs.value == (k % 2 == 0 ? RationalFunction.symbol("x") : -RationalFunction.symbol("x")), "\(k) signs: \(signs.message ?? "")")
      let parens = Self.parseChecked(String(repeating: "(", count: k) + "x" + String(repeating: ")", count: k))
      #expect(parens.value == RationalFunction.symbol("x"), "\(k) parentheses: \(parens.message ?? "")")
    }
  }

  /// Literals with exponents up to ±10⁹ (10^999999999 would take hours to build
  /// exactly): outside double range they are refused naming the literal, inside they
  /// are exact.
  @Test func hugeAndTinyLiteralsAreRefusedOrExact() async {
    await propertyCheck(count: 100, input: Gen.int(in: 1...9), Gen.int(in: -999_999_999...999_999_999)) { mantissa, exponent in
      let literal = "\(mantissa)e\(exponent)"
      let r = Self.parseChecked(literal)
      #expect(r.seconds < Self.bound, "\(literal) took \(r.seconds) s")
      if exponent >= -307 && exponent <= 307 {
        #expect(r.value?.constantValue == Rational(decimal: literal), "\(literal): \(r.message ?? "")")
      } else if exponent < -330 || exponent > 310 {
        #expect(r.value == nil)
        #expect(r.message?.contains(literal) == true, "\(literal): \(r.message ?? "parsed")")
      }
    }
  }

  /// Powers whose result would be enormous — (a+b+c+d)^1000 has 1.7·10⁸ terms,
  /// ((2^1000)^1000)^1000 a billion-bit coefficient — are refused before they are
  /// computed, naming the position of the operator.
  @Test func explodingPowersAreRefusedBeforehand() async {
    let bases = ["(a+b+c+d)", "(1+x)", "((2^1000)^1000)", "(a+b)", "x"]
    await propertyCheck(count: 60, input: Gen.int(in: 0...4), Gen.int(in: 2...1000), Gen.int(in: 1...3)) { b, k, repeats in
      var text = bases[b]
      for _ in 0..<repeats { text = "(\(text))^\(k)" }
      let r = Self.parseChecked(text)
      #expect(r.seconds < Self.bound, "\(text) took \(r.seconds) s")
      if let m = r.message { #expect(Self.namesTheProblem(m), "\(text): \(m)") }
    }
  }

  /// A power within the size limits whose repeated squaring is the cost: (a+b+c+d)^47
  /// has 19 600 terms but took ~6·10⁶ coefficient products (14 s) before the squaring
  /// steps were counted; now refused at the caret (position 9, counted from 0), while (a+b+c+d)^20 (1771 terms,
  /// ~10⁵ products) still expands exactly.
  @Test func repeatedSquaringIsCounted() {
    let refused = Self.parseChecked("(a+b+c+d)^47")
    #expect(refused.value == nil)
    #expect(refused.message?.contains("power at position 9") == true, "\(refused.message ?? "parsed")")
    let kept = Self.parseChecked("(a+b+c+d)^20")
    #expect(kept.value?.numerator.terms.count == 1771, "\(kept.message ?? "")")
  }

  /// Random soup of the language's tokens and a few foreign characters: a value or an
  /// error at a position inside the text.
  @Test func tokenSoupEndsWithAValueOrAPositionedError() async {
    let tokens = ["x", "y", "eta", "0.5", "1e-3", "2", "+", "-", "*", "/", "^", "**", "(", ")", " ", "1e999", "0", "é", "#", "x'", ".", "e"]
    let gen = Gen.int(in: 0...(tokens.count - 1)).array(of: 0...200)
    await propertyCheck(count: 300, input: gen) { picks in
      let text = picks.map { tokens[$0] }.joined()
      let r = Self.parseChecked(text)
      #expect(r.seconds < Self.bound, "\(text) took \(r.seconds) s")
      if let m = r.message { #expect(Self.namesTheProblem(m), "\"\(text)\": \(m)") }
    }
  }
}
