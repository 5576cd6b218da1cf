import Foundation
import LinearAlgebra
import PropertyBased
import TestSupport
import Testing

@testable import NeuralEngine

func temporaryPath(_ name: String) -> String {
  let dir = FileManager.default.temporaryDirectory.appendingPathComponent("aeos-neural-tests-\(getpid())")
  try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
  return dir.appendingPathComponent("\(UInt64.random(in: 0...UInt64.max))-\(name)").path
}

func isError(_ body: () throws -> Void, _ matches: (NeuralEngineError) -> Bool) -> Bool {
  do {
    try body()
    return false
  } catch let e as NeuralEngineError {
    return matches(e)
  } catch {
    return false
  }
}

@Suite struct IDXTests {
  let shapes = Gen.int(in: 1...4).array(of: 1...3)

  @Test func roundTripPlainAndGzip() async throws {
    await propertyCheckThrowing(count: 30, input: shapes, Gen.int(in: 0...1000)) { shape, salt in
      let n = shape.reduce(1, *)
      let bytes = (0..<n).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ salt) }
      let a = try IDXArray(shape: shape, bytes: bytes)
      for gzip in [false, true] {
        let path = temporaryPath("a.idx")
        defer { try? FileManager.default.removeItem(atPath: path) }
        try IDX.write(a, to: path, gzip: gzip)
        #expect(try IDX.read(path) == a)
      }
    }
  }

  @Test func rejectsWrongMagicTruncationAndCorruption() throws {
    let a = try IDXArray(shape: [3, 4], bytes: Array(0..<12))
    var raw = IDX.encode(a)
    #expect(isError({ _ = try IDX.parse(Array(raw.dropLast())) }) { if case .corruptIDX = $0 { true } else { false } })
    raw[0] = 7
    #expect(isError({ _ = try IDX.parse(raw) }) { if case .corruptIDX(_, let r) = $0 { r.contains("magic") } else { false } })
    raw[0] = 0
    raw[2] = 0x0d
    #expect(isError({ _ = try IDX.parse(raw) }) { if case .corruptIDX(_, let r) = $0 { r.contains("element type") } else { false } })
    #expect(isError({ _ = try IDX.parse([0, 0]) }) { if case .corruptIDX = $0 { true } else { false } })
    // Truncated and damaged gzip streams.
    let gz = try FileBytes.gzip(IDX.encode(try IDXArray(shape: [100], bytes: (0..<100).map { UInt8($0) })))
    #expect(isError({ _ = try FileBytes.gunzip(Array(gz.prefix(gz.count / 2))) }) { if case .corruptGzip = $0 { true } else { false } })
    var damaged = gz
    for i in 12..<min(30, damaged.count) { damaged[i] ^= 0x5a }
    #expect(isError({ _ = try FileBytes.gunzip(damaged) }) { if case .corruptGzip = $0 { true } else { false } })
    #expect(isError({ _ = try IDX.read("/nonexistent/file.idx") }) { if case .unreadableFile = $0 { true } else { false } })
  }
}

@Suite struct SafetensorsTests {
  @Test func parameterRoundTripFloatAndDouble() async throws {
    await propertyCheckThrowing(count: 20, input: seeds) { seed in
      let p = try makeProblem(seed: seed)
      let layout = p.objective.model.layout
      let path = temporaryPath("w.safetensors")
      defer { try? FileManager.default.removeItem(atPath: path) }
      try Safetensors.save(parameters: p.parameters, layout: layout, metadata: ["format": "pt", "note": "quote \" and \\"], to: path)
      let back: [Double] = try Safetensors.loadParameters(from: path, layout: layout)
      #expect(back == p.parameters)
      #expect(try Safetensors.metadata(from: path) == ["format": "pt", "note": "quote \" and \\"])
      let floats = p.parameters.map(Float.init)
      try Safetensors.save(parameters: floats, layout: layout, to: path)
      let backF: [Float] = try Safetensors.loadParameters(from: path, layout: layout)
      #expect(backF == floats)
      // Header length is a multiple of 8 and the file is exactly header + data.
      let bytes = [UInt8](FileManager.default.contents(atPath: path)!)
      let n = (0..<8).reduce(0) { $0 | Int(bytes[$1]) << (8 * $1) }
      #expect(n % 8 == 0)
      #expect(bytes.count == 8 + n + 4 * floats.count)
    }
  }

  @Test func rejectsTruncatedAndMismatched() throws {
    let model = try MLP.make(inputSize: 3, depth: 1, width: 4, activation: .tanh, classes: 2)
    let p: [Double] = model.initialParameters(seed: 3)
    let bytes = try Safetensors.encode(["dense0.weight": try Tensor(shape: [4, 3], scalars: Array(p[0..<12]))])
    for cut in [0, 4, 8, 20, bytes.count - 1] {
      #expect(isError({ let _: ([String: Tensor<Double>], [String: String]) = try Safetensors.decode(Array(bytes.prefix(cut))) }) {
        if case .corruptSafetensors = $0 { true } else { false }
      }, "cut at \(cut)")
    }
    let path = temporaryPath("m.safetensors")
    defer { try? FileManager.default.removeItem(atPath: path) }
    let other = try MLP.make(inputSize: 3, depth: 1, width: 5, activation: .tanh, classes: 2)
    try Safetensors.save(parameters: other.initialParameters(seed: 1, as: Double.self), layout: other.layout, to: path)
    #expect(isError({ let _: [Double] = try Safetensors.loadParameters(from: path, layout: model.layout) }) {
      if case .shapeMismatch = $0 { true } else { false }
    })
    #expect(throws: NeuralEngineError.self) { try Safetensors.save(parameters: [1.0], layout: model.layout, to: path) }
  }
}

@Suite struct DatasetTests {
  @Test func fashionMNISTSubsetIsStandardised() throws {
    let (train, test) = try FashionMNIST.load(n: 300, test: 50, as: Double.self)
    #expect(train.count == 300 && train.featureShape == [28, 28, 1] && train.classes == 10)
    #expect(test?.count == 50)
    // Each pixel: mean 0 and std 1 (or exactly 0 for constant pixels), ddof 0.
    let s = train.statistics()
    for j in 0..<784 {
      #expect(abs(s.mean[j]) <= 1e-9)
      #expect(abs(s.std[j] - 1) <= 1e-9 || s.std[j] == 0)
    }
    // The first training labels of Fashion-MNIST (from its documentation): 9 0 0 3 0 2 7 2 5 5.
    #expect(Array(train.labels.prefix(10)) == [9, 0, 0, 3, 0, 2, 7, 2, 5, 5])
  }

  @Test func balancedSubsetHasEqualClasses() async throws {
    let (raw, labels) = try FashionMNIST.raw(test: true)
    #expect(raw.shape == [10000, 28, 28])
    await propertyCheckThrowing(count: 10, input: Gen.int(in: 1...60), seeds) { k, seed in
      let idx = try SubsetSelection.indices(labels: labels.bytes.map(Int.init), classes: 10, n: k * 10, balanced: true, seed: seed, dataset: "t")
      #expect(Set(idx).count == k * 10)
      var counts = [Int](repeating: 0, count: 10)
      for i in idx { counts[Int(labels.bytes[i])] += 1 }
      #expect(counts.allSatisfy { $0 == k })
    }
  }

  @Test func badRequestsAreClearErrors() throws {
    #expect(isError({ _ = try FashionMNIST.load(n: 60001, as: Float.self) }) {
      if case .notEnoughExamples(60001, 60000, _) = $0 { true } else { false }
    })
    #expect(isError({ _ = try FashionMNIST.load(n: 10, directory: "/nonexistent", as: Float.self) }) {
      $0.description.contains("dataset-fashion-mnist")
    })
    #expect(throws: NeuralEngineError.self) { try Dataset<Double>(features: [1, 2, 3], labels: [0, 1], featureShape: [2], classes: 2) }
    #expect(throws: NeuralEngineError.self) { try Dataset<Double>(features: [1, 2], labels: [2], featureShape: [2], classes: 2) }
    let model = try MLP.make(inputSize: 3, depth: 0, width: 1, activation: .tanh, classes: 2)
    let data = try Dataset<Double>(features: [1, 2], labels: [0], featureShape: [2], classes: 2)
    #expect(throws: NeuralEngineError.self) { try Objective(model: model, data: data, loss: .mse) }
  }

  @Test func modelShapesAreChecked() throws {
    #expect(throws: NeuralEngineError.self) { try Model(inputShape: [28, 28, 1], layers: [.dense(outputs: 3)]) }
    #expect(throws: NeuralEngineError.self) { try Model(inputShape: [4], layers: [.conv2D(filters: 2, kernel: 3)]) }
    #expect(throws: NeuralEngineError.self) { try Model(inputShape: [2, 2, 1], layers: [.conv2D(filters: 2, kernel: 3)]) }
    let cnn = try CNN.make(inputShape: [28, 28, 1], classes: 10)
    #expect(cnn.outputShape == [10])
    #expect(cnn.layout.block(named: "conv0.weight")?.shape == [64, 1, 5, 5])
    #expect(cnn.layout.block(named: "dense0.weight")?.shape == [512, 128])
  }

  /// Initial weights have the N(0, 1/fan_in) scale: the mean square of a 784×200
  /// block (156 800 draws) is 1/784 within 2% (its relative standard deviation is
  /// √(2/156800) ≈ 0.36%, so 2% is more than 5σ).
  @Test func initialisationScale() async throws {
    await propertyCheckThrowing(count: 5, input: seeds) { seed in
      let m = try MLP.make(widths: [784, 200, 10], activation: .tanh)
      let p: [Double] = m.initialParameters(seed: seed)
      let w = m.layout.blocks[0]
      let ms = p[w.range].map { $0 * $0 }.reduce(0, +) / Double(w.count)
      #expect(abs(ms * 784 - 1) < 0.02)
      #expect(p[m.layout.blocks[1].range].allSatisfy { $0 == 0 })
    }
  }
}

@Suite struct CIFARTests {
  /// Records of 1 label byte + R, G, B planes become channels-last rows:
  /// pixel p, channel c ← byte 1 + c·1024 + p of its record.
  @Test func binaryRecordsBecomeChannelsLast() async throws {
    await propertyCheckThrowing(count: 5, input: Gen.int(in: 1...3), seeds) { records, seed in
      var rng = SeededGenerator(seed: seed)
      var bytes = [UInt8]()
      var labels = [UInt8]()
      for _ in 0..<records {
        let l = UInt8(rng.next() % 10)
        labels.append(l)
        bytes.append(l)
        for _ in 0..<3072 { bytes.append(UInt8(truncatingIfNeeded: rng.next())) }
      }
      let path = temporaryPath("data_batch.bin")
      defer { try? FileManager.default.removeItem(atPath: path) }
      try FileBytes.write(bytes, to: path)
      let (pixels, got) = try CIFAR10.raw(files: [path])
      #expect(got == labels)
      for r in 0..<records {
        for p in stride(from: 0, to: 1024, by: 97) {
          for c in 0..<3 { #expect(pixels[r * 3072 + p * 3 + c] == bytes[r * 3073 + 1 + c * 1024 + p]) }
        }
      }
      try FileBytes.write(Array(bytes.dropLast()), to: path)
      #expect(isError({ _ = try CIFAR10.raw(files: [path]) }) { if case .corruptCIFAR = $0 { true } else { false } })
    }
  }
}
