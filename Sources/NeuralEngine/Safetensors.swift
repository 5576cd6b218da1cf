import Foundation
import LinearAlgebra

/// A dense row-major array with a shape.
public struct Tensor<T: BLASScalar>: Sendable, Equatable {
  public let shape: [Int]
  public var scalars: [T]

  /// - Throws: `.shapeMismatch` if the count is not the product of the shape.
  public init(shape: [Int], scalars: [T]) throws {
    guard shape.allSatisfy({ $0 >= 0 }), shape.reduce(1, *) == scalars.count else {
      throw NeuralEngineError.shapeMismatch(what: "tensor", expected: "\(shape.reduce(1, *)) scalars for shape \(shape)", got: "\(scalars.count)")
    }
    self.shape = shape
    self.scalars = scalars
  }

  /// Matrix product of two 2-D tensors on BLAS gemm.
  public static func matmul(_ a: Tensor, _ b: Tensor) throws -> Tensor {
    guard a.shape.count == 2, b.shape.count == 2, a.shape[1] == b.shape[0] else {
      throw NeuralEngineError.shapeMismatch(what: "matmul", expected: "[m, k] × [k, n]", got: "\(a.shape) × \(b.shape)")
    }
    let (m, k, n) = (a.shape[0], a.shape[1], b.shape[1])
    return try Tensor(shape: [m, n], scalars: BLAS.matmul(a.scalars, b.scalars, m: m, n: n, k: k))
  }
}

/// The safetensors format (Hugging Face): an 8-byte little-endian header length N,
/// N bytes of JSON {name: {"dtype", "shape", "data_offsets": [begin, end]}, optional
/// "__metadata__": {string: string}}, then the raw little-endian data. Readable by
/// PyTorch (`safetensors.torch.load_file`), JAX/flax and numpy
/// (`safetensors.numpy.load_file`).
///
/// Writes F32 (Float) or F64 (Double); reads F32 and F64 into either type.
public enum Safetensors {
  /// Saves tensors (names sorted; header padded with spaces to a multiple of 8).
  public static func save<T: BLASScalar>(_ tensors: [String: Tensor<T>], metadata: [String: String] = [:], to path: String) throws {
    try FileBytes.write(encode(tensors, metadata: metadata), to: path)
  }

  public static func encode<T: BLASScalar>(_ tensors: [String: Tensor<T>], metadata: [String: String] = [:]) throws -> [UInt8] {
    let dtype: String
    if T.self == Float.self { dtype = "F32" } else if T.self == Double.self { dtype = "F64" } else {
      throw NeuralEngineError.invalidArgument(name: "dtype", value: "\(T.self)", expected: "Float or Double")
    }
    let size = MemoryLayout<T>.size
    var header: [String] = []
    var offset = 0
    let names = tensors.keys.sorted()
    if !metadata.isEmpty {
      let entries = metadata.keys.sorted().map { "\(JSONText.quoted($0)):\(JSONText.quoted(metadata[$0] ?? ""))" }
      header.append("\"__metadata__\":{\(entries.joined(separator: ","))}")
    }
    for name in names {
      guard name != "__metadata__", let t = tensors[name] else {
        throw NeuralEngineError.invalidArgument(name: "tensor name", value: name, expected: "any name but __metadata__")
      }
      let end = offset + t.scalars.count * size
      header.append("\(JSONText.quoted(name)):{\"dtype\":\"\(dtype)\",\"shape\":[\(t.shape.map(String.init).joined(separator: ","))],\"data_offsets\":[\(offset),\(end)]}")
      offset = end
    }
    var json = Array("{\(header.joined(separator: ","))}".utf8)
    while json.count % 8 != 0 { json.append(0x20) }
    var out = [UInt8]()
    out.reserveCapacity(8 + json.count + offset)
    var n = UInt64(json.count).littleEndian
    withUnsafeBytes(of: &n) { out.append(contentsOf: $0) }
    out.append(contentsOf: json)
    for name in names {
      guard let t = tensors[name] else { continue }
      t.scalars.withUnsafeBytes { out.append(contentsOf: $0) }  // little-endian hosts (x86-64, arm64)
    }
    return out
  }

  /// All tensors of a file, converted to `T`.
  /// - Throws: `.corruptSafetensors` naming what is wrong (truncated, bad JSON,
  ///   offsets outside the data, unsupported dtype, shape/size disagreement).
  public static func load<T: BLASScalar>(from path: String, as _: T.Type = T.self) throws -> [String: Tensor<T>] {
    try decode(readFile(path), path: path).tensors
  }

  /// The "__metadata__" strings of a file.
  public static func metadata(from path: String) throws -> [String: String] {
    let r: (tensors: [String: Tensor<Double>], metadata: [String: String]) = try decode(readFile(path), path: path)
    return r.metadata
  }

  /// Largest safetensors file read: 16 GiB.
  public static let fileLimit = 1 << 34

  static func readFile(_ path: String) throws -> [UInt8] {
    do { return [UInt8](try InputFile.read(path, what: "the safetensors file", limit: fileLimit, allowEmpty: true)) } catch {
      throw NeuralEngineError.unreadableFile(path: path, reason: error.reason)
    }
  }

  /// A non-negative integer from the JSON header (a shape entry or an offset), exactly:
  /// nil for a fraction, a negative number, or one beyond 2⁵³ (no file has that many bytes).
  static func headerInteger(_ v: Any) -> Int? {
    // JSON true/false also arrive as NSNumber (of C type "c"); they are not sizes.
    guard let number = v as? NSNumber, !["c", "B"].contains(String(cString: number.objCType)) else { return nil }
    let d = number.doubleValue
    guard d.isFinite, d >= 0, d <= 9_007_199_254_740_992, d == d.rounded() else { return nil }
    let i = number.int64Value
    return Double(i) == d ? Int(i) : Int(d)
  }

  public static func decode<T: BLASScalar>(_ b: [UInt8], path: String = "<memory>") throws -> (tensors: [String: Tensor<T>], metadata: [String: String]) {
    func bad(_ reason: String) -> NeuralEngineError { .corruptSafetensors(path: path, reason: reason) }
    guard b.count >= 8 else { throw bad("truncated: \(b.count) bytes, expected at least the 8-byte header length") }
    var n: UInt64 = 0
    for i in 0..<8 { n |= UInt64(b[i]) << (8 * UInt64(i)) }
    guard n <= UInt64(b.count - 8) else {
      let hint = b.starts(with: [0x93] + Array("NUMPY".utf8)) ? " (it is a NumPy .npy file)" : (b[8...].first == UInt8(ascii: "{") ? "" : " (is it a safetensors file?)")
      throw bad("truncated: its first 8 bytes give a header of \(n) bytes but only \(b.count - 8) follow\(hint)")
    }
    let headerEnd = 8 + Int(n)
    let object: Any
    do { object = try JSONSerialization.jsonObject(with: Data(b[8..<headerEnd])) } catch {
      throw bad("header is not valid JSON")
    }
    guard let dict = object as? [String: Any] else { throw bad("header is not a JSON object") }
    let dataLength = b.count - headerEnd
    var tensors: [String: Tensor<T>] = [:]
    var metadata: [String: String] = [:]
    for (name, value) in dict {
      if name == "__metadata__" {
        guard let m = value as? [String: Any] else { throw bad("__metadata__ is not an object") }
        for (k, v) in m {
          guard let s = v as? String else { throw bad("metadata \(k) is not a string") }
          metadata[k] = s
        }
        continue
      }
      guard let entry = value as? [String: Any], let dtype = entry["dtype"] as? String,
        let shapeAny = entry["shape"] as? [Any], let offsAny = entry["data_offsets"] as? [Any], offsAny.count == 2
      else { throw bad("tensor \(name) lacks dtype, shape or data_offsets") }
      let shape = try shapeAny.map { v -> Int in
        guard let i = headerInteger(v) else { throw bad("tensor \(name) has shape entry \(v), expected a non-negative integer") }
        return i
      }
      let offs = try offsAny.map { v -> Int in
        guard let i = headerInteger(v) else { throw bad("tensor \(name) has offset \(v), expected a non-negative integer") }
        return i
      }
      let size: Int
      switch dtype {
      case "F32": size = 4
      case "F64": size = 8
      default: throw bad("tensor \(name) has dtype \(dtype); supported: F32, F64")
      }
      guard offs[0] <= offs[1], offs[1] <= dataLength else {
        throw bad("truncated: tensor \(name) spans bytes \(offs[0])..<\(offs[1]) of a \(dataLength)-byte data section")
      }
      // The shape is checked against the bytes it claims, with overflow checks (a header may lie).
      guard let count = IDX.product(shape), case let (bytes, false) = count.multipliedReportingOverflow(by: size),
        offs[1] - offs[0] == bytes
      else {
        let needs = IDX.product(shape).flatMap { c in c.multipliedReportingOverflow(by: size).overflow ? nil : "\(c * size)" } ?? "more than 2⁶³"
        throw bad("tensor \(name): shape \(shape) of \(dtype) needs \(needs) bytes, offsets give \(offs[1] - offs[0])")
      }
      var scalars = [T](repeating: 0, count: count)
      let start = headerEnd + offs[0]
      b.withUnsafeBytes { raw in
        for i in 0..<count {
          if size == 4 {
            let bits = raw.loadUnaligned(fromByteOffset: start + 4 * i, as: UInt32.self)
            scalars[i] = T(Float(bitPattern: UInt32(littleEndian: bits)))
          } else {
            let bits = raw.loadUnaligned(fromByteOffset: start + 8 * i, as: UInt64.self)
            scalars[i] = T(Double(bitPattern: UInt64(littleEndian: bits)))
          }
        }
      }
      tensors[name] = try Tensor(shape: shape, scalars: scalars)
    }
    return (tensors, metadata)
  }

  /// Saves a flat parameter vector as one tensor per block of `layout`.
  public static func save<T: BLASScalar>(parameters: [T], layout: ParameterLayout, metadata: [String: String] = [:], to path: String) throws {
    try FileBytes.write(encodeParameters(parameters, layout: layout, metadata: metadata), to: path)
  }

  /// The safetensors bytes of a flat parameter vector, one tensor per block of
  /// `layout` under the block's name and shape.
  public static func encodeParameters<T: BLASScalar>(_ parameters: [T], layout: ParameterLayout, metadata: [String: String] = [:]) throws -> [UInt8] {
    guard parameters.count == layout.count else {
      throw NeuralEngineError.shapeMismatch(what: "parameters", expected: "\(layout.count) entries", got: "\(parameters.count)")
    }
    var tensors: [String: Tensor<T>] = [:]
    for b in layout.blocks { tensors[b.name] = try Tensor(shape: b.shape, scalars: Array(parameters[b.range])) }
    return try encode(tensors, metadata: metadata)
  }

  /// Loads a flat parameter vector for `layout`: every block must be present with
  /// its exact shape (extra tensors are an error too, as they signal another model).
  public static func loadParameters<T: BLASScalar>(from path: String, layout: ParameterLayout, as _: T.Type = T.self) throws -> [T] {
    let tensors: [String: Tensor<T>] = try load(from: path)
    var p = [T](repeating: 0, count: layout.count)
    for b in layout.blocks {
      guard let t = tensors[b.name] else {
        throw NeuralEngineError.shapeMismatch(what: "\(path)", expected: "a tensor named \(b.name)", got: "tensors \(tensors.keys.sorted())")
      }
      guard t.shape == b.shape else { throw NeuralEngineError.shapeMismatch(what: "\(b.name) in \(path)", expected: "\(b.shape)", got: "\(t.shape)") }
      if let k = t.scalars.firstIndex(where: { !$0.isFinite }) {
        throw NeuralEngineError.invalidArgument(name: "\(b.name)[\(k)] in \(path)", value: "\(t.scalars[k])", expected: "finite weights")
      }
      p.replaceSubrange(b.range, with: t.scalars)
    }
    let extra = Set(tensors.keys).subtracting(layout.blocks.map(\.name))
    guard extra.isEmpty else {
      throw NeuralEngineError.shapeMismatch(what: "\(path)", expected: "only the model's tensors", got: "also \(extra.sorted())")
    }
    return p
  }
}

/// JSON string literals, for the few documents written by hand (safetensors headers,
/// run files): quotes, backslashes and control characters escaped.
public enum JSONText {
  public static func quoted(_ s: String) -> String {
    var out = "\""
    for u in s.unicodeScalars {
      switch u {
      case "\"": out += "\\\""
      case "\\": out += "\\\\"
      case "\n": out += "\\n"
      case "\r": out += "\\r"
      case "\t": out += "\\t"
      default:
        if u.value < 0x20 { out += String(format: "\\u%04x", u.value) } else { out.unicodeScalars.append(u) }
      }
    }
    return out + "\""
  }
}
