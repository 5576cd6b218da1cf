import Foundation
import Testing

/// README.md and notebooks-md/*.md are documentation that runs: every ```console
/// command is re-executed and its output compared with the text.
@Suite struct NotebookTests {
  static var root: URL {
    URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
  }

  static var notebooks: [String] {
    let dir = root.appendingPathComponent("notebooks-md")
    let files = (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
    return ["README.md"] + files.filter { $0.hasSuffix(".md") }.sorted().map { "notebooks-md/" + $0 }
  }

  @Test(arguments: notebooks)
  func notebookIsTrue(_ file: String) throws {
    let r = try CLI.run(["notebook", "check", Self.root.appendingPathComponent(file).path])
    #expect(r.status == 0, "\(file) is out of date:\n\(r.stderr)")
  }

  @Test func checkDetectsAStaleOutput() throws {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("aeos-stale-\(getpid()).md").path
    try "# t\n\n```console\n$ aeos threshold gd --lr 0.5\nthreshold: 5\n```\n".write(toFile: path, atomically: true, encoding: .utf8)
    let bad = try CLI.run(["notebook", "check", path])
    #expect(bad.status != 0)
    let run = try CLI.run(["notebook", "run", path])
    #expect(run.status == 0)
    let good = try CLI.run(["notebook", "check", path])
    #expect(good.status == 0)
    let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
    #expect(text.contains("threshold: 4"))
    try? FileManager.default.removeItem(atPath: path)
  }
}
