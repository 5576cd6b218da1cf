import Foundation

/// Runs a helper program found on the PATH (`git`, `python3`) and returns its exit
/// status and what it printed on stdout (stderr is discarded); nil when it could not be
/// started. For short queries whose whole output fits in memory.
public enum ToolOutput {
  public static func run(_ arguments: [String]) -> (status: Int32, stdout: Data)? {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    p.arguments = arguments
    let out = Pipe()
    p.standardOutput = out
    p.standardError = Pipe()
    guard (try? p.run()) != nil else { return nil }
    let data = out.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return (p.terminationStatus, data)
  }
}
