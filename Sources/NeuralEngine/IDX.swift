import CZlib
import Foundation
import LinearAlgebra

/// Reading and writing whole files, gzip through zlib.
public enum FileBytes {
  /// The file's bytes; gzip files (magic 1f 8b) are decompressed, other files are
  /// returned as they are.
  /// - Throws: `.unreadableFile` if it cannot be read, `.corruptGzip` for a damaged
  ///   or truncated gzip stream.
  public static func read(_ path: String) throws -> [UInt8] {
    guard let data = FileManager.default.contents(atPath: path) else {
      throw NeuralEngineError.unreadableFile(path: path, reason: FileManager.default.fileExists(atPath: path) ? "permission denied or not a file" : "no such file")
    }
    let bytes = [UInt8](data)
    if bytes.count >= 2 && bytes[0] == 0x1f && bytes[1] == 0x8b { return try gunzip(bytes, path: path) }
    return bytes
  }

  /// Decompresses a complete gzip stream (concatenated members allowed).
  public static func gunzip(_ input: [UInt8], path: String = "<memory>") throws -> [UInt8] {
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

/// An IDX array of unsigned bytes (the MNIST file format): magic 0x00 0x00 0x08 D,
/// then D big-endian 32-bit sizes, then the bytes row-major.
public struct IDXArray: Sendable, Equatable {
  public let shape: [Int]
  public let bytes: [UInt8]
  public init(shape: [Int], bytes: [UInt8]) throws {
    guard shape.reduce(1, *) == bytes.count, shape.allSatisfy({ $0 >= 0 && $0 <= Int(Int32.max) }) else {
      throw NeuralEngineError.shapeMismatch(what: "IDX array", expected: "\(shape.reduce(1, *)) bytes for shape \(shape)", got: "\(bytes.count)")
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
    let expected = shape.reduce(1, *)
    let have = b.count - 4 - 4 * dims
    guard have == expected else {
      throw NeuralEngineError.corruptIDX(path: path, reason: "shape \(shape) needs \(expected) data bytes, file has \(have)")
    }
    return try IDXArray(shape: shape, bytes: Array(b[(4 + 4 * dims)...]))
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

/// Fashion-MNIST (Xiao et al. 2017) from Debian's `dataset-fashion-mnist`.
public enum FashionMNIST {
  public static let defaultDirectory = "/usr/share/datasets/fashion-mnist"
  public static let debianPackage = "dataset-fashion-mnist"
  public static let classNames = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]

  /// Images (n×28×28 bytes) and labels of the training (60 000) or test (10 000) file.
  public static func raw(test: Bool, directory: String = defaultDirectory) throws -> (images: IDXArray, labels: IDXArray) {
    let prefix = test ? "t10k" : "train"
    let ip = "\(directory)/\(prefix)-images-idx3-ubyte.gz"
    let lp = "\(directory)/\(prefix)-labels-idx1-ubyte.gz"
    for p in [ip, lp] where !FileManager.default.fileExists(atPath: p) {
      throw NeuralEngineError.missingDataset(path: p, package: debianPackage)
    }
    let images = try IDX.read(ip)
    let labels = try IDX.read(lp)
    guard images.shape.count == 3, labels.shape.count == 1, images.shape[0] == labels.shape[0] else {
      throw NeuralEngineError.corruptIDX(path: ip, reason: "images \(images.shape) and labels \(labels.shape) do not pair up")
    }
    if let bad = labels.bytes.first(where: { $0 > 9 }) {
      throw NeuralEngineError.corruptIDX(path: lp, reason: "label \(bad), expected 0...9")
    }
    return (images, labels)
  }

  /// A standardised training subset of n images (the first n, or class-balanced
  /// with `seed`) and optionally the first `test` images of the test file.
  ///
  /// Pixels become x/255, then (x − mean)/max(std, 1e-8) per pixel with the
  /// training subset's own mean and standard deviation (ddof 0; DESIGN.md
  /// "Measurement conventions"). The test subset is standardised with the
  /// *training subset's* statistics, so both see the same feature map.
  /// Feature shape [28, 28, 1].
  /// - Throws: `.missingDataset` naming the apt package when the files are absent,
  ///   `.notEnoughExamples` when n > 60 000 (or test > 10 000).
  public static func load<T: BLASScalar>(
    n: Int, balanced: Bool = false, seed: UInt64 = 0, test: Int = 0, directory: String = defaultDirectory,
    as _: T.Type = T.self
  ) throws -> (train: Dataset<T>, test: Dataset<T>?) {
    let (images, labels) = try raw(test: false, directory: directory)
    let idx = try SubsetSelection.indices(
      labels: labels.bytes.map(Int.init), classes: 10, n: n, balanced: balanced, seed: seed, dataset: "Fashion-MNIST training set")
    let train = try imagesToDataset(images, labels, idx, [28, 28, 1], classes: 10, as: T.self)
    let stats = train.statistics()
    let trainStd = try train.standardized(with: stats)
    var testSet: Dataset<T>? = nil
    if test > 0 {
      let (ti, tl) = try raw(test: true, directory: directory)
      let tidx = try SubsetSelection.indices(
        labels: tl.bytes.map(Int.init), classes: 10, n: test, balanced: false, seed: seed, dataset: "Fashion-MNIST test set")
      testSet = try imagesToDataset(ti, tl, tidx, [28, 28, 1], classes: 10, as: T.self).standardized(with: stats)
    }
    return (trainStd, testSet)
  }
}

/// x/255 as `T` for the chosen examples.
func imagesToDataset<T: BLASScalar>(
  _ images: IDXArray, _ labels: IDXArray, _ idx: [Int], _ shape: [Int], classes: Int, as _: T.Type
) throws -> Dataset<T> {
  let d = shape.reduce(1, *)
  var f = [T]()
  f.reserveCapacity(idx.count * d)
  for i in idx {
    for j in 0..<d { f.append(T(Double(images.bytes[i * d + j]) / 255)) }
  }
  return try Dataset(features: f, labels: idx.map { Int(labels.bytes[$0]) }, featureShape: shape, classes: classes)
}

/// CIFAR-10 in its binary format (`data_batch_1.bin` … `data_batch_5.bin`,
/// `test_batch.bin`; records of 1 label byte + 3072 pixel bytes, R, G, B planes of
/// 32×32), for users who have the files (no Debian package provides them).
public enum CIFAR10 {
  /// Images as channels-last [32, 32, 3] rows, plus labels, for the named files.
  public static func raw(files: [String]) throws -> (pixels: [UInt8], labels: [UInt8]) {
    var pixels = [UInt8]()
    var labels = [UInt8]()
    for path in files {
      guard FileManager.default.fileExists(atPath: path) else {
        throw NeuralEngineError.unreadableFile(
          path: path, reason: "no such file; CIFAR-10 is not packaged by Debian: download cifar-10-binary.tar.gz from https://www.cs.toronto.edu/~kriz/cifar.html and unpack it")
      }
      let b = try FileBytes.read(path)
      guard b.count % 3073 == 0, !b.isEmpty else {
        throw NeuralEngineError.corruptCIFAR(path: path, reason: "\(b.count) bytes is not a multiple of the 3073-byte record")
      }
      for r in 0..<(b.count / 3073) {
        let o = r * 3073
        guard b[o] <= 9 else { throw NeuralEngineError.corruptCIFAR(path: path, reason: "record \(r) has label \(b[o]), expected 0...9") }
        labels.append(b[o])
        for p in 0..<1024 { for c in 0..<3 { pixels.append(b[o + 1 + c * 1024 + p]) } }
      }
    }
    return (pixels, labels)
  }

  /// As `FashionMNIST.load`, from `directory` (the unpacked `cifar-10-batches-bin`).
  public static func load<T: BLASScalar>(
    directory: String, n: Int, balanced: Bool = false, seed: UInt64 = 0, test: Int = 0, as _: T.Type = T.self
  ) throws -> (train: Dataset<T>, test: Dataset<T>?) {
    let (px, lb) = try raw(files: (1...5).map { "\(directory)/data_batch_\($0).bin" })
    let images = try IDXArray(shape: [lb.count, 32, 32, 3], bytes: px)
    let labels = try IDXArray(shape: [lb.count], bytes: lb)
    let idx = try SubsetSelection.indices(labels: lb.map(Int.init), classes: 10, n: n, balanced: balanced, seed: seed, dataset: "CIFAR-10 training set")
    let train = try imagesToDataset(images, labels, idx, [32, 32, 3], classes: 10, as: T.self)
    let stats = train.statistics()
    var testSet: Dataset<T>? = nil
    if test > 0 {
      let (tpx, tlb) = try raw(files: ["\(directory)/test_batch.bin"])
      let ti = try IDXArray(shape: [tlb.count, 32, 32, 3], bytes: tpx)
      let tl = try IDXArray(shape: [tlb.count], bytes: tlb)
      let tidx = try SubsetSelection.indices(labels: tlb.map(Int.init), classes: 10, n: test, balanced: false, seed: seed, dataset: "CIFAR-10 test set")
      testSet = try imagesToDataset(ti, tl, tidx, [32, 32, 3], classes: 10, as: T.self).standardized(with: stats)
    }
    return (try train.standardized(with: stats), testSet)
  }
}
