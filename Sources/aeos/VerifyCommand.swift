import ArgumentParser
import Experiments

struct VerifyCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "verify",
    abstract: "The main job: the theory against the paper, the quadratic laboratory against the theory, the neural engine on Fashion-MNIST against finite differences, and a small training run at the Edge of Stability against 2/η.")

  @Flag(help: "Print one JSON document.") var json = false

  func run() throws {
    let checks = Verify.theoryChecks() + Verify.quadraticChecks() + Verify.engineChecks() + Verify.trainingChecks()
    if json {
      print(JSONValue.object([("checks", .array(checks.map(\.json))), ("passed", .bool(checks.allSatisfy(\.passed)))]).serialized(pretty: true))
    } else {
      print(Verify.report(checks))
    }
    if !checks.allSatisfy(\.passed) { throw ExitCode(1) }
  }
}
