import ArgumentParser
import Experiments
import Foundation

/// `aeos sweep`: a grid of training runs, made here (`--jobs J`) or as a Slurm job
/// array (`--slurm`), into one sweep folder.
struct SweepCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "sweep",
    abstract: "Run a grid of training runs here (--jobs J) or as a Slurm job array (--slurm), resumably.",
    discussion: """
      aeos sweep --out DIR (--grid NAME=V1,V2,...)... [--seeds 0,1,2] [aeos train flags] \
      [--jobs J | --slurm [--submit] [--partition P] [--time HH:MM:SS] [--max-parallel K]]

      NAME is any `aeos train` flag without its dashes (lr, beta1, optimizer, batch-size, …; a switch takes \
      true,false; a rule parameter is param.NAME). Every run gets the Cartesian product's values, one seed \
      of --seeds, and the train flags given besides; it goes to DIR/runs/NAME=V,NAME=V/seed=S/ (names sorted), \
      an ordinary run folder. DIR/sweep.json lists the grid, the seeds, the shared flags, the --threads of every \
      run, and each run's folder and full `aeos train` arguments.

      Running the same command again skips finished runs (completed or diverged), resumes interrupted or failed \
      ones from their checkpoint, and starts the rest; `aeos sweep --out DIR` alone continues the sweep in DIR. \
      `aeos sweep status DIR` counts done, running, failed and pending runs.

      Examples:
        aeos sweep --out fig1 --grid lr=1e-3,2e-3,4e-3,8e-3 --seeds 0,1 \\
          --optimizer adam --steps 2000 --jobs 2
        aeos sweep --out fig1 --grid lr=1e-3,2e-3,4e-3,8e-3 --seeds 0,1 \\
          --optimizer adam --steps 2000 --slurm --partition cpu --time 04:00:00 --submit
        aeos sweep status fig1
      """,
    subcommands: [SweepRunCommand.self, SweepRunTaskCommand.self, SweepStatusCommand.self],
    defaultSubcommand: SweepRunCommand.self)
}

/// `aeos sweep [run] --out DIR --grid …`: create (or continue) the sweep and make its runs.
struct SweepRunCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "run",
    abstract: "Create or continue the sweep in --out and make its runs (the default: `aeos sweep --out DIR …`).")

  @Option(help: ArgumentHelp("The sweep folder (created if missing).", valueName: "dir"))
  var out: String

  @Option(name: .customLong("grid"), parsing: .unconditionalSingleValue, help: ArgumentHelp("NAME=V1,V2,…: the values of one aeos train flag (repeatable; the runs are the Cartesian product).", valueName: "name=values"))
  var grid: [String] = []

  @Option(parsing: .unconditional, help: ArgumentHelp("Seeds, each run once per seed (default: 0).", valueName: "list"))
  var seeds: String?

  @Option(parsing: .unconditional, help: "Engine threads of every run, fixed when the sweep is created: results depend on it (default: max(1, cores / --jobs)).")
  var threads: Int?

  @Option(parsing: .unconditional, help: "Runs at once on this machine (default: 1).")
  var jobs: Int?

  @Flag(help: "Write DIR/slurm/sweep.sbatch, a Slurm job array with one task per run, instead of running here.")
  var slurm = false

  @Flag(help: "With --slurm: submit the unfinished runs' tasks with sbatch and print the job id.")
  var submit = false

  @Option(help: "With --slurm: the partition (default: the cluster's default).")
  var partition: String?

  @Option(help: ArgumentHelp("With --slurm: each task's time limit, e.g. 04:00:00 (default: the partition's).", valueName: "hh:mm:ss"))
  var time: String?

  @Option(name: .customLong("max-parallel"), parsing: .unconditional, help: "With --slurm: at most K tasks at once (default: no limit).")
  var maxParallel: Int?

  @Option(name: .customLong("sbatch"), parsing: .unconditionalSingleValue, help: ArgumentHelp("With --slurm: one more #SBATCH option, e.g. --account=proj (repeatable).", valueName: "option"))
  var sbatchOptions: [String] = []

  @Option(name: .customLong("setup"), parsing: .unconditionalSingleValue, help: ArgumentHelp("With --slurm: a shell line run before each task, e.g. \"module load openblas\" (repeatable).", valueName: "line"))
  var setup: [String] = []

  @Flag(help: "No progress display; only the final counts.")
  var quiet = false

  @Argument(parsing: .allUnrecognized, help: ArgumentHelp("aeos train flags shared by every run (see aeos train --help).", valueName: "train flags"))
  var trainArguments: [String] = []

  func validate() throws {
    if let j = jobs, !(1...256).contains(j) { throw ValidationError("invalid --jobs \(j): expected 1…256") }
    if let t = threads, !(1...256).contains(t) { throw ValidationError("invalid --threads \(t): expected 1…256") }
    if slurm && jobs != nil { throw ValidationError("--jobs runs here and --slurm on a cluster: give one of them") }
    if !slurm {
      let given = [("--submit", submit), ("--partition", partition != nil), ("--time", time != nil), ("--max-parallel", maxParallel != nil),
        ("--sbatch", !sbatchOptions.isEmpty), ("--setup", !setup.isEmpty)].filter(\.1).map(\.0)
      if !given.isEmpty { throw ValidationError("\(given.joined(separator: ", ")) \(given.count == 1 ? "applies" : "apply") to --slurm only") }
    }
  }

  var slurmOptions: Slurm.Options {
    Slurm.Options(partition: partition, time: time, maxParallel: maxParallel, sbatchOptions: sbatchOptions, setup: setup)
  }

  func run() throws {
    let dir = URL(fileURLWithPath: out).standardizedFileURL.path
    let sweep: SweepFolder
    let planned: PlannedSweep
    do {
      try slurmOptions.validate()
      planned = try plan(dir: dir)
      sweep = try planned.commit(dir: dir)
    } catch let e as SweepError {
      throw usageFailure(e.description)
    }
    if slurm {
      try runOnSlurm(sweep)
    } else {
      try runHere(sweep, planned: planned)
    }
  }

  // MARK: The plan

  /// The sweep this command asks for, checked run by run with `aeos train`'s parser
  /// before anything is written.
  struct PlannedSweep {
    var file: SweepFile
    /// Each run's step budget (by index), for the display's ETA.
    var steps: [Int]
    /// Whether DIR/sweep.json holds it already.
    var existing: Bool

    func commit(dir: String) throws -> SweepFolder {
      if !existing { try file.write(sweep: dir) }
      return SweepFolder(path: dir, file: file)
    }
  }

  func plan(dir: String) throws -> PlannedSweep {
    let stored = try SweepFile.read(sweep: dir)
    if stored == nil, let contents = try? FileManager.default.contentsOfDirectory(atPath: dir), !contents.isEmpty {
      throw SweepError("--out \(dir) exists and is not a sweep folder (it has no \(SweepFile.fileName)): give a new or empty folder")
    }
    // `aeos sweep --out DIR` alone continues the sweep stored there.
    if let stored, let t = threads, t != stored.threads {
      throw SweepError("the sweep in \(dir) fixes --threads \(stored.threads) (its runs' numbers depend on it): drop --threads or give \(stored.threads)")
    }
    if let stored, grid.isEmpty, seeds == nil, trainArguments.isEmpty {
      return PlannedSweep(file: stored, steps: try TrainArgumentCheck.steps(of: stored), existing: true)
    }
    let axes = try grid.map(GridAxis.parse)
    let seedList = try Self.parseSeeds(seeds ?? "0")
    try Self.checkShared(trainArguments, axes: axes)
    let switches = Set(axes.filter { TrainArgumentCheck.isSwitch($0.name) }.map(\.name))
    for axis in axes where switches.contains(axis.name) {
      for v in axis.values where v != "true" && v != "false" {
        throw SweepError("--grid \(axis.name)=\(axis.values.joined(separator: ",")): --\(axis.name) is a switch; its values are true and false, not \(v)")
      }
    }
    let threadCount: Int
    if let stored {
      threadCount = stored.threads
    } else {
      threadCount = threads ?? max(1, ProcessInfo.processInfo.activeProcessorCount / (jobs ?? 1))
      if slurm && threads == nil {
        printError("note: each task asks Slurm for \(threadCount) CPUs (--threads \(threadCount), this machine's cores); give --threads to choose")
      }
    }
    let flags = { (axis: GridAxis, value: String) -> [String] in
      switches.contains(axis.name) ? (value == "true" ? ["--\(axis.name)"] : []) : axis.arguments(value)
    }
    let file = try SweepFile.expand(axes: axes, seeds: seedList, shared: trainArguments, threads: threadCount, flags: flags)
    let configs = try TrainArgumentCheck.check(file, axes: axes, flags: flags)
    if let stored {
      if let why = stored.difference(from: file) {
        throw SweepError("\(dir) holds another sweep: \(why). Re-run its own command (or `aeos sweep --out \(dir)` alone), or give a new --out")
      }
      // The stored order (indices) stays.
      let byFolder = Dictionary(uniqueKeysWithValues: file.runs.map { ($0.folder, $0.index) })
      return PlannedSweep(file: stored, steps: stored.runs.map { configs[byFolder[$0.folder] ?? 0].steps }, existing: true)
    }
    return PlannedSweep(file: file, steps: configs.map(\.steps), existing: false)
  }

  /// "0,1,2" → [0, 1, 2].
  static func parseSeeds(_ text: String) throws -> [UInt64] {
    let parts = text.split(separator: ",", omittingEmptySubsequences: false)
    return try parts.map { p in
      guard let s = UInt64(p.trimmingCharacters(in: .whitespaces)) else {
        throw SweepError("invalid --seeds \(text): \"\(p)\" is not a seed; expected integers ≥ 0 separated by commas, like 0,1,2")
      }
      return s
    }
  }

  /// The shared train flags may not set what the sweep sets, nor what the grid sweeps.
  static func checkShared(_ shared: [String], axes: [GridAxis]) throws {
    var names: [String] = []
    var params: [String] = []
    for (k, word) in shared.enumerated() where word.hasPrefix("--") {
      // "--name", "--name=value"
      let name = String(word.dropFirst(2).prefix { $0 != "=" })
      names.append(name)
      if name == "param" {
        // "--param P=V" or "--param=P=V": the parameter's name P.
        let inline = word.dropFirst(2 + name.count)
        let assignment = inline.isEmpty ? (k + 1 < shared.count ? shared[k + 1] : "") : String(inline.dropFirst())
        params.append(String(assignment.prefix { $0 != "=" }).trimmingCharacters(in: .whitespaces))
      }
    }
    for name in names {
      if name == "param" { continue }
      if let why = GridAxis.reserved[name] { throw SweepError("--\(name) cannot be given to a sweep's runs: \(why)") }
    }
    for axis in axes {
      if axis.name.hasPrefix("param.") {
        let p = String(axis.name.dropFirst("param.".count))
        if params.contains(p) { throw SweepError("--grid \(axis.name)=… and --param \(p)=… both set the rule parameter \(p): give it in one place") }
      } else if names.contains(axis.name) {
        throw SweepError("--grid \(axis.name)=… and --\(axis.name) both set --\(axis.name): sweep it or share it, not both")
      }
    }
  }

  // MARK: Making the runs

  func runOnSlurm(_ sweep: SweepFolder) throws {
    let scriptPath = sweep.join(Slurm.folder, Slurm.scriptName)
    do {
      let text = try Slurm.script(sweep: sweep.path, executable: currentExecutable(), runs: sweep.file.runs.count, threads: sweep.file.threads, options: slurmOptions)
      try FileManager.default.createDirectory(atPath: sweep.join(Slurm.folder), withIntermediateDirectories: true)
      try writeFile(scriptPath, text)
    } catch let e as SweepError {
      throw usageFailure(e.description)
    }
    print("wrote \(scriptPath): a job array of \(sweep.file.runs.count) tasks, one per run (--cpus-per-task \(sweep.file.threads))")
    guard submit else {
      print("submit it with: sbatch \(scriptPath)   (or give --submit)")
      return
    }
    let reports = sweep.report()
    let todo = reports.filter { $0.standing == .pending || $0.standing == .failed }.map(\.run.index)
    let running = reports.filter { $0.standing == .running }.count
    guard !todo.isEmpty else {
      print("nothing to submit: \(reports.filter { $0.standing == .done }.count) runs finished, \(running) running")
      return
    }
    let id: String
    do { id = try Slurm.submit(script: scriptPath, indices: todo, maxParallel: maxParallel) } catch let e as SweepError {
      printError("Error: \(e.description)")
      throw ExitCode(1)
    }
    print("submitted job \(id): \(todo.count) of \(reports.count) tasks (--array=\(Slurm.arrayList(todo, maxParallel: maxParallel)))")
  }

  func runHere(_ sweep: SweepFolder, planned: PlannedSweep) throws {
    let jobCount = jobs ?? 1
    let states = sweep.file.runs.map { sweep.state(of: $0) }
    let finished = states.filter { $0.action == .skip }.count
    let toResume = states.filter { $0.action == .resume }.count
    let points = sweep.file.runs.count / max(sweep.file.seeds.count, 1)
    let display = SweepDisplay(total: sweep.file.runs.count, finishedBefore: finished, steps: planned.steps, enabled: !quiet)
    display.line("sweep \(sweep.path): \(sweep.file.runs.count) runs (\(points) points × \(sweep.file.seeds.count) seeds), --threads \(sweep.file.threads), \(jobCount) at a time")
    display.line("\(finished) finished, \(toResume) to resume, \(states.count - finished - toResume) to start")
    let todo = sweep.file.runs.indices.filter { states[$0].action != .skip }
    let executor = SweepExecutor(folder: sweep, executable: currentExecutable())
    let outcome: SweepExecutor.Outcome
    do {
      outcome = try executor.run(indices: todo, jobs: jobCount, onEvent: display.event, onTick: display.tick)
    } catch let e as SweepError {
      display.finish()
      printError("Error: \(e.description)")
      throw ExitCode(1)
    }
    display.finish()
    let reports = sweep.report()
    print(SweepStatusCommand.summary(reports, path: sweep.path))
    if outcome.busy > 0 {
      print("\(outcome.busy) runs were being made elsewhere (another aeos sweep or a Slurm task); `aeos sweep status \(out)` follows them")
    }
    if outcome.signal != 0 {
      print("interrupted (\(Interrupts.name(outcome.signal))): the runs checkpointed; run the same command again to resume")
      throw ExitCode(130)
    }
    if outcome.failed > 0 || reports.contains(where: { $0.standing == .failed }) { throw ExitCode(1) }
  }
}

/// `aeos sweep run-task DIR --index i`: one run of a sweep (what a Slurm array task does).
struct SweepRunTaskCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "run-task",
    abstract: "Make run i of the sweep in DIR (started, resumed or skipped as its folder says): one Slurm array task.",
    discussion: """
      SIGTERM or SIGINT (Slurm's time limit or pre-emption, scancel --signal=TERM) is passed on to the run, \
      which checkpoints and exits 130; submitting the task again resumes it. Exit status: 0 when the run is \
      finished (completed or diverged, now or before) or being made by another process, 130 when interrupted, \
      otherwise the run's.
      """)

  @Argument(help: ArgumentHelp("The sweep folder.", valueName: "dir"))
  var dir: String

  @Option(parsing: .unconditional, help: "The run's index in sweep.json (Slurm: $SLURM_ARRAY_TASK_ID).")
  var index: Int

  func run() throws {
    let sweep: SweepFolder
    let run: SweepRun
    do {
      sweep = try SweepFolder.open(URL(fileURLWithPath: dir).standardizedFileURL.path)
      run = try sweep.run(index)
    } catch let e as SweepError {
      throw usageFailure(e.description)
    }
    let executor = SweepExecutor(folder: sweep, executable: currentExecutable())
    var message = ""
    let outcome: SweepExecutor.Outcome
    do {
      outcome = try executor.run(indices: [index], jobs: 1) { event in
        switch event {
        case .skipped(_, let status): message = "finished before (\(status.rawValue)): nothing to do"
        case .busy: message = "being made by another process (its lock \(sweep.lockFile(run)) is held): nothing to do"
        case .started(let r): printError("run \(index) (\(run.folder)): \(r.action.rawValue)")
        case .ended(let r, let status, let state, let error):
          message = "\(SweepDisplay.describe(state)) (aeos train exit \(status))" + (r.step.map { " at step \($0)" } ?? "") + (error.map { ": \($0)" } ?? "")
        case .interrupted(let signal, _): printError("\(Interrupts.name(signal)): passed on to the run, which checkpoints")
        }
      }
    } catch let e as SweepError {
      printError("Error: \(e.description)")
      throw ExitCode(1)
    }
    print("run \(index) (\(run.folder)): \(message)")
    if outcome.signal != 0 { throw ExitCode(130) }
    switch outcome.lastExitStatus {
    case nil, 0?, 3?: return
    case 130?, 143?: throw ExitCode(130)
    case let s?: throw ExitCode(s)
    }
  }
}

/// `aeos sweep status DIR`.
struct SweepStatusCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "status",
    abstract: "Count the sweep's runs that are done, running, failed and pending, with the failed runs' last errors.",
    discussion: """
      done: completed or diverged. running: being made now (its lock is held, by a local sweep or a Slurm \
      task). failed: the last attempt ended with an error (summary.json stop_reason, or the error aeos train \
      printed). pending: not started, queued, or interrupted (the next aeos sweep or submission resumes it).
      JSON: {"runs", "done", "diverged", "running", "failed", "pending", "failures": [{"index", "folder", "error"}]}
      """)

  @Argument(help: ArgumentHelp("The sweep folder.", valueName: "dir"))
  var dir: String

  @Flag(help: "One JSON document on stdout.")
  var json = false

  func run() throws {
    let sweep: SweepFolder
    do { sweep = try SweepFolder.open(URL(fileURLWithPath: dir).standardizedFileURL.path) } catch let e as SweepError {
      throw usageFailure(e.description)
    }
    let reports = sweep.report()
    if json {
      let count = { (s: SweepFolder.Standing) in reports.filter { $0.standing == s }.count }
      let failures: [JSONValue] = reports.filter { $0.standing == .failed }.map {
        .object([("index", .int($0.run.index)), ("folder", .string($0.run.folder)), ("error", .optional($0.error))])
      }
      let doc = JSONValue.object([
        ("runs", .int(reports.count)), ("done", .int(count(.done))), ("diverged", .int(Self.diverged(reports))),
        ("running", .int(count(.running))), ("failed", .int(count(.failed))), ("pending", .int(count(.pending))),
        ("failures", .array(failures)),
      ])
      print(doc.serialized(pretty: true))
    } else {
      print(Self.summary(reports, path: sweep.path))
    }
  }

  static func diverged(_ reports: [SweepFolder.RunReport]) -> Int {
    reports.filter { $0.state == .finished(.diverged) }.count
  }

  /// "sweep DIR: N runs — done a (b diverged), running c, failed d, pending e" and the
  /// failed runs' errors.
  static func summary(_ reports: [SweepFolder.RunReport], path: String) -> String {
    let count = { (s: SweepFolder.Standing) in reports.filter { $0.standing == s }.count }
    let diverged = diverged(reports)
    var lines = [
      "sweep \(path): \(reports.count) runs",
      "done \(count(.done))\(diverged > 0 ? " (\(diverged) diverged)" : ""), running \(count(.running)), failed \(count(.failed)), pending \(count(.pending))",
    ]
    for r in reports where r.standing == .failed {
      lines.append("failed: run \(r.run.index) \(r.run.folder): \(r.error ?? "no error recorded")")
    }
    return lines.joined(separator: "\n")
  }
}

/// A sweep's runs checked by `aeos train`'s own parser and settings checks.
enum TrainArgumentCheck {
  /// Parses `arguments` as `aeos train --out … arguments` would, and checks the
  /// resolved settings.
  /// - Throws: `SweepError` with the parser's or the settings' message.
  static func config(_ arguments: [String]) throws -> TrainConfig {
    do {
      let command = try Train.parse(["--out", "/nonexistent/aeos-sweep-check"] + arguments)
      let config = try command.config()
      try config.validate()
      return config
    } catch let e as TrainingError {
      throw SweepError(e.description)
    } catch {
      throw SweepError(Train.message(for: error))
    }
  }

  /// Whether `aeos train --NAME` is a switch (it parses with no value).
  static func isSwitch(_ name: String) -> Bool {
    (try? Train.parse(["--out", "/nonexistent/aeos-sweep-check", "--optimizer", "gd", "--lr", "1", "--\(name)"])) != nil
  }

  /// Every run's settings, by index; a run the parser or the settings refuse is named
  /// by the grid entry at fault where one is, else by its grid point. Runs that differ
  /// only in their seed are parsed once.
  static func check(_ file: SweepFile, axes: [GridAxis], flags: (GridAxis, String) -> [String]) throws -> [TrainConfig] {
    // First the first point alone (shared flags and every axis's first value); then
    // each value in turn against it, so a bad value is named as the grid entry.
    let sorted = axes.sorted { $0.name < $1.name }
    guard let first = file.runs.first else { return [] }
    func runArguments(_ point: [String: String]) -> [String] {
      file.runs.first { $0.point == point && $0.seed == first.seed }?.arguments ?? []
    }
    do { _ = try config(first.arguments) } catch let e as SweepError {
      // An axis's first value is at fault when another value of it passes; the axis
      // itself when the run passes without it.
      for axis in sorted {
        var p = first.point
        if axis.values.count > 1 {
          p[axis.name] = axis.values[1]
          if (try? config(runArguments(p))) != nil { throw SweepError("--grid \(axis.name)=\(axis.values[0]): \(e.description)") }
        }
        let own = flags(axis, first.point[axis.name] ?? "")
        if let at = first.arguments.indices.first(where: { Array(first.arguments.dropFirst($0).prefix(own.count)) == own }), !own.isEmpty {
          var without = first.arguments
          without.removeSubrange(at..<(at + own.count))
          if (try? config(without)) != nil { throw SweepError("--grid \(axis.name)=\(axis.values.joined(separator: ",")): \(e.description)") }
        }
      }
      throw SweepError("the runs' flags are refused by aeos train (first run: aeos train \(first.arguments.joined(separator: " "))): \(e.description)")
    }
    for axis in sorted {
      for v in axis.values.dropFirst() {
        var p = first.point
        p[axis.name] = v
        do { _ = try config(runArguments(p)) } catch let e as SweepError { throw SweepError("--grid \(axis.name)=\(v): \(e.description)") }
      }
    }
    var bySettings: [String: TrainConfig] = [:]
    var seen: [Data: String] = [:]
    let encoder = JSONEncoder()
    encoder.outputFormatting = .sortedKeys
    var configs: [TrainConfig] = []
    for run in file.runs {
      let key = run.point.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: "\u{1}")
      var c: TrainConfig
      if let known = bySettings[key] {
        c = known
      } else {
        do { c = try config(run.arguments) } catch let e as SweepError {
          throw SweepError("the grid point \(SweepFile.pointName(run.point.map { ($0.key, $0.value) })): \(e.description)")
        }
        bySettings[key] = c
      }
      c.seed = run.seed
      let settings = try encoder.encode(c)
      if let other = seen[settings] {
        throw SweepError("\(run.folder) and \(other) are the same run (their values resolve to the same settings): drop one of the values")
      }
      seen[settings] = run.folder
      configs.append(c)
    }
    return configs
  }

  /// The step budgets of a stored sweep's runs (for the display); 0 where the
  /// arguments no longer parse (the run itself will then say why).
  static func steps(of file: SweepFile) throws -> [Int] {
    var cache: [[String]: Int] = [:]
    return file.runs.map { run in
      let key = Array(run.arguments.dropLast(4))
      if let s = cache[key] { return s }
      let s = (try? config(run.arguments).steps) ?? 0
      cache[key] = s
      return s
    }
  }
}
