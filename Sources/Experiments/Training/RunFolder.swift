import Foundation
import LinearAlgebra
import NeuralEngine

/// A run folder (DESIGN.md, "Run folder"): config.json, metrics.jsonl (one line per
/// step, written as it goes), summary.json, and the checkpoint that `--resume` reads:
/// checkpoint.safetensors (weights, PyTorch names), optimizer.safetensors (the
/// optimizer's state arrays by name) and curvature.safetensors (the Lanczos
/// warm-start vectors, float64).
public final class RunFolder {
  public let path: String
  private var metricsHandle: FileHandle?

  public static let config = "config.json"
  public static let metrics = "metrics.jsonl"
  public static let summary = "summary.json"
  public static let checkpoint = "checkpoint.safetensors"
  public static let optimizer = "optimizer.safetensors"
  public static let curvature = "curvature.safetensors"
  static let runFiles = [config, metrics, summary, checkpoint, optimizer, curvature]

  private init(path: String) { self.path = path }

  deinit { try? metricsHandle?.close() }

  public func file(_ name: String) -> String { (path as NSString).appendingPathComponent(name) }

  /// A new run folder at `path` (created with its parents). An existing folder that
  /// holds anything is refused unless `force`; with `force` the run's own files are
  /// removed (nothing else is touched).
  /// - Throws: `TrainingError` naming the folder and what to do.
  public static func create(at path: String, force: Bool) throws -> RunFolder {
    let fm = FileManager.default
    var isDirectory: ObjCBool = false
    if fm.fileExists(atPath: path, isDirectory: &isDirectory) {
      guard isDirectory.boolValue else { throw TrainingError("--out \(path) is a file, not a folder") }
      let contents = (try? fm.contentsOfDirectory(atPath: path)) ?? []
      if !contents.isEmpty {
        guard force else {
          throw TrainingError(
            "--out \(path) already exists and is not empty: give --resume to continue the run in it, or --force to overwrite its run files")
        }
        for name in runFiles where contents.contains(name) {
          do { try fm.removeItem(atPath: (path as NSString).appendingPathComponent(name)) } catch {
            throw TrainingError("cannot remove \(name) from \(path): \(error.localizedDescription)")
          }
        }
      }
    } else {
      do { try fm.createDirectory(atPath: path, withIntermediateDirectories: true) } catch {
        throw TrainingError("cannot create the run folder \(path): \(error.localizedDescription)")
      }
    }
    return RunFolder(path: path)
  }

  /// An existing run folder (it must hold config.json).
  public static func open(at path: String) throws -> RunFolder {
    let folder = RunFolder(path: path)
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue else {
      throw TrainingError("\(path) is not a folder: expected a run folder made by `aeos train --out`")
    }
    guard FileManager.default.fileExists(atPath: folder.file(config)) else {
      throw TrainingError("\(path) has no \(config): it is not a run folder made by `aeos train --out`")
    }
    return folder
  }

  // MARK: Files

  func write(_ data: Data, to name: String) throws {
    do { try data.write(to: URL(fileURLWithPath: file(name)), options: .atomic) } catch {
      throw TrainingError("cannot write \(file(name)): \(error.localizedDescription)")
    }
  }

  /// Largest run file read (metrics.jsonl of a long run included).
  static let readLimit = 1 << 33

  func read(_ name: String) throws -> Data {
    do { return try InputFile.read(file(name), what: "the run file", limit: Self.readLimit, allowEmpty: true) } catch {
      throw TrainingError(error.description)
    }
  }

  public func exists(_ name: String) -> Bool { FileManager.default.fileExists(atPath: file(name)) }

  public func readConfig() throws -> TrainConfig {
    try TrainConfig.read(configJSON: try read(Self.config), path: file(Self.config))
  }

  /// Appends one line to metrics.jsonl and hands it to the kernel at once (a crash
  /// loses no finished line).
  public func append(_ record: StepRecord) throws {
    if metricsHandle == nil {
      let p = file(Self.metrics)
      if !FileManager.default.fileExists(atPath: p) { _ = FileManager.default.createFile(atPath: p, contents: nil) }
      guard let h = FileHandle(forWritingAtPath: p) else { throw TrainingError("cannot open \(p) for writing") }
      do { try h.seekToEnd() } catch { throw TrainingError("cannot append to \(p): \(error.localizedDescription)") }
      metricsHandle = h
    }
    do { try metricsHandle?.write(contentsOf: Data((record.json.serialized() + "\n").utf8)) } catch {
      throw TrainingError("cannot append to \(file(Self.metrics)): \(error.localizedDescription)")
    }
  }

  /// Every line of metrics.jsonl (a torn last line, from a crash mid-write, is dropped).
  public func readMetrics() throws -> [StepRecord] { try metricsLines().map(\.record) }

  private func metricsLines() throws -> [(text: String, record: StepRecord)] {
    guard exists(Self.metrics) else { return [] }
    let text = String(decoding: try read(Self.metrics), as: UTF8.self)
    var lines = text.split(separator: "\n", omittingEmptySubsequences: true).map(String.init)
    if !text.hasSuffix("\n"), !lines.isEmpty { lines.removeLast() }
    return try lines.enumerated().map { ($1, try StepRecord(jsonLine: $1, path: file(Self.metrics), lineNumber: $0 + 1)) }
  }

  /// Keeps the lines of steps before `step` (what a checkpoint at `step` has already
  /// measured), as they were written, and returns them.
  public func truncateMetrics(before step: Int) throws -> [StepRecord] {
    try metricsHandle?.close()
    metricsHandle = nil
    let kept = try metricsLines().filter { $0.record.step < step }
    try write(Data(kept.map { $0.text + "\n" }.joined().utf8), to: Self.metrics)
    return kept.map(\.record)
  }

  public func writeSummary(_ s: RunSummary) throws {
    try write(Data((s.json.serialized(pretty: true) + "\n").utf8), to: Self.summary)
  }

  /// summary.json's `status`, if there is a summary.
  public func summaryStatus() -> RunStatus? {
    guard let data = try? read(Self.summary),
      let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
      let s = object["status"] as? String
    else { return nil }
    return RunStatus(rawValue: s)
  }
}

/// What `--resume` needs to continue a run bit-identically: the iterate, the
/// optimizer's state, the Lanczos warm-start vectors, and the run's own bookkeeping.
struct Checkpoint<T: BLASScalar> {
  /// The next step to run (the iterate is x_step).
  var step: Int
  var parameters: [T]
  var methodStep: Int
  var methodArrays: [String: [T]]
  /// Warm-start vectors by operator ("sharpness", "preconditioned", "lambda_min").
  var warmStart: [String: [[Double]]]
  var initialLoss: Double?
  var wallSeconds: Double

  /// Writes the three checkpoint files (each atomically; the weights file last, so a
  /// checkpoint whose step disagrees across files is detected on reading).
  func write(to folder: RunFolder, model: Model, modelDescription: String) throws {
    var meta = ["step": String(step)]
    var optimizerTensors: [String: Tensor<T>] = [:]
    for (name, a) in methodArrays { optimizerTensors[name] = try Tensor(shape: [a.count], scalars: a) }
    meta["method_step"] = String(methodStep)
    try folder.write(Data(try Safetensors.encode(optimizerTensors, metadata: meta)), to: RunFolder.optimizer)
    var curvatureTensors: [String: Tensor<Double>] = [:]
    for (name, vectors) in warmStart {
      for (i, v) in vectors.enumerated() { curvatureTensors["\(name).\(i)"] = try Tensor(shape: [v.count], scalars: v) }
    }
    try folder.write(Data(try Safetensors.encode(curvatureTensors, metadata: ["step": String(step)])), to: RunFolder.curvature)
    var weightsMeta = ["step": String(step), "model": modelDescription, "wall_s": "\(wallSeconds)"]
    if let l = initialLoss { weightsMeta["initial_loss"] = "\(l)" }
    try folder.write(Data(try Safetensors.encodeParameters(parameters, layout: model.layout, metadata: weightsMeta)), to: RunFolder.checkpoint)
  }

  /// Reads the checkpoint of a run folder.
  /// - Throws: `TrainingError` for missing or inconsistent files, a weights file for
  ///   another model.
  static func read(from folder: RunFolder, model: Model) throws -> Checkpoint {
    for name in [RunFolder.checkpoint, RunFolder.optimizer] where !folder.exists(name) {
      throw TrainingError("\(folder.file(name)) is missing: the run in \(folder.path) has no checkpoint to resume from")
    }
    let weightsPath = folder.file(RunFolder.checkpoint)
    let meta = try Safetensors.metadata(from: weightsPath)
    guard let stepText = meta["step"], let step = Int(stepText), step >= 0 else {
      throw TrainingError("\(weightsPath) has no valid \"step\" in its metadata")
    }
    let parameters: [T] = try Safetensors.loadParameters(from: weightsPath, layout: model.layout)
    let (optimizerTensors, optimizerMeta): ([String: Tensor<T>], [String: String]) =
      try Safetensors.decode([UInt8](try folder.read(RunFolder.optimizer)), path: folder.file(RunFolder.optimizer))
    guard optimizerMeta["step"] == stepText, let methodStep = optimizerMeta["method_step"].flatMap(Int.init) else {
      throw TrainingError("\(folder.file(RunFolder.optimizer)) is not from the same checkpoint as \(weightsPath) (step \(stepText))")
    }
    var warm: [String: [[Double]]] = [:]
    if folder.exists(RunFolder.curvature) {
      let (tensors, cmeta): ([String: Tensor<Double>], [String: String]) =
        try Safetensors.decode([UInt8](try folder.read(RunFolder.curvature)), path: folder.file(RunFolder.curvature))
      guard cmeta["step"] == stepText else {
        throw TrainingError("\(folder.file(RunFolder.curvature)) is not from the same checkpoint as \(weightsPath) (step \(stepText))")
      }
      for name in tensors.keys.sorted(by: { a, b in
        let (pa, ia) = splitIndex(a)
        let (pb, ib) = splitIndex(b)
        return pa == pb ? ia < ib : pa < pb
      }) {
        let (prefix, _) = splitIndex(name)
        warm[prefix, default: []].append(tensors[name]?.scalars ?? [])
      }
    }
    return Checkpoint(
      step: step, parameters: parameters, methodStep: methodStep, methodArrays: optimizerTensors.mapValues(\.scalars), warmStart: warm,
      initialLoss: meta["initial_loss"].flatMap(Double.init), wallSeconds: meta["wall_s"].flatMap(Double.init) ?? 0)
  }
}

/// "sharpness.3" → ("sharpness", 3).
private func splitIndex(_ name: String) -> (String, Int) {
  guard let dot = name.lastIndex(of: "."), let i = Int(name[name.index(after: dot)...]) else { return (name, 0) }
  return (String(name[..<dot]), i)
}
