import ArgumentParser
import Experiments

/// The `aeos` command line: stability thresholds, growth factors, derivations,
/// simulations on quadratics, tracked training and benchmarks.
@main
struct AEoS: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "aeos",
    abstract: "Stability theory of neural-network optimizers: thresholds, growth factors, simulations, measurements.",
    version: toolkitVersion,
    subcommands: [
      Threshold.self, Growth.self, Derive.self, Simulate.self, Train.self, SweepCommand.self, CurvatureCommand.self, CompareCommand.self, VerifyCommand.self, NotebookCommand.self, Bench.self,
    ])

  /// Parses and runs a command; every error ends in one of the exit statuses of
  /// docs/reference.md: a problem with the command line (ArgumentParser's own
  /// errors, `ValidationError` from `validate()`) or with the user's input found at
  /// run time (`UserInputError`, a `ValidationError` thrown by `run()`) is a usage
  /// error, 64; any other error is a runtime failure, 1.
  static func main() {
    var command: any ParsableCommand
    do { command = try parseAsRoot() } catch { exit(withError: error) }
    do { try command.run() } catch { exit(withError: runError(error)) }
  }

  /// The error `exit(withError:)` should see for an error thrown by `run()`.
  static func runError(_ error: any Error) -> any Error {
    // A ValidationError thrown at run time is the user's input (its type is
    // ArgumentParser's too, so it is matched first: exit(withError:) would print the
    // root command's usage under it).
    if let e = error as? ValidationError { return usageFailure(e.message) }
    // ArgumentParser's own errors (help requested from `aeos help …`, parse errors of
    // nested commands) keep their handling.
    if String(reflecting: type(of: error)).hasPrefix("ArgumentParser.") { return error }
    switch error {
    case is ExitCode, is CleanExit: return error
    case let e where isUserInputError(e): return usageFailure("\(e)")
    default:
      printError("Error: \(error)")
      return ExitCode.failure
    }
  }
}
