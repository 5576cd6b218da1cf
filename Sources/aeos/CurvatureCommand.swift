import ArgumentParser
import Experiments
import Foundation

/// `aeos curvature`: measure a saved model without training.
struct CurvatureCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "curvature",
    abstract: "Measure the Hessian spectrum of a saved model: top-k eigenvalues, λ_min, and λ₁(P⁻¹H) with a run's saved preconditioner.",
    discussion: """
      DIR is a run folder of `aeos train`: its checkpoint is measured on its own training data and loss (the curvature \
      subset), and for a preconditioned optimizer also P^{-1/2}HP^{-1/2} with the P its last step applied. --weights FILE \
      measures a safetensors file with the checkpoint's tensor names instead, on the data of the data flags; the model \
      comes from the file's "model" metadata when it has one, else from the model flags.

      Lanczos in float64 on exact Hessian-vector products in the model's precision, stopped when every residual \
      ‖Hv − θv‖ ≤ tolerance·|θ₁|.

      Examples:
        aeos curvature runs/gd --top-k 2
        aeos curvature --weights runs/gd/checkpoint.safetensors --n 1000 --json
        aeos curvature runs/adam --eigenvectors top.npy
      """)

  @Argument(help: ArgumentHelp("A run folder of `aeos train`.", valueName: "dir")) var directory: String?
  @Option(help: ArgumentHelp("A safetensors weights file instead of a run folder.", valueName: "file.safetensors")) var weights: String?
  @OptionGroup(title: "Model (with --weights, when the file does not describe it)") var modelOptions: ModelOptions
  @OptionGroup(title: "Data (with --weights)") var dataOptions: DataOptions
  @Option(name: .customLong("top-k"), parsing: .unconditional, help: "Eigenvalues of H (and of P⁻¹H) to report (default: 1).") var topK: Int = 1
  @Option(parsing: .unconditional, help: "Relative residual at which Lanczos stops (default: 1e-6).") var tolerance: Double = 1e-6
  @Option(name: .customLong("max-iterations"), parsing: .unconditional, help: "Lanczos iterations at most per spectrum (default: 300).") var maxIterations: Int = 300
  @Option(help: ArgumentHelp("Write H's top-k eigenvectors as a k × p float64 .npy file.", valueName: "file.npy")) var eigenvectors: String?
  @Flag(help: "Print one JSON document.") var json = false

  func validate() throws {
    if (directory == nil) == (weights == nil) { throw ValidationError("give a run folder DIR or --weights FILE.safetensors (one of them)") }
    if directory != nil && (modelOptions.anyGiven || dataOptions.anyGiven) {
      throw ValidationError("the model and data of a run folder come from its config.json; model and data flags apply to --weights")
    }
    guard (1...64).contains(topK) else { throw ValidationError("invalid --top-k \(topK): expected 1…64") }
    guard tolerance.isFinite, tolerance >= 0, tolerance < 1 else { throw ValidationError("invalid --tolerance \(tolerance): expected a number in [0, 1)") }
    guard (1...10_000).contains(maxIterations) else { throw ValidationError("invalid --max-iterations \(maxIterations): expected 1…10000") }
  }

  func run() throws {
    if let eigenvectors { try checkWritable(eigenvectors) }
    let report: CurvatureReport
    do {
      if let directory {
        report = try CurvatureReport.measure(folder: directory, topK: topK, tolerance: tolerance, maxIterations: maxIterations)
      } else {
        report = try CurvatureReport.measure(
          weights: weights ?? "", model: modelOptions.anyGiven ? modelOptions.spec : nil, data: dataOptions.spec, loss: dataOptions.loss,
          dtype: dataOptions.dtype, seed: dataOptions.seed ?? 0, topK: topK, tolerance: tolerance, maxIterations: maxIterations)
      }
    } catch let e as TrainingError {
      throw usageFailure(e.description)
    }
    if let eigenvectors {
      let p = report.eigenvectors.first?.count ?? 0
      try NPYWriter.write(report.eigenvectors.flatMap { $0 }, shape: [report.eigenvectors.count, p], to: eigenvectors)
      if !json { printError("wrote \(eigenvectors) (\(report.eigenvectors.count) × \(p))") }
    }
    print(json ? report.json.serialized(pretty: true) : report.text)
  }
}
