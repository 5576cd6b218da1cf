import Foundation

/// `aeos compare`: one row per setting (run folders whose configs are equal except for
/// the seed and the execution settings — threads, chunk size, checkpoint interval),
/// the seeds of a setting merged:
///
/// - `onset_step`: the lower median of the seeds' onset steps (a measured step), over
///   the seeds that have one; null if none has;
/// - `plateau`: median, p10 and p90 (linear interpolation) of the ratios at and after
///   each seed's onset, pooled over the seeds — for one seed exactly summary.json's;
/// - `raw_sharpness_change_per_100`: the median over the seeds that have one;
/// - `status` and `verdict`: the seeds' common value, or `mixed` when they disagree
///   (each seed's own are under `per_seed`);
/// - `spread`: the lowest and highest of the seeds' plateau medians and onset steps.
public struct Comparison: Sendable {
  public struct Row: Sendable {
    /// The setting in words: method, η and whatever else differs between the rows.
    public var label: String
    /// The seeds' runs, in the order given.
    public var runs: [LoadedRun]
    public var onsetStep: Int?
    public var plateau: EdgeAnalysis.Plateau?
    public var rawSharpnessChangePer100: Double?
    /// A `RunState` raw value, or "mixed".
    public var status: String
    /// An `EdgeAnalysis.Verdict` raw value, or "mixed".
    public var verdict: String
    public var plateauMedianRange: ClosedRange<Double>?
    public var onsetRange: ClosedRange<Int>?

    public var first: LoadedRun { runs[0] }
    public var config: TrainConfig { first.config }
    public var seeds: [UInt64] { runs.map(\.config.seed) }
  }

  public var rows: [Row]

  /// Groups `runs` by setting, in the order each setting first appears.
  /// - Precondition: `runs` is not empty.
  public init(runs: [LoadedRun]) {
    var groups: [[LoadedRun]] = []
    var keys: [TrainConfig] = []
    for run in runs {
      let key = Self.settingKey(run.config)
      if let i = keys.firstIndex(of: key) { groups[i].append(run) } else {
        keys.append(key)
        groups.append([run])
      }
    }
    let fields = groups.map { Self.settingFields($0[0].config) }
    // The names whose values differ between the settings that have them (every row
    // names its method and η; GD has no β₁ to differ in).
    var values: [String: Set<String>] = [:]
    for f in fields { for (k, v) in f { values[k, default: []].insert(v) } }
    let varying = Set(values.filter { $0.value.count > 1 }.keys)
    var labels = zip(groups, fields).map { runs, f in
      let extra = f.filter { k, v in
        varying.contains(k) && !Self.unlabelled.contains(k) && !k.hasPrefix("param ") && Self.switchedOff[k] != v
      }
      return ([Self.methodLabel(runs[0].config)] + extra.map { "\($0.0) \($0.1)" }).joined(separator: ", ")
    }
    // Rows that would read the same (they differ only in, say, the number of steps)
    // name what tells them apart after all.
    for label in Set(labels) {
      let same = labels.indices.filter { labels[$0] == label }
      guard same.count > 1 else { continue }
      let dicts = same.map { Dictionary(fields[$0], uniquingKeysWith: { x, _ in x }) }
      let telling = fields[same[0]].map(\.0).filter { k in Set(dicts.map { $0[k] ?? "" }).count > 1 }
      for (i, d) in zip(same, dicts) { labels[i] += telling.map { ", \($0) \(d[$0] ?? "–")" }.joined() }
    }
    rows = zip(groups, labels).map { Self.row($0, label: $1) }
  }

  /// Settings left out of the row labels even where they differ: the method and η
  /// (every label starts with them) and those that do not change the dynamics, only
  /// how long or how closely a run is watched.
  static let unlabelled: Set<String> = [
    "optimizer", "rule", "lr", "steps", "track-every", "test-n", "top-k", "lanczos-tolerance", "lanczos-iterations", "target-loss",
    "target-accuracy",
  ]

  /// Settings whose default switches a feature off: a row at that value does not name
  /// it ("adam η = 0.001" beside "adam η = 0.001, batch-size 64").
  static let switchedOff: [String: String] = [
    "batch-size": "full", "warmup-steps": "0", "freeze-preconditioner-at": "never", "init": "seeded", "nu0": "none",
    "curvature-n": "all", "divergence-loss": "auto", "weight-decay": "0", "bias-correction": "off", "balanced": "no",
  ]

  /// The config with the seed and the execution-only settings blanked: configs with
  /// equal keys are seeds of one setting.
  static func settingKey(_ c: TrainConfig) -> TrainConfig {
    var k = c
    k.seed = 0
    k.threads = 1
    k.chunkSize = 1
    k.checkpointEvery = 1
    return k
  }

  /// "adam η = 0.001", "rule m' = … η = 0.03 (beta = 0.9, nu = 0.7)".
  static func methodLabel(_ c: TrainConfig) -> String {
    let m = c.method
    let lr = "η = \(formatHuman(m.hyperparameters.lr))"
    if let o = m.optimizer { return "\(o) \(lr)" }
    let params = m.parameters.keys.sorted().map { "\($0) = \(formatHuman(m.parameters[$0] ?? .nan))" }.joined(separator: ", ")
    return "rule \"\(m.rule ?? "")\" \(lr)" + (params.isEmpty ? "" : " (\(params))")
  }

  /// Every setting of a run that makes it an experiment, named as `aeos train`'s flags
  /// (and `aeos sweep`'s grid names), with display values; of the hyper-parameters only
  /// those the method uses (β₁ is no setting of GD).
  static func settingFields(_ c: TrainConfig) -> [(String, String)] {
    let h = c.method.hyperparameters
    var f: [(String, String)] = []
    if let o = c.method.optimizer { f.append(("optimizer", o)) }
    if let r = c.method.rule { f.append(("rule", r)) }
    for (k, v) in c.method.parameters.sorted(by: { $0.key < $1.key }) { f.append(("param \(k)", formatHuman(v))) }
    // the hyper-parameters the method uses (a rule's are its --param values)
    let kind = c.method.optimizer.flatMap(OptimizerKind.init(rawValue:))
    f.append(("lr", formatHuman(h.lr)))
    if let kind {
      if kind.usesMomentum { f.append(("beta1", formatHuman(h.beta1))) }
      if kind.usesBeta2 { f.append(("beta2", formatHuman(h.beta2))) }
      if kind.isPreconditioned { f += [("eps", formatHuman(h.eps)), ("bias-correction", h.biasCorrection ? "on" : "off")] }
      if kind == .adamw { f.append(("weight-decay", formatHuman(h.weightDecay))) }
      if kind.traits.root == .padam { f.append(("padam-p", formatHuman(h.padamP))) }
    }
    f += [
      ("model", c.model.kind.rawValue), ("depth", String(c.model.depth)), ("width", String(c.model.width)),
      ("activation", c.model.activation.rawValue), ("cnn-scale", String(c.model.cnnScale)), ("data", c.data.source.rawValue),
      ("n", String(c.data.n)), ("balanced", c.data.balanced ? "yes" : "no"), ("test-n", String(c.data.testN)),
      ("loss", c.loss.rawValue), ("dtype", c.dtype.rawValue), ("batch-size", c.batchSize.map(String.init) ?? "full"),
      ("warmup-steps", String(c.warmupSteps)), ("steps", String(c.steps)), ("track-every", String(c.trackEvery)),
      ("freeze-preconditioner-at", c.freezePreconditionerAt.map(String.init) ?? "never"), ("init", c.initFile ?? "seeded"),
      ("nu0", c.nu0File ?? "none"), ("curvature-n", c.curvatureN.map(String.init) ?? "all"), ("top-k", String(c.topK)),
      ("target-loss", c.targetLoss.map(formatHuman) ?? "none"), ("target-accuracy", c.targetAccuracy.map(formatHuman) ?? "none"),
      ("lanczos-tolerance", formatHuman(c.lanczosTolerance)), ("lanczos-iterations", String(c.lanczosIterations)),
      ("divergence-loss", c.divergenceLoss.map(formatHuman) ?? "auto"),
    ]
    return f
  }

  static func row(_ runs: [LoadedRun], label: String) -> Row {
    let onsets = runs.compactMap(\.analysis.onsetStep).sorted()
    let pooled = runs.flatMap(\.plateauRatios).sorted()
    let plateau = pooled.isEmpty
      ? nil : EdgeAnalysis.Plateau(median: percentile(sorted: pooled, 0.5), p10: percentile(sorted: pooled, 0.1), p90: percentile(sorted: pooled, 0.9))
    let raws = runs.compactMap(\.rawSharpnessChangePer100)
    let medians = runs.compactMap { $0.analysis.plateau?.median }
    func common(_ values: [String]) -> String { Set(values).count == 1 ? values[0] : "mixed" }
    return Row(
      label: label, runs: runs, onsetStep: onsets.isEmpty ? nil : onsets[(onsets.count - 1) / 2], plateau: plateau,
      rawSharpnessChangePer100: raws.isEmpty ? nil : median(raws), status: common(runs.map(\.state.rawValue)),
      verdict: common(runs.map(\.analysis.verdict.rawValue)),
      plateauMedianRange: medians.isEmpty ? nil : (medians.min() ?? 0)...(medians.max() ?? 0),
      onsetRange: onsets.isEmpty ? nil : onsets[0]...onsets[onsets.count - 1])
  }
}

// MARK: - Output

extension Comparison.Row {
  /// β₁ where the method has momentum (a rule's `beta`), else nil.
  var beta1: Double? {
    let m = config.method
    if let o = m.optimizer { return OptimizerKind(rawValue: o).flatMap { $0.usesMomentum ? m.hyperparameters.beta1 : nil } }
    return m.parameters["beta"]
  }

  /// β₂ where the method has a second-moment EMA, else nil.
  var beta2: Double? {
    guard let o = config.method.optimizer, let kind = OptimizerKind(rawValue: o), kind.usesBeta2 else { return nil }
    return config.method.hyperparameters.beta2
  }

  static func plateauJSON(_ p: EdgeAnalysis.Plateau?) -> JSONValue {
    p.map { .object([("median", .number($0.median)), ("p10", .number($0.p10)), ("p90", .number($0.p90))]) } ?? .null
  }

  /// One object of `aeos compare --json`'s "runs" (DESIGN.md's keys first).
  public var json: JSONValue {
    let r = first
    let perSeed: [JSONValue] = runs.map { run in
      .object([
        ("dir", .string(run.path)), ("seed", .int(Int(run.config.seed))), ("status", .string(run.state.rawValue)),
        ("last_step", .optional(run.lastStep)), ("onset_step", .optional(run.analysis.onsetStep)),
        ("plateau", Self.plateauJSON(run.analysis.plateau)), ("raw_sharpness_change_per_100", .optional(run.rawSharpnessChangePer100)),
        ("verdict", .string(run.analysis.verdict.rawValue)), ("stop_reason", .optional(run.stopReason)),
      ])
    }
    let spread: JSONValue = .object([
      ("plateau_median", plateauMedianRange.map { .object([("min", .number($0.lowerBound)), ("max", .number($0.upperBound))]) } ?? .null),
      ("onset_step", onsetRange.map { .object([("min", .int($0.lowerBound)), ("max", .int($0.upperBound))]) } ?? .null),
    ])
    return .object([
      ("dirs", .array(runs.map { .string($0.path) })), ("optimizer", .optional(config.method.optimizer)),
      ("lr", .number(config.method.hyperparameters.lr)), ("beta1", .optional(beta1)), ("beta2", .optional(beta2)),
      ("quantity", .string(r.quantity)), ("threshold", .number(r.threshold)), ("formula", .optional(r.formula)),
      ("status", .string(status)), ("onset_step", .optional(onsetStep)), ("plateau", Self.plateauJSON(plateau)),
      ("raw_sharpness_change_per_100", .optional(rawSharpnessChangePer100)), ("verdict", .string(verdict)),
      ("seeds", .array(seeds.map { .int(Int($0)) })), ("label", .string(label)), ("rule", .optional(config.method.rule)),
      ("spread", spread), ("per_seed", .array(perSeed)),
    ])
  }

  /// "completed", "diverged at step 12", "partial (no summary.json), at step 730",
  /// "mixed: 2 completed, 1 diverged".
  var statusText: String {
    if runs.count == 1 {
      let r = first
      switch r.state {
      case .completed: return "completed"
      case .partial: return "partial (no summary), at step \(r.lastStep.map(String.init) ?? "–")"
      default: return "\(r.state.rawValue) at step \(r.lastStep.map(String.init) ?? "–")"
      }
    }
    if status != "mixed" { return status }
    return "mixed: " + Self.counts(runs.map(\.state.rawValue))
  }

  var verdictText: String {
    verdict != "mixed" ? verdict : "mixed: " + Self.counts(runs.map(\.analysis.verdict.rawValue))
  }

  /// "2 at the edge, 1 below", in order of first appearance.
  static func counts(_ values: [String]) -> String {
    var order: [String] = []
    for v in values where !order.contains(v) { order.append(v) }
    return order.map { v in "\(values.filter { $0 == v }.count) \(v)" }.joined(separator: ", ")
  }
}

extension Comparison {
  /// `--json`: {"runs": [...]} with DESIGN.md's keys.
  public var json: JSONValue { .object([("runs", .array(rows.map(\.json)))]) }

  /// The CSV columns, one row per setting (pandas.read_csv).
  public static let csvColumns = [
    "label", "optimizer", "rule", "lr", "beta1", "beta2", "quantity", "threshold", "formula", "status", "onset_step", "plateau_median",
    "plateau_p10", "plateau_p90", "raw_sharpness_change_per_100", "verdict", "seeds", "plateau_median_min", "plateau_median_max", "dirs",
  ]

  /// `--csv`: numbers at full precision, empty cells for null, RFC 4180 quoting; seeds
  /// and dirs joined by ";".
  public var csv: String {
    func n(_ x: Double?) -> String { x.map { JSONValue.format($0) == "null" ? "" : JSONValue.format($0) } ?? "" }
    func q(_ s: String) -> String {
      s.contains(where: { ",\"\n\r".contains($0) }) ? "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : s
    }
    var lines = [Self.csvColumns.joined(separator: ",")]
    for r in rows {
      let cells: [String] = [
        r.label, r.config.method.optimizer ?? "", r.config.method.rule ?? "", n(r.config.method.hyperparameters.lr), n(r.beta1), n(r.beta2),
        r.first.quantity, n(r.first.threshold), r.first.formula ?? "", r.status, r.onsetStep.map(String.init) ?? "", n(r.plateau?.median),
        n(r.plateau?.p10), n(r.plateau?.p90), n(r.rawSharpnessChangePer100), r.verdict, r.seeds.map(String.init).joined(separator: ";"),
        n(r.plateauMedianRange?.lowerBound), n(r.plateauMedianRange?.upperBound), r.runs.map(\.path).joined(separator: ";"),
      ]
      lines.append(cells.map(q).joined(separator: ","))
    }
    return lines.joined(separator: "\n")
  }

  /// The human table: one line per setting, ratios to 2 decimals (the plateau's own
  /// p10–p90 spread at the edge is a few percent, so a third decimal is noise), the
  /// threshold to 12 significant digits with its closed form.
  public var table: String {
    let header = ["setting", "governs", "threshold", "status", "onset", "plateau (p10–p90)", "raw λ₁(H) %/100", "verdict", "seeds"]
    func ratio(_ x: Double) -> String { String(format: "%.2f", x) }
    var body: [[String]] = []
    for r in rows {
      let t = r.first
      let threshold = (t.formula.map { "\($0) = " } ?? "") + formatHuman(t.threshold)
      let plateau = r.plateau.map { "\(ratio($0.median)) (\(ratio($0.p10))–\(ratio($0.p90)))" } ?? "–"
      let raw = r.rawSharpnessChangePer100.map { String(format: "%+.2f", $0) } ?? "–"
      var seeds = r.seeds.map(String.init).joined(separator: ",")
      if r.runs.count > 1, let m = r.plateauMedianRange {
        let without = r.runs.filter { $0.analysis.plateau == nil }.count
        let medians = r.runs.count - without == 1 ? "median \(ratio(m.lowerBound))" : "medians \(ratio(m.lowerBound))–\(ratio(m.upperBound))"
        seeds += " (\(medians)" + (without > 0 ? "; \(without) without onset)" : ")")
      }
      body.append([
        r.label, t.symbol, threshold, r.statusText, r.onsetStep.map(String.init) ?? "–", plateau, raw, r.verdictText, seeds,
      ])
    }
    let widths = header.indices.map { c in ([header[c]] + body.map { $0[c] }).map(\.count).max() ?? 0 }
    func line(_ cells: [String]) -> String {
      cells.enumerated().map { c, s in c == cells.count - 1 ? s : s + String(repeating: " ", count: widths[c] - s.count) }
        .joined(separator: "  ")
    }
    return ([line(header)] + body.map(line)).joined(separator: "\n")
  }
}
