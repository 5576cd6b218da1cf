import LinearAlgebra

/// A labelled data set held in memory: `count` examples of `featureCount` numbers,
/// row-major (example i is features[i·d ..< (i+1)·d]); images channels-last
/// ([height, width, channels] in `featureShape`).
public struct Dataset<T: BLASScalar>: Sendable, Equatable {
  public let features: [T]
  public let labels: [Int]
  /// Shape of one example: [d] or [height, width, channels].
  public let featureShape: [Int]
  /// Number of classes; labels lie in 0..<classes.
  public let classes: Int

  public var count: Int { labels.count }
  public var featureCount: Int { featureShape.reduce(1, *) }

  /// - Throws: `NeuralEngineError` if sizes disagree or a label is outside 0..<classes.
  public init(features: [T], labels: [Int], featureShape: [Int], classes: Int) throws {
    let d = featureShape.reduce(1, *)
    guard !featureShape.isEmpty, d > 0 else {
      throw NeuralEngineError.invalidArgument(name: "feature shape", value: "\(featureShape)", expected: "positive sizes")
    }
    guard classes >= 1 else {
      throw NeuralEngineError.invalidArgument(name: "classes", value: "\(classes)", expected: "at least 1")
    }
    guard features.count == labels.count * d else {
      throw NeuralEngineError.shapeMismatch(
        what: "features", expected: "\(labels.count) × \(d) = \(labels.count * d) numbers", got: "\(features.count)")
    }
    if let bad = labels.first(where: { $0 < 0 || $0 >= classes }) {
      throw NeuralEngineError.invalidArgument(name: "label", value: "\(bad)", expected: "0..<\(classes)")
    }
    self.features = features
    self.labels = labels
    self.featureShape = featureShape
    self.classes = classes
  }

  /// One-hot targets, n×classes row-major (yᵢ = e_{labelᵢ}).
  public var oneHotTargets: [T] {
    var y = [T](repeating: 0, count: count * classes)
    for (i, l) in labels.enumerated() { y[i * classes + l] = 1 }
    return y
  }

  /// The examples at `indices`, in that order.
  public func subset(_ indices: [Int]) throws -> Dataset<T> {
    let d = featureCount
    var f = [T]()
    f.reserveCapacity(indices.count * d)
    var l = [Int]()
    l.reserveCapacity(indices.count)
    for i in indices {
      guard i >= 0 && i < count else {
        throw NeuralEngineError.invalidArgument(name: "example index", value: "\(i)", expected: "0..<\(count)")
      }
      f.append(contentsOf: features[(i * d)..<((i + 1) * d)])
      l.append(labels[i])
    }
    return try Dataset(features: f, labels: l, featureShape: featureShape, classes: classes)
  }

  /// The first n examples.
  public func prefix(_ n: Int) throws -> Dataset<T> {
    guard n >= 1 && n <= count else { throw NeuralEngineError.notEnoughExamples(requested: n, available: count, dataset: "this data set") }
    return try subset(Array(0..<n))
  }

  /// Per-feature mean and standard deviation (ddof 0) of this set.
  public func statistics() -> FeatureStatistics {
    let d = featureCount
    var mean = [Double](repeating: 0, count: d)
    var m2 = [Double](repeating: 0, count: d)
    let n = Double(max(count, 1))
    for i in 0..<count { for j in 0..<d { mean[j] += Double(features[i * d + j]) } }
    for j in 0..<d { mean[j] /= n }
    for i in 0..<count {
      for j in 0..<d {
        let t = Double(features[i * d + j]) - mean[j]
        m2[j] += t * t
      }
    }
    return FeatureStatistics(mean: mean, std: m2.map { ($0 / n).squareRoot() })
  }

  /// x ← (x − mean)/max(std, 1e-8) per feature (so constant features become 0).
  public func standardized(with stats: FeatureStatistics) throws -> Dataset<T> {
    let d = featureCount
    guard stats.mean.count == d, stats.std.count == d else {
      throw NeuralEngineError.shapeMismatch(what: "feature statistics", expected: "\(d) features", got: "\(stats.mean.count)")
    }
    var f = features
    let inv = stats.std.map { 1 / max($0, 1e-8) }
    for i in 0..<count {
      for j in 0..<d { f[i * d + j] = T((Double(features[i * d + j]) - stats.mean[j]) * inv[j]) }
    }
    return try Dataset(features: f, labels: labels, featureShape: featureShape, classes: classes)
  }
}

/// Per-feature mean and standard deviation (ddof 0).
public struct FeatureStatistics: Sendable, Equatable, Codable {
  public let mean: [Double]
  public let std: [Double]
  public init(mean: [Double], std: [Double]) {
    self.mean = mean
    self.std = std
  }
}

/// Which examples of a labelled pool form a subset.
enum SubsetSelection {
  /// The first n indices, or a class-balanced random choice: ⌊n/K⌋ of each class
  /// (the first n mod K classes get one more), each class's examples drawn without
  /// replacement with `seed`, returned in increasing index order.
  static func indices(labels: [Int], classes: Int, n: Int, balanced: Bool, seed: UInt64, dataset: String) throws -> [Int] {
    guard n >= 1 else { throw NeuralEngineError.invalidArgument(name: "n", value: "\(n)", expected: "1...\(labels.count)") }
    guard n <= labels.count else { throw NeuralEngineError.notEnoughExamples(requested: n, available: labels.count, dataset: dataset) }
    if !balanced { return Array(0..<n) }
    var byClass = [[Int]](repeating: [], count: classes)
    for (i, l) in labels.enumerated() where l >= 0 && l < classes { byClass[l].append(i) }
    var rng = SeededGenerator(seed: seed)
    var chosen: [Int] = []
    for c in 0..<classes {
      let want = n / classes + (c < n % classes ? 1 : 0)
      guard want <= byClass[c].count else {
        throw NeuralEngineError.notEnoughExamples(requested: n, available: byClass[c].count * classes, dataset: "\(dataset) (class \(c), balanced)")
      }
      var pool = byClass[c]
      // Partial Fisher–Yates shuffle.
      for k in 0..<want {
        let j = k + Int(rng.next() % UInt64(pool.count - k))
        pool.swapAt(k, j)
      }
      chosen += pool[0..<want]
    }
    return chosen.sorted()
  }
}

/// Synthetic data sets for tests and demonstrations.
public enum SyntheticData {
  /// n points in ℝ^d from K Gaussian clusters: class c has mean `separation`·μ_c
  /// (μ_c a standard normal vector drawn once) and identity covariance; labels
  /// cycle 0, 1, …, K−1.
  public static func gaussianClusters<T: BLASScalar>(
    n: Int, dimension d: Int, classes: Int, separation: Double = 2, seed: UInt64, as _: T.Type = T.self
  ) throws -> Dataset<T> {
    guard n >= 1, d >= 1, classes >= 1 else {
      throw NeuralEngineError.invalidArgument(name: "n, dimension, classes", value: "\(n), \(d), \(classes)", expected: "positive integers")
    }
    var rng = SeededGenerator(seed: seed)
    let centres = (0..<(classes * d)).map { _ in rng.nextNormal() * separation }
    var f = [T]()
    f.reserveCapacity(n * d)
    var labels = [Int]()
    for i in 0..<n {
      let c = i % classes
      labels.append(c)
      for j in 0..<d { f.append(T(centres[c * d + j] + rng.nextNormal())) }
    }
    return try Dataset(features: f, labels: labels, featureShape: [d], classes: classes)
  }

  /// Inputs x ~ N(0, I) labelled by a random teacher network: label = argmax of the
  /// teacher's output (teacher weights from `teacherSeed`).
  public static func teacher<T: BLASScalar>(
    n: Int, model: Model, teacherSeed: UInt64, seed: UInt64, as _: T.Type = T.self
  ) throws -> Dataset<T> {
    guard n >= 1 else { throw NeuralEngineError.invalidArgument(name: "n", value: "\(n)", expected: "a positive integer") }
    var rng = SeededGenerator(seed: seed)
    let d = model.inputSize
    let f = (0..<(n * d)).map { _ in T(rng.nextNormal()) }
    let params: [T] = model.initialParameters(seed: teacherSeed)
    let outputs = try Predictor(model: model).outputs(parameters: params, features: f)
    let k = model.outputSize
    var labels = [Int]()
    for i in 0..<n {
      var best = 0
      for j in 1..<max(k, 1) where outputs[i * k + j] > outputs[i * k + best] { best = j }
      labels.append(best)
    }
    return try Dataset(features: f, labels: labels, featureShape: model.inputShape, classes: k)
  }
}

/// Evaluates a model's outputs f(x; θ) on raw features (no loss).
public struct Predictor: Sendable {
  public let model: Model
  public init(model: Model) { self.model = model }

  /// f(x; θ) for n examples (row-major n×d in, n×outputSize out).
  public func outputs<T: BLASScalar>(parameters: [T], features: [T], chunkSize: Int = 1024) throws -> [T] {
    let d = model.inputSize
    guard parameters.count == model.parameterCount else {
      throw NeuralEngineError.shapeMismatch(what: "parameters", expected: "\(model.parameterCount) entries", got: "\(parameters.count)")
    }
    guard features.count % d == 0 else {
      throw NeuralEngineError.shapeMismatch(what: "features", expected: "a multiple of \(d)", got: "\(features.count)")
    }
    let n = features.count / d
    let k = model.outputSize
    var out = [T](repeating: 0, count: n * k)
    if n == 0 { return out }
    let rows = min(max(chunkSize, 1), n)
    let ws = Workspace<T>(stages: model.stages, rows: rows)
    parameters.withUnsafeBufferPointer { wb in
      features.withUnsafeBufferPointer { xb in
        out.withUnsafeMutableBufferPointer { ob in
          guard let w = wb.baseAddress, let x = xb.baseAddress, let o = ob.baseAddress else { return }
          var start = 0
          while start < n {
            let m = min(rows, n - start)
            Engine.forward(stages: model.stages, parameters: w, direction: nil, x: x + start * d, rows: m, workspace: ws)
            let src = model.stages.isEmpty ? x + start * d : UnsafePointer(ws.a[model.stages.count - 1])
            (o + start * k).update(from: src, count: m * k)
            start += m
          }
        }
      }
    }
    return out
  }
}
