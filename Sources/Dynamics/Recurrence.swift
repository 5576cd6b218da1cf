/// The five linear methods of Cohen et al. 2022, Table 1, written in the rule
/// language (see `UpdateRule`). They are data, not special cases: every analysis
/// runs on the rule text.
public enum BuiltinMethod: String, CaseIterable, Sendable, Codable {
  case gd
  case hb
  case emaHB = "ema-hb"
  case nesterov
  case emaNesterov = "ema-nesterov"

  /// The update rule in the rule language of DESIGN.md.
  public var rule: String {
    switch self {
    case .gd: "x' = x - eta*g"
    case .hb: "m' = beta*m + g; x' = x - eta*m'"
    case .emaHB: "m' = beta*m + (1-beta)*g; x' = x - eta*m'"
    case .nesterov: "m' = beta*m + g; x' = x - eta*(beta*m' + g)"
    case .emaNesterov: "m' = beta*m + (1-beta)*g; x' = x - eta*(beta*m' + (1-beta)*g)"
    }
  }

  /// Whether the rule has a momentum parameter `beta`.
  public var hasMomentum: Bool { self != .gd }
}

/// A linear recurrence with numeric parameter values: what an optimizer freezes to
/// on a quadratic. Its threshold and growth factor are derived from the rule.
public struct Recurrence: Sendable, Hashable, Codable {
  /// Display name ("ema-hb", "ema-hb with decoupled decay", or "rule").
  public var name: String
  /// The rule text in the rule language.
  public var rule: String
  /// Numeric values of the rule's parameters (every name but `eta`, `x`, `g`, state).
  public var parameters: [String: Double]

  public init(name: String, rule: String, parameters: [String: Double]) {
    self.name = name
    self.rule = rule
    self.parameters = parameters
  }

  /// A built-in method; `beta` is ignored for gd.
  public static func builtin(_ method: BuiltinMethod, beta: Double = 0.9) -> Recurrence {
    Recurrence(name: method.rawValue, rule: method.rule, parameters: method.hasMomentum ? ["beta": beta] : [:])
  }

  /// EMA heavy ball with AdamW's decoupled weight decay x ← x − η·wd·x.
  public static func emaHeavyBallWithDecay(beta: Double, weightDecay: Double) -> Recurrence {
    Recurrence(
      name: "ema-hb with decoupled decay",
      rule: "m' = beta*m + (1-beta)*g; x' = x - eta*m' - eta*wd*x",
      parameters: ["beta": beta, "wd": weightDecay])
  }
}

// The analysis API (implemented in Analysis.swift):
//   Recurrence.threshold(lr:) throws -> Double          — supremum of the stable interval from 0
//   Recurrence.growthFactor(eigenvalue:lr:) throws -> Double  — ρ(λ), largest root modulus
