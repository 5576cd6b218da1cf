import Foundation

/// A user-causable problem with a sweep: a bad grid, a sweep folder that holds
/// another sweep, a Slurm option out of range. The message names the value and what
/// was expected.
public struct SweepError: Error, CustomStringConvertible, Sendable {
  public let description: String
  public init(_ description: String) { self.description = description }
}

/// One `--grid NAME=V1,V2,…` entry: an `aeos train` flag (without its dashes) and
/// the values it takes across the sweep, as the user typed them.
///
/// `param.NAME=V1,V2` sweeps a rule parameter (`--param NAME=V1`, …), so two rule
/// parameters can be swept at once.
public struct GridAxis: Sendable, Equatable {
  public var name: String
  public var values: [String]

  public init(name: String, values: [String]) {
    self.name = name
    self.values = values
  }

  /// Flags the sweep sets itself, with the reason a grid (or the shared flags) may
  /// not set them.
  public static let reserved: [String: String] = [
    "out": "the sweep chooses each run's folder (DIR/runs/NAME=V,…/seed=S)",
    "resume": "the sweep starts, resumes or restarts each run itself",
    "force": "the sweep starts, resumes or restarts each run itself",
    "seed": "give the seeds with the sweep's --seeds",
    "threads": "one --threads holds for the whole sweep (a run's numbers depend on it): give the sweep's --threads",
    "quiet": "the sweep shows the runs' progress itself (give the sweep --quiet to hide it)",
    "help": "it is not a setting of a run",
    "param": "a rule parameter is swept as --grid param.NAME=V1,V2",
  ]

  /// Parses "NAME=V1,V2,…" (the text after `--grid`).
  /// - Throws: `SweepError` naming the entry: no `=`, a name that is not a flag name,
  ///   a flag the sweep sets itself, an empty list or value, a value given twice.
  public static func parse(_ text: String) throws -> GridAxis {
    guard let eq = text.firstIndex(of: "=") else {
      throw SweepError("malformed --grid \"\(text)\": expected NAME=V1,V2,… (NAME is an aeos train flag without its dashes, e.g. lr=1e-3,2e-3)")
    }
    let name = String(text[..<eq])
    let list = String(text[text.index(after: eq)...])
    try checkName(name, entry: text)
    if let why = reserved[name] { throw SweepError("--grid \(text): --\(name) cannot be swept: \(why)") }
    guard !list.isEmpty else { throw SweepError("--grid \(text): the list of values is empty; expected \(name)=V1,V2,…") }
    let values = list.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
    for (k, v) in values.enumerated() where v.isEmpty {
      throw SweepError("--grid \(text): value \(k + 1) of \(values.count) is empty; expected \(name)=V1,V2,… with no empty values")
    }
    var seen = Set<String>()
    for v in values where !seen.insert(v).inserted {
      throw SweepError("--grid \(text): the value \(v) is given twice (it would be the same runs twice)")
    }
    return GridAxis(name: name, values: values)
  }

  /// A flag name as `aeos train` spells it without its dashes (`lr`, `batch-size`),
  /// or `param.NAME` for a rule parameter.
  static func checkName(_ name: String, entry: String) throws {
    func isFlagName(_ s: Substring) -> Bool {
      guard let first = s.unicodeScalars.first, ("a"..."z").contains(first) || ("0"..."9").contains(first) else { return false }
      return s.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "-" }
    }
    if name.hasPrefix("param.") {
      let p = name.dropFirst("param.".count)
      let ok = p.unicodeScalars.first.map { CharacterSet.letters.contains($0) || $0 == "_" } ?? false
        && p.unicodeScalars.allSatisfy { $0.isASCII && (CharacterSet.alphanumerics.contains($0) || $0 == "_") }
      guard ok, p != "eta" else {
        throw SweepError("--grid \(entry): \"\(p)\" is not a rule parameter name (expected letters, digits and _, not eta, e.g. param.nu=0.5,0.7)")
      }
      return
    }
    guard isFlagName(Substring(name)) else {
      throw SweepError(
        "--grid \(entry): \"\(name)\" is not a flag name; expected an aeos train flag without its dashes, in lower case (lr, beta1, optimizer, batch-size, …)")
    }
  }

  /// The `aeos train` arguments that give this axis the value `value`: `--NAME V`,
  /// or `--param P=V` for `param.P`. (Switches are mapped by the caller, who knows
  /// which flags are switches.)
  public func arguments(_ value: String) -> [String] {
    if name.hasPrefix("param.") { return ["--param", "\(name.dropFirst("param.".count))=\(value)"] }
    return ["--\(name)", value]
  }
}

/// One run of a sweep (an entry of sweep.json's `runs`).
public struct SweepRun: Codable, Sendable, Equatable {
  /// Position in the sweep (the Slurm array task index).
  public var index: Int
  /// The grid value of every axis, as typed.
  public var point: [String: String]
  public var seed: UInt64
  /// The run folder, relative to the sweep folder: "runs/NAME=V,…/seed=S".
  public var folder: String
  /// The full `aeos train` argument list without `--out`: the shared flags, the
  /// point's flags (axes by name), `--seed S`, `--threads T`.
  public var arguments: [String]

  public init(index: Int, point: [String: String], seed: UInt64, folder: String, arguments: [String]) {
    self.index = index
    self.point = point
    self.seed = seed
    self.folder = folder
    self.arguments = arguments
  }
}

/// DIR/sweep.json: what a sweep is, written once when the sweep is created and read
/// by every later `aeos sweep`, `aeos sweep run-task` and `aeos compare`.
///
/// ```json
/// {"version": 1, "grid": {"lr": ["1e-3", "2e-3"]}, "seeds": [0, 1],
///  "shared": ["--optimizer", "adam", "--steps", "500"], "threads": 1,
///  "environment": {"OPENBLAS_NUM_THREADS": "1"},
///  "runs": [{"index": 0, "point": {"lr": "1e-3"}, "seed": 0,
///            "folder": "runs/lr=1e-3/seed=0",
///            "arguments": ["--optimizer", "adam", "--steps", "500", "--lr", "1e-3",
///                          "--seed", "0", "--threads", "1"]}, …]}
/// ```
public struct SweepFile: Codable, Sendable, Equatable {
  /// Whether `folder` is what a sweep may list as a run folder: a relative path under
  /// `runs/`, without empty, `.` or `..` components (so no entry reaches outside the sweep).
  public static func isRunFolderPath(_ folder: String) -> Bool {
    let parts = folder.split(separator: "/", omittingEmptySubsequences: false)
    return parts.first == "runs" && parts.count >= 2 && !parts.contains(where: { $0.isEmpty || $0 == "." || $0 == ".." })
  }

  public static let currentVersion = 1
  public static let fileName = "sweep.json"
  /// At most this many runs in one sweep.
  public static let maxRuns = 100_000
  /// The longest run-folder name (one path component) most file systems allow.
  public static let maxNameBytes = 255

  public var version: Int
  public var grid: [String: [String]]
  public var seeds: [UInt64]
  /// The `aeos train` flags every run shares, as given.
  public var shared: [String]
  public var runs: [SweepRun]
  /// The engine threads of every run (`--threads`), fixed when the sweep is created.
  public var threads: Int
  /// Set for every run's process: OPENBLAS_NUM_THREADS=1, so BLAS never adds threads
  /// of its own (with `--threads 1` the engine otherwise lets OpenBLAS use its
  /// threads, and the numbers then depend on how many it has). A run made by hand
  /// equals the sweep's with the same variables.
  public var environment: [String: String]?

  public static let runEnvironment = ["OPENBLAS_NUM_THREADS": "1"]

  public init(
    version: Int = currentVersion, grid: [String: [String]], seeds: [UInt64], shared: [String], runs: [SweepRun], threads: Int,
    environment: [String: String]? = runEnvironment
  ) {
    self.version = version
    self.grid = grid
    self.seeds = seeds
    self.shared = shared
    self.runs = runs
    self.threads = threads
    self.environment = environment
  }

  /// The Cartesian product of the axes and seeds: axes in the order of their names
  /// (the last one varying fastest), seeds innermost; so the indices and folders do
  /// not depend on the order the `--grid` flags were given in.
  /// - Parameter flags: the train arguments of one axis value (`GridAxis.arguments`
  ///   unless the flag is a switch).
  /// - Throws: `SweepError` for no axes, no seeds, a repeated axis or seed, too many
  ///   runs, a folder name too long for a file system.
  public static func expand(
    axes: [GridAxis], seeds: [UInt64], shared: [String], threads: Int, flags: (GridAxis, String) -> [String]
  ) throws -> SweepFile {
    guard !axes.isEmpty else { throw SweepError("give at least one --grid NAME=V1,V2,… (for seeds alone: --grid lr=η --seeds 0,1,2)") }
    guard !seeds.isEmpty else { throw SweepError("--seeds is empty: expected seeds like 0,1,2") }
    let sorted = axes.sorted { $0.name < $1.name }
    for (a, b) in zip(sorted, sorted.dropFirst()) where a.name == b.name {
      throw SweepError("--grid \(a.name) is given twice: give one --grid \(a.name)=V1,V2,… with all its values")
    }
    var seenSeeds = Set<UInt64>()
    for s in seeds where !seenSeeds.insert(s).inserted { throw SweepError("--seeds: the seed \(s) is given twice") }
    var count = seeds.count
    for axis in sorted {
      guard !axis.values.isEmpty else { throw SweepError("--grid \(axis.name)= has no values") }
      let (product, overflow) = count.multipliedReportingOverflow(by: axis.values.count)
      guard !overflow, product <= maxRuns else {
        throw SweepError("the grid has more than \(maxRuns) runs (\(sorted.map { "\($0.values.count)" }.joined(separator: " × ")) × \(seeds.count) seeds): split it into several sweeps")
      }
      count = product
    }
    var runs: [SweepRun] = []
    runs.reserveCapacity(count)
    var digit = [Int](repeating: 0, count: sorted.count)
    while true {
      let pairs = sorted.indices.map { (sorted[$0].name, sorted[$0].values[digit[$0]]) }
      let name = pointName(pairs)
      guard name.utf8.count <= maxNameBytes else {
        throw SweepError("the run folder name \"\(name)\" has \(name.utf8.count) bytes; file systems allow \(maxNameBytes): shorten the grid's values")
      }
      let pointFlags = sorted.indices.flatMap { flags(sorted[$0], sorted[$0].values[digit[$0]]) }
      for seed in seeds {
        runs.append(
          SweepRun(
            index: runs.count, point: Dictionary(uniqueKeysWithValues: pairs), seed: seed, folder: "runs/\(name)/seed=\(seed)",
            arguments: shared + pointFlags + ["--seed", String(seed), "--threads", String(threads)]))
      }
      // Odometer: the last axis turns fastest.
      var k = sorted.count - 1
      while k >= 0 {
        digit[k] += 1
        if digit[k] < sorted[k].values.count { break }
        digit[k] = 0
        k -= 1
      }
      if k < 0 { break }
    }
    let grid = Dictionary(uniqueKeysWithValues: sorted.map { ($0.name, $0.values) })
    return SweepFile(grid: grid, seeds: seeds, shared: shared, runs: runs, threads: threads)
  }

  /// "NAME=V,NAME=V" with the names sorted; '%' and '/' in a value written as %25 and
  /// %2F, so the name is one path component and two points never share one.
  public static func pointName(_ pairs: [(String, String)]) -> String {
    pairs.sorted { $0.0 < $1.0 }.map { "\($0.0)=\(escape($0.1))" }.joined(separator: ",")
  }

  static func escape(_ value: String) -> String {
    value.replacingOccurrences(of: "%", with: "%25").replacingOccurrences(of: "/", with: "%2F")
  }

  // MARK: sweep.json

  public func encoded() throws -> Data {
    let e = JSONEncoder()
    e.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    var data = try e.encode(self)
    data.append(UInt8(ascii: "\n"))
    return data
  }

  /// Reads and checks a sweep.json: its version, indices 0…N−1 in order, folders
  /// under runs/ that stay inside the sweep folder.
  /// - Throws: `SweepError` naming the file and what is wrong with it.
  public static func decode(_ data: Data, path: String) throws -> SweepFile {
    let file: SweepFile
    do { file = try JSONDecoder().decode(SweepFile.self, from: data) } catch {
      throw SweepError("\(path) is not a sweep file this version can read: \(describeDecoding(error))")
    }
    guard file.version == currentVersion else {
      throw SweepError("\(path) has version \(file.version); this aeos reads version \(currentVersion)")
    }
    guard file.threads >= 1 else { throw SweepError("\(path): threads \(file.threads) is not ≥ 1") }
    for (k, run) in file.runs.enumerated() {
      guard run.index == k else { throw SweepError("\(path): run \(k) has index \(run.index); expected the runs in order 0…\(file.runs.count - 1)") }
      guard Self.isRunFolderPath(run.folder) else {
        throw SweepError("\(path): run \(k) has the folder \"\(run.folder)\"; expected a folder under runs/ inside the sweep")
      }
      // The sweep gives each run its folder and chooses start, resume or restart.
      for word in run.arguments where word.hasPrefix("--") {
        let name = String(word.dropFirst(2).prefix { $0 != "=" })
        if ["out", "resume", "force"].contains(name) {
          throw SweepError("\(path): run \(k)'s arguments hold --\(name); the sweep sets it itself")
        }
      }
    }
    return file
  }

  /// Reads DIR/sweep.json; nil when there is none.
  public static func read(sweep dir: String) throws -> SweepFile? {
    let path = (dir as NSString).appendingPathComponent(fileName)
    guard FileManager.default.fileExists(atPath: path) else { return nil }
    guard let data = FileManager.default.contents(atPath: path) else { throw SweepError("cannot read \(path)") }
    return try decode(data, path: path)
  }

  /// DIR/sweep.json, which must exist.
  public static func open(sweep dir: String) throws -> SweepFile {
    guard let file = try read(sweep: dir) else {
      throw SweepError("\(dir) has no \(fileName): it is not a sweep folder made by `aeos sweep --out`")
    }
    return file
  }

  public func write(sweep dir: String) throws {
    let path = (dir as NSString).appendingPathComponent(Self.fileName)
    do {
      try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
      try encoded().write(to: URL(fileURLWithPath: path), options: .atomic)
    } catch let e as SweepError {
      throw e
    } catch {
      throw SweepError("cannot write \(path): \(error.localizedDescription)")
    }
  }

  /// Why `other` (the sweep a command asks for) is not this sweep, or nil when it is
  /// the same: the same threads, shared flags and set of runs (folders and
  /// arguments); the order of the values and seeds does not matter.
  public func difference(from other: SweepFile) -> String? {
    if threads != other.threads { return "it fixes --threads \(threads), the command asks for \(other.threads)" }
    if shared != other.shared {
      return "its shared flags are \(shared.joined(separator: " ")), the command's are \(other.shared.joined(separator: " "))"
    }
    let mine = Dictionary(runs.map { ($0.folder, $0.arguments) }, uniquingKeysWith: { a, _ in a })
    let theirs = Dictionary(other.runs.map { ($0.folder, $0.arguments) }, uniquingKeysWith: { a, _ in a })
    if let extra = other.runs.first(where: { mine[$0.folder] == nil }) { return "it has no run \(extra.folder)" }
    if let missing = runs.first(where: { theirs[$0.folder] == nil }) { return "the command has no run \(missing.folder)" }
    if let changed = runs.first(where: { theirs[$0.folder] != $0.arguments }) { return "the run \(changed.folder) has other arguments" }
    return nil
  }
}
