import ArgumentParser
import Experiments
import Foundation

/// Writes a line to stderr (notes, progress, errors that are not thrown).
func printError(_ s: String) {
  FileHandle.standardError.write(Data((s + "\n").utf8))
}

/// Writes a file, turning failures into a readable error.
func writeFile(_ path: String, _ contents: String) throws {
  do { try contents.write(toFile: path, atomically: true, encoding: .utf8) } catch {
    throw ValidationError("cannot write \(path): \(error.localizedDescription)")
  }
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
