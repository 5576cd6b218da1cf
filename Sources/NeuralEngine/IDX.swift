import Foundation

/// An IDX array of unsigned bytes (the MNIST file format): magic 0x00 0x00 0x08 D,
/// then D big-endian 32-bit sizes, then the bytes row-major.
public struct IDXArray: Sendable, Equatable {
  public let shape: [Int]
  public let bytes: [UInt8]
  public init(shape: [Int], bytes: [UInt8]) throws {
    guard shape.allSatisfy({ $0 >= 0 && $0 <= Int(Int32.max) }), let count = IDX.product(shape), count == bytes.count else {
      throw NeuralEngineError.shapeMismatch(
        what: "IDX array", expected: "\(IDX.product(shape).map(String.init) ?? "more than 2⁶³") bytes for shape \(shape)", got: "\(bytes.count)")
    }
    self.shape = shape
    self.bytes = bytes
  }
}

public enum IDX {
  /// Reads an IDX file of unsigned bytes (gzip-compressed or plain).
  /// - Throws: `.corruptIDX` for a wrong magic number, an unsupported element type,
  ///   or a size that does not match the data; `.corruptGzip`, `.unreadableFile`.
  public static func read(_ path: String) throws -> IDXArray {
    try parse(FileBytes.read(path), path: path)
  }

  public static func parse(_ b: [UInt8], path: String = "<memory>") throws -> IDXArray {
    guard b.count >= 4 else { throw NeuralEngineError.corruptIDX(path: path, reason: "only \(b.count) bytes, expected a 4-byte magic number") }
    guard b[0] == 0, b[1] == 0 else {
      throw NeuralEngineError.corruptIDX(path: path, reason: String(format: "wrong magic %02x %02x, expected 00 00", b[0], b[1]))
    }
    guard b[2] == 0x08 else {
      throw NeuralEngineError.corruptIDX(path: path, reason: String(format: "element type 0x%02x; only unsigned bytes (0x08) are supported", b[2]))
    }
    let dims = Int(b[3])
    guard dims >= 1, b.count >= 4 + 4 * dims else {
      throw NeuralEngineError.corruptIDX(path: path, reason: "header of \(dims) dimensions does not fit in \(b.count) bytes")
    }
    var shape = [Int]()
    for d in 0..<dims {
      let o = 4 + 4 * d
      shape.append(Int(b[o]) << 24 | Int(b[o + 1]) << 16 | Int(b[o + 2]) << 8 | Int(b[o + 3]))
    }
    let have = b.count - 4 - 4 * dims
    guard let expected = product(shape), have == expected else {
      let needs = product(shape).map { "\($0)" } ?? "more than 2⁶³"
      throw NeuralEngineError.corruptIDX(path: path, reason: "shape \(shape) needs \(needs) data bytes, file has \(have)")
    }
    return try IDXArray(shape: shape, bytes: Array(b[(4 + 4 * dims)...]))
  }

  /// The product of the dimensions, nil when it overflows (a header that lies).
  public static func product(_ shape: [Int]) -> Int? {
    var p = 1
    for d in shape {
      let (r, overflow) = p.multipliedReportingOverflow(by: d)
      if overflow { return nil }
      p = r
    }
    return p
  }

  /// The IDX encoding of an array.
  public static func encode(_ a: IDXArray) -> [UInt8] {
    var out: [UInt8] = [0, 0, 0x08, UInt8(a.shape.count)]
    for s in a.shape { out += [UInt8(s >> 24 & 0xff), UInt8(s >> 16 & 0xff), UInt8(s >> 8 & 0xff), UInt8(s & 0xff)] }
    return out + a.bytes
  }

  /// Writes an IDX file, gzip-compressed if `gzip`.
  public static func write(_ a: IDXArray, to path: String, gzip: Bool) throws {
    let raw = encode(a)
    try FileBytes.write(gzip ? FileBytes.gzip(raw) : raw, to: path)
  }
}
