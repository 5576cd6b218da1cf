import Foundation

/// What a tracked step measured (DESIGN.md, metrics.jsonl): the curvature at the
/// iterate x_t before step t, with the P that step t applies.
public struct CurvatureRecord: Sendable, Equatable {
  /// λ₁(H), the largest algebraic eigenvalue of the Hessian of the curvature set's loss.
  public var sharpness: Double?
  /// λ₁(P⁻¹H) = λ₁(P^{-1/2}HP^{-1/2}) for preconditioned methods, nil otherwise.
  public var preconditionedSharpness: Double?
  /// The threshold of the method's frozen recurrence at this step's learning rate.
  public var threshold: Double
  /// Governing sharpness / threshold.
  public var ratio: Double?
  /// The top-k eigenvalues of the governing operator (when k > 1).
  public var topK: [Double]?
  /// λ_min(H) (when asked).
  public var lambdaMin: Double?
  /// Fraction of ‖P^{-1/2}g‖² (‖g‖² without P) in the top-k eigenvectors of the
  /// governing operator (when asked; Figure 18 of the AEoS paper).
  public var gradientTopKFraction: Double?
  public var testLoss: Double?
  public var testAccuracy: Double?
  /// Loss and accuracy on the whole training set (minibatch runs, whose `loss` is the batch's).
  public var trainLoss: Double?
  public var trainAccuracy: Double?
  /// Hessian-vector products this measurement cost (all operators together).
  public var hvps: Int
  /// Lanczos's residual bound |β·s| = ‖Av − θv‖ of the governing eigenpair (exact arithmetic; with float32 products the true residual has a floor of ~1e-6·‖A‖).
  public var residual: Double?

  /// The governing sharpness: λ₁(P⁻¹H) where there is a P, λ₁(H) otherwise.
  public var governing: Double? { preconditionedSharpness ?? sharpness }
}

/// One line of metrics.jsonl: every step has the first six fields, tracked steps the
/// curvature too.
public struct StepRecord: Sendable, Equatable {
  public var step: Int
  /// Training loss at x_t (of the step's minibatch in minibatch runs); NaN when it
  /// was not finite (a diverged step).
  public var loss: Double
  public var accuracy: Double
  /// ‖g‖ (not squared) of the gradient the step uses.
  public var gradNorm: Double
  /// The learning rate of this step (after warm-up).
  public var lr: Double
  /// Seconds since the run started (across resumes).
  public var wallSeconds: Double
  public var curvature: CurvatureRecord?

  /// The JSON object, keys in DESIGN.md's order; non-finite numbers as null.
  public var json: JSONValue {
    var f: [(String, JSONValue)] = [
      ("step", .int(step)), ("loss", .number(loss)), ("accuracy", .number(accuracy)), ("grad_norm", .number(gradNorm)),
      ("lr", .number(lr)), ("wall_s", .number(wallSeconds)),
    ]
    if let c = curvature {
      f += [
        ("sharpness", .optional(c.sharpness)), ("preconditioned_sharpness", .optional(c.preconditionedSharpness)),
        ("threshold", .number(c.threshold)), ("ratio", .optional(c.ratio)),
      ]
      if let k = c.topK { f.append(("top_k", .array(k.map { .number($0) }))) }
      if let l = c.lambdaMin { f.append(("lambda_min", .number(l))) }
      if let a = c.gradientTopKFraction { f.append(("gradient_top_k_fraction", .number(a))) }
      f += [("test_loss", .optional(c.testLoss)), ("test_accuracy", .optional(c.testAccuracy))]
      if c.trainLoss != nil || c.trainAccuracy != nil {
        f += [("train_loss", .optional(c.trainLoss)), ("train_accuracy", .optional(c.trainAccuracy))]
      }
      f += [("hvps", .int(c.hvps)), ("residual", .optional(c.residual))]
    }
    return .object(f)
  }

  /// Reads a line written by `json` (for `--resume` and the run's summary). Numbers
  /// come back exactly (JSONDecoder rounds correctly; Foundation's JSONSerialization
  /// on Linux can be an ulp off, which would break bit-identical resumes).
  /// - Throws: `TrainingError` for a line that is not such an object.
  public init(jsonLine line: String, path: String, lineNumber: Int) throws {
    let r: Line
    do { r = try Self.decoder.decode(Line.self, from: Data(line.utf8)) } catch {
      throw TrainingError("\(path) line \(lineNumber): not a metrics line (\(error))")
    }
    step = r.step
    loss = r.loss ?? .nan
    accuracy = r.accuracy ?? .nan
    gradNorm = r.gradNorm ?? .nan
    lr = r.lr ?? .nan
    wallSeconds = r.wallS ?? .nan
    if let t = r.threshold {
      curvature = CurvatureRecord(
        sharpness: r.sharpness, preconditionedSharpness: r.preconditionedSharpness, threshold: t, ratio: r.ratio, topK: r.topK,
        lambdaMin: r.lambdaMin, gradientTopKFraction: r.gradientTopKFraction, testLoss: r.testLoss, testAccuracy: r.testAccuracy,
        trainLoss: r.trainLoss, trainAccuracy: r.trainAccuracy, hvps: r.hvps ?? 0, residual: r.residual)
    }
  }

  /// A metrics line as JSON, every field but the step optional (null or absent).
  private struct Line: Decodable {
    var step: Int
    var loss, accuracy, gradNorm, lr, wallS: Double?
    var sharpness, preconditionedSharpness, threshold, ratio: Double?
    var topK: [Double]?
    var lambdaMin, gradientTopKFraction, testLoss, testAccuracy, trainLoss, trainAccuracy: Double?
    var hvps: Int?
    var residual: Double?
  }

  private static var decoder: JSONDecoder {
    let d = JSONDecoder()
    d.keyDecodingStrategy = .convertFromSnakeCase
    return d
  }

  public init(step: Int, loss: Double, accuracy: Double, gradNorm: Double, lr: Double, wallSeconds: Double, curvature: CurvatureRecord? = nil) {
    self.step = step
    self.loss = loss
    self.accuracy = accuracy
    self.gradNorm = gradNorm
    self.lr = lr
    self.wallSeconds = wallSeconds
    self.curvature = curvature
  }
}

/// How a run ended (summary.json `status`).
public enum RunStatus: String, Sendable, Codable {
  case completed, diverged, interrupted
  /// Stopped by an error that is not divergence (a file that cannot be written, say);
  /// `stop_reason` holds the error. Resumable from the last checkpoint.
  case failed
}

/// summary.json (DESIGN.md), computed from the run's records.
public struct RunSummary: Sendable {
  public var optimizer: String
  public var quantity: String
  /// The threshold at the base learning rate.
  public var threshold: Double
  public var formula: String?
  public var status: RunStatus
  public var analysis: EdgeAnalysis
  public var finalLoss: Double?
  public var finalAccuracy: Double?
  /// Updates applied.
  public var steps: Int
  public var wallSeconds: Double
  /// Why the run stopped: "steps", "target loss", "target accuracy", "diverged: …", "interrupted (SIGINT)".
  public var stopReason: String
  /// Change of the raw sharpness λ₁(H) after the onset, percent per 100 steps (least
  /// squares slope of λ₁(H) over the measurements at and after the onset, divided by
  /// their mean); nil without onset or with fewer than two such measurements.
  public var rawSharpnessChangePer100: Double?

  public init(
    optimizer: String, quantity: String, threshold: Double, formula: String?, status: RunStatus, records: [StepRecord], steps: Int,
    wallSeconds: Double, stopReason: String
  ) {
    self.optimizer = optimizer
    self.quantity = quantity
    self.threshold = threshold
    self.formula = formula
    self.status = status
    let tracked = records.filter { $0.curvature != nil }
    analysis = EdgeAnalysis(
      steps: tracked.map(\.step), ratios: tracked.map { $0.curvature?.ratio ?? .nan }, diverged: status == .diverged)
    let last = records.last { $0.loss.isFinite }
    finalLoss = last?.loss
    finalAccuracy = last?.accuracy
    self.steps = steps
    self.wallSeconds = wallSeconds
    self.stopReason = stopReason
    if let onset = analysis.onsetStep {
      let points = tracked.filter { $0.step >= onset }.compactMap { r in r.curvature?.sharpness.map { (Double(r.step), $0) } }
        .filter { $0.1.isFinite }
      rawSharpnessChangePer100 = Self.relativeSlopePer100(points)
    }
  }

  /// 100 · slope / mean of a least-squares line through the points, in percent.
  static func relativeSlopePer100(_ points: [(Double, Double)]) -> Double? {
    guard points.count >= 2 else { return nil }
    let n = Double(points.count)
    let mx = points.map(\.0).reduce(0, +) / n
    let my = points.map(\.1).reduce(0, +) / n
    let sxx = points.map { ($0.0 - mx) * ($0.0 - mx) }.reduce(0, +)
    guard sxx > 0, my != 0 else { return nil }
    let sxy = points.map { ($0.0 - mx) * ($0.1 - my) }.reduce(0, +)
    return 100 * (sxy / sxx) * 100 / my
  }

  public var json: JSONValue {
    let plateau: JSONValue = analysis.plateau.map {
      .object([("median", .number($0.median)), ("p10", .number($0.p10)), ("p90", .number($0.p90))])
    } ?? .null
    return .object([
      ("optimizer", .string(optimizer)), ("quantity", .string(quantity)), ("threshold", .number(threshold)),
      ("formula", .optional(formula)), ("status", .string(status.rawValue)), ("onset_step", .optional(analysis.onsetStep)),
      ("plateau", plateau), ("verdict", .string(analysis.verdict.rawValue)), ("final_loss", .optional(finalLoss)),
      ("final_accuracy", .optional(finalAccuracy)), ("steps", .int(steps)), ("wall_s", .number(wallSeconds)),
      ("stop_reason", .string(stopReason)), ("raw_sharpness_change_per_100", .optional(rawSharpnessChangePer100)),
    ])
  }
}
