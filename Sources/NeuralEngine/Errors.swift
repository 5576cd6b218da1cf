/// Failures a user can cause: missing or damaged files, sizes that do not fit,
/// numbers that went non-finite. Each message names the bad value and what was
/// expected.
public enum NeuralEngineError: Error, Equatable, Sendable, CustomStringConvertible {
  /// A data set file is absent; `package` is the Debian package that provides it.
  case missingDataset(path: String, package: String)
  /// A file could not be opened or read.
  case unreadableFile(path: String, reason: String)
  /// A gzip stream is damaged or truncated.
  case corruptGzip(path: String, reason: String)
  /// An IDX file's header or size is wrong.
  case corruptIDX(path: String, reason: String)
  /// A CIFAR-10 binary file has the wrong size or label values.
  case corruptCIFAR(path: String, reason: String)
  /// A safetensors file is truncated, malformed or holds unexpected tensors.
  case corruptSafetensors(path: String, reason: String)
  /// Two sizes that must agree do not.
  case shapeMismatch(what: String, expected: String, got: String)
  /// More examples were requested than the data set holds.
  case notEnoughExamples(requested: Int, available: Int, dataset: String)
  /// An argument outside its accepted range.
  case invalidArgument(name: String, value: String, expected: String)
  /// A forward pass produced NaN or ±∞.
  case nonFinite(what: String)

  public var description: String {
    switch self {
    case .missingDataset(let path, let package):
      "data set file \(path) not found; install the Debian package '\(package)' (apt-get install \(package))"
    case .unreadableFile(let path, let reason): "cannot read \(path): \(reason)"
    case .corruptGzip(let path, let reason): "corrupt gzip file \(path): \(reason)"
    case .corruptIDX(let path, let reason): "corrupt IDX file \(path): \(reason)"
    case .corruptCIFAR(let path, let reason): "corrupt CIFAR-10 binary file \(path): \(reason)"
    case .corruptSafetensors(let path, let reason): "bad safetensors file \(path): \(reason)"
    case .shapeMismatch(let what, let expected, let got): "shape mismatch for \(what): expected \(expected), got \(got)"
    case .notEnoughExamples(let requested, let available, let dataset):
      "n = \(requested) is larger than the \(available) examples of \(dataset); expected 1...\(available)"
    case .invalidArgument(let name, let value, let expected): "invalid \(name) = \(value); expected \(expected)"
    case .nonFinite(let what): "non-finite value (NaN or ±∞) in \(what); the parameters or the learning rate are likely too large"
    }
  }
}
