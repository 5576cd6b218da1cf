import Foundation
import LinearAlgebra

/// Holds reusable workspaces (one per concurrent worker); a caller that finds none
/// free gets a fresh one.
final class WorkspaceCache<T: BLASScalar>: @unchecked Sendable {
  private let lock = NSLock()
  private var spares: [Workspace<T>] = []

  func take(stages: [Stage], rows: Int) -> Workspace<T> {
    lock.lock()
    defer { lock.unlock() }
    if let i = spares.firstIndex(where: { $0.rows == rows }) { return spares.remove(at: i) }
    return Workspace(stages: stages, rows: rows)
  }

  func give(_ w: Workspace<T>) {
    lock.lock()
    if spares.count < 16 { spares.append(w) }
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
  /// Worker threads that process separate parts of the data set concurrently, each
  /// in chunks of `chunkSize`, with OpenBLAS single-threaded meanwhile
  /// (`BLASInfo.withSingleThreadedBLAS`): one thin GEMM per core and no hand-off
  /// between BLAS threads beats one multi-threaded GEMM at a time (the benchmark's
  /// gradient: 22–24 ms against 31–33 ms with 2 cores). 1: chunks in sequence, GEMMs
  /// threaded by BLAS. The n examples are split into `threads` contiguous parts of
  /// equal size (±1); each worker has its own workspace and accumulator, and the
  /// partial sums are added in worker order, so results are deterministic for a
  /// given `threads` and equal to the sequential ones up to round-off. With
  /// `threads` > 1 every BLAS call is single-threaded (also when the data fill only
  /// one worker), so results do not depend on OpenBLAS's thread count either.
  public let threads: Int
  /// 500 examples: with two workers, the benchmark's gradient is as fast as with
  /// larger chunks (the activations of a chunk stay in cache), and memory is small.
  public static var defaultChunkSize: Int { 500 }
  /// One worker per active processor (at most 16).
  public static var defaultThreads: Int { max(1, min(ProcessInfo.processInfo.activeProcessorCount, 16)) }
  private let cache: WorkspaceCache<T>
  /// Identifies this objective's data in the workspaces' primal-reuse keys, so that
  /// objectives sharing workspaces (`replacingData`) never reuse each other's
  /// forward passes.
  private let dataToken = DataToken()

  /// - Throws: `NeuralEngineError` if the data's feature count differs from the
  ///   model's input size, the model's output size from the number of classes, a
  ///   label is out of range, or `chunkSize` < 1.
  public init(model: Model, data: Dataset<T>, loss: Loss, chunkSize: Int = Objective.defaultChunkSize, threads: Int = Objective.defaultThreads) throws {
    guard chunkSize >= 1 else {
      throw NeuralEngineError.invalidArgument(name: "chunk size", value: "\(chunkSize)", expected: "a positive integer")
    }
    guard threads >= 1 else {
      throw NeuralEngineError.invalidArgument(name: "threads", value: "\(threads)", expected: "a positive integer")
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
    self.threads = threads
    self.cache = WorkspaceCache<T>()
  }

  private init(_ other: Objective, data: Dataset<T>) {
    model = other.model
    self.data = data
    loss = other.loss
    chunkSize = other.chunkSize
    threads = other.threads
    cache = other.cache
  }

  /// The same objective on other examples (a minibatch, say), sharing this one's
  /// workspaces, so a training loop that changes its batch every step allocates
  /// nothing. Forward passes kept for Hessian-vector products are never reused
  /// across the two.
  /// - Throws: `NeuralEngineError` as `init` does for data that does not fit the model.
  public func replacingData(_ data: Dataset<T>) throws -> Objective<T> {
    guard data.featureCount == model.inputSize else {
      throw NeuralEngineError.shapeMismatch(what: "data features vs model input", expected: "\(model.inputSize)", got: "\(data.featureCount)")
    }
    guard data.classes == model.outputSize else {
      throw NeuralEngineError.shapeMismatch(what: "data classes vs model outputs", expected: "\(model.outputSize)", got: "\(data.classes)")
    }
    guard data.count >= 1 else {
      throw NeuralEngineError.invalidArgument(name: "data set size", value: "0", expected: "at least one example")
    }
    return Objective(self, data: data)
  }

  /// The workers a pass actually uses: `threads`, but no more than there are chunks
  /// of `chunkSize` examples.
  public var workers: Int {
    let rows = min(chunkSize, data.count)
    return min(threads, (data.count + rows - 1) / rows)
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
  ///
  /// The primal forward state (activations) of each chunk is kept between calls
  /// (up to 64 MiB of extra buffers per workspace), so further products at
  /// bitwise-equal θ (Lanczos, power iteration) skip the primal forward GEMMs.
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
    let workers = self.workers
    let count = model.parameterCount
    if let out { zero(out, count) }
    return try parameters.withUnsafeBufferPointer { wb in
      try data.features.withUnsafeBufferPointer { xb in
        try data.labels.withUnsafeBufferPointer { lb in
          guard let w = wb.baseAddress, let x = xb.baseAddress, let labels = lb.baseAddress else { return (.nan, .nan) }
          if workers == 1 {
            let ws = cache.take(stages: model.stages, rows: rows)
            defer { cache.give(ws) }
            // One worker of several allowed (a small data set): still single-threaded
            // BLAS, so the result does not depend on OpenBLAS's thread count;
            // `threads` = 1 asks for OpenBLAS's threads instead.
            let (s, c) = try threads > 1
              ? BLASInfo.withSingleThreadedBLAS { try runChunks(0..<n, parameters, w, direction, x, labels, ws, out) }
              : runChunks(0..<n, parameters, w, direction, x, labels, ws, out)
            return (s / Double(n), Double(c) / Double(n))
          }
          // Contiguous parts of equal size (±1 example), one per worker, with
          // single-threaded BLAS calls inside.
          let spaces = (0..<workers).map { _ in cache.take(stages: model.stages, rows: rows) }
          defer { for ws in spaces { cache.give(ws) } }
          var results = [Result<(Double, Int), any Error>](repeating: .success((0, 0)), count: workers)
          results.withUnsafeMutableBufferPointer { rb in
            BLASInfo.withSingleThreadedBLAS {
              // Each worker writes its own result slot and its own accumulator.
              Parallel.forEach(workers) { k in
                let ws = spaces[k]
                let lo = k * n / workers
                let hi = (k + 1) * n / workers
                var target = out
                if out != nil && k > 0 {
                  let p = ws.accumulator(count: count)
                  zero(p, count)
                  target = p
                }
                rb[k] = Result { try self.runChunks(lo..<hi, parameters, w, direction, x, labels, ws, target) }
              }
            }
          }
          var total = 0.0
          var correct = 0
          for r in results {
            let (s, c) = try r.get()
            total += s
            correct += c
          }
          if let out {
            for k in 1..<workers { T._axpy(count, 1, spaces[k].accumulator(count: count), out) }
          }
          return (total / Double(n), Double(correct) / Double(n))
        }
      }
    }
  }

  /// Forward, loss and (if `out`) backward over the examples in `range`, chunk by
  /// chunk, accumulating into `out`; returns (Σ loss, correct).
  private func runChunks(
    _ range: Range<Int>, _ parameters: [T], _ w: UnsafePointer<T>, _ direction: UnsafePointer<T>?, _ x: UnsafePointer<T>,
    _ labels: UnsafePointer<Int>, _ ws: Workspace<T>, _ out: UnsafeMutablePointer<T>?
  ) throws -> (Double, Int) {
    if direction != nil { ws.ensureTangents() }
    let d = data.featureCount
    let classes = model.outputSize
    let stages = model.stages
    let n = data.count
    var total = 0.0
    var correct = 0
    var start = range.lowerBound
    while start < range.upperBound {
      let m = min(ws.rows, range.upperBound - start)
      let xc = x + start * d
      let reuse = ws.selectPrimal(start: start, rows: m, parameters: parameters, data: dataToken, perChunk: direction != nil)
      Engine.forward(stages: stages, parameters: w, direction: direction, x: xc, rows: m, workspace: ws, reusePrimal: reuse)
      if direction != nil { ws.markPrimal(start: start, rows: m, parameters: parameters, data: dataToken) }
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
    return (total, correct)
  }
}

/// An identity for an objective's data (compared with `===`; the keys that hold it
/// keep it alive, so an identity is never reused while a key refers to it).
final class DataToken: Sendable {}

/// Sets `count` elements to +0 with one memset (all-zero bits are +0.0 in IEEE 754);
/// a generic `update(repeating:)` here would go through value witnesses per element.
@inline(__always)
private func zero<T: BLASScalar>(_ p: UnsafeMutablePointer<T>, _ count: Int) {
  UnsafeMutableRawPointer(p).initializeMemory(as: UInt8.self, repeating: 0, count: count * MemoryLayout<T>.stride)
}
