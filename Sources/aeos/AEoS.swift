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
      Threshold.self, Growth.self, Derive.self, Simulate.self, Train.self, CurvatureCommand.self, CompareCommand.self, VerifyCommand.self, NotebookCommand.self, Bench.self,
    ])
}
