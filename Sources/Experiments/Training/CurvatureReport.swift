import Curvature
import Foundation
import LinearAlgebra
import NeuralEngine
import Optimizers

/// `aeos curvature`: the spectrum of a saved model's training loss without training
/// — the top-k eigenvalues of H and λ_min(H), and for a preconditioned optimizer's
/// run also the top-k of P^{-1/2}HP^{-1/2} with the P of the run's saved state (the P
/// its last step applied).
public struct CurvatureReport: Sendable {
  public var source: String
  public var n: Int
  public var dtype: DType
  public var loss: Double
  /// Top-k eigenvalues of H, descending.
  public var eigenvalues: [Double]
  /// ‖Hv − θv‖ of each, recomputed with the operator (one product each).
  public var residuals: [Double]
  public var lambdaMin: Double
  public var preconditionedEigenvalues: [Double]?
  public var hvps: Int
  public var seconds: Double
  /// Unit eigenvectors of H in the order of `eigenvalues` (for `--eigenvectors`).
  public var eigenvectors: [[Double]]

  public var json: JSONValue {
    .object([
      ("source", .string(source)), ("n", .int(n)), ("dtype", .string(dtype.rawValue)), ("loss", .number(loss)),
      ("eigenvalues", .array(eigenvalues.map { .number($0) })), ("residuals", .array(residuals.map { .number($0) })),
      ("lambda_min", .number(lambdaMin)),
      ("preconditioned_eigenvalues", preconditionedEigenvalues.map { .array($0.map { .number($0) }) } ?? .null),
      ("hvps", .int(hvps)), ("seconds", .number(seconds)),
    ])
  }

  public var text: String {
    var lines = ["\(source): n = \(n), \(dtype.rawValue), loss \(formatHuman(loss))"]
    for (i, (v, r)) in zip(eigenvalues, residuals).enumerated() {
      lines.append("λ\(i + 1)(H) = \(formatHuman(v))  (residual \(String(format: "%.2g", r)))")
    }
    lines.append("λ_min(H) = \(formatHuman(lambdaMin))")
    if let p = preconditionedEigenvalues {
      for (i, v) in p.enumerated() { lines.append("λ\(i + 1)(P⁻¹H) = \(formatHuman(v))") }
    }
    lines.append("\(hvps) Hessian-vector products, \(String(format: "%.2f", seconds)) s")
    return lines.joined(separator: "\n")
  }

  /// Measures the checkpoint of a run folder on its own training data and loss.
  public static func measure(folder path: String, topK: Int, tolerance: Double, maxIterations: Int) throws -> CurvatureReport {
    let folder = try RunFolder.open(at: path)
    switch try folder.readConfig().dtype {
    case .float32: return try measure(Trainer<Float>.open(folder: folder), source: path, topK: topK, tolerance: tolerance, maxIterations: maxIterations)
    case .float64: return try measure(Trainer<Double>.open(folder: folder), source: path, topK: topK, tolerance: tolerance, maxIterations: maxIterations)
    }
  }

  static func measure<T>(_ trainer: Trainer<T>, source: String, topK: Int, tolerance: Double, maxIterations: Int) throws -> CurvatureReport {
    try measure(
      objective: trainer.curvatureObjective, parameters: trainer.parameters, preconditioner: trainer.lastPreconditioner,
      dtype: trainer.config.dtype, source: "\(source) (step \(trainer.currentStep))", topK: topK, tolerance: tolerance,
      maxIterations: maxIterations, seed: trainer.config.seed)
  }

  /// Measures a weights file (safetensors with the checkpoint's names) on the data of
  /// `data`. The model comes from the file's "model" metadata when it has one (a
  /// checkpoint of `aeos train`), else from `model`; `loss` and `dtype` likewise.
  public static func measure(
    weights path: String, model: ModelSpec?, data: DataSpec, loss: Loss?, dtype: DType?, seed: UInt64, topK: Int, tolerance: Double,
    maxIterations: Int
  ) throws -> CurvatureReport {
    let meta = try Safetensors.metadata(from: path)
    let described = meta["model"].flatMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
    var spec = model ?? ModelSpec()
    if model == nil, let d = described {
      if let k = (d["kind"] as? String).flatMap(ModelSpec.Kind.init(rawValue:)) { spec.kind = k }
      if let v = d["depth"] as? Int { spec.depth = v }
      if let v = d["width"] as? Int { spec.width = v }
      if let a = (d["activation"] as? String).flatMap(Activation.init(rawValue:)) { spec.activation = a }
      if let v = d["cnn_scale"] as? Int { spec.cnnScale = v }
    }
    let lossKind = loss ?? (described?["loss"] as? String).flatMap(Loss.init(rawValue:)) ?? .mse
    let type = dtype ?? (described?["dtype"] as? String).flatMap(DType.init(rawValue:)) ?? .float32
    try spec.validate()
    try data.validate()
    func run<T: BLASScalar>(_: T.Type) throws -> CurvatureReport {
      let (train, _) = try data.load(seed: seed, as: T.self)
      let m = try spec.build(inputShape: train.featureShape, classes: train.classes)
      try checkFitsInMemory(parameters: m.parameterCount, scalarSize: MemoryLayout<T>.size, lanczosIterations: maxIterations, topK: topK)
      let objective = try Objective(model: m, data: train, loss: lossKind)
      let x: [T] = try Safetensors.loadParameters(from: path, layout: m.layout)
      return try measure(
        objective: objective, parameters: x, preconditioner: nil, dtype: type, source: path, topK: topK, tolerance: tolerance,
        maxIterations: maxIterations, seed: seed)
    }
    switch type {
    case .float32: return try run(Float.self)
    case .float64: return try run(Double.self)
    }
  }

  static func measure<T: BLASScalar>(
    objective: Objective<T>, parameters x: [T], preconditioner: [T]?, dtype: DType, source: String, topK: Int, tolerance: Double,
    maxIterations: Int, seed: UInt64
  ) throws -> CurvatureReport {
    let start = Date()
    let h = CurvatureProbe(objective: objective, k: topK, lambdaMin: true, tolerance: tolerance, maxIterations: maxIterations, seed: seed)
      .hessian(at: x)
    try h.checkDeterministic(seed: seed)
    let spectrum = try SpectrumProbe(k: topK, smallest: true, tolerance: tolerance, maxIterations: maxIterations).measure(h, seed: seed)
    var products = spectrum.products
    // The residuals Lanczos reports are its bound |β·s|, exact for an exact operator;
    // products in float32 leave a floor below which the bound keeps falling (to 0 on
    // long runs). Recompute ‖Hy − θy‖ with one more product per pair.
    var residuals: [Double] = []
    for (theta, y) in zip(spectrum.values, spectrum.vectors) {
      var r = try h.apply(y)
      BLAS.axpy(-theta, y, &r)
      residuals.append(BLAS.nrm2(r))
      products += 1
    }
    var pre: [Double]? = nil
    if let p = preconditioner {
      let r = try SpectrumProbe(k: topK, tolerance: tolerance, maxIterations: maxIterations)
        .measure(try h.preconditioned(by: p.map { Double($0) }), seed: seed &+ 1)
      products += r.products
      pre = r.values
    }
    let (loss, _) = try objective.evaluate(parameters: x)
    return CurvatureReport(
      source: source, n: objective.data.count, dtype: dtype, loss: loss, eigenvalues: spectrum.values, residuals: residuals,
      lambdaMin: spectrum.lambdaMin ?? .nan, preconditionedEigenvalues: pre, hvps: products, seconds: Date().timeIntervalSince(start),
      eigenvectors: spectrum.vectors)
  }
}
