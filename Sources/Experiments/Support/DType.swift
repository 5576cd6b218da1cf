/// The floating-point type a network is trained and measured in.
public enum DType: String, CaseIterable, Codable, Sendable {
  case float32, float64

  /// All names, comma-separated, for help and error messages.
  public static var allNames: String { allCases.map(\.rawValue).joined(separator: ", ") }
}
