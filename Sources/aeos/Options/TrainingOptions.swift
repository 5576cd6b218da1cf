import ArgumentParser
import Experiments
import Foundation

extension ModelSpec.Kind: ExpressibleByArgument {}
extension DataSpec.Source: ExpressibleByArgument {}
extension Activation: ExpressibleByArgument {}
extension Loss: ExpressibleByArgument {}

/// The network of `aeos train` and `aeos curvature --weights` (DESIGN.md, "Models").
/// Every option is optional so that `--resume` can tell which were given; the
/// defaults are in the help and in `ModelSpec`.
struct ModelOptions: ParsableArguments {
  @Option(help: "fc (fully connected) or cnn (the AEoS paper's CNN) (default: fc).")
  var model: ModelSpec.Kind?

  @Option(parsing: .unconditional, help: "Hidden layers of the fc net (default: 2).")
  var depth: Int?

  @Option(parsing: .unconditional, help: "Units per hidden layer of the fc net (default: 200).")
  var width: Int?

  @Option(help: "tanh, relu, elu, softplus or gelu (default: tanh for fc; the CNN uses relu unless given).")
  var activation: Activation?

  @Option(name: .customLong("cnn-scale"), parsing: .unconditional, help: "Divide the CNN's channels and units by this, for small test runs (default: 1, the paper's CNN).")
  var cnnScale: Int?

  var anyGiven: Bool { model != nil || depth != nil || width != nil || activation != nil || cnnScale != nil }

  /// The flags given, by name (for notes on flags that do not apply).
  var given: Set<String> {
    var s = Set<String>()
    if depth != nil { s.insert("--depth") }
    if width != nil { s.insert("--width") }
    if cnnScale != nil { s.insert("--cnn-scale") }
    return s
  }

  var spec: ModelSpec {
    let d = ModelSpec()
    return ModelSpec(
      kind: model ?? d.kind, depth: depth ?? d.depth, width: width ?? d.width, activation: activation ?? d.activation,
      cnnScale: cnnScale ?? d.cnnScale)
  }
}

/// The data, loss, precision and seed (DESIGN.md, "Data").
struct DataOptions: ParsableArguments {
  @Option(help: "fashion-mnist (Debian's dataset-fashion-mnist), cifar10 (with --data-dir) or synthetic (Gaussian clusters shaped like Fashion-MNIST) (default: fashion-mnist).")
  var data: DataSpec.Source?

  @Option(name: .customLong("data-dir"), help: ArgumentHelp("The data files' folder: CIFAR-10's unpacked cifar-10-batches-bin (required for cifar10), or Fashion-MNIST's (default: /usr/share/datasets/fashion-mnist).", valueName: "dir"))
  var dataDirectory: String?

  @Option(parsing: .unconditional, help: "Training examples: the first n, or class-balanced with --balanced (default: 1000).")
  var n: Int?

  @Flag(help: "Choose the n training examples class-balanced (seeded) instead of the first n.")
  var balanced = false

  @Option(name: .customLong("test-n"), parsing: .unconditional, help: "Test examples, the first of the test file; 0 for none (default: 1000).")
  var testN: Int?

  @Option(help: "mse (½‖f(x) − y‖² on one-hot targets, as in the paper) or ce (softmax cross-entropy) (default: mse).")
  var loss: Loss?

  @Option(help: "float32 or float64 (default: float32).")
  var dtype: DType?

  @Option(parsing: .unconditional, help: "Seed of the initial weights, the balanced subset, synthetic data and minibatch order (default: 0).")
  var seed: UInt64?

  var anyGiven: Bool {
    data != nil || dataDirectory != nil || n != nil || balanced || testN != nil || loss != nil || dtype != nil || seed != nil
  }

  /// The flags given, by name (for notes on flags that do not apply).
  var given: Set<String> {
    var s = Set<String>()
    if dataDirectory != nil { s.insert("--data-dir") }
    if balanced { s.insert("--balanced") }
    return s
  }

  var spec: DataSpec {
    let d = DataSpec()
    return DataSpec(source: data ?? d.source, n: n ?? d.n, balanced: balanced, testN: testN ?? d.testN, directory: dataDirectory)
  }
}

/// --optimizer NAME or --rule "RULES" with --param values.
struct MethodOptions: ParsableArguments {
  @Option(help: ArgumentHelp("One of: \(OptimizerKind.allNames).", valueName: "name"))
  var optimizer: String?

  @Option(help: "A user-written linear optimizer in the rule language, e.g. \"m' = beta*m + (1-beta)*g; x' = x - eta*((1-nu)*g + nu*m')\".")
  var rule: String?

  @Option(name: .customLong("param"), parsing: .singleValue, help: ArgumentHelp("A rule parameter, NAME=VALUE (repeatable).", valueName: "name=value"))
  var params: [String] = []

  var anyGiven: Bool { optimizer != nil || rule != nil || !params.isEmpty }

  /// The --param values; a name given twice, `eta`, or a value that is not a finite
  /// number is refused.
  func parameterValues() throws -> [String: Double] {
    try parseParameterAssignments(params)
  }
}

/// NAME=VALUE pairs of `--param`.
func parseParameterAssignments(_ params: [String]) throws -> [String: Double] {
  var out: [String: Double] = [:]
  for p in params {
    let parts = p.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
    guard parts.count == 2, !parts[0].trimmingCharacters(in: .whitespaces).isEmpty else {
      throw ValidationError("malformed --param \"\(p)\": expected NAME=VALUE")
    }
    let name = parts[0].trimmingCharacters(in: .whitespaces)
    guard name != "eta" else { throw ValidationError("--param eta: the learning rate is set by --lr") }
    guard let v = Double(parts[1].trimmingCharacters(in: .whitespaces)), v.isFinite else {
      throw ValidationError("malformed --param \(name)=\(parts[1]): expected a finite number")
    }
    guard out[name] == nil else { throw ValidationError("--param \(name) is given twice (\(formatHuman(out[name] ?? .nan)) and \(parts[1])): give it once") }
    out[name] = v
  }
  return out
}
