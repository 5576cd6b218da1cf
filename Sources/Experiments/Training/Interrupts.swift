#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// SIGINT and SIGTERM, caught so a training run can checkpoint and flush before it
/// exits (Ctrl-C, `kill`, a Slurm time limit). The handler only records the signal;
/// the training loop looks at it between steps. A second signal of the same kind
/// ends the process at once (the handler restores the default action).
public enum Interrupts {
  /// The signal received (SIGINT or SIGTERM), or 0.
  public static var received: Int32 { pendingSignal.load(ordering: .relaxed) }

  /// Installs the handlers (idempotent) and forgets any earlier signal.
  public static func install() {
    pendingSignal.store(0, ordering: .relaxed)
    signal(SIGINT, recordSignal)
    signal(SIGTERM, recordSignal)
    // A process can start with these signals blocked (a parent's mask is inherited
    // through fork and exec; a test runner blocks them): unblock them on this thread, so
    // the handlers run at all.
    var set = sigset_t()
    sigemptyset(&set)
    sigaddset(&set, SIGINT)
    sigaddset(&set, SIGTERM)
    pthread_sigmask(SIG_UNBLOCK, &set, nil)
  }

  /// Restores the default actions.
  public static func uninstall() {
    signal(SIGINT, SIG_DFL)
    signal(SIGTERM, SIG_DFL)
  }

  /// "SIGINT", "SIGTERM".
  public static func name(_ signal: Int32) -> String {
    signal == SIGINT ? "SIGINT" : signal == SIGTERM ? "SIGTERM" : "signal \(signal)"
  }

  /// The conventional exit status of a run ended by a signal: 128 + its number
  /// (130 for SIGINT, 143 for SIGTERM).
  public static func exitStatus(_ signal: Int32) -> Int32 { 128 + signal }
}

private let pendingSignal = Atomic<Int32>(0)

/// Records the signal and restores the default action (async-signal-safe: a
/// lock-free atomic store and `signal`).
private func recordSignal(_ sig: Int32) {
  pendingSignal.store(sig, ordering: .relaxed)
  signal(sig, SIG_DFL)
}
