import ArgumentParser
import Experiments
import Foundation

struct Threshold: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Stability threshold λ* of an optimizer: the end of the stable interval (0, λ*).",
    discussion: """
      Derived from the optimizer's characteristic polynomial (Jury / Schur–Cohn), as a number and a closed form.
      Adaptive methods report the threshold of the recurrence they freeze to, on the preconditioned sharpness λ₁(P⁻¹H).

      Examples:
        aeos threshold ema-hb --lr 1e-4 --beta1 0.9        # 380000, (2 + 2β)/(η(1 − β))
        aeos threshold adamw --lr 1e-3 --weight-decay 0.1 --json
        aeos threshold --rule "m' = beta*m + (1-beta)*g; x' = x - eta*((1-nu)*g + nu*m')" --param nu=0.7 --lr 0.1
      """)

  @OptionGroup var subjectOptions: SubjectOptions
  @OptionGroup var optimizerOptions: OptimizerOptions
  @Flag(help: "Print one JSON document.") var json = false

  func validate() throws { try optimizerOptions.requireLR() }

  func run() throws {
    let lr = optimizerOptions.learningRate
    let report = try ThresholdReport(subject: subjectOptions.subject(optimizerOptions, lr: lr), lr: lr)
    print(json ? report.json.serialized(pretty: true) : report.text)
  }
}

struct Growth: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Asymptotic growth factor ρ(λ): the largest root modulus of the characteristic polynomial (1 at the threshold).",
    discussion: """
      Examples:
        aeos growth gd --lr 0.2 --eigenvalue 11                  # 1.2 (1.1× the threshold 10)
        aeos growth hb --lr 0.02 --beta1 0.9 --relative --eigenvalue 1.1
        aeos growth nesterov --lr 0.02 --from 0 --to 200 --points 401 --plot nesterov.svg
        aeos growth hb --lr 0.02 --slope                         # 38: dρ/d(λ/λ*) at the threshold
      """)

  @OptionGroup var subjectOptions: SubjectOptions
  @OptionGroup var optimizerOptions: OptimizerOptions
  @Option(parsing: .unconditional, help: "One eigenvalue λ.") var eigenvalue: Double?
  @Option(parsing: .unconditional, help: "Start of a range of eigenvalues.") var from: Double?
  @Option(parsing: .unconditional, help: "End of the range.") var to: Double?
  @Option(parsing: .unconditional, help: "Number of evenly spaced points in [from, to] (≥ 2).") var points: Int?
  @Flag(help: "Read --eigenvalue/--from/--to as multiples of the threshold.") var relative = false
  @Flag(help: "Print one JSON document.") var json = false
  @Flag(help: "Print CSV (eigenvalue,factor).") var csv = false
  @Option(help: ArgumentHelp("Write an SVG plot of ρ(λ) to this file.", valueName: "file.svg")) var plot: String?
  @Flag(help: "Report the slope dρ/d(λ/λ*) at the threshold, from above (λ in multiples of the threshold): how fast ρ rises past it.")
  var slope = false

  func validate() throws {
    try optimizerOptions.requireLR()
    if json && csv { throw ValidationError("choose one of --json and --csv") }
    let single = eigenvalue != nil
    let range = from != nil || to != nil || points != nil
    if slope {
      if single || range || plot != nil || csv || relative {
        throw ValidationError("--slope reports one number at the threshold: drop --eigenvalue, --from/--to/--points, --relative, --csv and --plot")
      }
      return
    }
    if single == range { throw ValidationError("give either --eigenvalue λ or --from a --to b --points n") }
    if range {
      guard let from, let to, let points else { throw ValidationError("a range needs all of --from, --to and --points") }
      guard from.isFinite, to.isFinite, to > from else { throw ValidationError("invalid range --from \(from) --to \(to): expected finite numbers with from < to") }
      guard points >= 2, points <= 1_000_000 else { throw ValidationError("invalid --points \(points): expected 2…1000000") }
    }
    if let eigenvalue, !eigenvalue.isFinite { throw ValidationError("invalid --eigenvalue \(eigenvalue): expected a finite number") }
  }

  func run() throws {
    if let plot { try checkWritable(plot) }
    let lr = optimizerOptions.learningRate
    let subject = try subjectOptions.subject(optimizerOptions, lr: lr)
    if slope {
      let report = try GrowthSlopeReport(subject: subject, lr: lr)
      print(json ? report.json.serialized(pretty: true) : report.text)
      return
    }
    var lambdas: [Double]
    if let eigenvalue { lambdas = [eigenvalue] } else {
      let (a, b, n) = (from ?? 0, to ?? 1, points ?? 2)
      // a(1 − s) + b·s: no overflow where b − a would overflow (--from -1e308 --to 1e308)
      lambdas = (0..<n).map { k in
        let s = Double(k) / Double(n - 1)
        return k == n - 1 ? b : a * (1 - s) + b * s
      }
    }
    if relative {
      let t = try ThresholdReport(subject: subject, lr: lr).threshold
      lambdas = try lambdas.map { x in
        let scaled = x * t
        guard scaled.isFinite else {
          throw TheoryError("--relative: \(formatHuman(x)) × the threshold \(formatHuman(t)) is beyond the range of a double (1.8e308)")
        }
        return scaled
      }
    }
    let report = try GrowthReport(subject: subject, lr: lr, eigenvalues: lambdas)
    if let plot {
      try writeFile(plot, report.svg())
      if !json && !csv { printError("wrote \(plot)") }
    }
    if json { print(report.json.serialized(pretty: true)) } else if csv { print(report.csv) } else if plot == nil { print(report.text) }
  }
}

struct Derive: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Derive an optimizer's state matrix, characteristic polynomial, stability conditions and threshold.",
    discussion: """
      Symbolic in η and every parameter unless values are given (--lr, --beta1, --param).

      Examples:
        aeos derive ema-nesterov
        aeos derive hb --format latex
        aeos derive --rule "u' = b1*u + g; v' = b2*v + g; x' = x - eta*(u' + v')/2" --json
      """)

  @OptionGroup var subjectOptions: SubjectOptions
  @Option(parsing: .unconditional, help: "Learning rate η (optional: symbolic when absent).") var lr: Double?
  @Option(parsing: .unconditional, help: "Momentum β (optional: symbolic when absent).") var beta1: Double?
  @Option(help: "Output format: text, latex or sympy.") var format: OutputFormat = .text
  @Flag(help: "Print one JSON document.") var json = false

  func validate() throws {
    if let lr, !(lr.isFinite && lr > 0) { throw ValidationError("invalid --lr \(lr): expected a finite number > 0") }
    if let beta1, !(beta1.isFinite && beta1 >= 0 && beta1 < 1) { throw ValidationError("invalid --beta1 \(beta1): expected a number in [0, 1)") }
  }

  func run() throws {
    let f = format
    var values = try subjectOptions.parameterValues()
    if let lr { values["eta"] = lr }
    let report: DeriveReport
    if let rule = subjectOptions.rule {
      let parameters = try RuleCache.model(for: rule).rule.parameters
      for note in try resolveBeta(parameters: &values, beta1: beta1, ruleParameters: parameters) { printError("note: \(note)") }
      report = try DeriveReport(label: rule, isRule: true, rule: rule, values: values)
    } else {
      let name = subjectOptions.optimizer ?? ""
      guard let kind = OptimizerKind(rawValue: name) else {
        throw ValidationError("unknown optimizer \"\(name)\": expected one of \(OptimizerKind.allNames)")
      }
      var h = Hyperparameters(lr: lr ?? 1)
      if let beta1 { h.beta1 = beta1 }
      let rec = kind.frozenRecurrence(h)
      // symbolic unless given: keep only the values the user set
      var given: [String: Double] = [:]
      if let lr { given["eta"] = lr }
      if let beta1, rec.parameters["beta"] != nil { given["beta"] = beta1 } else if beta1 != nil { printError("note: --beta1 is ignored for \(name), which has no momentum") }
      report = try DeriveReport(label: name, isRule: false, rule: rec.rule, values: given)
    }
    print(json ? report.jsonIn(f).serialized(pretty: true) : report.text(f))
  }
}
