import Foundation
import PropertyBased
import Testing
import TestSupport

#if canImport(FoundationXML)
  import FoundationXML
#endif

@testable import Experiments

/// Run folders written by the test with known ratios, so every number `aeos compare`
/// reports has a known answer.
enum SyntheticRuns {
  static func temporaryFolder(_ tag: String) -> String {
    FileManager.default.temporaryDirectory.appendingPathComponent("aeos-compare-\(tag)-\(UUID().uuidString)").path
  }

  static func config(_ optimizer: String = "gd", lr: Double = 0.04, seed: UInt64 = 0, batchSize: Int? = nil) -> TrainConfig {
    var c = TrainConfig(method: MethodSpec(optimizer: optimizer, hyperparameters: Hyperparameters(lr: lr)))
    c.seed = seed
    c.batchSize = batchSize
    c.trackEvery = 10
    return c
  }

  /// A run folder at `path`: config.json, one metrics line per step 0…10·(count − 1)
  /// with a measurement every 10 steps at `ratios[k]`·threshold (λ₁(H) = `raw[k]` if
  /// given, else the governing value), and summary.json with `status` (none when nil:
  /// a partial run).
  @discardableResult
  static func write(
    _ path: String, config c: TrainConfig, ratios: [Double], raw: [Double]? = nil, status: RunStatus? = .completed
  ) throws -> RunSummary {
    let folder = try RunFolder.create(at: path, force: true)
    try folder.write(try c.configJSON(provenance: ["toolkit_version": "test"]), to: RunFolder.config)
    let kind = try #require(try c.method.kind())
    let threshold = try kind.frozenRecurrence(c.method.hyperparameters).threshold(lr: c.method.hyperparameters.lr)
    var records: [StepRecord] = []
    for (k, r) in ratios.enumerated() {
      for s in 0..<10 where k < ratios.count - 1 || s == 0 {
        let step = 10 * k + s
        var record = StepRecord(step: step, loss: 1 / Double(step + 1), accuracy: 0.5, gradNorm: 1, lr: c.method.hyperparameters.lr, wallSeconds: 0)
        if s == 0 {
          let governing = r * threshold
          let sharpness = raw?[k] ?? governing
          record.curvature = CurvatureRecord(
            sharpness: sharpness, preconditionedSharpness: kind.isPreconditioned ? governing : nil, threshold: threshold, ratio: r,
            topK: nil, lambdaMin: nil, gradientTopKFraction: nil, testLoss: nil, testAccuracy: nil, trainLoss: nil, trainAccuracy: nil,
            hvps: 3, residual: 0)
        }
        records.append(record)
        try folder.append(record)
      }
    }
    let summary = RunSummary(
      optimizer: kind.rawValue, quantity: kind.quantity, threshold: threshold, formula: nil, status: status ?? .completed,
      records: records, steps: records.count - 1, wallSeconds: 0, stopReason: "steps")
    if status != nil { try folder.writeSummary(summary) }
    return summary
  }
}

@Suite struct ComparisonTests {
  /// compare recomputes what `aeos train` wrote into summary.json: onset, plateau,
  /// verdict and the raw-sharpness change agree exactly for any ratio sequence.
  @Test func oneRunAgreesWithItsSummary() async {
    await propertyCheckThrowing(
      count: 40, input: Gen.double(in: 0.5...1.5).array(of: 1...25), Gen.double(in: 40...60).array(of: 25), Gen.bool
    ) { ratios, raw, adam in
      let dir = SyntheticRuns.temporaryFolder("one")
      defer { try? FileManager.default.removeItem(atPath: dir) }
      let config = adam ? SyntheticRuns.config("adam", lr: 1e-3) : SyntheticRuns.config()
      let summary = try SyntheticRuns.write(dir, config: config, ratios: ratios, raw: Array(raw.prefix(ratios.count)))
      let run = try LoadedRun(path: dir)
      #expect(run.analysis == summary.analysis)
      #expect(run.rawSharpnessChangePer100 == summary.rawSharpnessChangePer100)
      #expect(run.threshold == summary.threshold)
      #expect(run.quantity == (adam ? "preconditioned sharpness" : "sharpness"))
      let row = try #require(Comparison(runs: [run]).rows.first)
      #expect(row.onsetStep == summary.analysis.onsetStep)
      #expect(row.plateau == summary.analysis.plateau)
      #expect(row.verdict == summary.analysis.verdict.rawValue)
      #expect(row.status == "completed")
    }
  }

  /// A hand-worked case: ratios 2.0, 0.5, 0.7, 0.96, 1.0, 1.02, 0.98 every 10 steps.
  /// Onset at step 30 (0.96 after being below 0.95); the tail [0.96, 1.0, 1.02, 0.98]
  /// sorted [0.96, 0.98, 1.0, 1.02]: median 0.99, p10 rank 0.3 → 0.966, p90 rank 2.7
  /// → 1.014; at the edge. GD at η = 0.04: threshold 2/η = 50.
  @Test func knownAnswer() throws {
    let dir = SyntheticRuns.temporaryFolder("known")
    defer { try? FileManager.default.removeItem(atPath: dir) }
    try SyntheticRuns.write(dir, config: SyntheticRuns.config(), ratios: [2.0, 0.5, 0.7, 0.96, 1.0, 1.02, 0.98])
    let row = try #require(Comparison(runs: [try LoadedRun(path: dir)]).rows.first)
    #expect(row.onsetStep == 30)
    let p = try #require(row.plateau)
    // 1e-12: the percentiles interpolate between doubles that are not exact decimals
    #expect(abs(p.median - 0.99) < 1e-12 && abs(p.p10 - 0.966) < 1e-12 && abs(p.p90 - 1.014) < 1e-12)
    #expect(row.verdict == "at the edge")
    #expect(row.first.threshold == 50)
    #expect(row.first.formula == "2/η")
    #expect(row.label == "gd η = 0.04")
  }

  /// Seeds of one setting merge: one row, the pooled plateau, the seeds' spread; a
  /// different η is another row, and the labels say what differs.
  @Test func seedsMergeAndSettingsSplit() throws {
    let root = SyntheticRuns.temporaryFolder("seeds")
    defer { try? FileManager.default.removeItem(atPath: root) }
    let a = [0.5, 0.96, 1.0, 1.1], b = [0.5, 0.6, 0.97, 0.9, 1.05]
    try SyntheticRuns.write(root + "/s0", config: SyntheticRuns.config(seed: 0), ratios: a)
    try SyntheticRuns.write(root + "/s1", config: SyntheticRuns.config(seed: 1), ratios: b)
    try SyntheticRuns.write(root + "/other", config: SyntheticRuns.config(lr: 0.02), ratios: [0.5, 0.6])
    let runs = try ["s0", "s1", "other"].map { try LoadedRun(path: root + "/" + $0) }
    let c = Comparison(runs: runs)
    #expect(c.rows.count == 2)
    let merged = c.rows[0]
    #expect(merged.seeds == [0, 1])
    // seed 0: onset step 10, tail [0.96, 1.0, 1.1]; seed 1: onset step 20, tail [0.97, 0.9, 1.05]
    #expect(merged.onsetStep == 10)  // lower median of [10, 20]
    #expect(merged.onsetRange == 10...20)
    let pooled = [0.96, 1.0, 1.1, 0.97, 0.9, 1.05].sorted()
    #expect(merged.plateau == EdgeAnalysis.Plateau(
      median: percentile(sorted: pooled, 0.5), p10: percentile(sorted: pooled, 0.1), p90: percentile(sorted: pooled, 0.9)))
    #expect(merged.plateauMedianRange == 0.97...1.0)
    #expect(merged.verdict == "at the edge")
    #expect(c.rows[1].verdict == "below" && c.rows[1].onsetStep == nil && c.rows[1].plateau == nil)
    #expect(merged.label == "gd η = 0.04" && c.rows[1].label == "gd η = 0.02")
    // the JSON row has DESIGN.md's keys
    guard case let .object(fields) = merged.json else { Issue.record("not an object"); return }
    let keys = fields.map(\.0)
    for k in ["dirs", "optimizer", "lr", "beta1", "beta2", "quantity", "threshold", "formula", "status", "onset_step", "plateau",
      "raw_sharpness_change_per_100", "verdict", "seeds"]
    {
      #expect(keys.contains(k), "missing \(k)")
    }
  }

  /// A label names the method, η and what else differs between the rows; a feature
  /// switched off (full batch, no warm-up) is not named, a numeric setting always is;
  /// rows that would read the same name what tells them apart (here the steps).
  @Test func labelsNameWhatDiffers() throws {
    let root = SyntheticRuns.temporaryFolder("labels")
    defer { try? FileManager.default.removeItem(atPath: root) }
    var warm = SyntheticRuns.config("adam", lr: 1e-3)
    warm.warmupSteps = 100
    var beta = SyntheticRuns.config("adam", lr: 1e-3)
    beta.method.hyperparameters.beta2 = 0.99
    var longer = SyntheticRuns.config("adam", lr: 1e-3)
    longer.steps = 5000
    let configs = [SyntheticRuns.config("adam", lr: 1e-3), SyntheticRuns.config("adam", lr: 1e-3, batchSize: 64), warm, beta, longer]
    for (i, c) in configs.enumerated() { try SyntheticRuns.write("\(root)/\(i)", config: c, ratios: [0.5, 1.0]) }
    let c = Comparison(runs: try configs.indices.map { try LoadedRun(path: "\(root)/\($0)") })
    #expect(c.rows.map(\.label) == [
      "adam η = 0.001, beta2 0.999, steps 1000", "adam η = 0.001, beta2 0.999, batch-size 64", "adam η = 0.001, beta2 0.999, warmup-steps 100",
      "adam η = 0.001, beta2 0.99", "adam η = 0.001, beta2 0.999, steps 5000",
    ])
  }

  /// Seeds that disagree give a `mixed` status and verdict, each seed's own kept; a
  /// diverged run still compares; a run without summary.json is partial.
  @Test func divergedPartialAndMixed() throws {
    let root = SyntheticRuns.temporaryFolder("mixed")
    defer { try? FileManager.default.removeItem(atPath: root) }
    try SyntheticRuns.write(root + "/a", config: SyntheticRuns.config(seed: 0), ratios: [0.5, 1.0, 1.0])
    try SyntheticRuns.write(root + "/b", config: SyntheticRuns.config(seed: 1), ratios: [0.5, 1.0, 3.0], status: .diverged)
    try SyntheticRuns.write(root + "/c", config: SyntheticRuns.config("adam", lr: 1e-3), ratios: [20, 0.5, 0.99], status: nil)
    let c = Comparison(runs: try ["a", "b", "c"].map { try LoadedRun(path: root + "/" + $0) })
    #expect(c.rows.count == 2)
    #expect(c.rows[0].status == "mixed" && c.rows[0].verdict == "mixed")
    #expect(c.rows[0].runs[1].analysis.verdict == .diverged)
    #expect(c.rows[0].statusText == "mixed: 1 completed, 1 diverged")
    #expect(c.rows[1].status == "partial" && c.rows[1].first.state == .partial)
    #expect(c.rows[1].onsetStep == 20 && c.rows[1].verdict == "at the edge")
    #expect(c.rows[1].statusText == "partial (no summary), at step 20")
    #expect(c.table.contains("mixed: 1 at the edge, 1 diverged"))
  }

  /// Merged seeds name their plateau medians, and how many seeds have none (no onset):
  /// a range over one seed alone would read as agreement.
  @Test func seedsWithoutOnsetAreCounted() throws {
    let root = SyntheticRuns.temporaryFolder("onsetless")
    defer { try? FileManager.default.removeItem(atPath: root) }
    try SyntheticRuns.write(root + "/a", config: SyntheticRuns.config(seed: 0), ratios: [0.5, 1.0, 1.0])
    try SyntheticRuns.write(root + "/b", config: SyntheticRuns.config(seed: 1), ratios: [0.5, 0.6, 0.7])
    try SyntheticRuns.write(root + "/c", config: SyntheticRuns.config(seed: 2), ratios: [0.5, 0.9, 0.96])
    let two = Comparison(runs: try ["a", "b"].map { try LoadedRun(path: root + "/" + $0) })
    #expect(two.table.contains("0,1 (median 1.00; 1 without onset)"), "\(two.table)")
    let three = Comparison(runs: try ["a", "b", "c"].map { try LoadedRun(path: root + "/" + $0) })
    #expect(three.table.contains("0,1,2 (medians 0.96–1.00; 1 without onset)"), "\(three.table)")
    let agreeing = Comparison(runs: try ["a", "c"].map { try LoadedRun(path: root + "/" + $0) })
    #expect(agreeing.table.contains("0,2 (medians 0.96–1.00)"), "\(agreeing.table)")
  }

  /// A folder that is no run, a missing folder, a malformed metrics line and a
  /// malformed sweep.json are refused with the file (and line) named.
  @Test func badFoldersAreNamed() throws {
    let root = SyntheticRuns.temporaryFolder("bad")
    defer { try? FileManager.default.removeItem(atPath: root) }
    try FileManager.default.createDirectory(atPath: root + "/empty", withIntermediateDirectories: true)
    #expect(throws: CompareError.self) { try RunDiscovery.runs(in: root + "/empty") }
    do { _ = try RunDiscovery.runs(in: root + "/nowhere") } catch { #expect("\(error)".contains(root + "/nowhere does not exist")) }
    try SyntheticRuns.write(root + "/run", config: SyntheticRuns.config(), ratios: [0.5, 1.0])
    let metrics = root + "/run/metrics.jsonl"
    var lines = try String(contentsOfFile: metrics, encoding: .utf8).split(separator: "\n").map(String.init)
    lines[2] = "{\"step\": 2, \"loss\": oops}"
    try (lines.joined(separator: "\n") + "\n").write(toFile: metrics, atomically: true, encoding: .utf8)
    do {
      _ = try LoadedRun(path: root + "/run")
      Issue.record("a malformed metrics line was accepted")
    } catch {
      #expect("\(error)".contains("\(metrics) line 3"), "\(error)")
    }
    try "{\"runs\": [{\"folder\": 3}]}".write(toFile: root + "/empty/sweep.json", atomically: true, encoding: .utf8)
    do {
      _ = try RunDiscovery.runs(in: root + "/empty")
      Issue.record("a malformed sweep.json was accepted")
    } catch {
      #expect("\(error)".contains(root + "/empty/sweep.json"), "\(error)")
      #expect("\(error)".contains("runs[0].folder"), "\(error)")
    }
  }

  /// sweep.json lists the runs (those not started are noted); without it, the run
  /// folders below a folder are found.
  @Test func sweepAndScan() throws {
    let root = SyntheticRuns.temporaryFolder("sweep")
    defer { try? FileManager.default.removeItem(atPath: root) }
    let folders = ["runs/lr=0.04/seed=0", "runs/lr=0.04/seed=1", "runs/lr=0.02/seed=0"]
    try SyntheticRuns.write(root + "/" + folders[0], config: SyntheticRuns.config(seed: 0), ratios: [0.5, 1.0])
    try SyntheticRuns.write(root + "/" + folders[2], config: SyntheticRuns.config(lr: 0.02), ratios: [0.5, 0.6])
    let entries = folders.enumerated().map { i, f in
      "{\"index\": \(i), \"point\": {\"lr\": \(f.contains("0.04") ? 0.04 : 0.02)}, \"seed\": \(f.hasSuffix("1") ? 1 : 0), \"folder\": \"\(f)\"}"
    }
    try "{\"runs\": [\(entries.joined(separator: ", "))]}".write(toFile: root + "/sweep.json", atomically: true, encoding: .utf8)
    let (runs, notes) = try RunDiscovery.runs(in: root)
    #expect(runs == [root + "/" + folders[0], root + "/" + folders[2]])
    #expect(notes.count == 1 && notes[0].contains("1 of 3 runs not started"))
    try FileManager.default.removeItem(atPath: root + "/sweep.json")
    let scanned = try RunDiscovery.runs(in: root).runs
    #expect(scanned == [root + "/" + folders[2], root + "/" + folders[0]])  // sorted by path
  }

  /// The CSV has one line per setting plus the header, every line the same number of
  /// cells (RFC 4180 quoting keeps a rule's commas inside its cell).
  @Test func csvCellsLineUp() throws {
    let root = SyntheticRuns.temporaryFolder("csv")
    defer { try? FileManager.default.removeItem(atPath: root) }
    try SyntheticRuns.write(root + "/a", config: SyntheticRuns.config(), ratios: [0.5, 1.0])
    var ruleConfig = SyntheticRuns.config()
    ruleConfig.method = MethodSpec(rule: "m' = beta*m + g; x' = x - eta*m'", parameters: ["beta": 0.9], hyperparameters: Hyperparameters(lr: 0.04))
    // a rule's run: write it as hb's (same recurrence) and swap the config
    try SyntheticRuns.write(root + "/b", config: SyntheticRuns.config("hb"), ratios: [0.5, 0.9])
    try (try ruleConfig.configJSON(provenance: [:])).write(to: URL(fileURLWithPath: root + "/b/config.json"))
    let c = Comparison(runs: [try LoadedRun(path: root + "/a"), try LoadedRun(path: root + "/b")])
    #expect(c.rows[1].first.threshold == 95)  // (2 + 2β)/η
    let lines = c.csv.split(separator: "\n").map(String.init)
    #expect(lines.count == 3)
    for line in lines { #expect(Self.csvCells(line).count == Comparison.csvColumns.count, "\(line)") }
    #expect(Self.csvCells(lines[2])[2] == "m' = beta*m + g; x' = x - eta*m'")
  }

  /// Splits one CSV line by RFC 4180 (quoted cells, doubled quotes).
  static func csvCells(_ line: String) -> [String] {
    var cells: [String] = [], cell = "", quoted = false
    var chars = Array(line)[...]
    while let ch = chars.popFirst() {
      if quoted {
        if ch == "\"" {
          if chars.first == "\"" { cell.append("\""); chars.removeFirst() } else { quoted = false }
        } else {
          cell.append(ch)
        }
      } else if ch == "\"" {
        quoted = true
      } else if ch == "," {
        cells.append(cell)
        cell = ""
      } else {
        cell.append(ch)
      }
    }
    return cells + [cell]
  }
}

/// What an SVG holds, read with an XML parser: parsing fails on anything that is not
/// well-formed XML.
final class SVGContent: NSObject, XMLParserDelegate {
  var paths: [(stroke: String, dashed: Bool)] = []
  var texts: [String] = []
  private var text: String?
  var error: (any Error)?

  static func parse(_ svg: String) -> SVGContent? {
    let content = SVGContent()
    let parser = XMLParser(data: Data(svg.utf8))
    parser.delegate = content
    return parser.parse() ? content : nil
  }

  func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?, attributes: [String: String] = [:]) {
    if name == "path" { paths.append((attributes["stroke"] ?? "", attributes["stroke-dasharray"] != nil)) }
    if name == "text" { text = "" }
  }

  func parser(_ parser: XMLParser, foundCharacters string: String) { text? += string }

  func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
    if name == "text", let t = text { texts.append(t); text = nil }
  }
}

@Suite struct ComparePlotTests {
  /// The Figure-1 plot is well-formed XML with, per setting, one solid line per seed in
  /// the loss and sharpness panels and one dashed threshold in the setting's colour;
  /// mixed quantities are named on the panel; `raw` adds a panel.
  @Test func seriesAreThere() async {
    await propertyCheckThrowing(count: 8, input: Gen.int(in: 1...3), Gen.int(in: 1...3), Gen.bool) { settings, seeds, raw in
      let root = SyntheticRuns.temporaryFolder("plot")
      defer { try? FileManager.default.removeItem(atPath: root) }
      var runs: [LoadedRun] = []
      for s in 0..<settings {
        for seed in 0..<seeds {
          let dir = "\(root)/\(s)-\(seed)"
          let config = s == 2 ? SyntheticRuns.config("adam", lr: 1e-3, seed: UInt64(seed)) : SyntheticRuns.config(lr: 0.04 / Double(s + 1), seed: UInt64(seed))
          try SyntheticRuns.write(dir, config: config, ratios: [0.5, 0.8, 1.0, 1.01 + 0.01 * Double(seed)])
          runs.append(try LoadedRun(path: dir))
        }
      }
      let c = Comparison(runs: runs)
      #expect(c.rows.count == settings)
      let svg = c.figure(raw: raw).render()
      let content = try #require(SVGContent.parse(svg), "not well-formed XML")
      for k in 0..<settings {
        let color = StackedPlot.color(k)
        let solid = content.paths.filter { $0.stroke == color && !$0.dashed }.count
        let dashed = content.paths.filter { $0.stroke == color && $0.dashed }.count
        let isGD = k < 2
        #expect(solid == seeds * (raw ? 3 : 2), "setting \(k): \(solid) solid lines")
        #expect(dashed == (raw && isGD ? 2 : 1), "setting \(k): \(dashed) dashed lines")
      }
      #expect(content.texts.contains { $0.hasPrefix("training loss") })
      #expect(content.texts.contains { $0.contains("mixed quantities") } == (settings == 3))
      #expect(content.texts.contains { $0.hasPrefix("λ₁(H) / λ₁(P⁻¹H), mixed") } == (settings == 3))
      #expect(content.texts.contains { $0.hasPrefix("raw sharpness") } == raw)
      for (k, threshold) in ["50", "100", "38000"].prefix(settings).enumerated() {
        #expect(content.texts.contains { $0.hasPrefix(c.rows[k].label) && $0.contains("; threshold \(threshold); at the edge") }, "legend \(k)")
      }
    }
  }

  /// Log-axis ticks lie inside the range, ascending, and there are a few of them for
  /// any range from a sliver of a decade to twelve decades.
  @Test func logTicks() async {
    await propertyCheck(count: 200, input: Gen.double(in: -6...6), Gen.double(in: 0.05...12)) { lo, span in
      let ticks = StackedPlot.logTicks(lo: lo, hi: lo + span)
      #expect(ticks.count >= 2 && ticks.count <= 30, "\(lo) + \(span): \(ticks)")
      #expect(zip(ticks, ticks.dropFirst()).allSatisfy { $0 < $1 })
      // 1e-9 relative: the ticks are computed as m·10^e, one rounding from the bounds
      #expect(ticks.allSatisfy { log10($0) >= lo - 1e-9 && log10($0) <= lo + span + 1e-9 })
    }
  }
}
