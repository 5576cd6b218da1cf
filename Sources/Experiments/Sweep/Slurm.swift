import Foundation

/// The Slurm side of `aeos sweep --slurm`: the job-array script, the array list of a
/// re-submission, and `sbatch`.
public enum Slurm {
  public static let folder = "slurm"
  public static let scriptName = "sweep.sbatch"

  /// What `--partition`, `--time`, `--max-parallel`, `--sbatch` and `--setup` ask for.
  public struct Options: Sendable, Equatable {
    public var partition: String?
    /// Slurm's time format: MM, MM:SS, HH:MM:SS, D-HH, D-HH:MM or D-HH:MM:SS.
    public var time: String?
    /// At most this many tasks of the array at once (`%K`).
    public var maxParallel: Int?
    /// More `#SBATCH` lines, each one option (`--account=proj`, `--qos=short`).
    public var sbatchOptions: [String]
    /// Shell lines run before the task (`module load openblas`).
    public var setup: [String]

    public init(partition: String? = nil, time: String? = nil, maxParallel: Int? = nil, sbatchOptions: [String] = [], setup: [String] = []) {
      self.partition = partition
      self.time = time
      self.maxParallel = maxParallel
      self.sbatchOptions = sbatchOptions
      self.setup = setup
    }

    /// - Throws: `SweepError` naming the option and what it expects.
    public func validate() throws {
      if let p = partition {
        let allowed = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "_.,-"))
        guard !p.isEmpty, p.unicodeScalars.allSatisfy({ $0.isASCII && allowed.contains($0) }) else {
          throw SweepError("invalid --partition \"\(p)\": expected a partition name (letters, digits, _ . -; several separated by commas)")
        }
      }
      if let t = time { _ = try Slurm.seconds(ofTime: t) }
      if let k = maxParallel, k < 1 { throw SweepError("invalid --max-parallel \(k): expected an integer ≥ 1") }
      for o in sbatchOptions {
        guard o.hasPrefix("-"), !o.contains(where: \.isNewline) else {
          throw SweepError("invalid --sbatch \"\(o)\": expected one sbatch option on one line, like --account=proj")
        }
      }
      for s in setup where s.contains(where: \.isNewline) {
        throw SweepError("invalid --setup \"\(s)\": expected one shell line (give --setup once per line)")
      }
    }
  }

  /// The seconds of a Slurm time limit: MM, MM:SS, HH:MM:SS, D-HH, D-HH:MM, D-HH:MM:SS.
  /// - Throws: `SweepError` for anything else.
  public static func seconds(ofTime text: String) throws -> Int {
    let bad = SweepError("invalid --time \"\(text)\": expected minutes, MM:SS, HH:MM:SS, D-HH, D-HH:MM or D-HH:MM:SS")
    func number(_ s: Substring) throws -> Int {
      guard !s.isEmpty, s.count <= 6, s.allSatisfy(\.isASCII), s.allSatisfy(\.isNumber), let v = Int(s) else { throw bad }
      return v
    }
    let dayParts = text.split(separator: "-", omittingEmptySubsequences: false)
    guard dayParts.count <= 2 else { throw bad }
    let clock = (dayParts.last ?? "").split(separator: ":", omittingEmptySubsequences: false)
    guard (1...3).contains(clock.count) else { throw bad }
    let values = try clock.map(number)
    var seconds: Int
    if dayParts.count == 2 {
      // D-HH, D-HH:MM, D-HH:MM:SS
      let days = try number(dayParts[0])
      seconds = days * 86_400 + values[0] * 3600 + (values.count > 1 ? values[1] * 60 : 0) + (values.count > 2 ? values[2] : 0)
    } else {
      switch values.count {
      case 1: seconds = values[0] * 60
      case 2: seconds = values[0] * 60 + values[1]
      default: seconds = values[0] * 3600 + values[1] * 60 + values[2]
      }
    }
    guard seconds > 0 else { throw SweepError("invalid --time \"\(text)\": expected a time limit above zero") }
    return seconds
  }

  /// SIGTERM reaches the tasks this long before their time limit (when the limit is
  /// at least 10 minutes), so a run that is in the middle of a long step still has
  /// time to finish it and checkpoint; at the limit itself Slurm allows only
  /// KillWait (30 s by default) between SIGTERM and SIGKILL.
  public static let signalLead = 120

  /// Characters the sweep folder may not contain, because `#SBATCH` lines and
  /// Slurm's file-name patterns would read them differently.
  static let unsafePathCharacters = CharacterSet(charactersIn: " \t%\\\"'").union(.newlines)

  /// The job-array script: task i runs `aeos sweep run-task DIR --index i` in a job
  /// step (srun), so `scancel --signal=TERM` and the time limit reach it.
  /// - Parameters:
  ///   - sweep: the sweep folder, absolute.
  ///   - executable: the `aeos` binary, absolute.
  /// - Throws: `SweepError` for a folder Slurm cannot write logs into by name.
  public static func script(sweep: String, executable: String, runs: Int, threads: Int, options: Options) throws -> String {
    guard sweep.hasPrefix("/"), executable.hasPrefix("/") else { throw SweepError("internal: the sweep folder and aeos must be absolute paths") }
    if sweep.unicodeScalars.contains(where: unsafePathCharacters.contains) {
      throw SweepError("--out \(sweep): for --slurm the sweep folder's path may not contain spaces, quotes, backslashes or %")
    }
    let logs = (sweep as NSString).appendingPathComponent(folder)
    let name = jobName(sweep)
    var lines = [
      "#!/bin/bash",
      "# aeos sweep: one array task per run of the sweep in \(sweep) (\(runs) runs).",
      "# Submitting it again resumes the sweep: finished runs are skipped, interrupted ones resume.",
      "#SBATCH --job-name=\(name)",
      "#SBATCH --array=\(arrayList(Array(0..<runs), maxParallel: options.maxParallel))",
      "#SBATCH --ntasks=1",
      "#SBATCH --cpus-per-task=\(threads)",
      "#SBATCH --output=\(logs)/%A_%a.out",
      "#SBATCH --error=\(logs)/%A_%a.err",
    ]
    if let p = options.partition { lines.append("#SBATCH --partition=\(p)") }
    if let t = options.time {
      lines.append("#SBATCH --time=\(t)")
      if try seconds(ofTime: t) >= 600 { lines.append("#SBATCH --signal=TERM@\(signalLead)") }
    }
    lines += options.sbatchOptions.map { "#SBATCH \($0)" }
    lines += options.setup
    lines.append("export OPENBLAS_NUM_THREADS=1")
    lines.append(
      "exec srun --ntasks=1 --cpus-per-task=\(threads) \(shellQuote(executable)) sweep run-task \(shellQuote(sweep)) --index \"$SLURM_ARRAY_TASK_ID\"")
    return lines.joined(separator: "\n") + "\n"
  }

  /// "aeos-NAME" from the sweep folder's last component (letters, digits, - _ .).
  static func jobName(_ sweep: String) -> String {
    let base = (sweep as NSString).lastPathComponent
    let allowed = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "-_."))
    let cleaned = String(String.UnicodeScalarView(base.unicodeScalars.map { $0.isASCII && allowed.contains($0) ? $0 : "_" }))
    return "aeos-" + String(cleaned.prefix(40))
  }

  /// Slurm's array list: ascending indices as ranges ("0-3,5,7-9"), then "%K".
  public static func arrayList(_ indices: [Int], maxParallel: Int? = nil) -> String {
    var parts: [String] = []
    var k = 0
    let s = Array(Set(indices)).sorted()
    while k < s.count {
      var j = k
      while j + 1 < s.count, s[j + 1] == s[j] + 1 { j += 1 }
      parts.append(j == k ? "\(s[k])" : "\(s[k])-\(s[j])")
      k = j + 1
    }
    return parts.joined(separator: ",") + (maxParallel.map { "%\($0)" } ?? "")
  }

  /// Submits `script` for the tasks `indices` (overriding the script's --array) and
  /// returns the job id.
  /// - Throws: `SweepError` when sbatch is missing or refuses.
  public static func submit(script: String, indices: [Int], maxParallel: Int?) throws -> String {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    p.arguments = ["sbatch", "--parsable", "--array=\(arrayList(indices, maxParallel: maxParallel))", script]
    let out = Pipe(), err = Pipe()
    p.standardOutput = out
    p.standardError = err
    do { try p.run() } catch { throw SweepError("cannot run sbatch: \(error.localizedDescription)") }
    let o = out.fileHandleForReading.readDataToEndOfFile()
    let e = err.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    let message = String(decoding: e, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    guard p.terminationStatus == 0 else {
      if p.terminationStatus == 127 { throw SweepError("sbatch not found: --submit needs Slurm's client commands on the PATH") }
      throw SweepError("sbatch refused \(script) (exit \(p.terminationStatus)): \(message)")
    }
    let text = String(decoding: o, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    // --parsable prints "JOBID" or "JOBID;CLUSTER".
    let id = String(text.split(separator: ";").first ?? "")
    guard !id.isEmpty else { throw SweepError("sbatch printed no job id (\(text)); stderr: \(message)") }
    return id
  }
}

/// A word for /bin/sh: single-quoted, with each ' written as '\''.
public func shellQuote(_ s: String) -> String {
  "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'"
}
