import Foundation
import Testing

@Suite struct SimulateCLITests {
  @Test func jsonShape() throws {
    let j = try CLI.json(["simulate", "ema-hb", "--eigenvalues", "1", "--lr", "39", "--steps", "5000", "--json"])
    #expect(Set(j.keys).isSuperset(of: ["optimizer", "threshold", "diverged", "diverged_at", "growth_rate", "predicted_growth_rate", "steps"]))
    #expect(j["diverged"] as? Bool == true)
    let steps = j["steps"] as? [[String: Any]] ?? []
    #expect(steps.first?["step"] as? Int == 0)
    let firstKeys = Set((steps.first ?? [:]).keys)
    #expect(firstKeys.isSuperset(of: ["loss", "x_norm2", "grad_norm2", "preconditioner_norm2", "preconditioned_sharpness"]))
    // diverged_at is the last recorded step
    #expect(j["diverged_at"] as? Int == steps.last?["step"] as? Int)
  }

  @Test func csvLoadsAsATable() throws {
    let r = try CLI.run(["simulate", "adam", "--eigenvalues", "1,10,100", "--lr", "0.01", "--steps", "20", "--csv"])
    #expect(r.status == 0)
    let lines = r.stdout.split(separator: "\n")
    #expect(lines.count == 22)  // header + steps 0…20
    let width = lines.first?.split(separator: ",").count
    #expect(lines.allSatisfy { $0.split(separator: ",", omittingEmptySubsequences: false).count == width })
  }

  @Test func figure17PeakFromTheCommandLine() throws {
    let j = try CLI.json(["simulate", "ema-hb", "--eigenvalues", "1", "--lr", "37", "--m0", "0.2", "--steps", "30", "--json"])
    let peak = (j["steps"] as? [[String: Any]] ?? []).compactMap { $0["grad_norm2"] as? Double }.max() ?? 0
    // the paper's 491, to its 3 significant digits
    #expect(abs(peak - 491) / 491 < 0.005)
  }

  @Test(arguments: [
    (["simulate", "gd", "--eigenvalues", "1", "--lr=-1", "--steps", "10"], "lr"),
    (["simulate", "gd", "--eigenvalues", "1,nan", "--lr", "0.1", "--steps", "10"], "nan"),
    (["simulate", "gd", "--lr", "0.1", "--steps", "10"], "eigenvalues"),
    (["simulate", "gd", "--hessian", "/nonexistent/h.json", "--lr", "0.1", "--steps", "10"], "/nonexistent/h.json"),
    (["simulate", "adam", "--eigenvalues", "1", "--lr", "0.1", "--beta2", "1", "--steps", "10"], "beta2"),
  ])
  func badInput(_ args: [String], _ mention: String) throws {
    let r = try CLI.run(args)
    #expect(r.status != 0 && r.status < 128)
    #expect(r.stderr.lowercased().contains(mention.lowercased()), "stderr: \(r.stderr)")
  }

  @Test func nonSymmetricHessianIsRefused() throws {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("aeos-h-\(getpid()).json").path
    try #"{"matrix": [[1, 2], [0, 1]]}"#.write(toFile: path, atomically: true, encoding: .utf8)
    let r = try CLI.run(["simulate", "gd", "--hessian", path, "--lr", "0.1", "--steps", "10"])
    #expect(r.status != 0 && r.status < 128)
    #expect(r.stderr.lowercased().contains("symmetric"), "stderr: \(r.stderr)")
    try? FileManager.default.removeItem(atPath: path)
  }
}

@Suite struct VerifyCLITests {
  /// A folder that cannot be made is reported at once, before the training runs.
  @Test func plotsFolderThatCannotBeMade() throws {
    let r = try CLI.run(["verify", "--plots", "/proc/aeos-no-such-folder"])
    #expect(r.status != 0)
    #expect(r.stderr.contains("--plots /proc/aeos-no-such-folder"), "\(r.stderr)")
  }
}

@Suite struct SimulateRuleCLITests {
  static let heavyBall = "m' = beta*m + g; x' = x - eta*m'"
  static let lookAhead = "v' = beta*v - eta*g(x + beta*v); x' = x + v'"

  static func steps(_ j: [String: Any]) -> [[String: Any]] { j["steps"] as? [[String: Any]] ?? [] }

  /// The heavy-ball rule and the built-in hb take the same steps: each entry is a
  /// sum of the same ≤ 2 products, in the same order up to coefficient rounding, so
  /// the recorded norms agree to a few ulps; 1e-12 relative over 200 steps of a
  /// stable run (threshold (2 + 2β)/η = 19 above every eigenvalue) is generous.
  @Test func heavyBallRuleMatchesHB() throws {
    let common = ["--eigenvalues", "0.5,2,7", "--x0", "1,-2,0.5", "--lr", "0.2", "--steps", "200", "--json"]
    let rule = try CLI.json(["simulate", "--rule", Self.heavyBall, "--param", "beta=0.9"] + common)
    let hb = try CLI.json(["simulate", "hb", "--beta1", "0.9"] + common)
    #expect(rule["rule"] as? String == Self.heavyBall)
    #expect(rule["quantity"] as? String == "sharpness")
    #expect(rule["state_variables"] as? [String] == ["m"] && rule["gradients_per_step"] as? Int == 1)
    let t1 = rule["threshold"] as? Double ?? .nan, t2 = hb["threshold"] as? Double ?? .nan
    #expect(abs(t1 - t2) <= 1e-12 * t2)
    let a = Self.steps(rule), b = Self.steps(hb)
    #expect(a.count == 201 && b.count == 201)
    for (r, h) in zip(a, b) {
      #expect(r["preconditioner_norm2"] is NSNull && r["preconditioned_sharpness"] is NSNull)
      for key in ["loss", "x_norm2", "grad_norm2"] {
        let u = r[key] as? Double ?? .nan, v = h[key] as? Double ?? .nan
        #expect(abs(u - v) <= 1e-12 * max(abs(v), 1e-300), "step \(r["step"] ?? "?") \(key): rule \(u), hb \(v)")
      }
    }
    // --beta1 supplies beta
    let viaBeta1 = try CLI.json(["simulate", "--rule", Self.heavyBall, "--beta1", "0.9"] + common)
    #expect((viaBeta1["parameters"] as? [String: Double]) == ["beta": 0.9])
    #expect(Self.steps(viaBeta1).last?["loss"] as? Double == a.last?["loss"] as? Double)
  }

  /// The look-ahead rule diverges at 1.05× its threshold and converges at 0.95× on
  /// ½x² (λ = 1): the threshold is c/η, so η = 1.05c puts λ at 1.05× it. Its growth
  /// factors there are ρ ≈ 1.14 and 0.85, so 3000 steps decide both by far.
  @Test func lookAheadRuleAroundItsThreshold() throws {
    let c = try CLI.json(["threshold", "--rule", Self.lookAhead, "--param", "beta=0.9", "--lr", "1", "--json"])["threshold"] as? Double ?? .nan
    for (factor, diverges) in [(1.05, true), (0.95, false)] {
      let j = try CLI.json([
        "simulate", "--rule", Self.lookAhead, "--param", "beta=0.9", "--eigenvalues", "1", "--lr", "\(factor * c)",
        "--steps", "3000", "--json",
      ])
      #expect(j["diverged"] as? Bool == diverges, "at \(factor)× the threshold")
      let threshold = j["threshold"] as? Double ?? .nan
      #expect(abs(1 / threshold - factor) <= 1e-9, "λ = 1 is \(1 / threshold)× the threshold")
      let growth = j["growth_rate"] as? Double ?? .nan, predicted = j["predicted_growth_rate"] as? Double ?? .nan
      #expect((growth > 1) == diverges && (predicted > 1) == diverges)
      if !diverges { #expect((Self.steps(j).last?["grad_norm2"] as? Double ?? 1) < 1e-100) }
    }
  }

  @Test(arguments: [
    (["--rule", "x' = x - eta*g*x"], "degree 2"),
    (["--rule", "m' = beta*m + g; x' = x - eta*g*m'/x", "--param", "beta=0.9"], "divides by x"),
    (["--rule", "m' = beta*m + g; x' = x - eta*m'"], "beta (--param beta=VALUE)"),
    (["--rule", "m' = beta*m + g; x' = x - eta*m'", "--param", "beta=0.9", "--param", "nu=1"], "no parameter \"nu\""),
    (["--rule", "m' = beta*m + g; x' = x - eta*m'", "--param", "beta=0.9", "--m0", "1"], "--m0"),
    (["--rule", "x' = x - eta*g", "--freeze-preconditioner"], "--freeze-preconditioner"),
    (["hb", "--rule", "x' = x - eta*g"], "not both"),
  ])
  func badRules(_ args: [String], _ mention: String) throws {
    let r = try CLI.run(["simulate"] + args + ["--eigenvalues", "1", "--lr", "0.1", "--steps", "10"])
    #expect(r.status != 0 && r.status < 128)
    #expect(r.stderr.contains(mention), "stderr: \(r.stderr)")
  }
}
