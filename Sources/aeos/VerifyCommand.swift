import ArgumentParser
import Foundation
import Experiments

struct VerifyCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "verify",
    abstract: "The main job: the theory against the paper, the quadratic laboratory against the theory, the neural engine on Fashion-MNIST against finite differences, and a small training run at the Edge of Stability against 2/η.",
    discussion: """
      Exits 1 if any check fails. Leaves a report folder (--report, default aeos-verify-report/): report.md with \
      the verdict and every check, the training runs' figures as SVG and their traces as CSV.
      """)

  enum Layer: String, CaseIterable, ExpressibleByArgument {
    case theory, quadratics, engine, training
  }

  @Flag(help: "Print one JSON document.") var json = false
  @Option(
    name: .customLong("plots"),
    help: "Also write each training run's sharpness trace to DIR (created if missing): gd-sharpness.svg/.csv and adam-sharpness.svg/.csv (columns step, loss, sharpness, threshold).")
  var plots: String?
  @Option(help: ArgumentHelp("The report folder (created if missing): report.md, the figures (SVG) and traces (CSV).", valueName: "dir"))
  var report: String = "aeos-verify-report"
  @Flag(name: .customLong("no-report"), help: "Write no report folder.") var noReport = false
  @Option(
    name: .customLong("layer"),
    help: ArgumentHelp("Check only this layer (repeatable; default: all).", valueName: "name"))
  var layers: [Layer] = []
  @Option(
    name: .customLong("threshold-scale"), parsing: .unconditional,
    help: ArgumentHelp("For testing the checks themselves: multiply every threshold the results are held against by this; any value but 1 must make checks fail.", valueName: "s"))
  var thresholdScale: Double = 1

  func validate() throws {
    guard thresholdScale.isFinite, thresholdScale > 0 else {
      throw ValidationError("invalid --threshold-scale \(thresholdScale): expected a finite number > 0 (1 checks the real thresholds)")
    }
  }

  func run() throws {
    // The folders are made before the runs, so a bad path fails at once, not after them.
    for (flag, dir) in [("--plots", plots), ("--report", noReport ? nil : report)] {
      guard let dir else { continue }
      do { try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) } catch {
        throw usageFailure("\(flag) \(dir): cannot create that folder (\(error.localizedDescription))")
      }
    }
    let start = Date()
    let chosen = Set(layers.isEmpty ? Layer.allCases : layers)
    var checks: [Check] = []
    if chosen.contains(.theory) { checks += Verify.theoryChecks(thresholdScale: thresholdScale) }
    if chosen.contains(.quadratics) { checks += Verify.quadraticChecks(thresholdScale: thresholdScale) }
    if chosen.contains(.engine) { checks += Verify.engineChecks() }
    var runs: [Verify.TrainingRun] = []
    if chosen.contains(.training) {
      printError("verify: training GD and Adam on Fashion-MNIST to the edge of stability (about 30 s)…")
      runs = Verify.trainingRuns(thresholdScale: thresholdScale)
      checks += runs.flatMap(\.checks)
    }
    if let dir = plots {
      for r in runs where !r.trace.steps.isEmpty {
        try writeFile("\(dir)/\(r.optimizer)-sharpness.svg", r.svg)
        try writeFile("\(dir)/\(r.optimizer)-sharpness.csv", r.csv)
      }
      if !json { printError("wrote \(runs.map { "\(dir)/\($0.optimizer)-sharpness.svg|csv" }.joined(separator: ", "))") }
    }
    var reportFile: String?
    if !noReport {
      do {
        let written = try VerifyReport.write(to: report, checks: checks, runs: runs, seconds: Date().timeIntervalSince(start))
        reportFile = written.last
      } catch let e as TrainingError {
        throw usageFailure(e.description)
      }
    }
    // Written unbuffered, so the report's path on stderr follows it.
    let out = json
      ? JSONValue.object([("checks", .array(checks.map(\.json))), ("passed", .bool(checks.allSatisfy(\.passed)))]).serialized(pretty: true)
      : Verify.report(checks)
    FileHandle.standardOutput.write(Data((out + "\n").utf8))
    if let reportFile, !json { printError("report: \(reportFile)") }
    if !checks.allSatisfy(\.passed) { throw ExitCode(1) }
  }
}
