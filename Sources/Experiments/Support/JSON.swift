import Foundation
import NeuralEngine

/// A JSON value with ordered object keys, printed with doubles at full precision
/// (shortest representation that round-trips) and non-finite numbers as null.
public indirect enum JSONValue: Sendable, Equatable {
  case null
  case bool(Bool)
  case int(Int)
  case number(Double)
  case string(String)
  case array([JSONValue])
  case object([(String, JSONValue)])

  public static func == (a: JSONValue, b: JSONValue) -> Bool { a.serialized() == b.serialized() }

  public static func optional(_ x: Double?) -> JSONValue { x.map { .number($0) } ?? .null }
  public static func optional(_ s: String?) -> JSONValue { s.map { .string($0) } ?? .null }
  public static func optional(_ i: Int?) -> JSONValue { i.map { .int($0) } ?? .null }

  /// Compact when `pretty` is false; two-space indentation otherwise.
  public func serialized(pretty: Bool = false) -> String {
    var out = ""
    write(into: &out, pretty: pretty, indent: 0)
    return out
  }

  private func write(into out: inout String, pretty: Bool, indent: Int) {
    let pad = pretty ? String(repeating: "  ", count: indent + 1) : ""
    let close = pretty ? String(repeating: "  ", count: indent) : ""
    let nl = pretty ? "\n" : ""
    switch self {
    case .null: out += "null"
    case let .bool(b): out += b ? "true" : "false"
    case let .int(i): out += String(i)
    case let .number(x): out += Self.format(x)
    case let .string(s): out += Self.quote(s)
    case let .array(items):
      if items.isEmpty { out += "[]"; return }
      out += "[" + nl
      for (k, item) in items.enumerated() {
        out += pad
        item.write(into: &out, pretty: pretty, indent: indent + 1)
        out += (k + 1 < items.count ? "," : "") + nl
      }
      out += close + "]"
    case let .object(fields):
      if fields.isEmpty { out += "{}"; return }
      out += "{" + nl
      for (k, (key, value)) in fields.enumerated() {
        out += pad + Self.quote(key) + (pretty ? ": " : ":")
        value.write(into: &out, pretty: pretty, indent: indent + 1)
        out += (k + 1 < fields.count ? "," : "") + nl
      }
      out += close + "}"
    }
  }

  /// Full double precision; integers print without a fractional part.
  public static func format(_ x: Double) -> String {
    guard x.isFinite else { return "null" }
    if x == x.rounded(), abs(x) < 1e15 { return String(Int64(x)) }
    return "\(x)"
  }

  static func quote(_ s: String) -> String { JSONText.quoted(s) }
}

/// Human-readable numbers: 12 significant digits, as DESIGN.md asks.
public func formatHuman(_ x: Double) -> String {
  guard x.isFinite else { return x.isNaN ? "nan" : (x > 0 ? "inf" : "-inf") }
  // Integers print as themselves (%.12g would too), without Foundation's slow formatter.
  if x == x.rounded(), abs(x) < 1e12 { return x == 0 ? (x.sign == .minus ? "-0" : "0") : String(Int(x)) }
  return String(format: "%.12g", x)
}

/// `formatHuman` to `digits` significant digits, for plot legends, where the threshold
/// is read rather than reused (12666.7, not 12666.6666667); printed output keeps
/// DESIGN.md's 12 digits.
public func formatHuman(_ x: Double, digits: Int) -> String {
  // Non-finite values and integers below 10¹² print as formatHuman prints them.
  if !x.isFinite || (x == x.rounded() && abs(x) < 1e12) { return formatHuman(x) }
  return String(format: "%.\(digits)g", x)
}

/// A JSON decoding error in words: the key path and what was wrong.
func describeDecoding(_ error: any Error) -> String {
  /// `runs[0].folder`: array positions in brackets, keys joined by dots.
  func path(_ c: [any CodingKey]) -> String {
    guard !c.isEmpty else { return "the top level" }
    return c.reduce(into: "") { text, key in
      if let i = key.intValue { text += "[\(i)]" } else { text += (text.isEmpty ? "" : ".") + key.stringValue }
    }
  }
  switch error as? DecodingError {
  case let .keyNotFound(key, ctx): return "missing key \"\(key.stringValue)\" at \(path(ctx.codingPath))"
  case let .typeMismatch(type, ctx): return "\(path(ctx.codingPath)) is not of type \(type)"
  case let .valueNotFound(type, ctx): return "\(path(ctx.codingPath)) is null, expected \(type)"
  case let .dataCorrupted(ctx):
    return ctx.codingPath.isEmpty ? "it is not valid JSON (truncated or damaged?)" : "bad value at \(path(ctx.codingPath)): \(ctx.debugDescription)"
  default: return "\(error)"
  }
}
