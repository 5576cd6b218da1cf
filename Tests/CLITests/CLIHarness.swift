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
    let p = Process()
    p.executableURL = executable
    p.arguments = arguments
    let out = Pipe(), err = Pipe()
    p.standardOutput = out
    p.standardError = err
    try p.run()
    let o = out.fileHandleForReading.readDataToEndOfFile()
    let e = err.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return CLIResult(status: p.terminationStatus, stdout: String(decoding: o, as: UTF8.self), stderr: String(decoding: e, as: UTF8.self))
  }

  static func json(_ arguments: [String]) throws -> [String: Any] {
    let r = try run(arguments)
    #expect(r.status == 0, "aeos \(arguments.joined(separator: " ")) failed: \(r.stderr)")
    let object = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8))
    return object as? [String: Any] ?? [:]
  }
}
