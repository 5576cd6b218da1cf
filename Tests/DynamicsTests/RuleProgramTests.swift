import Algebra
import Dynamics
import Testing

/// The compiled (vector) form of a rule: its terms, its shared gradient points and
/// the rules it refuses beyond those `UpdateRule` refuses.
@Suite struct RuleProgramTests {
  @Test func heavyBallCompilesToTwoCombinations() throws {
    let p = try RuleProgram(parsing: "m' = beta*m + g; x' = x - eta*m'")
    #expect(p.variables == ["m", "x"] && p.parameters == ["beta"])
    #expect(p.points.count == 1 && p.points[0].isIterate && p.points[0].text == "g")
    #expect(p.assignments.map(\.gradients) == [[0], []])
    let m = p.assignments[0].terms, x = p.assignments[1].terms
    #expect(m.map(\.operand) == [.old(0), .gradient(0)])
    #expect(m.map(\.coefficient) == [.symbol("beta"), .one])
    #expect(x.map(\.operand) == [.old(1), .new(0)])
    #expect(x.map(\.coefficient) == [.one, -RationalFunction.symbol("eta")])
  }

  /// Points are shared when equal after substituting new values, in any spelling;
  /// points that cancel from every update are not evaluated.
  @Test func distinctPoints() throws {
    let cases: [(String, [String], [Bool])] = [
      ("x' = x - eta*(g + g(x))/2", ["g"], [true]),
      ("v' = beta*v - eta*g(x + beta*v); x' = x + v' - eta*g(beta*v + x)", ["g(x + beta*v)"], [false]),
      // the look-ahead gradient cancels; the one in m' stays
      ("m' = beta*m + g; x' = x - eta*g(x - eta*m') + eta*g(x - eta*(beta*m + g))", ["g"], [true]),
      ("m' = beta*m + g; x' = x - eta*g(x - eta*m') - eta*g(x - eta*(beta*m + g))", ["g", "g(x - eta*m')"], [true, false]),
      ("x' = x - eta*g(x - eta*g)", ["g", "g(x - eta*g)"], [true, false]),
      ("x' = x - eta*g(x - eta*g(x))", ["g(x)", "g(x - eta*g(x))"], [true, false]),
      ("x' = x - eta*(g(x + 0*x) - g + g)", ["g(x + 0*x)"], [true]),
    ]
    for (rule, texts, iterate) in cases {
      let p = try RuleProgram(parsing: rule)
      #expect(p.points.map(\.text) == texts, "\(rule)")
      #expect(p.points.map(\.isIterate) == iterate, "\(rule)")
    }
  }

  /// What is linear only on the one-dimensional quadratic (where g = λx commutes with
  /// every vector) parses as an `UpdateRule` but not as a program; the message names
  /// the assignment or the point and the offending term.
  @Test func refusedOnVectorsOnly() throws {
    let cases: [(String, String)] = [
      ("m' = beta*m + g; x' = x - eta*g*m'/x", "the assignment to x' divides by x"),
      ("x' = x - eta*g(2*x)*x/g", "divides by g"),
      ("m' = beta*m + g(x + g*m/x); x' = x - eta*m'", "the point of g(x + g*m/x) at position 9"),
      ("x' = x - eta*g(0*x)", "is 0 for every state"),
    ]
    for (rule, mention) in cases {
      do {
        _ = try RuleProgram(parsing: rule)
        Issue.record("compiled \"\(rule)\"")
      } catch {
        #expect(error.description.contains(mention), "\"\(rule)\": \(error.description)")
      }
    }
    // these parse for the analysis
    _ = try UpdateRule(parsing: "m' = beta*m + g; x' = x - eta*g*m'/x")
    // g(E) is one factor in the analysis as on vectors: (λx)^0·λx is gradient descent.
    let gd = try RuleProgram(parsing: "x' = x - eta*g(x)^0*g")
    #expect(gd.rule.updates == (try UpdateRule(parsing: "x' = x - eta*g")).updates)
    _ = try UpdateRule(parsing: "x' = x - eta*g(2*x)*x/g")
  }

  @Test func bindingNamesMissingAndUnknownParameters() throws {
    let p = try RuleProgram(parsing: "m' = beta*m + (1-beta)*g; x' = x - eta*((1-nu)*g + nu*m')")
    #expect(p.parameters == ["beta", "nu"])
    #expect(throws: RuleError.parameter("the rule needs a value for nu (--param nu=VALUE)")) { try p.bound(to: ["beta": 0.9]) }
    #expect(throws: RuleError.parameter("the rule has no parameter \"wd\"; its parameters are: beta, nu")) {
      try p.bound(to: ["beta": 0.9, "nu": 0.7, "wd": 1])
    }
    let b = try p.bound(to: ["beta": 0.9, "nu": 0.7])
    let c = try b.coefficients(eta: 0.5)
    // x' = x − ην·m′ − η(1 − ν)g (terms: old state, new state, gradients): 1, −0.35,
    // −0.15, each the exact decimal coefficient rounded once, times η = 0.5 (exact)
    #expect(p.assignments[1].terms.map(\.operand) == [.old(1), .new(0), .gradient(0)])
    #expect(c.assignments[1] == [1, -0.7 * 0.5, -0.3 * 0.5])
  }
}
