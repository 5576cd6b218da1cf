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
