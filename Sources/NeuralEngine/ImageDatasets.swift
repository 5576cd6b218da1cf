import Foundation
import LinearAlgebra

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
    guard images.shape[1] == 28, images.shape[2] == 28 else {
      throw NeuralEngineError.corruptIDX(path: ip, reason: "images of \(images.shape[1])×\(images.shape[2]) pixels, expected Fashion-MNIST's 28×28")
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
