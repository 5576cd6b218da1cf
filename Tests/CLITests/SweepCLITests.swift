import Foundation
import Testing

/// `aeos sweep` as a user runs it, on synthetic data (no data package needed): tiny
/// 784-16-10 tanh nets on 200 examples, every run with --threads 1.
@Suite struct SweepCLITests {
  static let small = ["--data", "synthetic", "--n", "200", "--test-n", "0", "--depth", "1", "--width", "16"]

  static func folder(_ tag: String) -> String { TrainCLITests.folder("sweep-\(tag)") }

  static func sweepJSON(_ dir: String) throws -> [String: Any] {
    let data = try Data(contentsOf: URL(fileURLWithPath: dir + "/sweep.json"))
    return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
  }

  static func config(_ runFolder: String) throws -> [String: Any] {
    let data = try Data(contentsOf: URL(fileURLWithPath: runFolder + "/config.json"))
    return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
  }

  /// `aeos ARGUMENTS` with OPENBLAS_NUM_THREADS=1, as a sweep makes its runs.
  static func runWithOneBLASThread(_ arguments: [String]) throws -> CLIResult {
    try Subprocess.run(URL(fileURLWithPath: "/usr/bin/env"), ["OPENBLAS_NUM_THREADS=1", CLI.executable.path] + arguments)
  }

  static func modificationDate(_ path: String) -> Date? {
    (try? FileManager.default.attributesOfItem(atPath: path))?[.modificationDate] as? Date
  }

  /// Four runs (two learning rates × two seeds) made two at a time equal the same runs
  /// made one by one with `aeos train` (metrics.jsonl line for line but wall_s); the
  /// folders and sweep.json are as DESIGN.md says; and the same command again runs
  /// nothing.
  @Test func jobsTwoEqualsOneByOneAndASecondInvocationRunsNothing() throws {
    let dir = Self.folder("jobs"), single = Self.folder("single")
    defer { for d in [dir, single] { try? FileManager.default.removeItem(atPath: d) } }
    let command = ["sweep", "--out", dir, "--grid", "lr=0.02,0.05", "--seeds", "0,1", "--optimizer", "gd", "--steps", "30", "--track-every", "10",
      "--jobs", "2", "--threads", "1"] + Self.small
    let r = try CLI.run(command)
    #expect(r.status == 0, "\(r.stderr)")
    #expect(r.stdout.contains("done 4, running 0, failed 0, pending 0"), "\(r.stdout)")

    let sweep = try Self.sweepJSON(dir)
    #expect(sweep["version"] as? Int == 1 && sweep["threads"] as? Int == 1)
    #expect(sweep["grid"] as? [String: [String]] == ["lr": ["0.02", "0.05"]])
    #expect(sweep["seeds"] as? [Int] == [0, 1])
    #expect(sweep["environment"] as? [String: String] == ["OPENBLAS_NUM_THREADS": "1"])
    #expect(sweep["shared"] as? [String] == ["--optimizer", "gd", "--steps", "30", "--track-every", "10"] + Self.small)
    let runs = try #require(sweep["runs"] as? [[String: Any]])
    #expect(runs.compactMap { $0["folder"] as? String } == ["runs/lr=0.02/seed=0", "runs/lr=0.02/seed=1", "runs/lr=0.05/seed=0", "runs/lr=0.05/seed=1"])

    for (lr, seed) in [("0.02", "0"), ("0.02", "1"), ("0.05", "0"), ("0.05", "1")] {
      let runFolder = "\(dir)/runs/lr=\(lr)/seed=\(seed)"
      let c = try Self.config(runFolder)
      #expect((c["method"] as? [String: Any])?["hyperparameters"].flatMap { ($0 as? [String: Any])?["lr"] as? Double } == Double(lr))
      #expect(c["seed"] as? Int == Int(seed) && c["threads"] as? Int == 1)
      // The same run by hand, arguments written out here (not read from sweep.json),
      // in the environment sweep.json names.
      let out = "\(single)/\(lr)-\(seed)"
      let t = try Self.runWithOneBLASThread(["train", "--out", out, "--optimizer", "gd", "--lr", lr, "--seed", seed, "--steps", "30", "--track-every", "10", "--threads", "1", "--quiet"] + Self.small)
      #expect(t.status == 0, "\(t.stderr)")
      let a = try TrainCLITests.metricsWithoutWallTimes(runFolder), b = try TrainCLITests.metricsWithoutWallTimes(out)
      #expect(a.count == 31)
      #expect(a == b, "run lr=\(lr) seed=\(seed) differs from the same run made alone")
    }

    // The same command again: nothing runs, nothing changes.
    let metrics = "\(dir)/runs/lr=0.05/seed=1/metrics.jsonl"
    let before = Self.modificationDate(metrics)
    let log = try String(contentsOfFile: dir + "/logs/3.log", encoding: .utf8)
    let again = try CLI.run(command)
    #expect(again.status == 0, "\(again.stderr)")
    #expect(again.stderr.contains("4 finished, 0 to resume, 0 to start"), "\(again.stderr)")
    #expect(!again.stderr.contains("started"))
    #expect(Self.modificationDate(metrics) == before)
    #expect(try String(contentsOfFile: dir + "/logs/3.log", encoding: .utf8) == log)
    // `aeos sweep --out DIR` alone continues the stored sweep (here: nothing to do).
    let alone = try CLI.run(["sweep", "--out", dir])
    #expect(alone.status == 0 && alone.stdout.contains("done 4"), "\(alone.stderr)")
    // Another sweep in the same folder is refused, naming the difference.
    let other = try CLI.run(command.map { $0 == "lr=0.02,0.05" ? "lr=0.02,0.1" : $0 })
    #expect(other.status == 64 && other.stderr.contains("another sweep") && other.stderr.contains("lr=0.1"), "\(other.stderr)")
    var otherThreads = command
    if let k = otherThreads.firstIndex(of: "--threads") { otherThreads[k + 1] = "2" }
    let threads = try CLI.run(otherThreads)
    #expect(threads.status == 64 && threads.stderr.contains("--threads 1"), "\(threads.stderr)")
  }

  /// SIGINT to a local sweep: its runs checkpoint, it exits 130, `status` shows them
  /// pending; while it ran, `status` showed them running. The same command then
  /// finishes them, equal to an uninterrupted sweep's.
  @Test func interruptedSweepResumes() throws {
    let dir = Self.folder("interrupted"), straight = Self.folder("straight")
    defer { for d in [dir, straight] { try? FileManager.default.removeItem(atPath: d) } }
    let flags = ["--grid", "optimizer=adam,gd", "--seeds", "3", "--lr", "0.01", "--steps", "300", "--track-every", "5", "--checkpoint-every", "7",
      "--jobs", "2", "--threads", "1"] + Self.small
    let p = Process()
    p.executableURL = CLI.executable
    p.arguments = ["sweep", "--out", dir] + flags
    p.standardOutput = FileHandle.nullDevice
    p.standardError = FileHandle.nullDevice
    try p.run()
    let metrics = ["\(dir)/runs/optimizer=adam/seed=3/metrics.jsonl", "\(dir)/runs/optimizer=gd/seed=3/metrics.jsonl"]
    for _ in 0..<600 {
      let lines = metrics.map { ((try? String(contentsOfFile: $0, encoding: .utf8))?.split(separator: "\n").count) ?? 0 }
      if lines.allSatisfy({ $0 >= 20 }) { break }
      Thread.sleep(forTimeInterval: 0.1)
    }
    let during = try CLI.run(["sweep", "status", dir, "--json"])
    p.interrupt()
    p.waitUntilExit()
    if p.terminationStatus == 130 {
      let status = try CLI.run(["sweep", "status", dir])
      #expect(status.stdout.contains("failed 0"), "\(status.stdout)")
      #expect(!status.stdout.contains("pending 0"), "\(status.stdout)")
      let counts = try #require(try JSONSerialization.jsonObject(with: Data(during.stdout.utf8)) as? [String: Any])
      #expect((counts["running"] as? Int ?? 0) >= 1, "\(during.stdout)")
    } else {
      // The runs may have finished before the signal on a fast machine.
      #expect(p.terminationStatus == 0)
    }
    let again = try CLI.run(["sweep", "--out", dir] + flags)
    #expect(again.status == 0, "\(again.stderr)")
    let reference = try CLI.run(["sweep", "--out", straight] + flags + ["--quiet"])
    #expect(reference.status == 0, "\(reference.stderr)")
    for name in ["optimizer=adam/seed=3", "optimizer=gd/seed=3"] {
      let a = try TrainCLITests.metricsWithoutWallTimes("\(dir)/runs/\(name)")
      #expect(a.count == 301)
      #expect(a == (try TrainCLITests.metricsWithoutWallTimes("\(straight)/runs/\(name)")), "\(name) differs after resuming")
    }
  }

  /// Diverged runs count as done; runs that fail at run time are reported with their
  /// error, and the sweep exits 1; `run-task` makes one run, or says it is finished.
  @Test func statusCountsDoneDivergedAndFailed() throws {
    let dir = Self.folder("status")
    defer { try? FileManager.default.removeItem(atPath: dir) }
    // cifar10 passes the settings checks (it has --data-dir) but its files are not there.
    let command = ["sweep", "--out", dir, "--grid", "data=synthetic,cifar10", "--grid", "lr=0.05,200", "--optimizer", "gd", "--steps", "20",
      "--data-dir", "/nonexistent/cifar", "--n", "200", "--test-n", "0", "--depth", "1", "--width", "16", "--threads", "1"]
    let r = try CLI.run(command)
    #expect(r.status == 1, "\(r.stderr)")
    #expect(r.stdout.contains("done 2 (1 diverged), running 0, failed 2, pending 0"), "\(r.stdout)")
    #expect(r.stdout.contains("failed: run 2 runs/data=cifar10,lr=0.05/seed=0: Error:"), "\(r.stdout)")
    let status = try CLI.json(["sweep", "status", dir, "--json"])
    #expect(status["done"] as? Int == 2 && status["diverged"] as? Int == 1 && status["failed"] as? Int == 2 && status["pending"] as? Int == 0)
    let failures = try #require(status["failures"] as? [[String: Any]])
    #expect(failures.count == 2)
    #expect(failures.allSatisfy { ($0["error"] as? String)?.contains("/nonexistent/cifar") == true }, "\(failures)")

    // run-task: a finished run is left alone; an index outside the sweep is a usage error.
    let done = try CLI.run(["sweep", "run-task", dir, "--index", "0"])
    #expect(done.status == 0 && done.stdout.contains("finished before (completed)"), "\(done.stdout)")
    let diverged = try CLI.run(["sweep", "run-task", dir, "--index", "1"])
    #expect(diverged.status == 0 && diverged.stdout.contains("finished before (diverged)"), "\(diverged.stdout)")
    let outside = try CLI.run(["sweep", "run-task", dir, "--index", "4"])
    #expect(outside.status == 64 && outside.stderr.contains("--index 4") && outside.stderr.contains("0…3"), "\(outside.stderr)")
    let failed = try CLI.run(["sweep", "run-task", dir, "--index", "2"])
    #expect(failed.status != 0 && failed.stdout.contains("failed before its first checkpoint"), "\(failed.stdout)")
    // A run removed by hand is made again by run-task.
    try FileManager.default.removeItem(atPath: "\(dir)/runs/data=synthetic,lr=0.05")
    let remade = try CLI.run(["sweep", "run-task", dir, "--index", "0"])
    #expect(remade.status == 0 && remade.stdout.contains("completed (aeos train exit 0) at step 20"), "\(remade.stdout) \(remade.stderr)")
  }

  /// A bad grid is refused before any run starts (no folder is made), naming the entry.
  @Test(arguments: [
    (["--grid", "foo=1,2"], "foo"),
    (["--grid", "lr=-1,0.1"], "--grid lr=-1"),
    (["--grid", "lr=0.1,abc"], "--grid lr=abc"),
    (["--grid", "lr="], "empty"),
    (["--grid", "lr=0.1,0.2", "--lr", "0.3"], "--grid lr=… and --lr"),
    (["--grid", "out=a,b"], "--out cannot be swept"),
    (["--grid", "resume=true"], "--resume cannot be swept"),
    (["--grid", "force=true"], "--force cannot be swept"),
    (["--grid", "lr=0.1", "--resume"], "--resume cannot be given"),
    (["--grid", "lr=0.1", "--seed", "3"], "--seeds"),
    (["--grid", "bias-correction=yes"], "switch"),
    (["--grid", "lr=0.1,1e-1"], "same run"),
    (["--grid", "lr=0.1", "--grid", "lr=0.2"], "twice"),
    (["--grid", "optimizer=adam,gd", "--freeze-preconditioner-at", "3"], "--grid optimizer=gd"),
    (["--grid", "lr=0.1", "--seeds", "0,x"], "--seeds"),
    (["--grid", "lr=0.1", "--width", "0"], "--width"),
    ([], "--grid"),
  ])
  func badGridsAreRefusedBeforeAnyRun(_ extra: [String], _ named: String) throws {
    let dir = Self.folder("bad")
    defer { try? FileManager.default.removeItem(atPath: dir) }
    var args = ["sweep", "--out", dir, "--steps", "2"] + Self.small + extra
    if !extra.contains(where: { $0.hasPrefix("optimizer=") }) { args += ["--optimizer", "adam"] }
    if !extra.contains(where: { $0.hasPrefix("lr=") }) && !extra.contains("--lr") { args += ["--lr", "0.01"] }
    let r = try CLI.run(args)
    #expect(r.status == 64, "\(extra): \(r.stderr)")
    #expect(r.stderr.contains(named), "\(extra): \(r.stderr)")
    #expect(!FileManager.default.fileExists(atPath: dir), "\(extra) made \(dir)")
  }

  /// A switch sweeps as true,false; a rule parameter as param.NAME.
  @Test func switchesAndRuleParametersSweep() throws {
    let dir = Self.folder("switch")
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let r = try CLI.run([
      "sweep", "--out", dir, "--grid", "bias-correction=true,false", "--grid", "param.nu=0.5,0.7", "--optimizer", "adam", "--lr", "0.01",
      "--steps", "2", "--threads", "1", "--slurm",
    ] + Self.small)
    // adam takes no --param: the refusal names the grid entry.
    #expect(r.status == 64 && r.stderr.contains("--param"), "\(r.stderr)")
    let rule = "m' = beta*m + (1-beta)*g; x' = x - eta*((1-nu)*g + nu*m')"
    let ok = try CLI.run([
      "sweep", "--out", dir, "--grid", "param.nu=0.5,0.7", "--grid", "balanced=true,false", "--rule", rule, "--param", "beta=0.9",
      "--lr", "0.01", "--steps", "2", "--threads", "1", "--slurm",
    ] + Self.small)
    #expect(ok.status == 0, "\(ok.stderr)")
    let runs = try #require(try Self.sweepJSON(dir)["runs"] as? [[String: Any]])
    #expect(runs.compactMap { $0["folder"] as? String } == [
      "runs/balanced=true,param.nu=0.5/seed=0", "runs/balanced=true,param.nu=0.7/seed=0",
      "runs/balanced=false,param.nu=0.5/seed=0", "runs/balanced=false,param.nu=0.7/seed=0",
    ])
    let args = runs.compactMap { $0["arguments"] as? [String] }
    #expect(args[0].contains("--balanced") && !args[2].contains("--balanced"))
    #expect(args[1].contains("nu=0.7") && args[1].contains("beta=0.9"))
  }

  /// --slurm writes the job script (one task per run, the sweep's threads as CPUs per
  /// task, the asked options) and sweep.json, and makes no run.
  @Test func slurmWritesTheJobScript() throws {
    let dir = Self.folder("slurm")
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let r = try CLI.run([
      "sweep", "--out", dir, "--grid", "lr=1e-3,2e-3,4e-3,8e-3", "--seeds", "0,1", "--optimizer", "adam", "--steps", "5", "--threads", "2",
      "--slurm", "--partition", "cpu", "--time", "02:00:00", "--max-parallel", "3", "--sbatch", "--account=proj", "--setup", "module load openblas",
    ] + Self.small)
    #expect(r.status == 0, "\(r.stderr)")
    let script = try String(contentsOfFile: dir + "/slurm/sweep.sbatch", encoding: .utf8)
    for line in [
      "#SBATCH --array=0-7%3", "#SBATCH --cpus-per-task=2", "#SBATCH --partition=cpu", "#SBATCH --time=02:00:00", "#SBATCH --account=proj",
      "#SBATCH --output=\(dir)/slurm/%A_%a.out", "module load openblas", "sweep run-task '\(dir)' --index \"$SLURM_ARRAY_TASK_ID\"",
    ] {
      #expect(script.contains(line), "missing \(line):\n\(script)")
    }
    #expect(script.contains("'\(CLI.executable.path)' sweep run-task"), "\(script)")
    #expect(!FileManager.default.fileExists(atPath: dir + "/runs"))
    let usage = try CLI.run(["sweep", "--out", dir + "x", "--grid", "lr=0.1", "--optimizer", "gd", "--partition", "cpu"])
    #expect(usage.status == 64 && usage.stderr.contains("--partition applies to --slurm only"), "\(usage.stderr)")
    let both = try CLI.run(["sweep", "--out", dir + "x", "--grid", "lr=0.1", "--optimizer", "gd", "--slurm", "--jobs", "2"])
    #expect(both.status == 64 && both.stderr.contains("--jobs"), "\(both.stderr)")
    let time = try CLI.run(["sweep", "--out", dir + "x", "--grid", "lr=0.1", "--optimizer", "gd", "--slurm", "--time", "2h"])
    #expect(time.status == 64 && time.stderr.contains("--time \"2h\""), "\(time.stderr)")
  }
}
