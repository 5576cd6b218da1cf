/// A user-causable problem with an optimizer's configuration or state; the message
/// names the bad value and what was expected.
public struct OptimizerError: Error, CustomStringConvertible, Equatable, Sendable {
  public let description: String
  public init(_ description: String) { self.description = description }
}

/// A hyper-parameter outside its accepted range.
public enum HyperparameterError: Error, CustomStringConvertible, Equatable {
  case outOfRange(name: String, value: Double, expected: String)

  public var description: String {
    switch self {
    case let .outOfRange(name, value, expected): "invalid --\(name) \(value): expected \(expected)"
    }
  }
}
