import ArgumentParser
import Foundation
import Experiments

struct VerifyCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "verify",
    abstract: "The main job: the theory against the paper, the quadratic laboratory against the theory, the neural engine on Fashion-MNIST against finite differences, and a small training run at the Edge of Stability against 2/η.")

  @Flag(help: "Print one JSON document.") var json = false
  @Option(
    name: .customLong("plots"),
    help: "Also write each training run's sharpness trace to DIR (created if missing): gd-sharpness.svg/.csv and adam-sharpness.svg/.csv (columns step, loss, sharpness, threshold).")
  var plots: String?

  func run() throws {
    // The folder is made before the runs, so a bad path fails at once, not after them.
    if let dir = plots {
      do { try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) } catch {
        throw ValidationError("--plots \(dir): cannot create that folder (\(error.localizedDescription))")
      }
    }
    let earlier = Verify.theoryChecks() + Verify.quadraticChecks() + Verify.engineChecks()
    printError("verify: training GD and Adam on Fashion-MNIST to the edge of stability (about 30 s)…")
    let runs = Verify.trainingRuns()
    let checks = earlier + runs.flatMap(\.checks)
    if let dir = plots {
      for r in runs where !r.trace.steps.isEmpty {
        try writeFile("\(dir)/\(r.optimizer)-sharpness.svg", r.svg)
        try writeFile("\(dir)/\(r.optimizer)-sharpness.csv", r.csv)
      }
      if !json { printError("wrote \(runs.map { "\(dir)/\($0.optimizer)-sharpness.svg|csv" }.joined(separator: ", "))") }
    }
    if json {
      print(JSONValue.object([("checks", .array(checks.map(\.json))), ("passed", .bool(checks.allSatisfy(\.passed)))]).serialized(pretty: true))
    } else {
      print(Verify.report(checks))
    }
    if !checks.allSatisfy(\.passed) { throw ExitCode(1) }
  }
}
