import ArgumentParser
import Experiments
import Foundation

/// `aeos bench`: speed figures of the toolkit in one process.
struct Bench: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "bench",
    abstract: "Time the neural engine (loss + gradient, Hessian-vector product) against the same run's BLAS peak.",
    discussion: """
      Workload: the first n Fashion-MNIST training images (standardised), an MLP with the given widths \
      and tanh, MSE loss, full batch. FLOPs count the GEMMs actually needed: forward 2·n·Σ in·out, \
      weight gradients 2·n·Σ in·out, input gradients for every layer but the first. Times are medians \
      of repeated runs after a warm-up. Needs the Debian package dataset-fashion-mnist.
      """)

  @Flag(help: "Print one JSON document.") var json = false
  @Option(help: "float32 or float64.") var dtype = "float32"
  @Option(help: "Training examples (1...60000).") var n = 5000
  @Option(help: "Layer widths, comma-separated, 784 first and 10 last.") var widths = "784,200,200,200,10"
  @Option(name: .customLong("chunk-size"), help: "Examples per chunk (default 1000).") var chunkSize: Int?
  @Option(help: "Timed repetitions (after 2 warm-ups).") var repeats = 10
  @Option(help: "Worker threads over chunks; use with OPENBLAS_NUM_THREADS=1.") var threads = 1

  func validate() throws {
    guard dtype == "float32" || dtype == "float64" else { throw ValidationError("--dtype \(dtype): expected float32 or float64") }
    guard (1...60000).contains(n) else { throw ValidationError("--n \(n): expected 1...60000") }
    guard threads >= 1 else { throw ValidationError("--threads \(threads): expected at least 1") }
    guard repeats >= 1 else { throw ValidationError("--repeats \(repeats): expected at least 1") }
    if let c = chunkSize, c < 1 { throw ValidationError("--chunk-size \(c): expected a positive integer") }
    let parts = widths.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
    guard parts.count >= 2, parts.allSatisfy({ ($0 ?? 0) > 0 }) else {
      throw ValidationError("--widths \(widths): expected positive integers separated by commas, e.g. 784,200,200,200,10")
    }
  }

  func run() throws {
    let w = widths.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
    let report = try NeuralBench.run(.init(dtype: dtype, n: n, widths: w, chunkSize: chunkSize, repeats: repeats, threads: threads))
    // lanczos20_ms, adam_step_ms, derive_builtins_ms, quadratic_adam_1e6_ms and
    // tracked_run_s belong to other components; they are null until wired here.
    if json { print(report.json()) } else { print(report.text) }
  }
}
