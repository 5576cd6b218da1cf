import Foundation

/// Timings of the theory layer for `aeos bench`.
public enum TheoryBench {
  /// Derives the five Table-1 methods from their rules — parse, state matrix,
  /// characteristic polynomial, Jury conditions, boundary search, closed form —
  /// with the rule cache emptied first, so every call does the whole derivation.
  public static func deriveBuiltins() throws -> [ClosedForm?] {
    RuleCache.clear()
    return try BuiltinMethod.allCases.map { try Derivation(rule: $0.rule, values: [:]).closedForm }
  }

  /// Median milliseconds of `deriveBuiltins` after one warm-up run.
  public static func deriveBuiltinsMilliseconds(repeats: Int = 15) throws -> Double {
    _ = try deriveBuiltins()
    var times: [Double] = []
    for _ in 0..<repeats {
      times.append(try milliseconds { blackHole(try deriveBuiltins()) })
    }
    return median(times)
  }

  /// Runs benchmarks/sympy_derive.py (the same derivation in SymPy, import
  /// included) if python3 with SymPy is available; milliseconds or nil.
  public static func sympyDeriveMilliseconds(script: String = "benchmarks/sympy_derive.py") -> Double? {
    PythonReference.milliseconds(script: script, arguments: ["--json"], key: "derive_builtins_ms")
  }
}

/// Keeps a value alive so the optimiser cannot remove the work that produced it.
@inline(never) public func blackHole<T>(_ x: T) { withExtendedLifetime(x) {} }

/// Wall-clock milliseconds of one run of `body`.
func milliseconds(_ body: () throws -> Void) rethrows -> Double {
  let t0 = DispatchTime.now().uptimeNanoseconds
  try body()
  let t1 = DispatchTime.now().uptimeNanoseconds
  return Double(t1 - t0) / 1e6
}

/// Median of a non-empty sample (mean of the middle two for even counts).
public func median(_ xs: [Double]) -> Double {
  let s = xs.sorted()
  guard !s.isEmpty else { return .nan }
  return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
}

/// Runs a reference script of benchmarks/ with python3 and reads one number from the
/// JSON it prints; nil when the script, python3 or its packages are missing.
enum PythonReference {
  static func milliseconds(script: String, arguments: [String], key: String) -> Double? {
    guard FileManager.default.fileExists(atPath: script) else { return nil }
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    p.arguments = ["python3", script] + arguments
    let out = Pipe()
    p.standardOutput = out
    p.standardError = Pipe()
    guard (try? p.run()) != nil else { return nil }
    let data = out.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    guard p.terminationStatus == 0,
      let obj = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
      let ms = obj[key] as? Double
    else { return nil }
    return ms
  }
}
