import Foundation
import LinearAlgebra
@testable import NeuralEngine
import PropertyBased
import TestSupport
import Testing

/// Hostile data and weights files: IDX headers whose dimensions overflow when
/// multiplied, gzip streams that are truncated or damaged, CIFAR-10 files of the wrong
/// size, safetensors headers that lie (shapes that overflow, fractional or negative
/// numbers, offsets outside the data, deep JSON) and truncations of valid files. Every
/// reader must return or throw a `NeuralEngineError` (never trap) within a time bound,
/// and the error must name the file.
///
/// Time bound: 10 s per file. Every input is under 1 MB and is read or refused in
/// milliseconds on an idle machine; the bound tells that apart from a hang on these
/// shared machines.
@Suite struct HostileFileTests {
  static let bound = 10.0

  static func timed<T>(_ what: String, _ body: () throws -> T) rethrows -> T {
    let start = ContinuousClock.now
    let r = try body()
    let d = ContinuousClock.now - start
    #expect(Double(d.components.seconds) < Self.bound, "\(what) took \(d)")
    return r
  }

  static func bigEndian(_ x: UInt32) -> [UInt8] { [UInt8(x >> 24), UInt8(x >> 16 & 0xff), UInt8(x >> 8 & 0xff), UInt8(x & 0xff)] }

  /// IDX headers with up to 8 dimensions of any 32-bit size (products far beyond 2⁶³)
  /// and bodies of random length.
  @Test func idxHeadersThatLieAreRefused() async {
    let types: [UInt8] = [0x08, 0x09, 0x0d]
    await propertyCheck(count: 200, input: Gen.int(in: 0...0xFFFF_FFFF).array(of: 0...8), Gen.int(in: 0...300), Gen.int(in: 0...2)) { dims, body, t in
      var bytes: [UInt8] = [0, 0, types[t], UInt8(dims.count)]
      for d in dims { bytes += Self.bigEndian(UInt32(d)) }
      bytes += [UInt8](repeating: 7, count: body)
      Self.timed("IDX \(dims)") {
        do {
          let a = try IDX.parse(bytes, path: "hostile.idx")
          #expect(a.bytes.count == IDX.product(a.shape))
        } catch let e as NeuralEngineError {
          #expect(e.description.contains("hostile.idx") || e.description.contains("IDX"), "\(e)")
        } catch {
          Issue.record("IDX \(dims): an error of another type: \(error)")
        }
      }
    }
  }

  /// Every prefix of a gzip stream and streams with damaged bytes: decompressed, or a
  /// `corruptGzip` error naming the file.
  @Test func damagedGzipStreamsAreRefused() async throws {
    let plain = (0..<5000).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ $0 / 13) }
    let gz = try FileBytes.gzip(plain)
    await propertyCheck(count: 150, input: Gen.int(in: 0...(gz.count)), Gen.int(in: 0...255).array(of: 0...3), Gen.bool) { cut, noise, truncate in
      var bytes = gz
      if truncate {
        bytes = Array(gz.prefix(cut))
      } else {
        for (i, v) in noise.enumerated() { bytes[(cut + 31 * i) % bytes.count] ^= UInt8(v) | 1 }
      }
      Self.timed("gzip cut \(cut)") {
        do { _ = try FileBytes.gunzip(bytes, path: "hostile.gz") } catch let e as NeuralEngineError {
          #expect(e.description.contains("hostile.gz"), "\(e)")
        } catch {
          Issue.record("an error of another type: \(error)")
        }
      }
    }
  }

  /// A stream that decompresses beyond the reader's limit is stopped at the limit.
  @Test func gzipBombsAreStoppedAtTheLimit() throws {
    let gz = try FileBytes.gzip([UInt8](repeating: 0, count: 4 << 20))
    #expect(throws: NeuralEngineError.self) { try FileBytes.gunzip(gz, path: "bomb.gz", limit: 1 << 20) }
    #expect(try FileBytes.gunzip(gz, path: "bomb.gz", limit: 8 << 20).count == 4 << 20)
  }

  /// CIFAR-10 files of any length and label bytes: records read, or an error naming
  /// the file and what is wrong.
  @Test func cifarFilesOfTheWrongSizeAreRefused() async throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("aeos-cifar-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    await propertyCheckThrowing(count: 40, input: Gen.int(in: 0...4), Gen.int(in: 0...3073), Gen.int(in: 0...255)) { records, extra, label in
      let path = dir.appendingPathComponent("batch-\(records)-\(extra)-\(label).bin").path
      let bytes = (0..<(records * 3073 + extra)).map { $0 % 3073 == 0 ? UInt8(label) : UInt8(truncatingIfNeeded: $0) }
      try Data(bytes).write(to: URL(fileURLWithPath: path))
      Self.timed(path) {
        do {
          let (pixels, labels) = try CIFAR10.raw(files: [path])
          #expect(pixels.count == labels.count * 3072)
        } catch let e as NeuralEngineError {
          #expect(e.description.contains(path), "\(e)")
        } catch {
          Issue.record("an error of another type: \(error)")
        }
      }
    }
  }

  static func safetensors(_ header: String, body: Int) -> [UInt8] {
    let h = Array(header.utf8)
    return withUnsafeBytes(of: UInt64(h.count).littleEndian, Array.init) + h + [UInt8](repeating: 0, count: body)
  }

  /// Headers whose shapes and offsets lie: any 64-bit integers, fractions, negative
  /// numbers, numbers beyond 2⁶⁴, strings; bodies of random length.
  @Test func safetensorsHeadersThatLieAreRefused() async {
    let numbers = ["0", "1", "4", "-1", "1.5", "1e30", "18446744073709551617", "9223372036854775807", "4294967296", "\"4\"", "null", "true"]
    let dtypes = ["F32", "F64", "I8", ""]
    let pick = Gen.int(in: 0...(numbers.count - 1))
    await propertyCheck(count: 250, input: pick.array(of: 0...4), pick, pick, Gen.int(in: 0...3), Gen.int(in: 0...64)) { shape, begin, end, d, body in
      let dtype = dtypes[d]
      let header = #"{"w": {"dtype": "\#(dtype)", "shape": [\#(shape.map { numbers[$0] }.joined(separator: ","))], "data_offsets": [\#(numbers[begin]), \#(numbers[end])]}}"#
      Self.timed(header) {
        do {
          let r: (tensors: [String: Tensor<Float>], metadata: [String: String]) = try Safetensors.decode(Self.safetensors(header, body: body), path: "hostile.safetensors")
          if let w = r.tensors["w"] { #expect(w.scalars.count == IDX.product(w.shape)) }
        } catch let e as NeuralEngineError {
          #expect(e.description.contains("hostile.safetensors"), "\(e)")
        } catch {
          Issue.record("\(header): an error of another type: \(error)")
        }
      }
    }
  }

  /// Every prefix of a valid file, damaged bytes, a header length of up to 2⁶⁴ − 1 and
  /// a deeply nested header.
  @Test func truncatedAndDamagedSafetensorsAreRefused() async throws {
    let valid = try Safetensors.encode(["a": Tensor<Float>(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6])], metadata: ["step": "3"])
    await propertyCheck(count: 200, input: Gen.int(in: 0...(valid.count)), Gen.int(in: 0...255).array(of: 0...3), Gen.int(in: 0...3)) { cut, noise, kind in
      var bytes = valid
      switch kind {
      case 0: bytes = Array(valid.prefix(cut))
      case 1: for (i, v) in noise.enumerated() { bytes[(cut + 17 * i) % bytes.count] = UInt8(v) }
      case 2: bytes.replaceSubrange(0..<8, with: withUnsafeBytes(of: (UInt64.max - UInt64(cut)).littleEndian, Array.init))
      default: bytes = Self.safetensors(String(repeating: "[", count: 1000 * (cut + 1)) + String(repeating: "]", count: 1000 * (cut + 1)), body: 0)
      }
      Self.timed("safetensors kind \(kind) cut \(cut)") {
        do {
          let _: (tensors: [String: Tensor<Double>], metadata: [String: String]) = try Safetensors.decode(bytes, path: "hostile.safetensors")
        } catch let e as NeuralEngineError {
          #expect(e.description.contains("hostile.safetensors"), "\(e)")
        } catch {
          Issue.record("an error of another type: \(error)")
        }
      }
    }
  }

  /// Weights that are not finite are refused by name and index, not trained from.
  @Test func nonFiniteWeightsAreRefusedByName() throws {
    let layout = try ParameterLayout(blocks: [ParameterBlock(name: "dense0.weight", shape: [2, 2], offset: 0)])
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("aeos-nan-\(UUID().uuidString).safetensors").path
    defer { try? FileManager.default.removeItem(atPath: path) }
    try Safetensors.save(parameters: [Float(1), 2, .nan, 4], layout: layout, to: path)
    do {
      let _: [Float] = try Safetensors.loadParameters(from: path, layout: layout)
      Issue.record("NaN weights were loaded")
    } catch {
      #expect("\(error)".contains("dense0.weight[2]"), "\(error)")
    }
  }
}
