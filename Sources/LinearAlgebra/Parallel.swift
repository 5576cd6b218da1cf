import Dispatch
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Data-parallel loops on the cores, for work whose iterations touch disjoint memory
/// (through buffer pointers, say), which Swift's `Sendable` checking cannot see.
///
/// This is the one place in the toolkit that carries a non-`Sendable` closure across
/// threads: callers pass an ordinary closure and promise that concurrent iterations
/// write to disjoint memory and only read what is shared. Every call returns only
/// when all its iterations have finished, so nothing escapes.
public enum Parallel {
  /// Runs `body(i)` for every i in `0 ..< count`, concurrently on the available cores
  /// (`DispatchQueue.concurrentPerform`); `count` ≤ 1 runs on the calling thread.
  /// - Precondition: iterations write to disjoint memory.
  public static func forEach(_ count: Int, _ body: (Int) -> Void) {
    guard count > 1 else {
      if count == 1 { body(0) }
      return
    }
    withoutActuallyEscaping(body) { escapable in
      let carrier = Carrier(body: escapable)
      DispatchQueue.concurrentPerform(iterations: count) { carrier.body($0) }
    }
  }

  /// Splits `0 ..< n` into `chunks` contiguous ranges of equal size (±1) and runs
  /// `body` on each, concurrently; one chunk (or n = 0) runs on the calling thread.
  /// Chunk k is `(k·n/chunks) ..< ((k+1)·n/chunks)`.
  /// - Precondition: the ranges' work writes to disjoint memory.
  public static func forEachChunk(_ n: Int, chunks: Int, _ body: (Range<Int>) -> Void) {
    let k = max(1, min(chunks, n))
    if k == 1 {
      body(0..<n)
      return
    }
    forEach(k) { c in body((c * n / k)..<((c + 1) * n / k)) }
  }

  /// Online processor count (at least 1), read once.
  public static let coreCount: Int = max(1, _onlineProcessorCount())

  /// Carries the closure into `concurrentPerform`: sound because the iterations
  /// touch disjoint memory (the caller's promise) and the closure does not outlive
  /// the call (`withoutActuallyEscaping`).
  private struct Carrier: @unchecked Sendable {
    let body: (Int) -> Void
  }
}

private func _onlineProcessorCount() -> Int { Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))) }
