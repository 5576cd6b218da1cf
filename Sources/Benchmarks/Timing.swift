import Dispatch
import Experiments
import Foundation

/// The one timing helper of `aeos bench`: wall-clock milliseconds, repeated runs
/// after warm-ups, and a sink the optimiser cannot see through.
enum Timing {
  /// Wall-clock milliseconds of one run of `body`.
  static func milliseconds(_ body: () throws -> Void) rethrows -> Double {
    let t0 = DispatchTime.now().uptimeNanoseconds
    try body()
    let t1 = DispatchTime.now().uptimeNanoseconds
    return Double(t1 - t0) / 1e6
  }

  /// Milliseconds of each of `repeats` runs of `body`, after `warmups` untimed runs.
  static func samples(repeats: Int, warmups: Int = 2, _ body: () throws -> Void) rethrows -> [Double] {
    for _ in 0..<max(0, warmups) { try body() }
    var times: [Double] = []
    for _ in 0..<max(1, repeats) { times.append(try milliseconds(body)) }
    return times
  }

  /// The median of `samples(repeats:warmups:_:)`.
  static func medianMilliseconds(repeats: Int, warmups: Int = 2, _ body: () throws -> Void) rethrows -> Double {
    median(try samples(repeats: repeats, warmups: warmups, body))
  }
}

/// Keeps a value alive so the optimiser cannot remove the work that produced it.
@inline(never) public func blackHole<T>(_ x: T) { withExtendedLifetime(x) {} }

/// Runs a reference script of benchmarks/ with python3 and reads one number from the
/// JSON it prints; nil when the script, python3 or its packages are missing.
enum PythonReference {
  static func milliseconds(script: String, arguments: [String], key: String) -> Double? {
    guard FileManager.default.fileExists(atPath: script) else { return nil }
    guard let (status, data) = ToolOutput.run(["python3", script] + arguments), status == 0,
      let obj = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
      let ms = obj[key] as? Double
    else { return nil }
    return ms
  }
}
