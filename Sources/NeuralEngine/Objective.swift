import Foundation
import LinearAlgebra

/// Holds one reusable workspace; a concurrent second caller gets a fresh one.
final class WorkspaceCache<T: BLASScalar>: @unchecked Sendable {
  private let lock = NSLock()
  private var spare: Workspace<T>?

  func take(stages: [Stage], rows: Int) -> Workspace<T> {
    lock.lock()
    defer { lock.unlock() }
    if let w = spare, w.rows == rows {
      spare = nil
      return w
    }
    return Workspace(stages: stages, rows: rows)
  }

  func give(_ w: Workspace<T>) {
    lock.lock()
    spare = w
    lock.unlock()
  }
}

/// The full-batch training objective L(θ) = (1/n)·Σᵢ ℓ(f(xᵢ; θ), yᵢ) of a model on a
/// data set, with its exact gradient and exact Hessian-vector products.
///
/// Passes run over chunks of at most `chunkSize` examples and accumulate, so memory
/// is bounded by the chunk; the result does not depend on the chunking except for
/// floating-point round-off (summation order). Workspaces are allocated once per
/// chunk size and reused.
public struct Objective<T: BLASScalar>: Sendable {
  public let model: Model
  public let data: Dataset<T>
  public let loss: Loss
  public let chunkSize: Int
  /// 1000 examples: the MLP benchmark runs as fast as with one 5000-example chunk
  /// (slightly faster: the elementwise passes stay in cache) at half the memory.
  public static var defaultChunkSize: Int { 1000 }
  private let cache = WorkspaceCache<T>()

  /// - Throws: `NeuralEngineError` if the data's feature count differs from the
  ///   model's input size, the model's output size from the number of classes, a
  ///   label is out of range, or `chunkSize` < 1.
  public init(model: Model, data: Dataset<T>, loss: Loss, chunkSize: Int = Objective.defaultChunkSize) throws {
    guard chunkSize >= 1 else {
      throw NeuralEngineError.invalidArgument(name: "chunk size", value: "\(chunkSize)", expected: "a positive integer")
    }
    guard data.featureCount == model.inputSize else {
      throw NeuralEngineError.shapeMismatch(
        what: "data features vs model input", expected: "\(model.inputSize)", got: "\(data.featureCount)")
    }
    guard data.classes == model.outputSize else {
      throw NeuralEngineError.shapeMismatch(
        what: "data classes vs model outputs", expected: "\(model.outputSize)", got: "\(data.classes)")
    }
    guard data.count >= 1 else {
      throw NeuralEngineError.invalidArgument(name: "data set size", value: "0", expected: "at least one example")
    }
    self.model = model
    self.data = data
    self.loss = loss
    self.chunkSize = chunkSize
  }

  /// Number of parameters expected.
  public var parameterCount: Int { model.parameterCount }

  private func check(_ v: [T], _ what: String) throws {
    guard v.count == model.parameterCount else {
      throw NeuralEngineError.shapeMismatch(what: what, expected: "\(model.parameterCount) entries", got: "\(v.count)")
    }
  }

  /// Full-batch loss and accuracy (fraction of examples whose largest output is
  /// at the label).
  public func evaluate(parameters: [T]) throws -> (loss: Double, accuracy: Double) {
    try check(parameters, "parameters")
    return try run(parameters: parameters, direction: nil, out: nil)
  }

  /// Full-batch loss, accuracy and gradient ∇L(θ).
  public func lossAndGradient(parameters: [T]) throws -> (loss: Double, accuracy: Double, gradient: [T]) {
    var g = [T](repeating: 0, count: model.parameterCount)
    let (l, acc) = try lossAndGradient(parameters: parameters, gradient: &g)
    return (l, acc, g)
  }

  /// As `lossAndGradient(parameters:)`, writing into `gradient` (resized if needed)
  /// so a training loop allocates nothing per step.
  public func lossAndGradient(parameters: [T], gradient: inout [T]) throws -> (loss: Double, accuracy: Double) {
    try check(parameters, "parameters")
    if gradient.count != model.parameterCount { gradient = [T](repeating: 0, count: model.parameterCount) }
    return try gradient.withUnsafeMutableBufferPointer { out in
      try run(parameters: parameters, direction: nil, out: out.baseAddress)
    }
  }

  /// The exact Hessian-vector product ∇²L(θ)·v (forward-over-reverse, Pearlmutter's
  /// R-operator), full batch.
  public func hessianVectorProduct(parameters: [T], vector: [T]) throws -> [T] {
    var out = [T](repeating: 0, count: model.parameterCount)
    try hessianVectorProduct(parameters: parameters, vector: vector, into: &out)
    return out
  }

  /// As `hessianVectorProduct(parameters:vector:)`, writing into `result`.
  public func hessianVectorProduct(parameters: [T], vector: [T], into result: inout [T]) throws {
    try check(parameters, "parameters")
    try check(vector, "Hessian-vector product direction")
    // ‖v‖₂ is NaN or ∞ exactly when v holds a NaN or ∞ (BLAS nrm2 scales, so finite
    // entries cannot overflow it); one BLAS pass instead of a generic loop.
    guard BLAS.nrm2(vector).isFinite else {
      throw NeuralEngineError.nonFinite(what: "the Hessian-vector product's direction v")
    }
    if result.count != model.parameterCount { result = [T](repeating: 0, count: model.parameterCount) }
    try vector.withUnsafeBufferPointer { v in
      try result.withUnsafeMutableBufferPointer { out in
        _ = try run(parameters: parameters, direction: v.baseAddress, out: out.baseAddress)
      }
    }
  }

  /// One full-batch pass: loss only (`out` nil), gradient (`direction` nil) or
  /// Hessian-vector product into `out`.
  private func run(parameters: [T], direction: UnsafePointer<T>?, out: UnsafeMutablePointer<T>?) throws -> (loss: Double, accuracy: Double) {
    let n = data.count
    let rows = min(chunkSize, n)
    let ws = cache.take(stages: model.stages, rows: rows)
    defer { cache.give(ws) }
    if direction != nil { ws.ensureTangents() }
    if let out { out.update(repeating: 0, count: model.parameterCount) }
    let d = data.featureCount
    let classes = model.outputSize
    let stages = model.stages
    var total = 0.0
    var correct = 0
    try parameters.withUnsafeBufferPointer { wb in
      try data.features.withUnsafeBufferPointer { xb in
        try data.labels.withUnsafeBufferPointer { lb in
          guard let w = wb.baseAddress, let x = xb.baseAddress, let labels = lb.baseAddress else { return }
          var start = 0
          while start < n {
            let m = min(rows, n - start)
            let xc = x + start * d
            Engine.forward(stages: stages, parameters: w, direction: direction, x: xc, rows: m, workspace: ws)
            let last = stages.count - 1
            let f = last >= 0 ? UnsafePointer(ws.a[last]) : xc
            let tangent: (rf: UnsafePointer<T>, rg: UnsafeMutablePointer<T>)? =
              direction != nil && last >= 0 ? (UnsafePointer(ws.ra[last]), ws.rg.0) : nil
            let (s, c) = Engine.loss(
              loss, output: f, classes: classes, labels: labels + start, rows: m, totalRows: n, g: ws.g.0,
              probabilities: ws.probabilities, tangent: tangent)
            guard s.isFinite else {
              throw NeuralEngineError.nonFinite(what: "the forward pass (loss of examples \(start)..<\(start + m))")
            }
            total += s
            correct += c
            if let out {
              Engine.backward(stages: stages, parameters: w, direction: direction, x: xc, rows: m, workspace: ws, out: out)
            }
            start += m
          }
        }
      }
    }
    return (total / Double(n), Double(correct) / Double(n))
  }
}
