import CBLASRuntime
import COpenBLAS
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What BLAS library this process actually runs on, and its threading.
///
/// GSL's pkg-config file on Debian also links `gslcblas`, GSL's slow reference
/// CBLAS, which exports the same `cblas_*` symbols as OpenBLAS. Whichever library
/// the dynamic linker finds first wins, silently; `cblasLibraryPath` tells which.
public enum BLASInfo {
  /// The path of the shared library that `cblas_dgemm`, as called by `BLAS.gemm`,
  /// resolves to at run time (found with `dladdr` on the function's address),
  /// e.g. "/usr/lib/x86_64-linux-gnu/openblas-pthread/libopenblas.so.0"; `nil` if
  /// the loader cannot say.
  public static var cblasLibraryPath: String? {
    let f: @convention(c) (
      CBLAS_ORDER, CBLAS_TRANSPOSE, CBLAS_TRANSPOSE, blasint, blasint, blasint, Double,
      UnsafePointer<Double>?, blasint, UnsafePointer<Double>?, blasint, Double,
      UnsafeMutablePointer<Double>?, blasint
    ) -> Void = cblas_dgemm
    return libraryPath(containing: unsafeBitCast(f, to: UnsafeRawPointer.self))
  }

  /// The path of the shared library that `cblas_sgemm` (single precision)
  /// resolves to; see `cblasLibraryPath`.
  public static var cblasSingleLibraryPath: String? {
    let f: @convention(c) (
      CBLAS_ORDER, CBLAS_TRANSPOSE, CBLAS_TRANSPOSE, blasint, blasint, blasint, Float,
      UnsafePointer<Float>?, blasint, UnsafePointer<Float>?, blasint, Float,
      UnsafeMutablePointer<Float>?, blasint
    ) -> Void = cblas_sgemm
    return libraryPath(containing: unsafeBitCast(f, to: UnsafeRawPointer.self))
  }

  /// The path of the shared library that LAPACK's `dgeev_` (behind `Eigen`)
  /// resolves to in this process, e.g. ".../openblas-pthread/liblapack.so.3";
  /// reference LAPACK here would be correct but slow.
  public static var lapackLibraryPath: String? { libraryPath(ofSymbol: "dgeev_") }

  /// The path of the shared library that defines the C symbol `name` in the
  /// process's global lookup scope (`dlsym(RTLD_DEFAULT, name)`), or `nil` if no
  /// loaded library defines it.
  public static func libraryPath(ofSymbol name: String) -> String? {
    guard let address = dlsym(UnsafeMutableRawPointer(bitPattern: 0), name) else { return nil }
    return libraryPath(containing: UnsafeRawPointer(address))
  }

  /// OpenBLAS's build description (`openblas_get_config()`), e.g.
  /// "OpenBLAS 0.3.21 DYNAMIC_ARCH NO_AFFINITY Haswell MAX_THREADS=64".
  public static var openBLASConfig: String? {
    openblas_get_config().map { String(cString: $0) }
  }

  /// The number of threads OpenBLAS uses for one call (`openblas_get_num_threads()`).
  public static var threads: Int { Int(openblas_get_num_threads()) }

  /// Sets the number of threads OpenBLAS uses (`openblas_set_num_threads`);
  /// OpenBLAS caps it at the maximum it was built for (1 for a serial build).
  /// Process-wide: call it before starting concurrent BLAS work, not during.
  public static func setThreads(_ n: Int) {
    precondition(n >= 1, "BLAS thread count must be at least 1, got \(n)")
    openblas_set_num_threads(Int32(clamping: n))
  }

  /// Runs `body` with OpenBLAS single-threaded, then restores the thread count.
  ///
  /// For data-parallel work: threads of the caller's own that each make BLAS calls
  /// on separate data (one GEMM per thread at a time, no hand-off between OpenBLAS's
  /// threads) beat one multi-threaded GEMM at a time on thin shapes. Process-wide
  /// and nestable: the count drops to 1 when the first such scope opens and comes
  /// back when the last one closes; BLAS calls made elsewhere meanwhile also run on
  /// one thread.
  public static func withSingleThreadedBLAS<R>(_ body: () throws -> R) rethrows -> R {
    serialScopes.withLock { state in
      if state.depth == 0 {
        state.saved = Int(openblas_get_num_threads())
        if state.saved != 1 { openblas_set_num_threads(1) }
      }
      state.depth += 1
    }
    defer {
      serialScopes.withLock { state in
        state.depth -= 1
        if state.depth == 0 && state.saved != 1 { openblas_set_num_threads(Int32(clamping: state.saved)) }
      }
    }
    return try body()
  }

  private static let serialScopes = Mutex<(depth: Int, saved: Int)>((0, 1))

  /// The CPU kernel family OpenBLAS selected (`openblas_get_corename()`), e.g.
  /// "Haswell".
  public static var cpuName: String? {
    openblas_get_corename().map { String(cString: $0) }
  }

  /// OpenBLAS's kernel choice and whether it was mended at load.
  public struct CoreSelection: Sendable, Equatable {
    /// OpenBLAS's own choice at load, e.g. "Prescott" (its fallback for a CPU its
    /// tables do not know), or the user's `OPENBLAS_CORETYPE`.
    public var detected: String
    /// The kernels in use, e.g. "SkylakeX".
    public var selected: String
    /// Whether `selected` replaced `detected` (see below).
    public var replaced: Bool
    /// What the CPU and OS support: "avx512", "avx2", "avx", "sse" (or "other" off x86).
    public var cpuLevel: String
    /// Whether the idle pool threads' spin (sched_yield after a multi-threaded call)
    /// was shortened at load from OpenBLAS's 2^28 cycles to 2^18 (see below).
    public var threadSpinShortened: Bool = false

    /// "SkylakeX" or "SkylakeX (OpenBLAS chose Prescott for this CPU; replaced at load)".
    public var summary: String {
      replaced ? "\(selected) (OpenBLAS chose \(detected) for this CPU; replaced at load)" : selected
    }
  }

  /// Which kernels OpenBLAS runs in this process.
  ///
  /// A DYNAMIC_ARCH OpenBLAS (Debian's) that does not know the CPU (Debian 12's
  /// 0.3.21 on a recent Xeon, for one) falls back to its SSE3 "Prescott" kernels,
  /// silently, 5–9× slower on a CPU with AVX-512. The C target `CBLASRuntime`
  /// checks this once at load, before `main`: where OpenBLAS fell back but the CPU
  /// supports AVX2 + FMA or AVX-512, it re-runs OpenBLAS's selection for Haswell or
  /// SkylakeX kernels. A user's own `OPENBLAS_CORETYPE` is always kept.
  ///
  /// It also shortens how long OpenBLAS's idle pool threads spin after a
  /// multi-threaded call (2^28 cycles, about 0.1 s, by default) to 2^18 cycles: a
  /// spinning pool thread takes a core from the engine's own workers, which run
  /// single-threaded BLAS (`withSingleThreadedBLAS`). A user's own
  /// `OPENBLAS_THREAD_TIMEOUT` is kept.
  public static var coreSelection: CoreSelection {
    let info = aeos_blas_core_info()
    func text(_ p: UnsafePointer<CChar>?) -> String { p.map { String(cString: $0) } ?? "" }
    return CoreSelection(
      detected: text(info.detected), selected: text(info.selected), replaced: info.replaced != 0, cpuLevel: text(info.cpu_level),
      threadSpinShortened: info.thread_spin_shortened != 0)
  }

  /// The file of the loaded object that contains `address`.
  ///
  /// On Linux this reads the process's memory map, `/proc/self/maps` (whose lines
  /// are "start-end perms offset dev inode path"), because glibc declares
  /// `dladdr` only under `_GNU_SOURCE`, which Swift's Glibc module is not built
  /// with; elsewhere it asks `dladdr`.
  static func libraryPath(containing address: UnsafeRawPointer) -> String? {
    #if os(Linux)
    let target = UInt(bitPattern: address)
    guard let file = fopen("/proc/self/maps", "r") else { return nil }
    defer { fclose(file) }
    var line: UnsafeMutablePointer<CChar>? = nil
    var capacity = 0
    defer { free(line) }
    while getline(&line, &capacity, file) > 0 {
      guard let line else { break }
      let text = String(cString: line)
      let fields = text.split(separator: " ", omittingEmptySubsequences: true)
      guard fields.count >= 6 else { continue }
      let range = fields[0].split(separator: "-")
      guard range.count == 2, let start = UInt(range[0], radix: 16), let end = UInt(range[1], radix: 16),
        start <= target, target < end
      else { continue }
      let path = fields[5...].joined(separator: " ").trimmingSuffix("\n")
      return path.hasPrefix("/") ? path : nil
    }
    return nil
    #else
    var info = Dl_info()
    guard dladdr(address, &info) != 0, let name = info.dli_fname else { return nil }
    return String(cString: name)
    #endif
  }
}

extension String {
  fileprivate func trimmingSuffix(_ suffix: String) -> String {
    hasSuffix(suffix) ? String(dropLast(suffix.count)) : self
  }
}
