import Foundation
import Testing

@testable import Experiments

/// report.md of `aeos verify --report`: the verdict first, one table per layer with
/// every check, failures marked, table cells that cannot break the table; the
/// training figures linked and written.
@Suite struct VerifyReportTests {
  static let checks = [
    Check(layer: "theory", name: "a | b", expected: "2/η", measured: "2/η", passed: true),
    Check(layer: "theory", name: "wrong", expected: "38", measured: "41.8", passed: false),
    Check(layer: "quadratics", name: "two\nlines", expected: "converges", measured: "converges", passed: true),
  ]

  @Test func markdown() {
    let md = VerifyReport.markdown(checks: Self.checks, runs: [], seconds: 1)
    #expect(md.contains("**1 of 3 checks failed:** theory: wrong."))
    #expect(md.contains("| ✗ **failed** | wrong | 38 | 41.8 |"))
    #expect(md.contains("| ✓ | a \\| b | 2/η | 2/η |"))
    #expect(md.contains("| ✓ | two lines | converges | converges |"))
    #expect(md.contains("## Checks: theory") && md.contains("## Checks: quadratics"))
    let passing = VerifyReport.markdown(checks: Self.checks.filter(\.passed), runs: [], seconds: 1)
    #expect(passing.contains("**All 2 checks passed.**"))
  }

  @Test func filesAndFigures() throws {
    var trace = Verify.SharpnessTrace()
    for k in 0..<20 {
      trace.steps.append(100 * k)
      trace.losses.append(1 / Double(k + 1))
      trace.sharpness.append(k == 0 ? 60 : 20 + Double(k) * 0.3)
    }
    let run = Verify.TrainingRun(optimizer: "gd", lr: 0.08, symbol: "λ₁(H)", threshold: 25, thresholdName: "2/η", trace: trace, checks: [])
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("aeos-report-\(UUID().uuidString)").path
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let written = try VerifyReport.write(to: dir, checks: Self.checks, runs: [run], seconds: 1)
    #expect(written.map { ($0 as NSString).lastPathComponent } == ["gd-training.svg", "gd-sharpness.svg", "gd-sharpness.csv", "report.md"])
    let md = try String(contentsOfFile: dir + "/report.md", encoding: .utf8)
    #expect(md.contains("](gd-training.svg)") && md.contains("](gd-sharpness.csv)"))
    let svg = try String(contentsOfFile: dir + "/gd-training.svg", encoding: .utf8)
    let content = try #require(SVGContent.parse(svg), "not well-formed XML")
    #expect(content.paths.filter(\.dashed).count == 1 && content.paths.filter { !$0.dashed }.count == 2)
    // a file where the folder should be: the error names it
    let blocked = dir + "/blocked"
    try "x".write(toFile: blocked, atomically: true, encoding: .utf8)
    #expect(throws: TrainingError.self) { try VerifyReport.write(to: blocked, checks: Self.checks, runs: [], seconds: 1) }
  }
}
