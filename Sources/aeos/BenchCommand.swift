import ArgumentParser
import Benchmarks
import Experiments
import Foundation

/// `aeos bench`: speed figures of the toolkit in one process.
struct Bench: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "bench",
    abstract: "Speed figures in one process: the neural engine against the same run's BLAS peak, the derivations, the quadratic laboratory.",
    discussion: """
      Workload: the first n Fashion-MNIST training images (standardised), an MLP with the given widths \
      and tanh, MSE loss, full batch. FLOPs count the GEMMs actually needed: forward 2·n·Σ in·out, \
      weight gradients 2·n·Σ in·out, input gradients for every layer but the first. Times are medians \
      of repeated runs after a warm-up. Needs the Debian package dataset-fashion-mnist. Also: 20 Lanczos \
      iterations on the workload's Hessian, one full-batch Adam step, the derivation of the five Table-1 \
      methods, and Adam for 1000 steps on a 10⁶-dimensional quadratic; --reference runs SymPy and NumPy \
      doing the same work, in the same run (the JAX side is benchmarks/jax_mlp.py, run by hand).
      """)

  @Flag(help: "Print one JSON document.") var json = false
  @Option(help: "float32 or float64.") var dtype: DType = .float32
  @Option(parsing: .unconditional, help: "Training examples (1...60000).") var n = 5000
  @Option(help: "Layer widths, comma-separated, 784 first and 10 last.") var widths = "784,200,200,200,10"
  @Option(name: .customLong("chunk-size"), parsing: .unconditional, help: "Examples per chunk and worker (default 500).") var chunkSize: Int?
  @Option(parsing: .unconditional, help: "Timed repetitions (after 2 warm-ups).") var repeats = 10
  @Option(parsing: .unconditional, help: "Worker threads, each on its own part of the data with single-threaded BLAS (default: one per core; 1: chunks in sequence with multi-threaded BLAS).")
  var threads: Int?

  func validate() throws {
    guard (1...60000).contains(n) else { throw ValidationError("--n \(n): expected 1...60000") }
    if let t = threads, t < 1 { throw ValidationError("--threads \(t): expected at least 1") }
    guard repeats >= 1 else { throw ValidationError("--repeats \(repeats): expected at least 1") }
    if let c = chunkSize, c < 1 { throw ValidationError("--chunk-size \(c): expected a positive integer") }
    let parts = widths.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
    guard parts.count >= 2, parts.allSatisfy({ ($0 ?? 0) > 0 }) else {
      throw ValidationError("--widths \(widths): expected positive integers separated by commas, e.g. 784,200,200,200,10")
    }
  }

  @Flag(name: .customLong("skip-tracked-run"), help: "Skip the tracked-run workload (tracked_run_s, about 30 s; null when skipped).")
  var skipTrackedRun = false

  @Flag(help: "Also run the reference implementations side by side (benchmarks/sympy_derive.py and benchmarks/adam_numpy.py; needs python3 with sympy and numpy).")
  var reference = false

  func run() throws {
    let w = widths.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
    printError("bench: neural engine (\(dtype), n = \(n))…")
    let report = try NeuralBench.run(.init(dtype: dtype, n: n, widths: w, chunkSize: chunkSize, repeats: repeats, threads: threads))
    printError("bench: theory (derive the five built-ins)…")
    let derive = try TheoryBench.deriveBuiltinsMilliseconds()
    printError("bench: quadratic laboratory (Adam, 1000 steps, n = 10⁶)…")
    let adam = try SimulateBench.quadraticAdamMilliseconds()
    var tracked: TrackedRunBench.Report?
    if !skipTrackedRun {
      printError("bench: tracked run (GD η = 0.04, 1000 steps, sharpness every 10 steps, n = 1000, 784-200-200-10)…")
      tracked = try TrackedRunBench.run()
    }
    var sympy: Double?
    var numpy: Double?
    if reference {
      printError("bench: references (SymPy, NumPy)…")
      sympy = TheoryBench.sympyDeriveMilliseconds()
      numpy = SimulateBench.numpyQuadraticAdamMilliseconds()
    }
    let extra: [String: Double?] = ["derive_builtins_ms": derive, "quadratic_adam_1e6_ms": adam, "tracked_run_s": tracked?.seconds]
    if json {
      var fields: [(String, JSONValue)] = report.jsonObject(extra: extra).map { key, number, text in
        (key, text.map { .string($0) } ?? .optional(number))
      }
      fields.append(("tracked_run_hvps_cold", .optional(tracked?.hvpsCold)))
      fields.append(("tracked_run_hvps_warm", .optional(tracked?.hvpsWarm)))
      fields.append(("tracked_run_relative_residual", .optional(tracked?.relativeResidual)))
      if reference {
        fields.append(("sympy_derive_ms", .optional(sympy)))
        fields.append(("numpy_quadratic_adam_1e6_ms", .optional(numpy)))
      }
      print(JSONValue.object(fields).serialized(pretty: true))
    } else {
      print(report.text)
      var line = "derive the five Table-1 methods: \(String(format: "%.2f", derive)) ms"
      if let sympy { line += "  (SymPy, same run, import included: \(String(format: "%.0f", sympy)) ms → \(String(format: "%.0f", sympy / derive))×)" }
      print(line)
      line = "quadratic Adam, 1000 steps, n = 10⁶: \(String(format: "%.0f", adam)) ms"
      if let numpy { line += "  (NumPy, same run: \(String(format: "%.0f", numpy)) ms → \(String(format: "%.2f", numpy / adam))×)" }
      print(line)
      if let t = tracked {
        print(
          "tracked run (GD η = 0.04, 1000 steps, λ₁ every 10 steps, whole run with data loading): \(String(format: "%.1f", t.seconds)) s; "
            + "HVPs per measurement \(String(format: "%.1f", t.hvpsWarm)) warm, \(String(format: "%.1f", t.hvpsCold)) cold; "
            + "median residual/λ₁ \(String(format: "%.1e", t.relativeResidual)); \(t.edge)")
      }
    }
  }
}
