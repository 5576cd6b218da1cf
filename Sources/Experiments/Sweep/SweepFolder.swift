#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// Where a run of a sweep stands, read from its run folder alone (so a local sweep,
/// a Slurm task and `aeos sweep status` agree).
public enum SweepRunState: Sendable, Equatable {
  /// No folder, or an empty one: the run starts.
  case missing
  /// Files but no checkpoint (stopped before its first one): the run starts over
  /// (`--force` removes only the run's own files).
  case unstarted
  /// A checkpoint and no completed or diverged summary (interrupted, failed, or
  /// killed without a summary): the run resumes.
  case resumable(RunStatus?)
  /// completed or diverged: the run is finished and never run again.
  case finished(RunStatus)

  /// What the sweep does with a run in this state.
  public var action: SweepAction {
    switch self {
    case .missing: .start
    case .unstarted: .restart
    case .resumable: .resume
    case .finished: .skip
    }
  }
}

public enum SweepAction: String, Sendable {
  case start, restart, resume, skip
}

/// A sweep folder: DIR/sweep.json, DIR/runs/… (the run folders), DIR/logs/<index>.log
/// (each run's `aeos train` output, every attempt appended, with a line
/// "[aeos sweep] exit S" after each), DIR/locks/<index>.lock (held while the run is
/// being made, by whichever process makes it) and DIR/slurm/ (the job script and the
/// tasks' logs).
public struct SweepFolder: Sendable {
  public let path: String
  public let file: SweepFile

  public init(path: String, file: SweepFile) {
    self.path = path
    self.file = file
  }

  public static func open(_ path: String) throws -> SweepFolder {
    SweepFolder(path: path, file: try SweepFile.open(sweep: path))
  }

  public func join(_ parts: String...) -> String {
    parts.reduce(path) { ($0 as NSString).appendingPathComponent($1) }
  }

  public func runFolder(_ run: SweepRun) -> String { join(run.folder) }
  public func logFile(_ run: SweepRun) -> String { join("logs", "\(run.index).log") }
  public func lockFile(_ run: SweepRun) -> String { join("locks", "\(run.index).lock") }

  /// The run at `index`.
  /// - Throws: `SweepError` for an index outside 0…N−1.
  public func run(_ index: Int) throws -> SweepRun {
    guard file.runs.indices.contains(index) else {
      throw SweepError("invalid --index \(index): the sweep in \(path) has runs 0…\(file.runs.count - 1)")
    }
    return file.runs[index]
  }

  public func state(of run: SweepRun) -> SweepRunState {
    let dir = runFolder(run)
    let fm = FileManager.default
    let contents = (try? fm.contentsOfDirectory(atPath: dir)) ?? []
    if contents.isEmpty { return .missing }
    guard let folder = try? RunFolder.open(at: dir) else { return .unstarted }
    let status = folder.summaryStatus()
    if let status, status == .completed || status == .diverged { return .finished(status) }
    return folder.exists(RunFolder.checkpoint) ? .resumable(status) : .unstarted
  }

  /// The `aeos train` arguments that carry out `action` for `run`.
  public func trainArguments(_ run: SweepRun, _ action: SweepAction) -> [String] {
    let out = runFolder(run)
    switch action {
    case .resume: return ["train", "--out", out, "--resume"]
    case .restart: return ["train", "--out", out, "--force"] + run.arguments
    case .start, .skip: return ["train", "--out", out] + run.arguments
    }
  }

  // MARK: Logs

  /// The marker appended to a run's log after each attempt.
  static let exitMarker = "[aeos sweep] exit "

  /// What the run's log says about its last attempt: its exit status (nil while none
  /// has ended) and the last line that starts with "Error:" in that attempt.
  public func lastAttempt(_ run: SweepRun) -> (exitStatus: Int32?, error: String?) {
    guard let data = FileManager.default.contents(atPath: logFile(run)) else { return (nil, nil) }
    let lines = String(decoding: data.suffix(1 << 16), as: UTF8.self).split(separator: "\n").map(String.init)
    guard let end = lines.lastIndex(where: { $0.hasPrefix(Self.exitMarker) }) else { return (nil, nil) }
    let status = Int32(lines[end].dropFirst(Self.exitMarker.count).prefix { $0 != " " })
    let begin = lines[..<end].lastIndex(where: { $0.hasPrefix("[aeos sweep] run ") }) ?? 0
    let error = lines[begin..<end].last { $0.hasPrefix("Error:") }
    return (status, error)
  }

  // MARK: Status

  /// One run's state for `aeos sweep status`.
  public enum Standing: String, Sendable {
    case done, running, failed, pending
  }

  public struct RunReport: Sendable {
    public var run: SweepRun
    public var standing: Standing
    public var state: SweepRunState
    /// For a failed run: summary.json's `stop_reason`, or the last error of its log.
    public var error: String?
  }

  /// Each run's standing: done (completed or diverged), running (its lock is held by
  /// a live process), failed (summary `failed`, or the last attempt exited with an
  /// error and left no finished run), pending (everything else: never started,
  /// queued, interrupted — the next invocation resumes it).
  public func report() -> [RunReport] {
    file.runs.map { run in
      let state = state(of: run)
      if case .finished = state { return RunReport(run: run, standing: .done, state: state) }
      if SweepLock.isHeld(lockFile(run)) { return RunReport(run: run, standing: .running, state: state) }
      if case .resumable(.failed?) = state {
        let reason = try? RunFolder.open(at: runFolder(run)).stopReason()
        return RunReport(run: run, standing: .failed, state: state, error: reason ?? lastAttempt(run).error)
      }
      let last = lastAttempt(run)
      if let s = last.exitStatus, ![0, 3, 130, 143].contains(s) {
        return RunReport(run: run, standing: .failed, state: state, error: last.error ?? "aeos train exited with status \(s)")
      }
      return RunReport(run: run, standing: .pending, state: state)
    }
  }
}

extension RunFolder {
  /// summary.json's `stop_reason`, if there is a summary.
  func stopReason() -> String? {
    guard let data = try? read(Self.summary),
      let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
    else { return nil }
    return object["stop_reason"] as? String
  }
}

/// An exclusive lock on a file, held while a run is being made and released when the
/// holder closes it or dies. It is an open-file-description record lock (Linux's
/// F_OFD_SETLK, which NFS supports like any record lock): unlike a classic POSIX
/// lock it is not dropped when the same process opens and closes the file elsewhere
/// (as `isHeld` does), and two descriptions conflict even within one process.
public final class SweepLock {
  private let fd: Int32

  private init(fd: Int32) { self.fd = fd }

  deinit { close(fd) }

  // <fcntl.h> defines these only under _GNU_SOURCE; the values are Linux's ABI.
  static let setLock: Int32 = 37  // F_OFD_SETLK
  static let getLock: Int32 = 36  // F_OFD_GETLK

  static func wholeFileWriteLock() -> flock {
    var l = flock()
    l.l_type = Int16(F_WRLCK)
    l.l_whence = Int16(SEEK_SET)
    l.l_start = 0
    l.l_len = 0
    l.l_pid = 0
    return l
  }

  /// Takes the lock at `path` (creating the file and its folder), or nil when it is
  /// held already.
  /// - Throws: `SweepError` when the file cannot be made or locked.
  public static func acquire(_ path: String) throws -> SweepLock? {
    let dir = (path as NSString).deletingLastPathComponent
    do { try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) } catch {
      throw SweepError("cannot create \(dir): \(error.localizedDescription)")
    }
    let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
    guard fd >= 0 else { throw SweepError("cannot open the lock file \(path): \(String(cString: strerror(errno)))") }
    var l = wholeFileWriteLock()
    guard fcntl(fd, setLock, &l) == 0 else {
      let e = errno
      close(fd)
      if e == EAGAIN || e == EACCES { return nil }
      throw SweepError("cannot lock \(path): \(String(cString: strerror(e)))")
    }
    return SweepLock(fd: fd)
  }

  /// Whether the lock at `path` is held (by any process, this one included).
  public static func isHeld(_ path: String) -> Bool {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { return false }
    defer { close(fd) }
    var l = wholeFileWriteLock()
    guard fcntl(fd, getLock, &l) == 0 else { return false }
    return l.l_type != Int16(F_UNLCK)
  }
}
