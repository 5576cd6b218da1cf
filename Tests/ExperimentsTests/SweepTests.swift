import Foundation
import PropertyBased
import TestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

@testable import Experiments

/// Grid expansion, sweep.json, run states and the Slurm script, without running
/// anything (the runs themselves are in CLITests/SweepCLITests).
@Suite struct SweepTests {
  static let names = ["lr", "beta1", "optimizer", "batch-size", "param.nu", "width"]
  /// Values with the characters that matter for folder names: '/', '%', '=' and '.'.
  static let valueGen = Gen<Character?>.element(of: Array("01ae.-/%=x")).map { $0 ?? "0" }.string(of: 1...4)

  static func distinct<T: Hashable>(_ xs: [T]) -> [T] {
    var seen = Set<T>()
    return xs.filter { seen.insert($0).inserted }
  }

  /// One to three axes with distinct names and one to three distinct values each.
  static let gridGen = zip(Gen<[String]>.shuffled(names), valueGen.array(of: 1...3).array(of: 3), Gen.int(in: 1...3)).map { names, lists, k in
    (0..<k).map { GridAxis(name: names[$0], values: distinct(lists[$0])) }
  }
  static let seedsGen = Gen.uint64(in: 0...1000).array(of: 1...3).map { distinct($0) }

  static let shared = ["--optimizer", "adam", "--steps", "20"]

  static func expand(_ axes: [GridAxis], _ seeds: [UInt64], threads: Int = 2) throws -> SweepFile {
    try SweepFile.expand(axes: axes, seeds: seeds, shared: shared, threads: threads) { $0.arguments($1) }
  }

  /// The point a folder name stands for, read back ("NAME=V,…" with %2F and %25).
  static func decodePoint(_ name: Substring) -> [String: String] {
    var point: [String: String] = [:]
    for pair in name.split(separator: ",") {
      let eq = pair.firstIndex(of: "=") ?? pair.endIndex
      let value = String(pair[pair.index(after: eq)...]).replacingOccurrences(of: "%2F", with: "/").replacingOccurrences(of: "%25", with: "%")
      point[String(pair[..<eq])] = value
    }
    return point
  }

  // MARK: Expansion

  /// The runs are the Cartesian product of the axes and the seeds, each combination
  /// exactly once, indexed 0…N−1; each folder is runs/POINT/seed=S with POINT one path
  /// component that reads back as the point; the arguments are the shared flags, each
  /// axis's flags, the seed and the threads.
  @Test func expansionIsTheCartesianProduct() async {
    await propertyCheckThrowing(count: 60, input: Self.gridGen, Self.seedsGen, Gen.int(in: 1...8)) { axes, seeds, threads in
      let file = try Self.expand(axes, seeds, threads: threads)
      let count = axes.reduce(seeds.count) { $0 * $1.values.count }
      #expect(file.runs.count == count)
      #expect(file.runs.map(\.index) == Array(0..<count))
      let combinations = Set(file.runs.map { r in r.point.sorted { $0.key < $1.key }.map { "\($0.key)\u{0}\($0.value)" } + ["\(r.seed)"] })
      #expect(combinations.count == count)
      #expect(Set(file.runs.map(\.folder)).count == count)
      for r in file.runs {
        #expect(Set(r.point.keys) == Set(axes.map(\.name)))
        for axis in axes { #expect(axis.values.contains(r.point[axis.name] ?? "")) }
        let parts = r.folder.split(separator: "/", omittingEmptySubsequences: false)
        #expect(parts.count == 3 && parts[0] == "runs" && parts[2] == "seed=\(r.seed)", "\(r.folder)")
        #expect(Self.decodePoint(parts[1]) == r.point)
        #expect(Array(r.arguments.prefix(Self.shared.count)) == Self.shared)
        #expect(Array(r.arguments.suffix(4)) == ["--seed", "\(r.seed)", "--threads", "\(threads)"])
        let pointFlags = axes.sorted { $0.name < $1.name }.flatMap { $0.arguments(r.point[$0.name] ?? "") }
        #expect(Array(r.arguments.dropFirst(Self.shared.count).dropLast(4)) == pointFlags)
      }
      #expect(file.grid == Dictionary(uniqueKeysWithValues: axes.map { ($0.name, $0.values) }))
      #expect(file.seeds == seeds && file.threads == threads && file.version == 1)
    }
  }

  /// Names and indices do not depend on the order of the --grid flags.
  @Test func expansionIsStableUnderTheOrderOfTheAxes() async {
    await propertyCheckThrowing(count: 40, input: Self.gridGen, Self.seedsGen) { axes, seeds in
      let a = try Self.expand(axes, seeds)
      let b = try Self.expand(axes.reversed(), seeds)
      #expect(a == b)
      for r in a.runs {
        let pairs = r.point.map { ($0.key, $0.value) }
        #expect(SweepFile.pointName(pairs) == SweepFile.pointName(pairs.reversed()))
      }
    }
  }

  /// sweep.json reads back as what was written, with the agreed keys.
  @Test func sweepFileRoundTripsThroughJSON() async {
    await propertyCheckThrowing(count: 40, input: Self.gridGen, Self.seedsGen) { axes, seeds in
      let file = try Self.expand(axes, seeds)
      let data = try file.encoded()
      #expect(try SweepFile.decode(data, path: "sweep.json") == file)
      let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
      #expect(Set(object.keys) == ["version", "grid", "seeds", "shared", "runs", "threads", "environment"])
      let runs = try #require(object["runs"] as? [[String: Any]])
      for r in runs { #expect(Set(r.keys) == ["index", "point", "seed", "folder", "arguments"]) }
      #expect(!String(decoding: data, as: UTF8.self).contains("\\/"))
      #expect(file.difference(from: file) == nil)
    }
  }

  @Test func theSameSweepIsRecognisedAndAnotherIsNamed() throws {
    let axes = [GridAxis(name: "lr", values: ["0.1", "0.2"])]
    let file = try Self.expand(axes, [0, 1])
    #expect(file.difference(from: try Self.expand([GridAxis(name: "lr", values: ["0.2", "0.1"])], [1, 0])) == nil)
    #expect(file.difference(from: try Self.expand(axes, [0, 1], threads: 3))?.contains("--threads 2") == true)
    #expect(file.difference(from: try Self.expand([GridAxis(name: "lr", values: ["0.1"])], [0, 1]))?.contains("runs/lr=0.2/seed=0") == true)
    #expect(file.difference(from: try Self.expand([GridAxis(name: "lr", values: ["0.1", "0.2", "0.3"])], [0, 1]))?.contains("lr=0.3") == true)
    let otherShared = try SweepFile.expand(axes: axes, seeds: [0, 1], shared: ["--optimizer", "gd"], threads: 2) { $0.arguments($1) }
    #expect(file.difference(from: otherShared)?.contains("shared flags") == true)
  }

  @Test func expansionRefusesWhatCannotBeAFolder() throws {
    #expect(throws: SweepError.self) { try Self.expand([], [0]) }
    #expect(throws: SweepError.self) { try Self.expand([GridAxis(name: "lr", values: ["1"])], []) }
    #expect(throws: SweepError.self) { try Self.expand([GridAxis(name: "lr", values: ["1"])], [3, 3]) }
    #expect(throws: SweepError.self) { try Self.expand([GridAxis(name: "lr", values: ["1"]), GridAxis(name: "lr", values: ["2"])], [0]) }
    let long = String(repeating: "9", count: 300)
    #expect(throws: SweepError.self) { try Self.expand([GridAxis(name: "lr", values: [long])], [0]) }
    let many = GridAxis(name: "width", values: (1...400).map(String.init))
    #expect(throws: SweepError.self) { try Self.expand([many, GridAxis(name: "depth", values: (1...300).map(String.init))], [0]) }
  }

  /// A hand-edited sweep.json whose folders leave the sweep, whose indices are out of
  /// order, or whose arguments choose a run's folder or action, is refused.
  @Test func decodeRefusesFoldersOutsideTheSweep() throws {
    var file = try Self.expand([GridAxis(name: "lr", values: ["1", "2"])], [0])
    file.runs[1].folder = "runs/../../etc"
    #expect(throws: SweepError.self) { try SweepFile.decode(try file.encoded(), path: "s") }
    file.runs[1].folder = "/tmp/x"
    #expect(throws: SweepError.self) { try SweepFile.decode(try file.encoded(), path: "s") }
    file.runs[1].folder = "runs/lr=2/seed=0"
    file.runs[1].index = 5
    #expect(throws: SweepError.self) { try SweepFile.decode(try file.encoded(), path: "s") }
    file.runs[1].index = 1
    #expect(try SweepFile.decode(try file.encoded(), path: "s") == file)
    for extra in [["--out", "/elsewhere"], ["--out=/elsewhere"], ["--force"], ["--resume"]] {
      var edited = file
      edited.runs[0].arguments += extra
      #expect(throws: SweepError.self) { try SweepFile.decode(try edited.encoded(), path: "s") }
    }
    #expect(throws: SweepError.self) { try SweepFile.decode(Data("{\"version\": 2}".utf8), path: "s") }
  }

  // MARK: --grid entries

  @Test func gridEntriesParse() async {
    let nameGen = Gen<String?>.element(of: Self.names).map { $0 ?? "lr" }
    await propertyCheckThrowing(count: 60, input: nameGen, Self.valueGen.array(of: 1...4)) { name, values in
      let vs = Self.distinct(values)
      let axis = try GridAxis.parse("\(name)=\(vs.joined(separator: ","))")
      #expect(axis == GridAxis(name: name, values: vs))
    }
    #expect(GridAxis(name: "param.nu", values: []).arguments("0.5") == ["--param", "nu=0.5"])
    #expect(GridAxis(name: "lr", values: []).arguments("0.5") == ["--lr", "0.5"])
  }

  @Test(arguments: [
    ("lr", "NAME=V1"), ("lr=", "empty"), ("lr=0.1,,0.2", "empty"), ("lr=0.1,", "empty"), ("lr=0.1,0.1", "twice"),
    ("=0.1", "not a flag name"), ("--lr=0.1", "not a flag name"), ("LR=0.1", "not a flag name"), ("out=a,b", "--out cannot be swept"),
    ("resume=true", "--resume cannot"), ("force=true", "--force cannot"), ("seed=1,2", "--seeds"), ("threads=1,2", "--threads"),
    ("param=nu=0.5", "param.NAME"), ("param.eta=1", "not a rule parameter"), ("param.=1", "not a rule parameter"),
  ])
  func badGridEntriesAreRefusedByName(_ entry: String, _ reason: String) {
    do {
      _ = try GridAxis.parse(entry)
      Issue.record("--grid \(entry) was accepted")
    } catch {
      #expect("\(error)".contains(reason), "\(error)")
      #expect("\(error)".contains(entry.isEmpty ? "--grid" : entry) || "\(error)".contains("--grid"), "\(error)")
    }
  }

  // MARK: Run states

  static func makeSweep() throws -> SweepFolder {
    let dir = temporaryFolder("sweep-state")
    let file = try Self.expand([GridAxis(name: "lr", values: ["0.1", "a/b"])], [0])
    try file.write(sweep: dir)
    return try SweepFolder.open(dir)
  }

  static func write(_ text: String, _ path: String) throws {
    try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
    try text.write(toFile: path, atomically: true, encoding: .utf8)
  }

  /// A run's state and action come from its folder alone: nothing → start; files but no
  /// checkpoint → start over; a checkpoint without a finished summary → resume;
  /// completed or diverged → skip.
  @Test func runStatesComeFromTheRunFolder() throws {
    let sweep = try Self.makeSweep()
    defer { try? FileManager.default.removeItem(atPath: sweep.path) }
    let run = sweep.file.runs[1]
    #expect(run.folder == "runs/lr=a%2Fb/seed=0")
    let dir = sweep.runFolder(run)
    #expect(sweep.state(of: run) == .missing)
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    #expect(sweep.state(of: run) == .missing)
    try Self.write("{}", dir + "/config.json")
    #expect(sweep.state(of: run) == .unstarted)
    #expect(sweep.trainArguments(run, .restart) == ["train", "--out", dir, "--force"] + run.arguments)
    try Self.write("x", dir + "/checkpoint.safetensors")
    #expect(sweep.state(of: run) == .resumable(nil))
    #expect(sweep.trainArguments(run, .resume) == ["train", "--out", dir, "--resume"])
    for (status, state) in [
      ("interrupted", SweepRunState.resumable(.interrupted)), ("failed", .resumable(.failed)),
      ("completed", .finished(.completed)), ("diverged", .finished(.diverged)),
    ] {
      try Self.write("{\"status\": \"\(status)\", \"stop_reason\": \"because\"}", dir + "/summary.json")
      #expect(sweep.state(of: run) == state)
    }
    #expect(SweepRunState.finished(.diverged).action == .skip)
    #expect(SweepRunState.missing.action == .start)
    #expect(sweep.trainArguments(sweep.file.runs[0], .start) == ["train", "--out", sweep.runFolder(sweep.file.runs[0])] + sweep.file.runs[0].arguments)
  }

  /// `status` reads failures from summary.json or from the log's last attempt; an
  /// interrupted attempt is pending, not failed.
  @Test func reportCountsFailuresFromSummaryAndLog() throws {
    let sweep = try Self.makeSweep()
    defer { try? FileManager.default.removeItem(atPath: sweep.path) }
    let (a, b) = (sweep.file.runs[0], sweep.file.runs[1])
    try Self.write(
      "[aeos sweep] run 1 start at t: aeos train\nError: first\n[aeos sweep] exit 1 at t\n[aeos sweep] run 1 restart at t: aeos train\nnoise\nError: cannot read /x\n[aeos sweep] exit 64 at t\n",
      sweep.logFile(b))
    #expect(sweep.lastAttempt(b).exitStatus == 64)
    #expect(sweep.lastAttempt(b).error == "Error: cannot read /x")
    var reports = sweep.report()
    #expect(reports.map(\.standing) == [.pending, .failed])
    #expect(reports[1].error == "Error: cannot read /x")
    try Self.write("[aeos sweep] run 1 resume at t: aeos train\n[aeos sweep] exit 130 at t\n", sweep.logFile(b))
    #expect(sweep.report()[1].standing == .pending)
    try Self.write("{}", sweep.runFolder(a) + "/config.json")
    try Self.write("x", sweep.runFolder(a) + "/checkpoint.safetensors")
    try Self.write("{\"status\": \"failed\", \"stop_reason\": \"failed: disk full\"}", sweep.runFolder(a) + "/summary.json")
    reports = sweep.report()
    #expect(reports[0].standing == .failed && reports[0].error == "failed: disk full")
    try Self.write("{\"status\": \"completed\"}", sweep.runFolder(a) + "/summary.json")
    #expect(sweep.report()[0].standing == .done)
    #expect(throws: SweepError.self) { try sweep.run(2) }
  }

  /// A held lock is seen as held, from this process and from another one, and cannot
  /// be taken twice; it is free again once its holder lets go.
  @Test func locksAreSeenAndExclusive() throws {
    let sweep = try Self.makeSweep()
    defer { try? FileManager.default.removeItem(atPath: sweep.path) }
    let path = sweep.lockFile(sweep.file.runs[0])
    #expect(!SweepLock.isHeld(path))
    var mine = try SweepLock.acquire(path)
    #expect(mine != nil)
    #expect(SweepLock.isHeld(path))
    #expect(try SweepLock.acquire(path) == nil)
    // Still held after the file was opened and closed again (isHeld, the second try).
    #expect(SweepLock.isHeld(path))
    if let python = ["/usr/bin/python3", "/usr/local/bin/python3"].first(where: { FileManager.default.isExecutableFile(atPath: $0) }) {
      // Another process (a classic POSIX lock conflicts with an OFD lock) sees it held.
      let log = sweep.join("py.log")
      let child = try ChildProcess.spawn(
        python, ["-c", "import fcntl, sys\nf = open(sys.argv[1], 'a')\ntry:\n  fcntl.lockf(f, fcntl.LOCK_EX | fcntl.LOCK_NB); print('got')\nexcept OSError: print('held')", path],
        environment: [:], log: log)
      #expect(child.wait() == 0)
      #expect((try? String(contentsOfFile: log, encoding: .utf8)) == "held\n")
    }
    mine = nil
    #expect(!SweepLock.isHeld(path))
    #expect(try SweepLock.acquire(path) != nil)
  }

  // MARK: Signals

  /// A child that has a signal pending or has handled it (its handler reset it to the
  /// default while the other signal is still caught) is not sent it again.
  @Test func forwardingSkipsAChildThatHasTheSignal() {
    typealias S = ChildProcess.SignalState
    let both = S.bit(SIGINT) | S.bit(SIGTERM)
    #expect(!S(pending: 0, caught: both).received(SIGTERM))
    #expect(S(pending: S.bit(SIGTERM), caught: both).received(SIGTERM))
    #expect(S(pending: 0, caught: S.bit(SIGINT)).received(SIGTERM))
    #expect(!S(pending: 0, caught: S.bit(SIGINT)).received(SIGINT))
    #expect(S(pending: 0, caught: S.bit(SIGTERM)).received(SIGINT))
    // Neither caught: not started handling signals yet (or done): send it.
    #expect(!S(pending: 0, caught: 0).received(SIGTERM))
  }

  /// The signal state of a real process: this one catches neither by default.
  @Test func signalStateIsReadFromProc() throws {
    let child = try ChildProcess.spawn("/bin/sh", ["-c", "trap 'exit 7' TERM; sleep 5 & wait"], environment: [:], log: "/dev/null")
    var state: ChildProcess.SignalState?
    for _ in 0..<100 {
      state = ChildProcess.signalState(child.pid)
      if let s = state, s.caught & ChildProcess.SignalState.bit(SIGTERM) != 0 { break }
      usleep(20_000)
    }
    #expect(state.map { $0.caught & ChildProcess.SignalState.bit(SIGTERM) != 0 } == true)
    child.forward(SIGTERM)
    #expect(child.wait() == 7)
  }

  // MARK: Slurm

  @Test func arrayListsReadBackAsTheIndices() async {
    await propertyCheck(count: 80, input: Gen.int(in: 0...40).array(of: 1...20)) { indices in
      let list = Slurm.arrayList(indices)
      var back = Set<Int>()
      for part in list.split(separator: ",") {
        let ends = part.split(separator: "-").compactMap { Int($0) }
        if ends.count == 2 { back.formUnion(ends[0]...ends[1]) } else { back.formUnion(ends) }
      }
      #expect(back == Set(indices), "\(list)")
      #expect(!list.contains("%"))
    }
    #expect(Slurm.arrayList([0, 1, 2, 3, 5, 7, 8, 9], maxParallel: 3) == "0-3,5,7-9%3")
    #expect(Slurm.arrayList([4]) == "4")
  }

  @Test(arguments: [
    ("30", 1800), ("5:30", 330), ("01:00:00", 3600), ("2-0", 172_800), ("1-2:30", 95_400), ("1-00:00:10", 86_410),
  ])
  func slurmTimesAreRead(_ text: String, _ seconds: Int) throws {
    #expect(try Slurm.seconds(ofTime: text) == seconds)
  }

  @Test(arguments: ["", "1h", "1:2:3:4", "-1", "0", "00:00:00", "1--2", "a:b", "1-", ":30"])
  func badSlurmTimesAreRefused(_ text: String) {
    #expect(throws: SweepError.self) { try Slurm.seconds(ofTime: text) }
  }

  /// The job script: one array task per run, the per-task logs under DIR/slurm/, the
  /// threads as CPUs per task, each asked option, and the task's command in a job step.
  @Test func sbatchScriptHasTheDirectives() throws {
    let options = Slurm.Options(partition: "cpu", time: "01:00:00", maxParallel: 3, sbatchOptions: ["--account=proj"], setup: ["module load openblas"])
    try options.validate()
    let text = try Slurm.script(sweep: "/scratch/fig1", executable: "/opt/aeos/bin/aeos", runs: 8, threads: 4, options: options)
    let lines = text.split(separator: "\n").map(String.init)
    #expect(lines.first == "#!/bin/bash")
    for directive in [
      "#SBATCH --array=0-7%3", "#SBATCH --cpus-per-task=4", "#SBATCH --ntasks=1", "#SBATCH --partition=cpu", "#SBATCH --time=01:00:00",
      "#SBATCH --signal=TERM@120", "#SBATCH --output=/scratch/fig1/slurm/%A_%a.out", "#SBATCH --error=/scratch/fig1/slurm/%A_%a.err",
      "#SBATCH --account=proj", "#SBATCH --job-name=aeos-fig1", "module load openblas", "export OPENBLAS_NUM_THREADS=1",
      "exec srun --ntasks=1 --cpus-per-task=4 '/opt/aeos/bin/aeos' sweep run-task '/scratch/fig1' --index \"$SLURM_ARRAY_TASK_ID\"",
    ] {
      #expect(lines.contains(directive), "missing \(directive) in:\n\(text)")
    }
    // sbatch reads #SBATCH lines only before the first command.
    let lastDirective = try #require(lines.lastIndex { $0.hasPrefix("#SBATCH") })
    let firstCommand = try #require(lines.indices.first { !lines[$0].hasPrefix("#") })
    #expect(lastDirective < firstCommand)

    let plain = try Slurm.script(sweep: "/s", executable: "/a", runs: 1, threads: 1, options: Slurm.Options(time: "5:00"))
    #expect(plain.contains("#SBATCH --array=0\n") && !plain.contains("--partition") && !plain.contains("--signal"))
    #expect(throws: SweepError.self) { try Slurm.script(sweep: "/my sweeps/x", executable: "/a", runs: 1, threads: 1, options: .init()) }
    #expect(throws: SweepError.self) { try Slurm.script(sweep: "/s/100%", executable: "/a", runs: 1, threads: 1, options: .init()) }
    #expect(throws: SweepError.self) { try Slurm.Options(partition: "cpu gpu").validate() }
    #expect(throws: SweepError.self) { try Slurm.Options(sbatchOptions: ["account=x"]).validate() }
    #expect(throws: SweepError.self) { try Slurm.Options(setup: ["a\nb"]).validate() }
    #expect(throws: SweepError.self) { try Slurm.Options(maxParallel: 0).validate() }
  }

  @Test func shellQuotingSurvivesQuotes() throws {
    #expect(shellQuote("it's") == "'it'\\''s'")
    let child = try ChildProcess.spawn("/bin/sh", ["-c", "test \(shellQuote("a b'c")) = \"a b'c\""], environment: [:], log: "/dev/null")
    #expect(child.wait() == 0)
  }
}
