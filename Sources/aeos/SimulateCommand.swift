import ArgumentParser
import Experiments
import Foundation

struct Simulate: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "simulate",
    abstract: "Run an optimizer or a rule on a quadratic ½xᵀAx + bᵀx and hold the trajectory against the theory.",
    discussion: """
      Records per step (0 = initial state): loss, ‖x‖², ‖∇f‖², ‖P‖²_F and λ₁(P⁻¹A) of the P that step applies, and the iterate's component along the top eigenvector of P^{-1/2}AP^{-1/2}. A run is "diverged" once ‖x‖ is non-finite or exceeds 1e150·max(1, ‖x₀‖); it stops there and reports the step.

      LIST is comma-separated numbers (one number is broadcast). FILE is JSON {"matrix": [[...]], "b": [...]} or a 2-D .npy. Defaults: x0 = 1, m0 = 0, nu0 = 0.

      --every K records every K-th step (and the last): a run records at most 1000000 steps. A preconditioned method on a dense A recomputes the spectrum of P^{-1/2}AP^{-1/2} at every recorded step, so its cost is bounded too (thin with --every or use --freeze-preconditioner).

      --freeze-preconditioner fixes P after the first step (the P of step 0, ν updated with g₀): from then on the method is exactly its frozen recurrence on P⁻¹A.

      --rule runs a linear optimizer written in the rule language (as in `aeos threshold --rule`), with its parameters from --param NAME=VALUE (beta may also come from --beta1). x starts at --x0; every other state vector (m, v, …) starts at 0, so --m0, --nu0 and --freeze-preconditioner do not apply. Each step evaluates ∇f once per distinct g(·) point. Its threshold, on the sharpness λ₁(A), is derived from the rule.

      Examples (the first three: Figures 2, 17 and 12 of Cohen et al. 2022):
        aeos simulate ema-hb --eigenvalues 1 --lr 38.1 --steps 10000
        aeos simulate ema-hb --eigenvalues 1 --lr 37 --m0 0.2 --steps 30
        aeos simulate rmsprop --eigenvalues 1 --nu0 1 --lr 2.2 --steps 20000
        aeos simulate frozen-adam --random-spd 50 --condition 100 --nu0 1 \\
          --lr 0.3 --steps 500 --json
        aeos simulate --rule "v' = beta*v - eta*g(x + beta*v); x' = x + v'" --param beta=0.9 \\
          --eigenvalues 1 --lr 0.3 --steps 200
      """)

  @OptionGroup var subjectOptions: SubjectOptions
  @OptionGroup var optimizerOptions: OptimizerOptions

  @Option(parsing: .unconditional, help: ArgumentHelp("Eigenvalues of a diagonal A.", valueName: "list")) var eigenvalues: String?
  @Option(help: ArgumentHelp("A dense symmetric A (and b) from JSON or .npy.", valueName: "file")) var hessian: String?
  @Option(name: .customLong("random-spd"), parsing: .unconditional, help: ArgumentHelp("A seeded random SPD A of this size.", valueName: "n")) var randomSPD: Int?
  @Option(parsing: .unconditional, help: "Condition number κ ≥ 1 of --random-spd (eigenvalues 1 … κ, geometric).") var condition: Double?
  @Option(parsing: .unconditional, help: "Seed of --random-spd (default: 0).") var seed: UInt64?

  @Option(parsing: .unconditional, help: "Number of steps.") var steps: Int
  @Option(parsing: .unconditional, help: ArgumentHelp("Initial x (default 1).", valueName: "list")) var x0: String?
  @Option(parsing: .unconditional, help: ArgumentHelp("Initial momentum (default 0; not with --rule, whose state starts at 0).", valueName: "list")) var m0: String?
  @Option(parsing: .unconditional, help: ArgumentHelp("Initial second moment ν (default 0; required for frozen-adam; not with --rule).", valueName: "list")) var nu0: String?
  @Flag(name: .customLong("freeze-preconditioner"), help: "Fix P after the first step (not with --rule).") var freezePreconditioner = false

  @Option(parsing: .unconditional, help: "Record every k-th step (and the last): for long runs; at most \(SimulationSettings.maximumRecords) rows are kept (default: 1, every step).")
  var every: Int = 1

  @Flag(help: "Print one JSON document.") var json = false
  @Flag(help: "Print CSV, one row per step.") var csv = false
  @Option(help: ArgumentHelp("Write an SVG plot to this file.", valueName: "file.svg")) var plot: String?

  func validate() throws {
    try optimizerOptions.requireLR()
    if json && csv { throw ValidationError("choose one of --json and --csv") }
    let sources = [eigenvalues != nil, hessian != nil, randomSPD != nil].filter { $0 }.count
    if sources != 1 { throw ValidationError("give exactly one of --eigenvalues LIST, --hessian FILE, --random-spd N --condition κ") }
    if randomSPD != nil && condition == nil { throw ValidationError("--random-spd needs --condition κ") }
    if randomSPD == nil && condition != nil { throw ValidationError("--condition applies to --random-spd") }
    if steps < 0 { throw ValidationError("invalid --steps \(steps): expected an integer ≥ 0") }
    if every < 1 { throw ValidationError("invalid --every \(every): expected an integer ≥ 1") }
    if subjectOptions.rule != nil {
      let given = [(m0 != nil, "--m0"), (nu0 != nil, "--nu0"), (freezePreconditioner, "--freeze-preconditioner")].filter(\.0).map(\.1)
      if !given.isEmpty {
        throw ValidationError(
          "\(given.joined(separator: ", ")) do\(given.count == 1 ? "es" : "") not apply to --rule: a rule starts with every state vector but x at 0 (set x with --x0) and applies no preconditioner")
      }
    }
  }

  func run() throws {
    if let plot { try checkWritable(plot) }
    let lr = optimizerOptions.learningRate
    let source: QuadraticSource
    if let eigenvalues {
      source = .eigenvalues(try parseNumberList(eigenvalues, flag: "--eigenvalues"))
    } else if let hessian {
      source = .file(hessian)
    } else {
      source = .randomSPD(dimension: randomSPD ?? 0, condition: condition ?? 1, seed: seed ?? 0)
    }
    let report: SimulateReport
    if randomSPD == nil && seed != nil { printError("note: --seed is ignored: it seeds --random-spd, which is not given") }
    if let rule = subjectOptions.rule {
      let parameters = try subjectOptions.parameterValues()
      optimizerOptions.noteIgnoredForRule()
      report = try SimulateReport(
        rule: rule, parameters: parameters, beta1: optimizerOptions.beta1, lr: lr, source: source, steps: steps, x0: x0, every: every)
      for note in report.notes { printError("note: \(note)") }
    } else {
      let optimizer = subjectOptions.optimizer ?? ""
      if let kind = OptimizerKind(rawValue: optimizer) {
        optimizerOptions.noteIgnored(for: kind, use: .run)
        if freezePreconditioner && !kind.isPreconditioned {
          printError("note: --freeze-preconditioner is ignored for \(optimizer), which applies no preconditioner")
        }
      }
      report = try SimulateReport(
        optimizer: optimizer, hyperparameters: optimizerOptions.hyperparameters(lr: lr), source: source, steps: steps,
        x0: x0, m0: m0, nu0: nu0, freezePreconditioner: freezePreconditioner, every: every)
    }
    if let plot {
      try writeFile(plot, report.svg())
      if !json && !csv { printError("wrote \(plot)") }
    }
    if json { print(report.json.serialized(pretty: true)) } else if csv { print(report.csv) } else { print(report.text) }
  }
}
