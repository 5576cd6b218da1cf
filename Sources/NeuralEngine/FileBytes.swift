import CZlib
import Foundation
import LinearAlgebra

/// Reading and writing whole files, gzip through zlib.
public enum FileBytes {
  /// The file's bytes; gzip files (magic 1f 8b) are decompressed, other files are
  /// returned as they are.
  /// - Throws: `.unreadableFile` if it cannot be read, `.corruptGzip` for a damaged
  ///   or truncated gzip stream.
  /// Largest file (or decompressed gzip stream) read: 1 GiB (Fashion-MNIST's training
  /// images are 47 MB, CIFAR-10's five batches 150 MB).
  public static let limit = 1 << 30

  public static func read(_ path: String) throws -> [UInt8] {
    let data: Data
    do { data = try InputFile.read(path, what: "the data file", limit: limit, allowEmpty: true) } catch {
      throw NeuralEngineError.unreadableFile(path: path, reason: error.reason)
    }
    let bytes = [UInt8](data)
    if bytes.count >= 2 && bytes[0] == 0x1f && bytes[1] == 0x8b { return try gunzip(bytes, path: path) }
    return bytes
  }

  /// Decompresses a complete gzip stream (concatenated members allowed), refusing one
  /// that decompresses to more than `limit` bytes (a "gzip bomb").
  public static func gunzip(_ input: [UInt8], path: String = "<memory>", limit: Int = FileBytes.limit) throws -> [UInt8] {
    var output = [UInt8]()
    output.reserveCapacity(input.count * 4)
    var strm = z_stream()
    var status = inflateInit2_(&strm, 15 + 32, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
    guard status == Z_OK else { throw NeuralEngineError.corruptGzip(path: path, reason: "zlib init failed (\(status))") }
    defer { inflateEnd(&strm) }
    let chunk = 1 << 18
    var buffer = [UInt8](repeating: 0, count: chunk)
    try input.withUnsafeBufferPointer { inb in
      strm.next_in = UnsafeMutablePointer(mutating: inb.baseAddress)
      strm.avail_in = uInt(inb.count)
      while true {
        let produced: Int = buffer.withUnsafeMutableBufferPointer { ob in
          strm.next_out = ob.baseAddress
          strm.avail_out = uInt(chunk)
          status = inflate(&strm, Z_NO_FLUSH)
          return chunk - Int(strm.avail_out)
        }
        output.append(contentsOf: buffer[0..<produced])
        guard output.count <= limit else {
          throw NeuralEngineError.corruptGzip(path: path, reason: "it decompresses to more than \(limit) bytes, the most this reader accepts")
        }
        if status == Z_STREAM_END {
          if strm.avail_in == 0 { return }
          // Another gzip member follows.
          guard inflateReset(&strm) == Z_OK else { throw NeuralEngineError.corruptGzip(path: path, reason: "cannot restart after a member") }
          continue
        }
        if status == Z_OK { continue }
        if status == Z_BUF_ERROR && strm.avail_in == 0 {
          throw NeuralEngineError.corruptGzip(path: path, reason: "truncated (stream ends after \(output.count) decompressed bytes)")
        }
        let message = strm.msg.map { String(cString: $0) } ?? "zlib status \(status)"
        throw NeuralEngineError.corruptGzip(path: path, reason: message)
      }
    }
    return output
  }

  /// gzip-compresses bytes (level 6).
  public static func gzip(_ input: [UInt8]) throws -> [UInt8] {
    var strm = z_stream()
    var status = deflateInit2_(&strm, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
    guard status == Z_OK else { throw NeuralEngineError.invalidArgument(name: "gzip", value: "\(status)", expected: "zlib deflate to initialise") }
    defer { deflateEnd(&strm) }
    var output = [UInt8](repeating: 0, count: Int(deflateBound(&strm, uLong(input.count))) + 64)
    input.withUnsafeBufferPointer { inb in
      output.withUnsafeMutableBufferPointer { ob in
        strm.next_in = UnsafeMutablePointer(mutating: inb.baseAddress)
        strm.avail_in = uInt(inb.count)
        strm.next_out = ob.baseAddress
        strm.avail_out = uInt(ob.count)
        status = deflate(&strm, Z_FINISH)
      }
    }
    guard status == Z_STREAM_END else { throw NeuralEngineError.invalidArgument(name: "gzip", value: "\(status)", expected: "Z_STREAM_END") }
    output.removeLast(output.count - Int(strm.total_out))
    return output
  }

  /// Writes bytes to a file (atomically).
  public static func write(_ bytes: [UInt8], to path: String) throws {
    do { try Data(bytes).write(to: URL(fileURLWithPath: path), options: .atomic) } catch {
      throw NeuralEngineError.unreadableFile(path: path, reason: "cannot write: \(error.localizedDescription)")
    }
  }
}
