import ArgumentParser
import Experiments
import Foundation

/// Writes a line to stderr (notes, progress, errors that are not thrown).
func printError(_ s: String) {
  FileHandle.standardError.write(Data((s + "\n").utf8))
}

/// Writes a file, turning failures into a readable error that says why (an empty
/// path, a folder, a missing folder above it, permissions).
func writeFile(_ path: String, _ contents: String) throws {
  try checkWritable(path)
  do { try contents.write(toFile: path, atomically: true, encoding: .utf8) } catch {
    throw ValidationError("cannot write \(path): \(error.localizedDescription)")
  }
}

/// Throws a `ValidationError` naming the reason when `path` cannot be written as a file.
func checkWritable(_ path: String) throws {
  let fm = FileManager.default
  guard !path.isEmpty else { throw ValidationError("cannot write a file with an empty path: give a file name") }
  var isDirectory: ObjCBool = false
  if fm.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
    throw ValidationError("cannot write \(path): it is a folder, expected a file name")
  }
  let parent = (path as NSString).deletingLastPathComponent
  let folder = parent.isEmpty ? "." : parent
  guard fm.fileExists(atPath: folder, isDirectory: &isDirectory), isDirectory.boolValue else {
    throw ValidationError("cannot write \(path): the folder \(folder) does not exist")
  }
  guard fm.isWritableFile(atPath: folder) else { throw ValidationError("cannot write \(path): the folder \(folder) is not writable") }
}

/// A usage error found while running (a folder that exists, a run folder that is not
/// one): printed as "Error: …" and exit status 64 like a validation error, without
/// the usage text.
func usageFailure(_ message: String) -> ExitCode {
  printError("Error: \(message)")
  return ExitCode.validationFailure
}

extension DType: ExpressibleByArgument {}
extension OutputFormat: ExpressibleByArgument {}
