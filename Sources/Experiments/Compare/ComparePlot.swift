import Foundation

extension Comparison {
  /// The AEoS paper's Figure 1 layout: the training loss on top; below it the
  /// governing sharpness (λ₁(P⁻¹H) for preconditioned methods, λ₁(H) otherwise) on a
  /// log axis with each run's threshold dashed in the run's colour (per measured step,
  /// so a warm-up's falling 38/η_t shows); with `raw`, a third panel of the raw
  /// sharpness λ₁(H) (the paper's Figure 8), dashed thresholds only for the methods
  /// that λ₁(H) governs. One colour per setting; every seed of a setting is drawn in
  /// it. Rows that govern different quantities share the axis, and the panel says so.
  ///
  /// The loss is every step's training loss (at most `maxPoints` per run, evenly
  /// thinned), or for a minibatch run the whole training set's loss on tracked steps
  /// (its per-step loss is a batch's).
  public func figure(raw: Bool, title: String? = nil, maxPoints: Int = 1500) -> StackedPlot {
    let symbols = Set(rows.map(\.first.symbol))
    let mixed = symbols.count > 1
    var plot = StackedPlot(
      title: title ?? (rows.count == 1 ? rows[0].label : "\(rows.count) settings") + ": training loss and sharpness against the threshold",
      xLabel: "step")
    var loss = StackedPlot.Panel(yLabel: "training loss", logY: true)
    let governing: String
    if mixed {
      governing = "λ₁(H) / λ₁(P⁻¹H), mixed"
    } else {
      // short enough to fit along the panel (with " (log scale)")
      governing = "sharpness " + (symbols.first ?? "λ₁(H)")
    }
    var sharp = StackedPlot.Panel(yLabel: governing, logY: true)
    if mixed {
      let parts = ["λ₁(H)", "λ₁(P⁻¹H)"].map { s in
        "\(s) for " + rows.filter { $0.first.symbol == s }.map { $0.config.method.optimizer ?? "rule" }.uniqued().joined(separator: ", ")
      }
      sharp.note = "mixed quantities: " + parts.joined(separator: "; ")
    }
    var rawPanel = StackedPlot.Panel(yLabel: "raw sharpness λ₁(H)", logY: true)
    for (k, row) in rows.enumerated() {
      for (s, run) in row.runs.enumerated() {
        let name = row.label + (row.runs.count > 1 ? ", seed \(run.config.seed)" : "")
        let width = s == 0 ? 1.6 : 1.0
        loss.lines.append(.init(name: "\(name): loss", points: Self.lossPoints(run, maxPoints: maxPoints), color: k, width: width))
        let tracked = run.records.compactMap { r in r.curvature.map { (r.step, $0) } }
        let gov = tracked.compactMap { step, c in c.governing.map { (Double(step), $0) } }
        let thresholds = tracked.map { (Double($0.0), $0.1.threshold) }
        sharp.lines.append(.init(name: "\(name): \(run.symbol)", points: gov, color: k, width: width))
        if s == 0 { sharp.lines.append(.init(name: "\(name): threshold", points: thresholds, color: k, dashed: true, width: 1.3)) }
        if raw {
          let points = tracked.compactMap { step, c in c.sharpness.map { (Double(step), $0) } }
          rawPanel.lines.append(.init(name: "\(name): λ₁(H)", points: points, color: k, width: width))
          if s == 0 && run.symbol == "λ₁(H)" {
            rawPanel.lines.append(.init(name: "\(name): threshold", points: thresholds, color: k, dashed: true, width: 1.3))
          }
        }
      }
      let seeds = row.runs.count > 1 ? " (\(row.runs.count) seeds)" : ""
      let quantity = mixed ? " — \(row.first.symbol)" : ""
      let label = row.label.count > 80 ? String(row.label.prefix(79)) + "…" : row.label
      plot.legend.append(.init(label: "\(label)\(seeds)\(quantity); threshold \(formatHuman(row.first.threshold, digits: 6)); \(row.verdictText)", color: k))
    }
    plot.panels = [loss, sharp] + (raw ? [rawPanel] : [])
    plot.legendNote = "solid: measured; dashed: the run's threshold, in its colour" + (raw ? " (raw panel: only where λ₁(H) governs)" : "")
    return plot
  }

  /// A run's loss curve: full batch, every step (thinned to `maxPoints`); minibatch,
  /// the training-set loss of the tracked steps.
  static func lossPoints(_ run: LoadedRun, maxPoints: Int) -> [(Double, Double)] {
    let tracked = run.records.compactMap { r in r.curvature?.trainLoss.map { (Double(r.step), $0) } }
    if run.config.batchSize != nil, !tracked.isEmpty { return tracked }
    let all = run.records.map { (Double($0.step), $0.loss) }
    guard all.count > maxPoints, maxPoints >= 2 else { return all }
    let stride = Double(all.count - 1) / Double(maxPoints - 1)
    return (0..<maxPoints).map { all[Int((Double($0) * stride).rounded())] }
  }
}

extension Sequence where Element: Hashable {
  /// The elements in order, each once.
  func uniqued() -> [Element] {
    var seen = Set<Element>()
    return filter { seen.insert($0).inserted }
  }
}
