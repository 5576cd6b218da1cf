#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// A child process (an `aeos train` run of a sweep) started with `posix_spawn`,
/// its output appended to a log file, polled without blocking.
public final class ChildProcess {
  public let pid: pid_t
  /// The exit status once it has ended: its exit code, or 128 + the signal that
  /// killed it.
  public private(set) var exitStatus: Int32?

  private init(pid: pid_t) { self.pid = pid }

  /// Starts `executable` with `arguments` (argv[1…]) and the environment of this
  /// process changed by `environment`; stdin is /dev/null, stdout and stderr are
  /// appended to `log`.
  /// - Throws: `SweepError` when the log cannot be opened or the program not started.
  public static func spawn(_ executable: String, _ arguments: [String], environment: [String: String], log: String) throws -> ChildProcess {
    let fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
    guard fd >= 0 else { throw SweepError("cannot open the log \(log): \(String(cString: strerror(errno)))") }
    defer { close(fd) }
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
    posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))

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
