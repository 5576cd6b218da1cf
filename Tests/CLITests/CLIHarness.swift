import Foundation
import Testing

/// Runs the built `aeos` executable (next to the test bundle) and captures its output.
struct CLIResult {
  var status: Int32
  var stdout: String
  var stderr: String
}

enum CLI {
  static var executable: URL {
    let me = URL(fileURLWithPath: (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0])
    var dir = me.deletingLastPathComponent()
    // the test bundle may be a directory (…/X.xctest/…) on some platforms
    while dir.pathExtension == "xctest" || dir.lastPathComponent == "MacOS" { dir = dir.deletingLastPathComponent() }
    return dir.appendingPathComponent("aeos")
  }

  static func run(_ arguments: [String]) throws -> CLIResult {
    try Subprocess.run(executable, arguments)
  }

  static func json(_ arguments: [String]) throws -> [String: Any] {
    let r = try run(arguments)
    #expect(r.status == 0, "aeos \(arguments.joined(separator: " ")) failed: \(r.stderr)")
    let object = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8))
    return object as? [String: Any] ?? [:]
  }
}

/// Runs a program and captures stdout and stderr, reading stderr on another thread
/// so that neither pipe can fill up and block the child.
enum Subprocess {
  private final class Box: @unchecked Sendable { var data = Data() }

  static func run(_ executable: URL, _ arguments: [String]) throws -> CLIResult {
    let p = Process()
    p.executableURL = executable
    p.arguments = arguments
    let out = Pipe(), err = Pipe()
    p.standardOutput = out
    p.standardError = err
    try p.run()
    let e = Box()
    let done = DispatchSemaphore(value: 0)
    DispatchQueue.global().async {
      e.data = err.fileHandleForReading.readDataToEndOfFile()
      done.signal()
    }
    let o = out.fileHandleForReading.readDataToEndOfFile()
    done.wait()
    p.waitUntilExit()
    return CLIResult(status: p.terminationStatus, stdout: String(decoding: o, as: UTF8.self), stderr: String(decoding: e.data, as: UTF8.self))
  }
}

/// `python3` as found on PATH (through /usr/bin/env), for the tests that check the
/// SymPy output in SymPy itself.
enum Python {
  /// Whether `python3` exists and imports SymPy; probed once. Tests that need it are
  /// disabled (reported as skipped) otherwise.
  static let hasSymPy: Bool = {
    guard let r = try? run("import sympy") else { return false }
    return r.status == 0
  }()

  /// Runs `python3 -c script`.
  static func run(_ script: String) throws -> CLIResult {
    try Subprocess.run(URL(fileURLWithPath: "/usr/bin/env"), ["python3", "-c", script])
  }
}
