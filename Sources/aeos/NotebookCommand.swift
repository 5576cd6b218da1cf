import ArgumentParser
import Experiments
import Foundation

/// `aeos notebook run|check FILE.md`: Markdown whose ```console blocks run.
struct NotebookCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "notebook",
    abstract: "Markdown notebooks that run: `run` rewrites the outputs of ```console blocks, `check` compares them.",
    discussion: """
      In a ```console block, `$ …` lines are shell commands (run with /bin/sh, `aeos` on the PATH, in the \
      notebook's folder) and the lines after them their output (stdout and stderr together); a line `...` \
      matches any lines. Cells are shell commands: run only notebooks you trust.
      """,
    subcommands: [Run.self, Check.self])

  struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run every cell and write its output into the file.")
    @Argument(help: ArgumentHelp("The Markdown file.", valueName: "file.md")) var file: String

    func run() throws {
      let n = try Notebook.run(file: file, executable: currentExecutable())
      print("ran \(n) cells of \(file)")
    }
  }

  struct Check: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Run every cell and compare its output with the file; exit 1 if any differs.")
    @Argument(help: ArgumentHelp("The Markdown file.", valueName: "file.md")) var file: String

    func run() throws {
      let (n, bad) = try Notebook.check(file: file, executable: currentExecutable())
      for m in bad { printError(m.description + "\n") }
      print("\(file): \(n - bad.count) passed, \(bad.count) failed")
      if !bad.isEmpty { throw ExitCode(1) }
    }
  }
}

/// The path of this `aeos` binary (so notebook cells run the same build).
func currentExecutable() -> String {
  (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
}
