import Foundation

/// A problem with the folders given to `aeos compare` (a folder that is not a run, a
/// sweep.json or summary.json that cannot be read); the message names the file and
/// what was expected.
public struct CompareError: Error, CustomStringConvertible, Sendable {
  public let description: String
  public init(_ description: String) { self.description = description }
}

/// How a run ended, as `compare` reports it: summary.json's `status`, or `partial`
/// for a run folder without summary.json (a run still going, or one killed before it
/// could write its summary; its metrics up to the last finished line still count).
public enum RunState: String, Sendable, Equatable, CaseIterable {
  case completed, diverged, interrupted, failed, partial
}

/// One run folder as `aeos compare` reads it: its settings, every metrics line, how it
/// ended, the threshold of its method, and DESIGN.md's onset, plateau and verdict
/// recomputed from its measurements (so a partial run, without summary.json, compares
/// like a finished one).
public struct LoadedRun: Sendable {
  public var path: String
  public var config: TrainConfig
  public var state: RunState
  /// summary.json's `stop_reason`, when there is a summary.
  public var stopReason: String?
  public var records: [StepRecord]
  /// The threshold of the method's frozen recurrence at the base learning rate.
  public var threshold: Double
  /// The threshold's closed form in Unicode, e.g. "(2 + 2β)/(η(1 − β))", if one exists.
  public var formula: String?
  /// "sharpness" or "preconditioned sharpness": what the threshold governs.
  public var quantity: String
  public var analysis: EdgeAnalysis
  /// Least-squares change of λ₁(H) over the measurements at and after the onset, in
  /// percent of their mean per 100 steps (as summary.json's `raw_sharpness_change_per_100`).
  public var rawSharpnessChangePer100: Double?

  /// The tracked steps with a finite ratio, in order: (step, ratio).
  public var ratios: [(step: Int, ratio: Double)] {
    records.compactMap { r in r.curvature?.ratio.flatMap { $0.isFinite ? (r.step, $0) : nil } }
  }

  /// The ratios at and after the onset (what the plateau is computed from); empty
  /// without onset.
  public var plateauRatios: [Double] {
    guard let i = analysis.onsetIndex else { return [] }
    return ratios[i...].map(\.ratio)
  }

  /// The last step recorded (nil for a run without metrics lines).
  public var lastStep: Int? { records.last?.step }

  /// "λ₁(H)" or "λ₁(P⁻¹H)".
  public var symbol: String { quantity == "preconditioned sharpness" ? "λ₁(P⁻¹H)" : "λ₁(H)" }

  /// Reads the run folder at `path`.
  /// - Throws: `CompareError` naming the file: no config.json, a config this version
  ///   cannot read, a malformed metrics line (with its line number), an unreadable
  ///   summary.json, a method without a threshold.
  public init(path: String) throws {
    self.path = path
    let folder: RunFolder
    do {
      folder = try RunFolder.open(at: path)
      config = try folder.readConfig()
      records = try folder.readMetrics()
    } catch let e as TrainingError {
      throw CompareError(e.description)
    }
    if folder.exists(RunFolder.summary) {
      let s = try Self.readSummary(folder.file(RunFolder.summary))
      state = s.state
      stopReason = s.stopReason
    } else {
      state = .partial
    }
    (threshold, formula, quantity) = try Self.theory(of: config, path: folder.file(RunFolder.config))
    let tracked = records.filter { $0.curvature != nil }
    analysis = EdgeAnalysis(steps: tracked.map(\.step), ratios: tracked.map { $0.curvature?.ratio ?? .nan }, diverged: state == .diverged)
    if let onset = analysis.onsetStep {
      let points = tracked.filter { $0.step >= onset }.compactMap { r in r.curvature?.sharpness.map { (Double(r.step), $0) } }
        .filter { $0.1.isFinite }
      rawSharpnessChangePer100 = RunSummary.relativeSlopePer100(points)
    }
  }

  /// The threshold, closed form and governing quantity of a run's method, from
  /// `Dynamics` (the same derivation `aeos train` and `aeos threshold` use).
  static func theory(of config: TrainConfig, path: String) throws -> (Double, String?, String) {
    let h = config.method.hyperparameters
    do {
      let subject: TheorySubject
      if let rule = config.method.rule, config.method.optimizer == nil {
        subject = try TheorySubject.rule(rule, parameters: config.method.parameters, beta1: nil)
      } else {
        subject = try TheorySubject.optimizer(config.method.optimizer ?? "", h)
      }
      let report = try ThresholdReport(subject: subject, lr: h.lr)
      return (report.threshold, report.formula(.text), subject.quantity)
    } catch {
      throw CompareError("\(path): its method has no threshold: \(error)")
    }
  }

  private struct SummaryFile: Decodable {
    var status: String
    var stopReason: String?
  }

  /// The status and stop reason of a summary.json.
  static func readSummary(_ file: String) throws -> (state: RunState, stopReason: String?) {
    guard let data = FileManager.default.contents(atPath: file) else {
      throw CompareError("cannot read \(file): no such file or not readable")
    }
    let d = JSONDecoder()
    d.keyDecodingStrategy = .convertFromSnakeCase
    let s: SummaryFile
    do { s = try d.decode(SummaryFile.self, from: data) } catch {
      throw CompareError("\(file) is not a run summary: \(describeDecoding(error)) (expected a JSON object with \"status\")")
    }
    let known = [RunState.completed, .diverged, .interrupted, .failed]
    guard let state = RunState(rawValue: s.status), known.contains(state) else {
      throw CompareError("\(file): unknown status \"\(s.status)\" (expected one of \(known.map(\.rawValue).joined(separator: ", ")))")
    }
    return (state, s.stopReason)
  }
}


/// Which run folders a path names: a run folder (with config.json) is one run; a sweep
/// folder (with sweep.json, as `aeos sweep` writes it) the runs it lists; any other
/// folder the run folders found below it.
public enum RunDiscovery {
  /// The run folders of `path`, in order, and notes for the reader (sweep runs not
  /// started yet).
  /// - Throws: `CompareError` for a path that does not exist, is a file, holds a
  ///   malformed sweep.json, or holds no run folder at all.
  public static func runs(in path: String) throws -> (runs: [String], notes: [String]) {
    let fm = FileManager.default
    var isDirectory: ObjCBool = false
    guard fm.fileExists(atPath: path, isDirectory: &isDirectory) else {
      throw CompareError("\(path) does not exist: expected a run folder (made by `aeos train --out`) or a sweep folder (`aeos sweep --out`)")
    }
    guard isDirectory.boolValue else {
      throw CompareError("\(path) is a file: expected a run folder (with config.json) or a sweep folder (with sweep.json)")
    }
    let dir = path.hasSuffix("/") && path.count > 1 ? String(path.dropLast()) : path
    if fm.fileExists(atPath: dir + "/" + RunFolder.config) { return ([dir], []) }
    if fm.fileExists(atPath: dir + "/sweep.json") { return try sweepRuns(dir) }
    let found = scan(dir, depth: 0)
    guard !found.isEmpty else {
      throw CompareError(
        "\(path) is not a run folder (no config.json), not a sweep folder (no sweep.json), and holds no run folders below it")
    }
    return (found, [])
  }

  private struct SweepFile: Decodable {
    struct Entry: Decodable {
      var folder: String
    }
    var runs: [Entry]
  }

  /// The runs sweep.json lists (relative folders are under the sweep folder); runs
  /// whose folder has no config.json yet are left out with a note.
  static func sweepRuns(_ dir: String) throws -> (runs: [String], notes: [String]) {
    let file = dir + "/sweep.json"
    guard let data = FileManager.default.contents(atPath: file) else { throw CompareError("cannot read \(file): not readable") }
    let sweep: SweepFile
    do { sweep = try JSONDecoder().decode(SweepFile.self, from: data) } catch {
      throw CompareError("\(file) is not a sweep file: \(describeDecoding(error)) (expected {\"runs\": [{\"folder\": \"runs/…\", …}, …]})")
    }
    var runs: [String] = [], missing: [String] = []
    for (i, entry) in sweep.runs.enumerated() {
      guard Experiments.SweepFile.isRunFolderPath(entry.folder) else {
        throw CompareError("\(file): runs[\(i)].folder is \"\(entry.folder)\"; expected a folder under runs/ inside the sweep")
      }
      let p = dir + "/" + entry.folder
      if FileManager.default.fileExists(atPath: p + "/" + RunFolder.config) { runs.append(p) } else { missing.append(entry.folder) }
    }
    var notes: [String] = []
    if !missing.isEmpty {
      let shown = missing.prefix(3).joined(separator: ", ") + (missing.count > 3 ? ", …" : "")
      notes.append("\(dir): \(missing.count) of \(sweep.runs.count) runs not started yet (no config.json): \(shown)")
    }
    if runs.isEmpty { throw CompareError("\(file) lists \(sweep.runs.count) runs, and none has started yet (no config.json in any run folder)") }
    return (runs, notes)
  }

  /// Run folders below `dir` (not below a run folder), sorted by path, at most 8 levels down.
  static func scan(_ dir: String, depth: Int) -> [String] {
    guard depth < 8, let names = try? FileManager.default.contentsOfDirectory(atPath: dir) else { return [] }
    var out: [String] = []
    for name in names.sorted() where !name.hasPrefix(".") {
      let p = dir + "/" + name
      var isDirectory: ObjCBool = false
      guard FileManager.default.fileExists(atPath: p, isDirectory: &isDirectory), isDirectory.boolValue else { continue }
      if FileManager.default.fileExists(atPath: p + "/" + RunFolder.config) { out.append(p) } else { out += scan(p, depth: depth + 1) }
    }
    return out
  }
}
