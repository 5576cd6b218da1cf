#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Testing

/// Notebooks whose cells misbehave: a cell that outruns `--timeout`, a cell left running
/// when `aeos notebook` gets SIGINT, a cell that starts a background process. In each
/// case no process of the cell may be left running, and `aeos` must say what happened.
@Suite struct NotebookHardeningTests {
  /// A notebook in a fresh folder whose one cell records its shell's pid and the pid of
  /// a background `sleep` it starts, then runs `tail` (a cell that would run a minute).
  static func notebook(_ cell: String) throws -> (dir: URL, file: String) {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("aeos-nb-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    let file = dir.appendingPathComponent("cells.md").path
    try "# t\n\n```console\n$ \(cell)\n```\n".write(toFile: file, atomically: true, encoding: .utf8)
    return (dir, file)
  }

  static let cell = "echo $$ > shell.pid; sleep 300 & echo $! > child.pid; sleep 60"

  static func pids(in dir: URL) -> [Int32] {
    ["shell.pid", "child.pid"].compactMap { try? String(contentsOf: dir.appendingPathComponent($0), encoding: .utf8) }
      .compactMap { Int32($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
  }

  /// Whether a process is alive and not a zombie.
  static func alive(_ pid: Int32) -> Bool {
    guard kill(pid, 0) == 0 else { return false }
    let stat = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)) ?? ""
    return !stat.contains(") Z ")
  }

  /// --timeout 2: the cell and its background child are ended, the mismatch says so and
  /// names file:line, exit 1, well before the cell's 60 s.
  @Test func aCellPastItsTimeLimitIsEndedWithItsChildren() throws {
    let (dir, file) = try Self.notebook(Self.cell)
    defer { try? FileManager.default.removeItem(at: dir) }
    let start = Date()
    let r = try TimedProcess.run(CLI.executable, ["notebook", "check", file, "--timeout", "2"], limit: 60, directory: dir)
    #expect(Date().timeIntervalSince(start) < 45, "took \(Date().timeIntervalSince(start)) s")
    #expect(r.status == 1, "\(r.stderr)")
    #expect(r.stderr.contains("cells.md:4: the cell did not finish within 2 s (--timeout) and was stopped"), "\(r.stderr)")
    let pids = Self.pids(in: dir)
    #expect(pids.count == 2)
    for pid in pids { #expect(!Self.alive(pid), "process \(pid) of the cell is still running") }
  }

  /// SIGINT to `aeos notebook check` (Ctrl-C): the cell's processes are ended and the
  /// command exits 130.
  @Test func sigintEndsTheCellAndItsChildren() throws {
    let (dir, file) = try Self.notebook(Self.cell)
    defer { try? FileManager.default.removeItem(at: dir) }
    let p = Process()
    p.executableURL = CLI.executable
    p.arguments = ["notebook", "check", file]
    p.currentDirectoryURL = dir
    p.standardOutput = FileHandle.nullDevice
    p.standardError = FileHandle.nullDevice
    try p.run()
    // wait until the cell has started its children
    let ready = Date().addingTimeInterval(30)
    while Self.pids(in: dir).count < 2 && Date() < ready { usleep(50_000) }
    #expect(Self.pids(in: dir).count == 2, "the cell did not start")
    kill(p.processIdentifier, SIGINT)
    let deadline = Date().addingTimeInterval(30)
    while p.isRunning && Date() < deadline { usleep(50_000) }
    if p.isRunning { kill(p.processIdentifier, SIGKILL) }
    p.waitUntilExit()
    #expect(p.terminationReason == .exit && p.terminationStatus == 130, "status \(p.terminationStatus), reason \(p.terminationReason)")
    for pid in Self.pids(in: dir) { #expect(!Self.alive(pid), "process \(pid) of the cell is still running") }
  }

  /// A cell that leaves a process in the background: the cell passes, the process is
  /// ended when the cell's shell exits, and the check returns at once.
  @Test func aBackgroundProcessOfACellIsEnded() throws {
    let (dir, file) = try Self.notebook("sleep 300 & echo $! > child.pid; echo $$ > shell.pid")
    defer { try? FileManager.default.removeItem(at: dir) }
    let start = Date()
    let r = try TimedProcess.run(CLI.executable, ["notebook", "check", file], limit: 60, directory: dir)
    #expect(Date().timeIntervalSince(start) < 30)
    #expect(r.status == 0, "\(r.stderr)")
    for pid in Self.pids(in: dir) { #expect(!Self.alive(pid), "process \(pid) of the cell is still running") }
  }

  /// A cell that starts a daemon (a session of its own, its output elsewhere, as
  /// `scripts/slurm-local.sh start` starts munged and slurmctld): the daemon is left
  /// running, as a shell would leave it, and the notebook goes on at once to the next
  /// cell. (With Foundation's Process the daemon inherited the socket by which Process
  /// learns that the shell ended, and the check waited for the daemon: 120 s here.)
  @Test func aDaemonStartedByACellDoesNotHoldTheNotebook() throws {
    let (dir, file) = try Self.notebook("setsid sh -c 'echo $$ > daemon.pid; exec sleep 120' > /dev/null 2>&1 < /dev/null & sleep 0.5; echo started")
    defer { try? FileManager.default.removeItem(at: dir) }
    try (String(contentsOfFile: file, encoding: .utf8) + "\n```console\n$ echo next\n```\n").write(toFile: file, atomically: true, encoding: .utf8)
    let start = Date()
    let r = try TimedProcess.run(CLI.executable, ["notebook", "run", file], limit: 180, directory: dir)
    let seconds = Date().timeIntervalSince(start)
    let daemon = (try? String(contentsOf: dir.appendingPathComponent("daemon.pid"), encoding: .utf8)).flatMap { Int32($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
    #expect(daemon != nil, "the daemon did not start")
    #expect(daemon.map(Self.alive) == true, "the daemon was ended")
    if let daemon { kill(daemon, SIGKILL) }
    #expect(seconds < 60, "took \(seconds) s")
    #expect(r.status == 0, "\(r.stderr)")
    let text = try String(contentsOfFile: file, encoding: .utf8)
    #expect(text.contains("started\n```") && text.contains("$ echo next\nnext\n```"), "\(text)")
  }
}
