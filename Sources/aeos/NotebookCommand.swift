import ArgumentParser
import Experiments
import Foundation

/// `aeos notebook run|check FILE.md`: Markdown whose ```console blocks run.
struct NotebookCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "notebook",
    abstract: "Markdown notebooks that run: `run` rewrites the outputs of ```console blocks, `check` compares them.",
    discussion: """
      In a ```console block (or a longer fence, ````console), `$ …` lines are shell commands (run with /bin/sh, \
      `aeos` on the PATH, in the notebook's folder) and the lines after them their output (stdout and stderr \
      together); a line `...` matches any lines. Cells are shell commands: run only notebooks you trust.

      Each cell runs in a process group of its own with a time limit (--timeout, default 1800 s = 30 minutes); a \
      cell that outruns it, and every cell on Ctrl-C (SIGINT) or SIGTERM, is ended with everything it started \
      (exit status 130 when interrupted). A notebook whose cell runs that same notebook is refused.
      """,
    subcommands: [Run.self, Check.self])

  struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run every cell and write its output into the file.")
    @Argument(help: ArgumentHelp("The Markdown file.", valueName: "file.md")) var file: String
    @OptionGroup var limits: NotebookLimits

    func run() throws {
      let n = try notebookCall { try Notebook.run(file: file, executable: currentExecutable(), timeout: limits.timeout) }
      noteWithoutCells(file, n)
      print("ran \(n) cells of \(file)")
    }
  }

  struct Check: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Run every cell and compare its output with the file; exit 1 if any differs.")
    @Argument(help: ArgumentHelp("The Markdown file.", valueName: "file.md")) var file: String
    @OptionGroup var limits: NotebookLimits

    func run() throws {
      let (n, bad) = try notebookCall { try Notebook.check(file: file, executable: currentExecutable(), timeout: limits.timeout) }
      noteWithoutCells(file, n)
      for m in bad { printError(m.description + "\n") }
      print("\(file): \(n - bad.count) passed, \(bad.count) failed")
      if !bad.isEmpty { throw ExitCode(1) }
    }
  }
}

/// A notebook without cells passes vacuously; say so, since it is more often the wrong
/// file or a fence of another language than an empty notebook.
func noteWithoutCells(_ file: String, _ cells: Int) {
  if cells == 0 { printError("note: \(file) has no cells (a ```console block with \"$ COMMAND\" lines); nothing was run") }
}

/// The time limit of a cell.
struct NotebookLimits: ParsableArguments {
  @Option(parsing: .unconditional, help: "Seconds one cell may run before it is ended with everything it started (1800 = 30 minutes).")
  var timeout: Double = Notebook.defaultTimeout

  func validate() throws {
    guard timeout.isFinite, timeout > 0 else { throw ValidationError("invalid --timeout \(timeout): expected a number of seconds > 0") }
  }
}

/// Runs a notebook call: an interruption exits 130, a notebook that cannot be run 64.
func notebookCall<R>(_ body: () throws -> R) throws -> R {
  do { return try body() } catch let e as Notebook.NotebookError {
    if let signal = e.signal {
      printError("Error: \(e.description)")
      throw ExitCode(130)
    }
    throw usageFailure(e.description)
  }
}

/// The path of this `aeos` binary (so notebook cells run the same build).
func currentExecutable() -> String {
  (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
}
