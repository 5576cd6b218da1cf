import ArgumentParser
import Experiments
import Foundation

struct NotebookCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "notebook",
    abstract: "Markdown notebooks that run: `run` rewrites the outputs of ```console blocks, `check` compares them.",
    discussion: "In a ```console block, `$ aeos …` lines are commands and the lines after them their output; a line `...` matches any lines.")

  @Argument(help: "run or check") var action: String
  @Argument(help: "The Markdown file.") var file: String

  func validate() throws {
    guard ["run", "check"].contains(action) else { throw ValidationError("unknown action \"\(action)\": expected run or check") }
  }

  func run() throws {
    let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    if action == "run" {
      let n = try Notebook.run(file: file, executable: exe)
      print("ran \(n) cells of \(file)")
    } else {
      let (n, bad) = try Notebook.check(file: file, executable: exe)
      for m in bad { printError(m.description + "\n") }
      print("\(file): \(n - bad.count) passed, \(bad.count) failed")
      if !bad.isEmpty { throw ExitCode(1) }
    }
  }
}
