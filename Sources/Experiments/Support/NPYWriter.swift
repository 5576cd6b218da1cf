import Foundation

/// Writes NumPy's .npy format (version 1.0): `numpy.load` reads the file as a
/// C-ordered little-endian float64 array of the given shape.
public enum NPYWriter {
  /// The bytes of a float64 array of `shape` (row-major `values`).
  /// - Precondition: `values.count` is the product of `shape`.
  public static func encode(_ values: [Double], shape: [Int]) -> Data {
    precondition(values.count == shape.reduce(1, *), "NPY: \(values.count) values for shape \(shape)")
    let dims = shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
    var header = "{'descr': '<f8', 'fortran_order': False, 'shape': \(dims), }"
    // Magic (6) + version (2) + length (2) + header + newline, padded to 64 bytes.
    let unpadded = 10 + header.utf8.count + 1
    header += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
    var data = Data([0x93] + Array("NUMPY".utf8) + [1, 0])
    let length = UInt16(header.utf8.count)
    data.append(contentsOf: [UInt8(length & 0xff), UInt8(length >> 8)])
    data.append(contentsOf: Array(header.utf8))
    values.withUnsafeBytes { data.append(contentsOf: $0) }  // little-endian hosts (x86-64, arm64)
    return data
  }

  /// Writes `values` as a .npy file of `shape`.
  /// - Throws: `TrainingError` naming the path when it cannot be written.
  public static func write(_ values: [Double], shape: [Int], to path: String) throws {
    do { try encode(values, shape: shape).write(to: URL(fileURLWithPath: path), options: .atomic) } catch {
      throw TrainingError("cannot write \(path): \(error.localizedDescription)")
    }
  }
}
