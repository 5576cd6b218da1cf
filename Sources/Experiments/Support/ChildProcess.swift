#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// A child process started with `posix_spawn` and reaped by this process itself
/// (`waitpid`), polled without blocking: an `aeos train` run of a sweep, or a notebook
/// cell's shell.
///
/// Foundation's `Process` is not used for these because it learns that a child ended
/// from a socket the child inherits: a daemon that the child starts (a cell running
/// `scripts/slurm-local.sh start`) keeps that socket open, and `Process` then never
/// reaps the child while the daemon runs.
public final class ChildProcess {
  public let pid: pid_t
  /// The exit status once it has ended: its exit code, or 128 + the signal that
  /// killed it.
  public private(set) var exitStatus: Int32?

  private init(pid: pid_t) { self.pid = pid }

  /// Where a child's stdout and stderr go.
  public enum Output {
    /// Appended to this log file (created when missing).
    case log(String)
    /// This open file descriptor, e.g. the write end of a pipe (left open here).
    case descriptor(Int32)
  }

  /// Starts a run's `executable` with its output appended to `log` (see the general form).
  public static func spawn(_ executable: String, _ arguments: [String], environment: [String: String], log: String) throws -> ChildProcess {
    try spawn(executable, arguments, environment: environment, output: .log(log))
  }

  /// Starts `executable` with `arguments` (argv[1…]) and the environment of this
  /// process changed by `environment`; stdin is /dev/null, stdout and stderr go to
  /// `output`; as the leader of a process group of its own when `newProcessGroup` (so
  /// that it and everything it starts can be signalled at once).
  /// - Throws: `SweepError` when the log cannot be opened or the program not started.
  public static func spawn(
    _ executable: String, _ arguments: [String], environment: [String: String], output: Output,
    newProcessGroup: Bool = false
  ) throws -> ChildProcess {
    let fd: Int32
    switch output {
    case .log(let log):
      fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
      guard fd >= 0 else { throw SweepError("cannot open the log \(log): \(String(cString: strerror(errno)))") }
    case .descriptor(let d):
      fd = d
    }
    defer { if case .log = output { close(fd) } }
    closeOnExec()
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
    posix_spawn_file_actions_adddup2(&actions, fd, 1)
    posix_spawn_file_actions_adddup2(&actions, fd, 2)
    // The child starts with the default signal actions, whatever this process does
    // with them; it installs its own handlers (Interrupts).
    var attributes = posix_spawnattr_t()
    posix_spawnattr_init(&attributes)
    defer { posix_spawnattr_destroy(&attributes) }
    var defaults = sigset_t()
    sigemptyset(&defaults)
    sigaddset(&defaults, SIGINT)
    sigaddset(&defaults, SIGTERM)
    posix_spawnattr_setsigdefault(&attributes, &defaults)
    var noMask = sigset_t()
    sigemptyset(&noMask)
    posix_spawnattr_setsigmask(&attributes, &noMask)
    var flags = POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK
    if newProcessGroup {
      posix_spawnattr_setpgroup(&attributes, 0)
      flags |= POSIX_SPAWN_SETPGROUP
    }
    posix_spawnattr_setflags(&attributes, Int16(flags))

    var env = ProcessInfo.processInfo.environment
    for (k, v) in environment { env[k] = v }
    let argv = ([executable] + arguments).map { strdup($0) } + [nil]
    let envp = env.sorted { $0.key < $1.key }.map { strdup("\($0.key)=\($0.value)") } + [nil]
    defer {
      for p in argv { free(p) }
      for p in envp { free(p) }
    }
    var pid: pid_t = 0
    let rc = posix_spawn(&pid, executable, &actions, &attributes, argv, envp)
    guard rc == 0 else { throw SweepError("cannot start \(executable): \(String(cString: strerror(rc)))") }
    return ChildProcess(pid: pid)
  }

  /// Marks every open descriptor above stderr close-on-exec, so that a child gets only
  /// stdin, stdout and stderr: descriptors this process inherited (the socket by which
  /// a parent's Foundation `Process` watches it, a caller's pipes) would otherwise
  /// pass to the child and to any daemon it starts, and keep them open as long as
  /// the daemon runs. Harmless here: this process never execs.
  static func closeOnExec() {
    guard let names = try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd") else { return }
    for name in names {
      guard let fd = Int32(name), fd > 2 else { continue }
      let flags = fcntl(fd, F_GETFD)
      if flags >= 0 && flags & FD_CLOEXEC == 0 { _ = fcntl(fd, F_SETFD, flags | FD_CLOEXEC) }
    }
  }

  /// The exit status if the process has ended (reaping it), else nil.
  @discardableResult
  public func poll() -> Int32? {
    if let exitStatus { return exitStatus }
    var status: Int32 = 0
    let r = waitpid(pid, &status, WNOHANG)
    if r == pid {
      exitStatus = Self.decode(status)
    } else if r < 0 && errno == ECHILD {
      exitStatus = 1
    }
    return exitStatus
  }

  /// Waits for the process to end and returns its exit status.
  public func wait() -> Int32 {
    while poll() == nil {
      var status: Int32 = 0
      let r = waitpid(pid, &status, 0)
      if r == pid { exitStatus = Self.decode(status) } else if r < 0 && errno != EINTR { exitStatus = 1 }
    }
    return exitStatus ?? 1
  }

  /// exit code, or 128 + signal (the shell's convention).
  static func decode(_ status: Int32) -> Int32 {
    let signal = status & 0x7f
    return signal == 0 ? (status >> 8) & 0xff : 128 + signal
  }

  /// Passes SIGINT or SIGTERM on to the child, unless the child has it already.
  ///
  /// The same signal often reaches the child directly too: Ctrl-C goes to the whole
  /// foreground process group, and Slurm signals every process of a job step. An
  /// `aeos train` that receives a second SIGINT or SIGTERM ends at once without its
  /// checkpoint (Interrupts), so the signal is sent only while the child neither has
  /// it pending nor has handled it: its handler restores the default action of the
  /// signal it handled, so the child then catches the other one but not this one.
  public func forward(_ sig: Int32) {
    guard poll() == nil else { return }
    if let s = Self.signalState(pid), s.received(sig) { return }
    kill(pid, sig)
  }

  /// The pending and caught signal sets of a process, from /proc/PID/status.
  struct SignalState {
    var pending: UInt64
    var caught: UInt64

    static func bit(_ sig: Int32) -> UInt64 { 1 << UInt64(sig - 1) }

    /// Whether `sig` (SIGINT or SIGTERM) has reached the process: pending, or
    /// handled already (its handler reset to the default while the other one is
    /// still caught).
    func received(_ sig: Int32) -> Bool {
      let other = sig == SIGINT ? SIGTERM : SIGINT
      if pending & Self.bit(sig) != 0 { return true }
      return caught & Self.bit(sig) == 0 && caught & Self.bit(other) != 0
    }
  }

  static func signalState(_ pid: pid_t) -> SignalState? {
    guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
    var fields: [String: UInt64] = [:]
    for line in text.split(separator: "\n") {
      let parts = line.split(separator: ":", maxSplits: 1)
      guard parts.count == 2, ["SigPnd", "ShdPnd", "SigCgt"].contains(parts[0]) else { continue }
      fields[String(parts[0])] = UInt64(parts[1].trimmingCharacters(in: .whitespaces), radix: 16)
    }
    guard let caught = fields["SigCgt"] else { return nil }
    return SignalState(pending: (fields["SigPnd"] ?? 0) | (fields["ShdPnd"] ?? 0), caught: caught)
  }
}
