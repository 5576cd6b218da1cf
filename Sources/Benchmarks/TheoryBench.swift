import Experiments
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
    try Timing.medianMilliseconds(repeats: repeats, warmups: 1) { blackHole(try deriveBuiltins()) }
  }

  /// Runs benchmarks/sympy_derive.py (the same derivation in SymPy, import
  /// included) if python3 with SymPy is available; milliseconds or nil.
  public static func sympyDeriveMilliseconds(script: String = "benchmarks/sympy_derive.py") -> Double? {
    PythonReference.milliseconds(script: script, arguments: ["--json"], key: "derive_builtins_ms")
  }
}
