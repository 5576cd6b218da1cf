import Foundation
import Testing

@Suite struct TheoryCLITests {
  /// A value that is refused is refused, not first called ignored: the note that a
  /// flag does not apply comes only after every value passed its check.
  @Test(arguments: [["adam", "--beta2", "1"], ["adam", "--eps", "-1"], ["padam", "--padam-p", "5"], ["nadam", "--beta2", "nan"]])
  func refusedValuesAreNotNotedAsIgnored(_ flags: [String]) throws {
    let r = try CLI.run(["threshold", flags[0], "--lr", "1e-3"] + flags[1...])
    #expect(r.status == 64)
    #expect(r.stderr.contains("invalid \(flags[1])"), "\(r.stderr)")
    #expect(!r.stderr.contains("ignored"), "\(r.stderr)")
  }

  @Test func thresholdEmaHB() throws {
    let r = try CLI.run(["threshold", "ema-hb", "--lr", "1e-4", "--beta1", "0.9"])
    #expect(r.status == 0)
    #expect(r.stdout.contains("380000"))
    #expect(r.stdout.contains("(2 + 2β)/(η(1 − β))"))
  }

  @Test func thresholdJSONShape() throws {
    let j = try CLI.json(["threshold", "adam", "--lr", "1e-3", "--json"])
    #expect(Set(j.keys).isSuperset(of: ["optimizer", "lr", "beta1", "threshold", "formula", "latex", "sympy", "quantity"]))
    #expect(j["quantity"] as? String == "preconditioned sharpness")
    // 38/η at β₁ = 0.9; double round-off only
    #expect(abs((j["threshold"] as? Double ?? 0) - 38_000) < 1e-6)
    let gd = try CLI.json(["threshold", "gd", "--lr", "0.1", "--json"])
    #expect(gd["beta1"] is NSNull)
    #expect(gd["quantity"] as? String == "sharpness")
  }

  @Test func adamWUsesItsDecay() throws {
    let j = try CLI.json(["threshold", "adamw", "--lr", "0.01", "--weight-decay", "0.1", "--json"])
    let expected = (1 + 0.9) * (2 - 0.01 * 0.1) / (0.01 * (1 - 0.9))
    #expect(abs((j["threshold"] as? Double ?? 0) - expected) < 1e-9 * expected)
    #expect(j["formula"] as? String == "(1 + β)(2 − η·wd)/(η(1 − β))")
  }

  /// The SymPy string evaluates in Python, with only what DESIGN.md promises in scope
  /// (`from sympy import symbols` and the symbols eta, beta, lamda, z), to the same
  /// number. Skipped (visibly) where python3 with SymPy is missing; any Python error,
  /// a malformed expression above all, fails the test.
  @Test(.enabled(if: Python.hasSymPy, "needs python3 with SymPy on PATH"))
  func sympyFormulaEvaluates() throws {
    let j = try CLI.json(["threshold", "ema-nesterov", "--lr", "0.5", "--beta1", "0.8", "--json"])
    let sympy = try #require(j["sympy"] as? String)
    let t = try #require(j["threshold"] as? Double)
    let script = """
      from sympy import symbols
      eta, beta, lamda, z = symbols('eta beta lamda z')
      expr = (\(sympy))
      import sympy
      print(float(sympy.sympify(expr).subs({eta: sympy.Rational(1, 2), beta: sympy.Rational(4, 5)})))
      """
    let r = try Python.run(script)
    try #require(r.status == 0, "the SymPy string \(sympy) does not evaluate: \(r.stderr)")
    let value = try #require(Double(r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)), "python printed \(r.stdout)")
    // SymPy evaluates exactly at η = 1/2, β = 4/5 and rounds once; the toolkit's
    // threshold is a polished double root, good to a few ulps: 1e-12 relative
    // leaves a wide margin and still catches any wrong formula (13.846… here).
    #expect(abs(value - t) <= 1e-12 * t, "SymPy \(value), aeos \(t)")
  }

  /// derive --format sympy: the characteristic polynomial string equals det(zI − A)
  /// of the printed state matrix, and each condition parses (exact, in SymPy).
  /// Skipped (visibly) where python3 with SymPy is missing; fails on any Python error.
  @Test(.enabled(if: Python.hasSymPy, "needs python3 with SymPy on PATH"), arguments: ["ema-nesterov", "adamw", "hb", "gd"])
  func sympyDerivationIsConsistent(_ optimizer: String) throws {
    let j = try CLI.json(["derive", optimizer, "--format", "sympy", "--json"])
    let poly = try #require(j["characteristic_polynomial"] as? String)
    let matrix = try #require(j["state_matrix"] as? [[String]])
    let conditions = try #require(j["conditions"] as? [String])
    #expect(!conditions.isEmpty)
    let rows = matrix.map { "[" + $0.joined(separator: ", ") + "]" }.joined(separator: ", ")
    let script = """
      from sympy import symbols, Matrix, eye, expand, sympify
      eta, beta, lamda, z, wd = symbols('eta beta lamda z wd')
      A = Matrix([\(rows)])
      p = \(poly)
      assert expand(p - (z*eye(A.shape[0]) - A).det()) == 0, "charpoly mismatch"
      for c in \(conditions.map { "\"" + $0 + "\"" }):
          sympify(c, locals={'eta': eta, 'beta': beta, 'lamda': lamda, 'wd': wd})
      print("ok")
      """
    let r = try Python.run(script)
    #expect(r.status == 0, "\(optimizer): python failed: \(r.stderr)")
    #expect(r.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "ok", "\(optimizer): \(r.stdout)")
  }

  @Test func growthFigure14() throws {
    let j = try CLI.json(["growth", "hb", "--lr", "0.02", "--beta1", "0.9", "--relative", "--eigenvalue", "1.1", "--json"])
    let points = j["points"] as? [[String: Double]] ?? []
    #expect(points.count == 1)
    #expect(abs((points.first?["factor"] ?? 0) - 1.77) < 0.005)
    let csv = try CLI.run(["growth", "gd", "--lr", "0.2", "--from", "0", "--to", "20", "--points", "5", "--csv"])
    #expect(csv.stdout.split(separator: "\n").count == 6)
    #expect(csv.stdout.hasPrefix("eigenvalue,factor"))
  }

  @Test func growthPlot() throws {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("aeos-growth-\(getpid()).svg").path
    let r = try CLI.run(["growth", "nesterov", "--lr", "0.02", "--from", "0", "--to", "200", "--points", "50", "--plot", path])
    #expect(r.status == 0)
    let svg = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
    #expect(svg.hasPrefix("<svg") && svg.contains("<path"))
    try? FileManager.default.removeItem(atPath: path)
  }

  @Test func deriveJSONShape() throws {
    let j = try CLI.json(["derive", "ema-hb", "--json"])
    #expect(Set(j.keys) == ["optimizer", "state_variables", "state_matrix", "characteristic_polynomial", "conditions", "stable_interval", "threshold"])
    #expect(j["threshold"] as? String == "(2 + 2β)/(η(1 − β))")
    #expect((j["state_matrix"] as? [[String]])?.count == 2)
  }

  @Test func qhmAndAggMoThroughRules() throws {
    let qhm = try CLI.json([
      "threshold", "--rule", "m' = beta*m + (1-beta)*g; x' = x - eta*((1-nu)*g + nu*m')", "--param", "nu=0.7", "--param", "beta=0.999", "--lr", "1", "--json",
    ])
    #expect((qhm["threshold"] as? Double ?? 0) > 0)
    let aggmo = try CLI.json([
      "derive", "--rule", "u' = b1*u + g; v' = b2*v + g; x' = x - eta*(u' + v')/2", "--param", "b1=0", "--param", "b2=0.9", "--json",
    ])
    #expect((aggmo["state_variables"] as? [String]) == ["u", "v", "x"])
    #expect((aggmo["conditions"] as? [String])?.count == 4)  // p(1), −p(−1), two Schur–Cohn levels for a cubic
  }

  @Test func latexAndSympyFormats() throws {
    let latex = try CLI.json(["derive", "ema-hb", "--format", "latex", "--json"])
    #expect((latex["threshold"] as? String)?.contains("\\frac") == true)
    let sympy = try CLI.json(["derive", "hb", "--format", "sympy", "--json"])
    #expect((sympy["threshold"] as? String)?.contains("beta") == true)
  }

  @Test func helpAndVersion() throws {
    let help = try CLI.run(["threshold", "--help"])
    #expect(help.status == 0)
    #expect(help.stdout.contains("--lr") && help.stdout.contains("--rule"))
    let version = try CLI.run(["--version"])
    #expect(version.status == 0 && !version.stdout.isEmpty)
  }

  /// Bad input: non-zero exit, a message naming the value, no crash (a crash
  /// would be a signal status and no message).
  @Test(arguments: [
    (["threshold", "gd", "--lr", "-1"], "-1"),
    (["threshold", "gd", "--lr", "nan"], "nan"),
    (["threshold", "gd", "--lr", "inf"], "inf"),
    (["threshold", "hb", "--lr", "0.1", "--beta1", "1"], "beta1"),
    (["threshold", "hb", "--lr", "0.1", "--beta1", "-0.5"], "beta1"),
    (["threshold", "sgdx", "--lr", "0.1"], "sgdx"),
    (["threshold", "--rule", "x' = x - eta*g*x", "--lr", "0.1"], "not linear"),
    (["threshold", "--rule", "x' = x - eta*v'", "--lr", "0.1"], "v'"),
    (["threshold", "--rule", "x' = x/m; m' = m", "--lr", "0.1"], "divides"),
    (["threshold", "--rule", "x' = x - eta*(g", "--lr", "0.1"], "parse"),
    (["threshold", "--rule", "x' = x - eta*q*g", "--lr", "0.1"], "q"),
    (["threshold", "--rule", "x' = x + eta*g", "--lr", "0.1"], "empty"),
    (["threshold", "--rule", "x' = x/2", "--lr", "0.1"], "unbounded"),
    (["threshold", "--rule", "m' = m; x' = x - eta*g", "--lr", "0.1"], "empty"),
    (["growth", "gd", "--lr", "0.1"], "--eigenvalue"),
    (["derive", "gd", "--format", "html"], "html"),
  ])
  func badInput(_ args: [String], _ mention: String) throws {
    let r = try CLI.run(args)
    #expect(r.status != 0 && r.status < 128, "status \(r.status)")
    #expect(r.stderr.lowercased().contains(mention.lowercased()), "stderr: \(r.stderr)")
  }
}
