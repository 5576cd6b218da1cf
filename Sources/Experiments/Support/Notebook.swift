#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import LinearAlgebra
import Synchronization

/// Markdown notebooks that run: fenced `console` blocks hold `$ command` lines,
/// each followed by the output it prints. `run` executes the commands and writes
/// their outputs back into the file; `check` executes them and reports every
/// cell whose output differs. A line `...` in an expected output matches any
/// number of lines (for timings and other run-dependent text).
///
/// Fences follow CommonMark: an opening fence is at least three backticks (or
/// tildes), indented by at most three spaces, with an info string whose first word
/// says what the block is; the block ends at a fence of the same character that is
/// at least as long and has nothing after it. So a ````` ````console ````` block may
/// show a ```` ``` ```` line in its output, and a ```` ```console ```` block inside
/// a ````` ````markdown ````` block is an example, not a cell. Files with CRLF line
/// ends are read (and rewritten) as such.
///
/// Cells are shell commands, run by `/bin/sh` in the notebook's folder with this
/// `aeos` first on the PATH: run only notebooks you trust. Each cell runs in a
/// process group of its own, which is ended (SIGTERM, then SIGKILL) when the cell
/// outruns its time limit, when `aeos` receives SIGINT or SIGTERM, and when the
/// cell's shell exits (so a cell leaves nothing running behind it).
public enum Notebook {
  /// The time limit of one cell unless `--timeout` says otherwise: 30 minutes, for
  /// notebooks whose cells train networks.
  public static let defaultTimeout: Double = 1800
  /// Captured output of one cell at most (a cell printing without end is stopped).
  public static let outputLimit = 64 << 20
  /// The environment variable that lists the notebooks being run by enclosing
  /// `aeos notebook` processes (one absolute path per line), so that a notebook
  /// whose cell runs that same notebook is refused instead of forking without end.
  public static let stackVariable = "AEOS_NOTEBOOK_STACK"
  /// Notebooks nested at most this deep (a cell that runs another notebook).
  public static let maximumNesting = 8

  public struct Cell: Sendable {
    public var command: String
    public var expected: [String]
    /// 1-based line number of the `$` line in the file.
    public var line: Int
    /// Line range (0-based) of the expected output in the file.
    var outputRange: Range<Int>
  }

  /// A cell whose output differs from the file, or that did not finish.
  public struct Mismatch: Sendable, CustomStringConvertible {
    public var file: String
    public var line: Int
    public var command: String
    public var expected: [String]
    public var actual: [String]
    /// Why the cell failed besides its output (a time limit, a missing command).
    public var note: String?
    public var description: String {
      var head = "\(file):\(line): "
      head += note ?? "the output of this cell differs from the file"
      return "\(head)\n$ \(command)\n--- expected\n\(expected.joined(separator: "\n"))\n+++ actual\n\(actual.joined(separator: "\n"))"
    }
  }

  /// A notebook that cannot be run: unreadable, malformed (an unclosed fence, an
  /// empty command), nested in itself, or interrupted.
  public struct NotebookError: Error, CustomStringConvertible, Sendable {
    public let description: String
    /// Set when the run was ended by SIGINT or SIGTERM (the command exits 130).
    public let signal: Int32?
    public init(_ description: String, signal: Int32? = nil) {
      self.description = description
      self.signal = signal
    }
  }

  /// A notebook file split into lines (without their line ends).
  struct Document {
    var lines: [String]
    /// Whether the file used CRLF line ends (kept when it is rewritten).
    var crlf: Bool

    init(text: String) {
      // Split on the scalar "\n": in a String, "\r\n" is one Character and would not
      // split at "\n".
      let scalars = text.unicodeScalars
      crlf = scalars.contains("\r")
      var lines = scalars.split(separator: "\n", omittingEmptySubsequences: false).map { String(String.UnicodeScalarView($0)) }
      if crlf { lines = lines.map { $0.unicodeScalars.last == "\r" ? String(String.UnicodeScalarView($0.unicodeScalars.dropLast())) : $0 } }
      self.lines = lines
    }

    var text: String { lines.joined(separator: crlf ? "\r\n" : "\n") }
  }

  /// A fence line: its character, length and info string.
  struct Fence {
    var character: Character
    var length: Int
    var info: String
  }

  /// The fence that `line` opens or closes, if it is one (CommonMark: at most
  /// three spaces of indentation, then three or more backticks or tildes; an info
  /// string after backticks may not contain a backtick).
  static func fence(_ line: String) -> Fence? {
    var rest = Substring(line)
    var indent = 0
    while rest.first == " " && indent < 4 {
      rest = rest.dropFirst()
      indent += 1
    }
    guard indent <= 3, let c = rest.first, c == "`" || c == "~" else { return nil }
    let run = rest.prefix { $0 == c }
    guard run.count >= 3 else { return nil }
    let info = rest.dropFirst(run.count).trimmingCharacters(in: .whitespaces)
    if c == "`" && info.contains("`") { return nil }
    return Fence(character: c, length: run.count, info: info)
  }

  /// The cells of a notebook.
  /// - Throws: `NotebookError` naming the file and line of a fence that is never
  ///   closed or a `$` line without a command.
  static func cells(_ lines: [String], file: String = "<notebook>") throws -> [Cell] {
    var cells: [Cell] = []
    var i = 0
    while i < lines.count {
      guard let open = fence(lines[i]) else {
        i += 1
        continue
      }
      let openLine = i
      let isConsole = open.info.split(separator: " ").first == "console"
      // The block's content: up to a closing fence of the same kind, at least as long.
      var end = i + 1
      while end < lines.count {
        if let f = fence(lines[end]), f.character == open.character, f.length >= open.length, f.info.isEmpty { break }
        end += 1
      }
      guard end < lines.count else {
        let opener = String(repeating: String(open.character), count: open.length) + open.info
        throw NotebookError("\(file):\(openLine + 1): the block opened by \(opener) is never closed (expected a closing \(String(repeating: String(open.character), count: open.length)) line)")
      }
      if isConsole {
        var j = openLine + 1
        while j < end {
          let line = lines[j]
          guard line == "$" || line.hasPrefix("$ ") else {
            j += 1
            continue
          }
          let command = line == "$" ? "" : String(line.dropFirst(2))
          guard !command.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw NotebookError("\(file):\(j + 1): a \"$\" line without a command (expected \"$ COMMAND\")")
          }
          var k = j + 1
          while k < end, lines[k] != "$", !lines[k].hasPrefix("$ ") { k += 1 }
          cells.append(Cell(command: command, expected: Array(lines[(j + 1)..<k]), line: j + 1, outputRange: (j + 1)..<k))
          j = k
        }
      }
      i = end + 1
    }
    return cells
  }

  // MARK: Matching

  /// Whether `actual` matches `expected`, where a line `...` matches any number of
  /// lines (none included).
  ///
  /// The expected lines are literal segments separated by `...`: the first must
  /// start the output and the last must end it; each one between is found at its
  /// leftmost place after the one before (leftmost is never worse for what follows),
  /// by Knuth–Morris–Pratt.
  /// - Complexity: O(expected + actual) line comparisons.
  public static func matches(expected: [String], actual: [String]) -> Bool {
    let segments = expected.split(separator: "...", omittingEmptySubsequences: false).map(Array.init)
    guard segments.count > 1 else { return expected == actual }
    let head = segments[0], tail = segments[segments.count - 1]
    guard actual.count >= head.count + tail.count else { return false }
    guard actual.starts(with: head), actual.suffix(tail.count).elementsEqual(tail) else { return false }
    var position = head.count
    let limit = actual.count - tail.count
    for segment in segments.dropFirst().dropLast() where !segment.isEmpty {
      guard let found = firstOccurrence(of: segment, in: actual, from: position, to: limit) else { return false }
      position = found + segment.count
    }
    return true
  }

  /// The first index ≥ `from` where `pattern` occurs in `text[from..<to]` (KMP).
  static func firstOccurrence(of pattern: [String], in text: [String], from: Int, to: Int) -> Int? {
    let m = pattern.count
    guard m > 0 else { return from }
    guard to - from >= m else { return nil }
    var failure = [Int](repeating: 0, count: m)
    var k = 0
    for q in 1..<max(m, 1) {
      while k > 0 && pattern[k] != pattern[q] { k = failure[k - 1] }
      if pattern[k] == pattern[q] { k += 1 }
      failure[q] = k
    }
    k = 0
    for i in from..<to {
      while k > 0 && pattern[k] != text[i] { k = failure[k - 1] }
      if pattern[k] == text[i] { k += 1 }
      if k == m { return i - m + 1 }
    }
    return nil
  }

  // MARK: Running

  /// What one cell printed and how it ended.
  struct Outcome {
    var lines: [String]
    var status: Int32
    /// Why the cell was stopped (time limit, output limit), nil if it finished.
    var stopped: String?
  }

  /// Runs a shell command with `aeos` resolved to `executable`, stdout and stderr
  /// together, in a process group of its own that is ended when the command
  /// finishes, outruns `timeout` seconds, or `aeos` is interrupted.
  /// - Throws: `NotebookError` (with `signal`) when SIGINT or SIGTERM arrived.
  static func execute(_ command: String, executable: String, directory: URL, timeout: Double, stack: [String]) throws -> Outcome {
    var environment = ProcessInfo.processInfo.environment
    let dir = URL(fileURLWithPath: executable).deletingLastPathComponent().path
    environment["PATH"] = dir + (environment["PATH"].map { ":" + $0 } ?? "")
    environment[stackVariable] = stack.joined(separator: "\n")
    // The shell changes into the notebook's folder itself, so that $PWD is right too.
    let script = "exec 2>&1\ncd \(shellQuote(directory.path)) || exit 1\n" + command
    // One pipe for stdout and stderr, closed on exec here so that only the shell and
    // what it starts hold its write end (the shell gets it as fds 1 and 2).
    var ends: [Int32] = [0, 0]
    guard pipe(&ends) == 0, fcntl(ends[0], F_SETFD, FD_CLOEXEC) == 0, fcntl(ends[1], F_SETFD, FD_CLOEXEC) == 0 else {
      throw NotebookError("cannot make a pipe for the cell \"\(command)\": \(String(cString: strerror(errno)))")
    }
    let shell: ChildProcess
    do {
      shell = try ChildProcess.spawn("/bin/sh", ["-c", script], environment: environment, output: .descriptor(ends[1]), newProcessGroup: true)
    } catch {
      close(ends[0])
      close(ends[1])
      throw NotebookError("cannot start /bin/sh for the cell \"\(command)\": \(error)")
    }
    close(ends[1])
    let group = CellGroup(pid: shell.pid)
    let buffer = OutputBuffer(limit: outputLimit)
    let readerDone = DispatchSemaphore(value: 0)
    let handle = FileHandle(fileDescriptor: ends[0], closeOnDealloc: true)
    Thread.detachNewThread {
      while true {
        let chunk = handle.availableData
        if chunk.isEmpty || !buffer.append(chunk) { break }
      }
      readerDone.signal()
    }
    let start = Date()
    var stopped: String?
    var interruption: Int32 = 0
    while shell.poll() == nil {
      if Interrupts.received != 0 {
        interruption = Interrupts.received
        break
      }
      if Date().timeIntervalSince(start) > timeout {
        stopped = "the cell did not finish within \(formatSeconds(timeout)) (--timeout) and was stopped"
        break
      }
      if buffer.overflowed {
        stopped = "the cell printed more than \(outputLimit >> 20) MiB and was stopped"
        break
      }
      usleep(10_000)
    }
    // End whatever is left of the cell's process group: the shell (when stopped) and
    // anything it started in the background. Daemons it started in sessions of their
    // own (slurmctld, munged) are left running, as a shell would leave them.
    group.end(graceSeconds: stopped == nil && interruption == 0 ? 0.2 : 2)
    let status = shell.wait()
    // A child that left the group may still hold the pipe; do not wait for it long.
    _ = readerDone.wait(timeout: .now() + 2)
    if interruption != 0 {
      throw NotebookError("interrupted by \(Interrupts.name(interruption)) while running \"\(command)\"; its processes were ended", signal: interruption)
    }
    var lines = String(decoding: buffer.data, as: UTF8.self).components(separatedBy: "\n")
    while let last = lines.last, last.isEmpty { lines.removeLast() }
    return Outcome(lines: lines, status: status, stopped: stopped)
  }

  static func formatSeconds(_ s: Double) -> String {
    s == s.rounded() && abs(s) < 1e15 ? "\(Int(s)) s" : "\(s) s"
  }

  /// Checks every cell; returns the mismatches (empty when the notebook is true).
  /// - Parameter timeout: seconds one cell may run (default 30 minutes).
  public static func check(file: String, executable: String, timeout: Double = defaultTimeout) throws -> (cells: Int, mismatches: [Mismatch]) {
    let document = Document(text: try readText(file))
    let cs = try cells(document.lines, file: file)
    let stack = try enter(file)
    Interrupts.install()
    defer { Interrupts.uninstall() }
    let dir = URL(fileURLWithPath: file).deletingLastPathComponent()
    var bad: [Mismatch] = []
    for c in cs {
      let outcome = try execute(c.command, executable: executable, directory: dir, timeout: timeout, stack: stack)
      let expected = trimmed(c.expected)
      if outcome.stopped != nil || !matches(expected: expected, actual: outcome.lines) {
        var note = outcome.stopped
        if note == nil && outcome.status == 127 { note = "the output differs; the shell could not find the command (exit status 127)" }
        bad.append(Mismatch(file: file, line: c.line, command: c.command, expected: expected, actual: outcome.lines, note: note))
      }
    }
    return (cs.count, bad)
  }

  /// Runs every cell and writes the outputs into the file (cells whose expected
  /// output contains `...` and still matches are left as written). A cell that is
  /// stopped (time limit, output limit) leaves the file unchanged.
  public static func run(file: String, executable: String, timeout: Double = defaultTimeout) throws -> Int {
    var document = Document(text: try readText(file))
    let cs = try cells(document.lines, file: file)
    let stack = try enter(file)
    Interrupts.install()
    defer { Interrupts.uninstall() }
    let dir = URL(fileURLWithPath: file).deletingLastPathComponent()
    var outputs: [[String]?] = []
    for c in cs {
      let outcome = try execute(c.command, executable: executable, directory: dir, timeout: timeout, stack: stack)
      if let why = outcome.stopped { throw NotebookError("\(file):\(c.line): \(why); \(file) is unchanged") }
      outputs.append(c.expected.contains("...") && matches(expected: trimmed(c.expected), actual: outcome.lines) ? nil : outcome.lines)
    }
    for (c, output) in zip(cs, outputs).reversed() {
      if let output { document.lines.replaceSubrange(c.outputRange, with: output) }
    }
    do { try document.text.write(toFile: file, atomically: true, encoding: .utf8) } catch {
      throw NotebookError("cannot write \(file): \(error.localizedDescription)")
    }
    return cs.count
  }

  /// The notebooks being run, this one last; refuses a notebook that an enclosing
  /// `aeos notebook` is already running, and nesting deeper than `maximumNesting`.
  static func enter(_ file: String) throws -> [String] {
    let me = URL(fileURLWithPath: file).standardizedFileURL.resolvingSymlinksInPath().path
    let outer = (ProcessInfo.processInfo.environment[stackVariable] ?? "").split(separator: "\n").map(String.init)
    if outer.contains(me) {
      throw NotebookError("\(file) is already being run by an enclosing `aeos notebook` (one of its cells runs it again); refusing to recurse")
    }
    guard outer.count < maximumNesting else {
      throw NotebookError("\(file): notebooks nested \(outer.count) deep (a cell runs a notebook that runs a notebook …); at most \(maximumNesting)")
    }
    return outer + [me]
  }

  static func trimmed(_ lines: [String]) -> [String] {
    var l = lines
    while let last = l.last, last.isEmpty { l.removeLast() }
    return l
  }

  static func readText(_ file: String) throws -> String {
    // Through InputFile: a folder, a device, an unreadable or oversized file each get
    // their own reason; an empty notebook is a notebook without cells.
    let data: Data
    do { data = try InputFile.read(file, what: "notebook", limit: 1 << 28, allowEmpty: true) } catch {
      throw NotebookError(error.description)
    }
    if let nul = data.firstIndex(of: 0) {
      throw NotebookError("notebook \(file) has a NUL byte at offset \(nul - data.startIndex): it is not text (expected a Markdown file)")
    }
    guard let text = String(data: data, encoding: .utf8) else {
      throw NotebookError("notebook \(file) is not UTF-8 text (expected a Markdown file)")
    }
    return text
  }
}

/// The process group of a running cell (the shell is its leader, spawned so).
struct CellGroup {
  let pid: Int32

  /// Sends SIGTERM to the group, then SIGKILL to whatever is left after `graceSeconds`.
  func end(graceSeconds: Double) {
    guard groupAlive() else { return }
    kill(-pid, SIGTERM)
    let deadline = Date().addingTimeInterval(graceSeconds)
    while Date() < deadline && groupAlive() { usleep(10_000) }
    if groupAlive() { kill(-pid, SIGKILL) }
  }

  /// Whether any process of the group is alive (signal 0; the shell, once a zombie not
  /// yet reaped, counts, which only lengthens the grace period).
  private func groupAlive() -> Bool { kill(-pid, 0) == 0 }
}

/// The output of a cell, filled by its reader thread.
final class OutputBuffer: Sendable {
  private let storage = Mutex<(data: Data, overflowed: Bool)>((Data(), false))
  let limit: Int
  init(limit: Int) { self.limit = limit }

  /// Appends; false once the limit is passed (the reader stops).
  func append(_ chunk: Data) -> Bool {
    storage.withLock { s in
      guard !s.overflowed else { return false }
      s.data.append(chunk)
      if s.data.count > limit { s.overflowed = true }
      return !s.overflowed
    }
  }

  var data: Data { storage.withLock { $0.data } }
  var overflowed: Bool { storage.withLock { $0.overflowed } }
}
