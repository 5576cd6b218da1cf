/// Errors a user can cause in exact algebra: division by zero, unparsable text, bad arguments.
public enum AlgebraError: Error, CustomStringConvertible, Equatable, Sendable {
  /// A division by zero (or a denominator that became zero); the text says where.
  case divisionByZero(String)
  /// Unparsable expression text: `message` names the offending token and its 0-based
  /// character `position`, e.g. "unexpected ')' at position 7".
  case parse(message: String, position: Int)
  /// An argument outside what an operation accepts; the text names the value and what was expected.
  case invalidArgument(String)

  public var description: String {
    switch self {
    case .divisionByZero(let what): return "division by zero: \(what)"
    case .parse(let message, _): return message
    case .invalidArgument(let message): return message
    }
  }
}
