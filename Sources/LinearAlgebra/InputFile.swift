import Foundation

/// Reading a file a user named, with a reason a person can act on when it fails (no
/// such file, a folder, permission denied, empty, larger than the reader accepts)
/// instead of Foundation's "NSCocoaErrorDomain error 256". Every reader of user files
/// (.npy and JSON Hessians, IDX, CIFAR-10, safetensors, notebooks, run folders) goes
/// through here, so the size of what is read into memory is bounded before reading.
public enum InputFile {
  /// Why a file could not be read; `description` is "cannot read WHAT PATH: REASON".
  public struct Failure: Error, CustomStringConvertible, Equatable, Sendable {
    public let path: String
    public let reason: String
    /// What the file is for, e.g. "the Hessian file".
    public let what: String
    public var description: String { "cannot read \(what) \(path): \(reason)" }
  }

  /// The bytes of the file at `path`, refused (without reading it) when it is not a
  /// regular file or is larger than `limit` bytes.
  /// - Parameters:
  ///   - what: what the file is for, for the message ("the Hessian file").
  ///   - allowEmpty: whether an empty file is acceptable.
  public static func read(_ path: String, what: String = "file", limit: Int = 1 << 34, allowEmpty: Bool = false) throws(Failure) -> Data {
    func fail(_ reason: String) -> Failure { Failure(path: path, reason: reason, what: what) }
    guard !path.isEmpty else { throw fail("the path is empty") }
    let fm = FileManager.default
    var isDirectory: ObjCBool = false
    guard fm.fileExists(atPath: path, isDirectory: &isDirectory) else { throw fail("no such file") }
    guard !isDirectory.boolValue else { throw fail("it is a folder, expected a file") }
    guard fm.isReadableFile(atPath: path) else { throw fail("permission denied") }
    let attributes = try? fm.attributesOfItem(atPath: path)
    let size = (attributes?[.size] as? NSNumber)?.intValue ?? 0
    if let type = attributes?[.type] as? FileAttributeType, type == .typeRegular, size > limit {
      throw fail("it has \(size) bytes, more than the \(limit) this reader accepts")
    }
    // Read in chunks up to the limit, so a device or pipe without end (/dev/zero) is
    // refused once it passes the limit instead of filling the memory.
    guard let handle = FileHandle(forReadingAtPath: path) else { throw fail("it could not be opened") }
    defer { try? handle.close() }
    var data = Data()
    while true {
      let chunk: Data?
      do { chunk = try handle.read(upToCount: 1 << 22) } catch { throw fail("reading failed: \(error.localizedDescription)") }
      guard let chunk, !chunk.isEmpty else { break }
      data.append(chunk)
      guard data.count <= limit else { throw fail("it has more than the \(limit) bytes this reader accepts") }
    }
    if data.isEmpty && !allowEmpty { throw fail("the file is empty") }
    return data
  }
}
