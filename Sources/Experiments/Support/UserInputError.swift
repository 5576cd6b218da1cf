
/// An error a user causes with a flag, a value, a combination of them or an input
/// file (a rule that does not parse, a learning rate out of range, a .npy file whose
/// header lies, a run folder that is not one). `aeos` reports these as usage errors,
/// exit status 64; every other error is a runtime failure, exit status 1
/// (docs/reference.md, "Exit statuses").
public protocol UserInputError: Error, CustomStringConvertible {
  /// False for the cases of an error type that are runtime failures.
  var isUserInput: Bool { get }
}

extension UserInputError {
  public var isUserInput: Bool { true }
}

extension TheoryError: UserInputError {}
extension TrainingError: UserInputError {}
extension Notebook.NotebookError: UserInputError {}
extension AlgebraError: UserInputError {}
extension RuleError: UserInputError {}
extension QuadraticError: UserInputError {}
extension OptimizerError: UserInputError {}
extension HyperparameterError: UserInputError {}

extension NeuralEngineError: UserInputError {
  /// A damaged or unsuitable file, a size out of range: the user's input. A
  /// computation that went non-finite, and a data set the machine lacks, are not.
  public var isUserInput: Bool {
    switch self {
    case .nonFinite, .missingDataset: false
    default: true
    }
  }
}

/// Whether an error is the user's input (exit 64) rather than a runtime failure (exit 1).
public func isUserInputError(_ error: any Error) -> Bool {
  (error as? any UserInputError)?.isUserInput ?? false
}
