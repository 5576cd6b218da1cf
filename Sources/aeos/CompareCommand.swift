import ArgumentParser
import Experiments
import Foundation

/// `aeos compare DIR...`: where each run's governing sharpness sits against its
/// threshold, one row per setting, seeds merged.
struct CompareCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "compare",
    abstract: "Compare measured sharpness with the theory's threshold: one row per setting of the runs given, seeds merged.",
    discussion: """
      Each DIR is a run folder (config.json, from `aeos train --out`), a sweep folder (sweep.json, from \
      `aeos sweep --out`: the runs it lists), or any folder holding run folders below it. Runs whose settings \
      are equal except for the seed merge into one row: the plateau pools their ratios after onset, and the \
      spread of their plateau medians is shown. Onset, plateau and verdict are recomputed from metrics.jsonl as \
      DESIGN.md defines them, so a run without summary.json (still running, or killed) compares too, marked \
      partial; diverged and interrupted runs are marked as such.

      Examples:
        aeos compare runs/adam-1e-3 runs/adam-2e-3 --plot adam.svg
        aeos compare sweeps/adam-lr --json
        aeos compare runs/ --csv > table.csv
      """)

  @Argument(help: ArgumentHelp("Run folders, sweep folders, or folders holding run folders.", valueName: "dir"))
  var dirs: [String] = []
  @Flag(help: "Print one JSON document: {\"runs\": [one object per setting]}.") var json = false
  @Flag(help: "Print CSV, one line per setting (pandas.read_csv).") var csv = false
  @Option(help: ArgumentHelp("Write the Figure-1 plot (loss on top, governing sharpness with dashed thresholds below) to this SVG file.", valueName: "file.svg"))
  var plot: String?
  @Flag(help: "Add the raw sharpness λ₁(H) as a third panel of the plot (the paper's Figure 8).") var raw = false
  @Option(help: ArgumentHelp("The plot's title (default: the setting, or the number of settings).", valueName: "text"))
  var title: String?

  func validate() throws {
    if dirs.isEmpty { throw ValidationError("give at least one run folder or sweep folder") }
    if json && csv { throw ValidationError("choose one of --json and --csv") }
    if raw && plot == nil { throw ValidationError("--raw adds a panel to the plot: give --plot FILE.svg too") }
    if let plot, !plot.lowercased().hasSuffix(".svg") { throw ValidationError("--plot \(plot): expected a file name ending in .svg") }
  }

  func run() throws {
    var runs: [LoadedRun] = []
    var seen = Set<String>()
    do {
      for dir in dirs {
        let (paths, notes) = try RunDiscovery.runs(in: dir)
        for note in notes { printError("note: \(note)") }
        for p in paths where seen.insert(URL(fileURLWithPath: p).standardizedFileURL.path).inserted {
          runs.append(try LoadedRun(path: p))
        }
      }
    } catch let e as CompareError {
      throw usageFailure(e.description)
    }
    for run in runs where run.ratios.isEmpty {
      let what = run.records.isEmpty ? "no metrics lines" : "no curvature measurement among its \(run.records.count) metrics lines"
      printError("note: \(run.path) has \(what): no onset, so its verdict is \"below\" by definition")
    }
    let comparison = Comparison(runs: runs)
    if let plot { try writeFile(plot, comparison.figure(raw: raw, title: title).render()) }
    let out = json ? comparison.json.serialized(pretty: true) : csv ? comparison.csv : comparison.table
    // unbuffered, so that the note on stderr follows the table
    FileHandle.standardOutput.write(Data((out + "\n").utf8))
    if let plot, !json && !csv { printError("wrote \(plot)") }
  }
}
