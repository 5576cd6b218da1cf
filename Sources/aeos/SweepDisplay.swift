#if canImport(Glibc)
import Glibc
#endif
import Experiments
import Foundation

/// The progress of a local sweep on stderr. On a terminal: one line per run in
/// progress (bar, step, loss, ETA) and an overall line (runs done, running, waiting,
/// ETA), redrawn in place, with a line per finished run scrolling above them.
/// Otherwise plain lines: one when a run starts or ends (with the overall count and
/// ETA), and every 30 s one per run in progress.
final class SweepDisplay {
  let total: Int
  let enabled: Bool
  let terminal = isatty(2) != 0
  /// Each run's step budget by index (its line count is that + 1).
  let steps: [Int]
  private var done: Int
  private var waiting: Int
  private var running: [SweepExecutor.Running] = []
  private let started = Date()
  /// Lines (steps) written by the children of this sweep, runs that ended included.
  private var stepsMadeByEnded = 0
  private var drawnLines = 0
  private var lastDraw = Date.distantPast
  private var lastPlain = Date()

  init(total: Int, finishedBefore: Int, steps: [Int], enabled: Bool) {
    self.total = total
    self.done = finishedBefore
    self.waiting = total - finishedBefore
    self.steps = steps
    self.enabled = enabled
  }

  func line(_ s: String) {
    guard enabled else { return }
    clear()
    printError(s)
    draw()
  }

  func event(_ e: SweepExecutor.Event) {
    switch e {
    case .skipped:
      waiting -= 1
      done += 1
    case .busy(let run):
      waiting -= 1
      line("[\(done)/\(total)] \(Self.name(run)): being made elsewhere (another aeos sweep or a Slurm task); skipped")
    case .started(let r):
      waiting -= 1
      running.append(r)
      if !terminal { line("[\(done)/\(total)] \(Self.name(r.run)): \(r.action == .start ? "started" : r.action == .resume ? "resuming" : "starting over")") }
      else { redraw(force: true) }
    case .ended(let r, let status, let state, let error):
      running.removeAll { $0.run.index == r.run.index }
      stepsMadeByEnded += Self.made(r)
      if case .finished = state { done += 1 }
      let seconds = Date().timeIntervalSince(r.started)
      var text = "[\(done)/\(total)] \(Self.name(r.run)): \(Self.describe(state))"
      if case .finished = state { text += " in \(String(format: "%.1f", seconds)) s" }
      if let loss = r.loss, case .finished(.completed) = state { text += ", final loss \(String(format: "%.4g", loss))" }
      if status != 0 && status != 3 { text += " (aeos train exit \(status))" + (error.map { ": \($0)" } ?? "") }
      if !terminal, let eta = eta() { text += "; \(running.count) running, \(waiting) waiting, ETA \(ProgressDisplay.duration(eta))" }
      line(text)
    case .interrupted(let signal, let count):
      line("\(Interrupts.name(signal)): \(count) runs are checkpointing; no new run starts")
    }
  }

  func tick(_ runs: [SweepExecutor.Running]) {
    running = runs
    guard enabled else { return }
    if terminal {
      redraw(force: false)
    } else if Date().timeIntervalSince(lastPlain) >= 30, !runs.isEmpty {
      lastPlain = Date()
      for r in runs { printError("  \(Self.name(r.run)): \(progressText(r))") }
      if let eta = eta() { printError("  \(done)/\(total) done, \(running.count) running, \(waiting) waiting, ETA \(ProgressDisplay.duration(eta))") }
    }
  }

  func finish() {
    clear()
  }

  // MARK: Text

  /// "lr=1e-3/seed=0".
  static func name(_ run: SweepRun) -> String {
    String(run.folder.dropFirst("runs/".count))
  }

  static func describe(_ state: SweepRunState) -> String {
    switch state {
    case .finished(let s): s.rawValue
    case .resumable(.interrupted?): "interrupted (checkpointed; resumes on the next run)"
    case .resumable(.failed?): "failed"
    case .resumable: "stopped without a summary (resumes from its checkpoint on the next run)"
    case .unstarted, .missing: "failed before its first checkpoint"
    }
  }

  /// Lines this attempt of the run wrote.
  static func made(_ r: SweepExecutor.Running) -> Int {
    guard let step = r.step else { return 0 }
    return step - (r.firstStep ?? step) + 1
  }

  private func progressText(_ r: SweepExecutor.Running) -> String {
    let last = r.lastStep ?? steps[r.run.index]
    guard let step = r.step else { return "starting" }
    var s = "step \(step)/\(last)  loss \(String(format: "%.4g", r.loss ?? .nan))"
    let made = Self.made(r)
    let elapsed = Date().timeIntervalSince(r.started)
    if made > 1, elapsed > 0 { s += "  ETA \(ProgressDisplay.duration(elapsed / Double(made) * Double(max(last - step, 0))))" }
    return s
  }

  /// Seconds left for the whole sweep, from the lines per second made so far in
  /// this invocation; nil before there is a rate.
  private func eta() -> Double? {
    let madeNow = stepsMadeByEnded + running.reduce(0) { $0 + Self.made($1) }
    let elapsed = Date().timeIntervalSince(started)
    guard madeNow > 0, elapsed > 1 else { return nil }
    let runningLeft = running.reduce(0) { $0 + max(($1.lastStep ?? steps[$1.run.index]) - ($1.step ?? 0), 0) }
    // The waiting runs: the average budget of a run, times the number waiting.
    let average = steps.isEmpty ? 0 : Double(steps.reduce(0, +) + steps.count) / Double(steps.count)
    let left = Double(runningLeft) + average * Double(waiting)
    return left / (Double(madeNow) / elapsed)
  }

  // MARK: Terminal block

  private func clear() {
    guard terminal, drawnLines > 0 else { return }
    var s = ""
    for _ in 0..<drawnLines { s += "\u{1B}[1A\r\u{1B}[2K" }
    FileHandle.standardError.write(Data(s.utf8))
    drawnLines = 0
  }

  private func draw() {
    guard enabled, terminal else { return }
    var lines: [String] = []
    for r in running.sorted(by: { $0.run.index < $1.run.index }) {
      let last = r.lastStep ?? steps[r.run.index]
      let fraction = min(max(Double(r.step ?? 0) / Double(max(last, 1)), 0), 1)
      let filled = Int((fraction * 16).rounded(.down))
      let bar = String(repeating: "█", count: filled) + String(repeating: "·", count: 16 - filled)
      lines.append("  \(bar) \(Self.name(r.run))  \(progressText(r))")
    }
    var overall = "\(done)/\(total) done, \(running.count) running, \(waiting) waiting"
    if let eta = eta() { overall += ", ETA \(ProgressDisplay.duration(eta))" }
    lines.append(overall)
    // A line wider than the terminal would wrap, and the block could no longer be
    // cleared by moving up one row per line.
    let width = Self.terminalWidth()
    lines = lines.map { $0.count < width ? $0 : String($0.prefix(max(width - 2, 1))) + "…" }
    FileHandle.standardError.write(Data((lines.joined(separator: "\n") + "\n").utf8))
    drawnLines = lines.count
    lastDraw = Date()
  }

  /// The width of the terminal on stderr (80 when it cannot be read).
  static func terminalWidth() -> Int {
    var size = winsize()
    guard ioctl(2, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 else { return 80 }
    return Int(size.ws_col)
  }

  private func redraw(force: Bool) {
    guard enabled, terminal, force || Date().timeIntervalSince(lastDraw) >= 0.5 else { return }
    clear()
    draw()
  }
}
