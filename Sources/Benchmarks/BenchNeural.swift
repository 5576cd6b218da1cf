import Curvature
import Experiments
import Foundation
import LinearAlgebra

/// The neural-engine part of `aeos bench`: full-batch loss + gradient and
/// Hessian-vector product of an MLP on Fashion-MNIST, beside the same run's BLAS
/// GEMM peak.
///
/// FLOPs are counted as the GEMMs actually needed (DESIGN.md): forward 2·n·Σ in·out,
/// weight gradients 2·n·Σ in·out, input gradients 2·n·Σ in·out for every layer but
/// the first. Times are medians of repeated runs after warm-up, all in one process.
public enum NeuralBench {
  public struct Options: Sendable {
    public var dtype: DType
    public var n: Int
    public var widths: [Int]
    public var chunkSize: Int?
    public var repeats: Int
    /// Worker threads (`Objective.threads`); nil: `Objective.defaultThreads`.
    public var threads: Int?
    public init(
      dtype: DType = .float32, n: Int = 5000, widths: [Int] = [784, 200, 200, 200, 10], chunkSize: Int? = nil, repeats: Int = 10,
      threads: Int? = nil
    ) {
      self.threads = threads
      self.dtype = dtype
      self.n = n
      self.widths = widths
      self.chunkSize = chunkSize
      self.repeats = repeats
    }
  }

  public struct Report: Sendable, Equatable {
    public var workload: String
    public var dtype: DType
    /// Same-run GEMM 1024³ rate (sgemm for float32, dgemm for float64), GFLOP/s: the
    /// median of GEMMs timed between the gradient runs, on OpenBLAS's threads (or
    /// `peakConcurrency` single-threaded GEMMs at once).
    public var blasPeakGflops: Double
    /// OpenBLAS's kernels, e.g. "SkylakeX" (`BLASInfo.CoreSelection.summary`).
    public var blasCore: String = ""
    /// OpenBLAS threads for a single GEMM.
    public var blasThreads: Int = 1
    /// Single-threaded GEMMs run at once for the peak (when OpenBLAS has fewer
    /// threads than the engine has workers), or 1: one GEMM on OpenBLAS's threads.
    public var peakConcurrency: Int = 1
    public var gradientMs: Double
    public var hvpMs: Double
    /// FLOPs of the gradient's GEMMs / (gradient time · BLAS peak): the median,
    /// over the timed repetitions, of each gradient's rate over the rate of the
    /// 1024³ GEMM timed right before it (pairs, so a neighbour's load that comes and
    /// goes during the run affects both sides of a ratio alike).
    public var gradientFractionOfPeak: Double
    /// Peak resident memory while computing HVPs (VmHWM after resetting it through
    /// /proc/self/clear_refs; the whole process's peak where that is not allowed), MiB.
    public var hvpPeakRssMB: Double?
    /// Whether `hvpPeakRssMB` isolates the HVP (true) or is the process peak.
    public var hvpPeakRssIsolated: Bool
    public var gradientGflop: Double
    /// GEMM FLOPs of one cold Hessian-vector product (forward-over-reverse: 3 per
    /// first-layer weight and 8 per other weight, times 2·n; the gradient has 2 and 3).
    public var hvpGflop: Double = .nan
    /// Fastest single run of each (less sensitive to other processes than the median).
    public var gradientMinMs: Double
    public var hvpMinMs: Double
    /// An HVP at the same parameters as the previous one (the forward pass is reused), ms.
    public var hvpWarmMs: Double?
    /// 20 Lanczos iterations (20 HVPs plus reorthogonalisation) on the workload's Hessian, ms.
    public var lanczos20Ms: Double?
    /// One full-batch Adam step: loss + gradient, then the update, ms.
    public var adamStepMs: Double?
    public var hvpToGradient: Double { hvpMs / gradientMs }

    /// All `aeos bench` JSON keys of DESIGN.md, in order; keys this component does not
    /// measure come from `extra` (null when absent).
    public func jsonObject(extra: [String: Double?] = [:]) -> [(String, Double?, String?)] {
      func e(_ k: String) -> (String, Double?, String?) { (k, extra[k] ?? nil, nil) }
      return [
        ("workload", nil, workload), ("dtype", nil, dtype.rawValue), ("blas_core", nil, blasCore), ("blas_threads", Double(blasThreads), nil),
        ("blas_peak_concurrent_gemms", Double(peakConcurrency), nil),
        ("blas_peak_gflops", blasPeakGflops, nil),
        ("gradient_ms", gradientMs, nil), ("hvp_ms", hvpMs, nil), ("hvp_warm_ms", hvpWarmMs, nil), ("lanczos20_ms", lanczos20Ms, nil), ("adam_step_ms", adamStepMs, nil),
        ("gradient_fraction_of_peak", gradientFractionOfPeak, nil), ("hvp_peak_rss_mb", hvpPeakRssMB, nil),
        e("derive_builtins_ms"), e("quadratic_adam_1e6_ms"), e("tracked_run_s"),
      ]
    }

    /// One JSON document (numbers at full double precision, unmeasured keys null).
    public func json(extra: [String: Double?] = [:]) -> String {
      let fields = jsonObject(extra: extra).map { key, number, text -> String in
        let value: String
        if let text { value = "\"\(text.replacingOccurrences(of: "\"", with: "\\\""))\"" } else if let number, number.isFinite {
          value = "\(number)"
        } else {
          value = "null"
        }
        return "  \"\(key)\": \(value)"
      }
      return "{\n" + fields.joined(separator: ",\n") + "\n}"
    }

    /// Human-readable summary.
    public var text: String {
      func f(_ x: Double, _ digits: Int = 1) -> String { String(format: "%.\(digits)f", x) }
      var lines = [
        "workload: \(workload)",
        "dtype: \(dtype.rawValue)",
        "BLAS: OpenBLAS \(blasCore) kernels, \(blasThreads) thread\(blasThreads == 1 ? "" : "s")",
        "BLAS GEMM 1024³ peak (same run, timed between the gradients\(peakConcurrency > 1 ? ", \(peakConcurrency) single-threaded GEMMs at once" : "")): \(f(blasPeakGflops)) GFLOP/s",
        "loss + gradient: \(f(gradientMs, 2)) ms (min \(f(gradientMinMs, 2)))  (\(f(gradientGflop, 2)) GFLOP of GEMMs → \(f(gradientGflop / gradientMs * 1000)) GFLOP/s, \(f(100 * gradientFractionOfPeak))% of peak, median of paired ratios)",
        "Hessian-vector product (cold, new parameters): \(f(hvpMs, 2)) ms (min \(f(hvpMinMs, 2)))  (\(f(hvpToGradient, 2))× the gradient; its GEMMs are \(f(hvpGflop / gradientGflop, 2))× the gradient's FLOPs → \(f(hvpGflop / hvpMs * 1000)) GFLOP/s)",
      ]
      if let w = hvpWarmMs { lines.append("Hessian-vector product at the previous parameters (forward pass reused, as in Lanczos): \(f(w, 2)) ms (\(f(w / gradientMs, 2))× the gradient)") }
      if let l = lanczos20Ms { lines.append("Lanczos, 20 iterations on the Hessian: \(f(l, 1)) ms") }
      if let a = adamStepMs { lines.append("full-batch Adam step (gradient + update): \(f(a, 2)) ms") }
      if let rss = hvpPeakRssMB {
        lines.append("peak resident memory during HVPs: \(f(rss)) MiB\(hvpPeakRssIsolated ? "" : " (process peak; /proc/self/clear_refs not writable)")")
      }
      return lines.joined(separator: "\n")
    }
  }

  /// Runs the workload. Throws if Fashion-MNIST is missing (no synthetic fallback).
  public static func run(_ o: Options) throws -> Report {
    switch o.dtype {
    case .float32: return try run(o, Float.self)
    case .float64: return try run(o, Double.self)
    }
  }

  static func run<T: BLASScalar & OptimizerScalar>(_ o: Options, _: T.Type) throws -> Report {
    guard o.widths.count >= 2, o.widths.first == 784 else {
      throw NeuralEngineError.invalidArgument(
        name: "--widths", value: o.widths.map(String.init).joined(separator: ","), expected: "784 first (Fashion-MNIST pixels), then layer widths")
    }
    guard o.widths.last == 10 else {
      throw NeuralEngineError.invalidArgument(name: "--widths", value: o.widths.map(String.init).joined(separator: ","), expected: "10 last (classes)")
    }
    let (train, _) = try FashionMNIST.load(n: o.n, as: T.self)
    let model = try MLP.make(widths: o.widths, activation: .tanh)
    let chunkSize = o.chunkSize ?? Objective<T>.defaultChunkSize
    let threads = o.threads ?? Objective<T>.defaultThreads
    let objective = try Objective(model: model, data: train, loss: .mse, chunkSize: chunkSize, threads: threads)
    let theta: [T] = model.initialParameters(seed: 0)
    var v: [T] = model.initialParameters(seed: 1)
    for i in v.indices where v[i] == 0 { v[i] = 1e-2 }

    // GEMM FLOPs per layer, 2·n·in·out each: the gradient needs 2 of them for the
    // first layer (forward, weight gradient) and 3 for the others (+ input gradient);
    // the forward-over-reverse HVP needs 3 and 8.
    var gradientFlops = 0.0
    var hvpFlops = 0.0
    for (i, pair) in zip(o.widths, o.widths.dropFirst()).enumerated() {
      let f = 2 * Double(o.n) * Double(pair.0 * pair.1)
      gradientFlops += i == 0 ? 2 * f : 3 * f
      hvpFlops += i == 0 ? 3 * f : 8 * f
    }
    let gflop = gradientFlops / 1e9

    // Gradients and 1024³ GEMMs alternate, so that each gradient has a peak
    // measured right before it under the same load from other processes.
    let peakGEMM = GEMMTimer<T>(size: 1024)
    // OpenBLAS on fewer threads than the engine has workers (OPENBLAS_NUM_THREADS=1,
    // say): the peak is that many single-threaded GEMMs at once, as the workers run.
    let workers = objective.workers
    let peakConcurrency = BLASInfo.threads < workers ? workers : 1
    var gradient = [T](repeating: 0, count: model.parameterCount)
    var times: [Double] = []
    var peaks: [Double] = []
    var fractions: [Double] = []
    for r in 0..<(o.repeats + 2) {
      let peak = peakGEMM.gflops(concurrent: peakConcurrency)
      let t = try Timing.milliseconds { _ = try objective.lossAndGradient(parameters: theta, gradient: &gradient) }
      if r >= 2 {
        times.append(t)
        peaks.append(peak)
        fractions.append(gflop / (t / 1000) / peak)
      }
    }
    let gradientMs = median(times)
    let gradientMin = times.min() ?? .nan
    let peak = median(peaks)
    blackHole(gradient)

    let isolated = resetPeakRSS()
    var hv = [T](repeating: 0, count: model.parameterCount)
    times = []
    // Cold HVPs: alternate between two parameter vectors so that no product can
    // reuse the previous forward pass — this is `hvp_ms`, the cost of one HVP.
    var theta2 = theta
    theta2[0] += 1e-3
    var round = 0
    times = try Timing.samples(repeats: o.repeats) {
      let p = round % 2 == 0 ? theta : theta2
      round += 1
      try objective.hessianVectorProduct(parameters: p, vector: v, into: &hv)
    }
    let hvpMs = median(times)
    let hvpMin = times.min() ?? .nan
    // Warm HVPs: repeated at one θ, as Lanczos makes them (the forward pass is reused).
    let hvpWarmMs = try Timing.medianMilliseconds(repeats: o.repeats) {
      try objective.hessianVectorProduct(parameters: theta, vector: v, into: &hv)
    }
    let rss = peakRSSMegabytes()
    blackHole(hv)

    let workload =
      "Fashion-MNIST n = \(o.n), MLP \(o.widths.map(String.init).joined(separator: "-")) tanh, MSE, chunks of \(chunkSize)"
      + (workers > 1 ? ", \(workers) workers with single-threaded BLAS" : ", one worker with multi-threaded BLAS")
    // Lanczos: 20 iterations on the Hessian operator (vectors in Double, HVPs in T).
    let op = SymmetricOperator(dimension: model.parameterCount) { u in
      let hu = try objective.hessianVectorProduct(parameters: theta, vector: u.map { T($0) })
      return hu.map { Double($0) }
    }
    let lanczosMs = try Timing.medianMilliseconds(repeats: 3, warmups: 0) {
      blackHole(try Lanczos(maxIterations: 20, tolerance: 0).top(1, of: op))
    }

    // Adam: one full-batch step (gradient, then the update) on flat parameters with block shapes.
    let adam = try Optimizer(.adam, Hyperparameters(lr: 1e-3), layout: model.layout)
    var state = try adam.initialState(as: T.self)
    var params = theta
    let adamMs = try Timing.medianMilliseconds(repeats: o.repeats) {
      _ = try objective.lossAndGradient(parameters: params, gradient: &gradient)
      adam.step(parameters: &params, gradient: gradient, state: &state)
    }
    blackHole(params)

    return Report(
      workload: workload, dtype: o.dtype, blasPeakGflops: peak, blasCore: BLASInfo.coreSelection.summary, blasThreads: BLASInfo.threads, peakConcurrency: peakConcurrency,
      gradientMs: gradientMs, hvpMs: hvpMs, gradientFractionOfPeak: median(fractions), hvpPeakRssMB: rss, hvpPeakRssIsolated: isolated,
      gradientGflop: gflop, hvpGflop: hvpFlops / 1e9, gradientMinMs: gradientMin, hvpMinMs: hvpMin, hvpWarmMs: hvpWarmMs, lanczos20Ms: lanczosMs, adamStepMs: adamMs)
  }

  /// Times size³ GEMMs on fixed random operands.
  final class GEMMTimer<T: BLASScalar> {
    let size: Int
    private let a: [T]
    private let b: [T]
    /// One output per concurrent GEMM, allocated once (nothing is allocated while timing).
    private var outputs: [UnsafeMutableBufferPointer<T>] = []

    init(size: Int) {
      self.size = size
      var rng = SeededGenerator(seed: 42)
      a = (0..<(size * size)).map { _ in T(rng.nextUniform() - 0.5) }
      b = (0..<(size * size)).map { _ in T(rng.nextUniform() - 0.5) }
    }

    deinit { for o in outputs { o.deallocate() } }

    /// GFLOP/s of one GEMM on OpenBLAS's own threads, timed now; with `concurrent`
    /// > 1, of that many single-threaded GEMMs run at once on threads of ours (the
    /// machine's peak as the engine's workers use it, when OpenBLAS has fewer threads
    /// than the engine has workers).
    func gflops(concurrent: Int = 1) -> Double {
      let n = size
      let k = max(concurrent, 1)
      while outputs.count < k {
        let o = UnsafeMutableBufferPointer<T>.allocate(capacity: n * n)
        o.initialize(repeating: 0)
        outputs.append(o)
      }
      let t0 = DispatchTime.now().uptimeNanoseconds
      a.withUnsafeBufferPointer { pa in
        b.withUnsafeBufferPointer { pb in
          if k == 1 {
            BLAS.gemm(m: n, n: n, k: n, a: pa, b: pb, c: outputs[0])
          } else {
            // Disjoint outputs, shared read-only operands.
            let outputs = self.outputs
            BLASInfo.withSingleThreadedBLAS {
              Parallel.forEach(k) { i in BLAS.gemm(m: n, n: n, k: n, a: pa, b: pb, c: outputs[i]) }
            }
          }
        }
      }
      let t1 = DispatchTime.now().uptimeNanoseconds
      blackHole(outputs[0][0])
      return Double(k) * 2 * Double(n * n * n) / (Double(t1 - t0) / 1e9) / 1e9
    }
  }

  /// Resets the kernel's resident-set high-water mark (Linux ≥ 4.0); false if not possible.
  private static func resetPeakRSS() -> Bool {
    guard let h = FileHandle(forWritingAtPath: "/proc/self/clear_refs") else { return false }
    defer { try? h.close() }
    do {
      try h.write(contentsOf: Array("5".utf8))
      return true
    } catch { return false }
  }

  /// VmHWM from /proc/self/status in MiB, or nil where unavailable.
  private static func peakRSSMegabytes() -> Double? {
    guard let s = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return nil }
    for line in s.split(separator: "\n") where line.hasPrefix("VmHWM:") {
      let parts = line.split(separator: " ", omittingEmptySubsequences: true)
      if parts.count >= 2, let kb = Double(parts[1]) { return kb / 1024 }
    }
    return nil
  }

}
