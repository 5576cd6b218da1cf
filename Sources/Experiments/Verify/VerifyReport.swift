import Foundation

extension Verify.TrainingRun {
  /// The run in the AEoS paper's Figure 1 layout: the training loss on top, the
  /// governing sharpness below on a log axis with the threshold dashed.
  public var figure: StackedPlot {
    var plot = StackedPlot(
      title: "\(optimizer), η = \(formatHuman(lr)) on Fashion-MNIST (n = 1000): \(symbol) against \(thresholdName)", xLabel: "step")
    var loss = StackedPlot.Panel(yLabel: "training loss", logY: true)
    loss.lines.append(.init(name: "loss", points: zip(trace.steps, trace.losses).map { (Double($0), $1) }, color: 0))
    var sharp = StackedPlot.Panel(yLabel: symbol, logY: true)
    sharp.lines.append(.init(name: symbol, points: zip(trace.steps, trace.sharpness).map { (Double($0), $1) }, color: 0))
    let ends = [trace.steps.first, trace.steps.last].compactMap { $0 }.map { (Double($0), threshold) }
    sharp.lines.append(.init(name: thresholdName, points: ends, color: 0, dashed: true, width: 1.3))
    plot.panels = [loss, sharp]
    plot.legend = [.init(label: "\(optimizer), η = \(formatHuman(lr)); threshold \(thresholdName) = \(formatHuman(threshold))", color: 0)]
    plot.legendNote = "solid: measured every 100 steps; dashed: the threshold"
    return plot
  }
}

/// The folder `aeos verify --report DIR` leaves (default `aeos-verify-report/`):
/// report.md — the verdict, every check in a table per layer, the training runs'
/// figures — with the figures as SVG (Figure 1 layout and the sharpness alone) and the
/// traces as CSV beside it. Opens in any Markdown viewer; the SVGs in any browser.
public enum VerifyReport {
  /// Writes the report into `dir` (created if missing) and returns the files written.
  /// - Throws: `TrainingError` naming a file that cannot be written.
  public static func write(to dir: String, checks: [Check], runs: [Verify.TrainingRun], seconds: Double) throws -> [String] {
    do { try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) } catch {
      throw TrainingError("cannot create the report folder \(dir): \(error.localizedDescription)")
    }
    var files: [(String, String)] = []
    for r in runs where !r.trace.steps.isEmpty {
      files.append(("\(r.optimizer)-training.svg", r.figure.render()))
      files.append(("\(r.optimizer)-sharpness.svg", r.svg))
      files.append(("\(r.optimizer)-sharpness.csv", r.csv))
    }
    files.append(("report.md", markdown(checks: checks, runs: runs, seconds: seconds)))
    var written: [String] = []
    for (name, text) in files {
      let path = (dir as NSString).appendingPathComponent(name)
      do { try text.write(toFile: path, atomically: true, encoding: .utf8) } catch {
        throw TrainingError("cannot write \(path): \(error.localizedDescription)")
      }
      written.append(path)
    }
    return written
  }

  /// A table cell: pipes escaped, newlines folded.
  static func cell(_ s: String) -> String {
    s.replacingOccurrences(of: "|", with: "\\|").replacingOccurrences(of: "\n", with: " ")
  }

  /// report.md's text.
  public static func markdown(checks: [Check], runs: [Verify.TrainingRun], seconds: Double) -> String {
    let failed = checks.filter { !$0.passed }
    let p = provenance()
    var md = ["# `aeos verify` — report", ""]
    md.append(
      failed.isEmpty
        ? "**All \(checks.count) checks passed.**"
        : "**\(failed.count) of \(checks.count) checks failed:** " + failed.map { "\($0.layer): \($0.name)" }.joined(separator: "; ") + ".")
    md.append("")
    var where_ = "aeos \(p["toolkit_version"] ?? "?")"
    if let c = p["git_commit"] { where_ += " (commit \(c.prefix(12)))" }
    where_ += ", \(p["started"] ?? "")"
    where_ += "; CPU \(p["cpu"] ?? "unknown"), \(p["cores"] ?? "?") cores; BLAS \(p["blas_core"] ?? "unknown"); \(String(format: "%.0f", seconds)) s."
    md += [where_, ""]
    md += [
      "Each layer is checked against the one below it: the derived thresholds against the AEoS paper (Table 1, Figure 14), the",
      "optimizers on quadratics against the thresholds, the neural engine against finite differences, and two real training runs",
      "(full batch, Fashion-MNIST n = 1000, MLP 784-32-32-10 tanh, MSE, float64) against the thresholds `Dynamics` derives.",
      "",
    ]
    if !runs.isEmpty {
      md += ["## Training at the edge", ""]
      for r in runs {
        let edge = EdgeAnalysis(steps: r.trace.steps, ratios: r.trace.sharpness.map { $0 / r.threshold })
        md.append("### \(r.optimizer), η = \(formatHuman(r.lr)): \(r.symbol) against \(r.thresholdName) = \(formatHuman(r.threshold))")
        md.append("")
        if r.trace.steps.isEmpty {
          md += ["The run did not finish: " + r.checks.map(\.measured).joined(separator: "; "), ""]
          continue
        }
        md += [
          "Onset, plateau and verdict as DESIGN.md defines them: \(edge.summary).", "",
          "![\(r.optimizer): loss and \(r.symbol) against \(r.thresholdName)](\(r.optimizer)-training.svg)", "",
          "Trace (`step, loss, sharpness, threshold`): [\(r.optimizer)-sharpness.csv](\(r.optimizer)-sharpness.csv)", "",
        ]
      }
    }
    var layer = ""
    for c in checks {
      if c.layer != layer {
        layer = c.layer
        md += ["", "## Checks: \(layer)", "", "| | check | expected | got |", "|---|---|---|---|"]
      }
      md.append("| \(c.passed ? "✓" : "✗ **failed**") | \(cell(c.name)) | \(cell(c.expected)) | \(cell(c.measured)) |")
    }
    md += ["", "\(checks.count - failed.count) passed, \(failed.count) failed.", ""]
    return md.joined(separator: "\n")
  }
}
