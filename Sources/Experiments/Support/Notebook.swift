import Foundation

/// Markdown notebooks that run: fenced ```console blocks hold `$ command` lines,
/// each followed by the output it prints. `run` executes the commands and writes
/// their outputs back into the file; `check` executes them and reports every
/// block whose output differs. A line `...` in an expected output matches any
/// number of lines (for timings and other run-dependent text).
public enum Notebook {
  public struct Cell: Sendable {
    public var command: String
    public var expected: [String]
    /// Line range of the expected output in the file.
    var outputRange: Range<Int>
  }

  public struct Mismatch: Sendable, CustomStringConvertible {
    public var command: String
    public var expected: [String]
    public var actual: [String]
    public var description: String {
      "$ \(command)\n--- expected\n\(expected.joined(separator: "\n"))\n+++ actual\n\(actual.joined(separator: "\n"))"
    }
  }

  static func cells(_ lines: [String]) -> [Cell] {
    var cells: [Cell] = []
    var i = 0
    while i < lines.count {
      if lines[i].trimmingCharacters(in: .whitespaces).hasPrefix("```console") {
        i += 1
        while i < lines.count, !lines[i].hasPrefix("```") {
          if lines[i].hasPrefix("$ ") {
            let command = String(lines[i].dropFirst(2))
            let start = i + 1
            var j = start
            while j < lines.count, !lines[j].hasPrefix("```"), !lines[j].hasPrefix("$ ") { j += 1 }
            cells.append(Cell(command: command, expected: Array(lines[start..<j]), outputRange: start..<j))
            i = j
          } else {
            i += 1
          }
        }
      }
      i += 1
    }
    return cells
  }

  /// Runs a shell command with `aeos` resolved to `executable`; stdout and stderr together.
  static func execute(_ command: String, executable: String, directory: URL) throws -> [String] {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/bin/sh")
    let dir = URL(fileURLWithPath: executable).deletingLastPathComponent().path
    p.arguments = ["-c", "PATH=\"\(dir):$PATH\"; \(command) 2>&1"]
    p.currentDirectoryURL = directory
    let out = Pipe()
    p.standardOutput = out
    try p.run()
    let data = out.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    var lines = String(decoding: data, as: UTF8.self).components(separatedBy: "\n")
    while let last = lines.last, last.isEmpty { lines.removeLast() }
    return lines
  }

  static func matches(expected: [String], actual: [String]) -> Bool {
    guard let star = expected.firstIndex(of: "...") else { return expected == actual }
    let head = Array(expected[..<star])
    let tail = Array(expected[(star + 1)...])
    guard actual.count >= head.count, Array(actual.prefix(head.count)) == head else { return false }
    let rest = Array(actual.dropFirst(head.count))
    if tail.isEmpty { return true }
    for k in 0...rest.count where matches(expected: tail, actual: Array(rest[k...])) { return true }
    return false
  }

  /// Checks every cell; returns the mismatches (empty when the notebook is true).
  public static func check(file: String, executable: String) throws -> (cells: Int, mismatches: [Mismatch]) {
    let text = try readText(file)
    let lines = text.components(separatedBy: "\n")
    let dir = URL(fileURLWithPath: file).deletingLastPathComponent()
    var bad: [Mismatch] = []
    let cs = cells(lines)
    for c in cs {
      let actual = try execute(c.command, executable: executable, directory: dir)
      if !matches(expected: trimmed(c.expected), actual: actual) {
        bad.append(Mismatch(command: c.command, expected: trimmed(c.expected), actual: actual))
      }
    }
    return (cs.count, bad)
  }

  /// Runs every cell and writes the outputs into the file (cells whose expected
  /// output contains `...` and still matches are left as written).
  public static func run(file: String, executable: String) throws -> Int {
    let text = try readText(file)
    var lines = text.components(separatedBy: "\n")
    let dir = URL(fileURLWithPath: file).deletingLastPathComponent()
    let cs = cells(lines)
    for c in cs.reversed() {
      let actual = try execute(c.command, executable: executable, directory: dir)
      if c.expected.contains("...") && matches(expected: trimmed(c.expected), actual: actual) { continue }
      lines.replaceSubrange(c.outputRange, with: actual)
    }
    do { try lines.joined(separator: "\n").write(toFile: file, atomically: true, encoding: .utf8) } catch {
      throw TheoryError("cannot write \(file): \(error.localizedDescription)")
    }
    return cs.count
  }

  static func trimmed(_ lines: [String]) -> [String] {
    var l = lines
    while let last = l.last, last.isEmpty { l.removeLast() }
    return l
  }

  static func readText(_ file: String) throws -> String {
    guard let data = FileManager.default.contents(atPath: file) else { throw TheoryError("cannot read notebook \(file): no such file or not readable") }
    guard let text = String(data: data, encoding: .utf8) else { throw TheoryError("notebook \(file) is not UTF-8 text") }
    return text
  }
}
