#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// Makes the runs of a sweep on this machine, each as a child process
/// `aeos train --out FOLDER …` (started, resumed with `--resume`, or started over with
/// `--force`, as `SweepFolder.state` says), at most `jobs` at a time. The same code
/// makes one run for a Slurm task (`aeos sweep run-task`).
///
/// Each child gets the sweep's environment, OPENBLAS_NUM_THREADS=1 (the run's
/// `--threads` is in its arguments; see `SweepFile.environment`). A run's lock is held
/// while its child runs, so a second sweep (or a Slurm task) on the same folder skips
/// it. SIGINT and SIGTERM received by this process are passed on to the children
/// (each checkpoints and exits 130), no new run starts, and `run` returns once every
/// child has ended.
public final class SweepExecutor {
  public let folder: SweepFolder
  public let executable: String

  public init(folder: SweepFolder, executable: String) {
    self.folder = folder
    self.executable = executable
  }

  /// A run in progress.
  public struct Running: Sendable {
    public var run: SweepRun
    public var action: SweepAction
    public var started: Date
    /// The last step written to metrics.jsonl (nil before the first).
    public var step: Int?
    public var loss: Double?
    /// The first step this attempt wrote (for its rate).
    public var firstStep: Int?
    /// The run's step budget (from its config.json, once written).
    public var lastStep: Int?
  }

  public enum Event: Sendable {
    /// The run is finished already (completed or diverged).
    case skipped(SweepRun, RunStatus)
    /// Another process holds the run's lock (another sweep, a Slurm task).
    case busy(SweepRun)
    case started(Running)
    /// The child ended with `exitStatus`; `state` is where the run now stands, and
    /// `error` the last "Error:" line of its output, if any.
    case ended(Running, exitStatus: Int32, state: SweepRunState, error: String?)
    /// This process got SIGINT or SIGTERM; the children have it too.
    case interrupted(signal: Int32, running: Int)
  }

  /// What happened to the runs asked for.
  public struct Outcome: Sendable {
    public var skipped = 0
    public var busy = 0
    public var completed = 0
    public var diverged = 0
    public var interrupted = 0
    public var failed = 0
    /// The signal that stopped the sweep, or 0.
    public var signal: Int32 = 0
    /// The exit status of the last child (for `run-task`), nil if none ran.
    public var lastExitStatus: Int32?
  }

  /// Makes the runs `indices` (in that order), `jobs` at a time.
  /// - Parameters:
  ///   - onEvent: called on this thread for every start, end, skip.
  ///   - onTick: called about every `tick` seconds with the runs in progress.
  /// - Throws: `SweepError` when a log or lock file cannot be made, or a child
  ///   cannot be started (the runs already going are waited for first).
  public func run(
    indices: [Int], jobs: Int, tick: Double = 0.2, onEvent: (Event) -> Void, onTick: ([Running]) -> Void = { _ in }
  ) throws -> Outcome {
    var outcome = Outcome()
    var queue = indices[...]
    var active: [(running: Running, child: ChildProcess, lock: SweepLock, tail: MetricsTail)] = []
    var stopping: Int32 = 0
    var failure: (any Error)?
    Interrupts.install()
    defer { Interrupts.uninstall() }

    while true {
      if stopping == 0, Interrupts.received != 0 {
        stopping = Interrupts.received
        outcome.signal = stopping
        for a in active { a.child.forward(stopping) }
        onEvent(.interrupted(signal: stopping, running: active.count))
      }
      // Start runs while there is room.
      while stopping == 0, failure == nil, active.count < jobs, let index = queue.popFirst() {
        do {
          let run = try folder.run(index)
          if case .finished(let status) = folder.state(of: run) {
            outcome.skipped += 1
            onEvent(.skipped(run, status))
            continue
          }
          guard let lock = try SweepLock.acquire(folder.lockFile(run)) else {
            outcome.busy += 1
            onEvent(.busy(run))
            continue
          }
          // Read the state again under the lock: another process may have finished
          // the run between the first look and the lock.
          let state = folder.state(of: run)
          if case .finished(let status) = state {
            outcome.skipped += 1
            onEvent(.skipped(run, status))
            continue
          }
          let action = state.action
          let arguments = folder.trainArguments(run, action)
          let log = folder.logFile(run)
          try FileManager.default.createDirectory(atPath: (log as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
          try appendLine("[aeos sweep] run \(run.index) \(action.rawValue) at \(ISO8601DateFormatter().string(from: Date())): aeos \(arguments.map(displayWord).joined(separator: " "))", to: log)
          let child = try ChildProcess.spawn(executable, arguments, environment: folder.file.environment ?? SweepFile.runEnvironment, log: log)
          var running = Running(run: run, action: action, started: Date())
          running.lastStep = (try? RunFolder.open(at: folder.runFolder(run)).readConfig().steps)
          active.append((running, child, lock, MetricsTail(path: (folder.runFolder(run) as NSString).appendingPathComponent(RunFolder.metrics))))
          onEvent(.started(running))
        } catch {
          failure = error
        }
      }
      if active.isEmpty { break }

      // Reap the children that ended; follow the others' metrics.
      var k = 0
      while k < active.count {
        if let status = active[k].child.poll() {
          let a = active.remove(at: k)
          try? appendLine("\(SweepFolder.exitMarker)\(status) at \(ISO8601DateFormatter().string(from: Date()))", to: folder.logFile(a.running.run))
          var r = a.running
          if let (step, loss) = a.tail.latest() { (r.step, r.loss) = (step, loss) }
          let state = folder.state(of: r.run)
          withExtendedLifetime(a.lock) {}
          outcome.lastExitStatus = status
          switch state {
          case .finished(.diverged): outcome.diverged += 1
          case .finished: outcome.completed += 1
          case .resumable(.interrupted?) where status == 130 || status == 143: outcome.interrupted += 1
          default: outcome.failed += 1
          }
          let error = status == 0 || status == 3 ? nil : folder.lastAttempt(r.run).error
          onEvent(.ended(r, exitStatus: status, state: state, error: error))
        } else {
          if active[k].running.lastStep == nil {
            active[k].running.lastStep = try? RunFolder.open(at: folder.runFolder(active[k].running.run)).readConfig().steps
          }
          if let (step, loss) = active[k].tail.latest() {
            if active[k].running.firstStep == nil { active[k].running.firstStep = step }
            active[k].running.step = step
            active[k].running.loss = loss
          }
          k += 1
        }
      }
      onTick(active.map(\.running))
      if !active.isEmpty { usleep(useconds_t(tick * 1e6)) }
    }
    if let failure { throw failure }
    return outcome
  }
}

private func appendLine(_ line: String, to path: String) throws {
  let fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
  guard fd >= 0 else { throw SweepError("cannot write the log \(path): \(String(cString: strerror(errno)))") }
  defer { close(fd) }
  let bytes = Array((line + "\n").utf8)
  _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
}

/// An argument as a shell would need it to read it back (quoted when it has to be).
func displayWord(_ s: String) -> String {
  let plain = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "-_.,=/:+@%"))
  return !s.isEmpty && s.unicodeScalars.allSatisfy({ $0.isASCII && plain.contains($0) }) ? s : shellQuote(s)
}

/// Follows a growing metrics.jsonl without reading it again from the start: the
/// bytes after the last complete line seen are read on each call. A file that got
/// shorter (a resumed run truncates it) is read again from the start.
final class MetricsTail {
  let path: String
  private var offset: UInt64 = 0
  private var pending = Data()
  private var last: (Int, Double)?

  init(path: String) { self.path = path }

  /// The step and loss of the last complete line.
  func latest() -> (Int, Double)? {
    guard let h = FileHandle(forReadingAtPath: path) else { return last }
    defer { try? h.close() }
    guard let size = try? h.seekToEnd() else { return last }
    if size < offset {
      offset = 0
      pending = Data()
    }
    guard size > offset else { return last }
    try? h.seek(toOffset: offset)
    guard let data = try? h.readToEnd() else { return last }
    offset += UInt64(data.count)
    pending.append(data)
    guard let end = pending.lastIndex(of: UInt8(ascii: "\n")) else { return last }
    let complete = pending[pending.startIndex..<end]
    let start = complete.lastIndex(of: UInt8(ascii: "\n")).map { $0 + 1 } ?? complete.startIndex
    let line = complete[start...]
    pending = Data(pending[(end + 1)...])
    if let object = try? JSONSerialization.jsonObject(with: Data(line)) as? [String: Any], let step = object["step"] as? Int {
      last = (step, (object["loss"] as? Double) ?? .nan)
    }
    return last
  }
}
