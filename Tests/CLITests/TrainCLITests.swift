import Foundation
import Testing

extension Python {
  /// Whether `python3` imports NumPy; probed once.
  static let hasNumPy: Bool = {
    guard let r = try? run("import numpy") else { return false }
    return r.status == 0
  }()

  /// Whether `python3` runs at all.
  static let exists: Bool = {
    guard let r = try? run("pass") else { return false }
    return r.status == 0
  }()
}

/// `aeos train` and `aeos curvature` as a user runs them, on synthetic data (no data
/// package needed): a 784-16-10 tanh net on 200 examples.
@Suite struct TrainCLITests {
  static let small = ["--data", "synthetic", "--n", "200", "--test-n", "50", "--depth", "1", "--width", "16", "--threads", "2"]

  static func folder(_ tag: String) -> String {
    FileManager.default.temporaryDirectory.appendingPathComponent("aeos-cli-\(tag)-\(UUID().uuidString)").path
  }

  /// metrics.jsonl's lines with the wall-clock field removed (the only one a resumed
  /// run may change), as written.
  static func metricsWithoutWallTimes(_ dir: String) throws -> [String] {
    let text = try String(contentsOfFile: dir + "/metrics.jsonl", encoding: .utf8)
    let wall = try Regex(#""wall_s":[^,}]*,?"#)
    return text.split(separator: "\n").map { String($0).replacing(wall, with: "") }
  }

  /// Every flag of `aeos train --help` says what it does, and every option its default.
  @Test func helpExplainsEveryFlagWithItsDefault() throws {
    let r = try CLI.run(["train", "--help"])
    #expect(r.status == 0)
    // Each option line ("  --name <value>  help…", help possibly wrapped onto the next
    // lines) carries "default" unless it is required (--out) or has no default by
    // nature (targets, --init, --nu0, --freeze-preconditioner-at, rules).
    let noDefault: Set<String> = [
      "--out", "--optimizer", "--rule", "--param", "--lr", "--init", "--nu0", "--target-loss", "--target-accuracy",
      "--freeze-preconditioner-at", "--data-dir", "--help",
    ]
    var entries: [(String, String)] = []
    let options = r.stdout.components(separatedBy: "USAGE:").last ?? ""
    for line in options.split(separator: "\n", omittingEmptySubsequences: false) {
      let t = line.trimmingCharacters(in: .whitespaces)
      if t.hasPrefix("--") || t.hasPrefix("-h,") {
        let name = String(t.split(separator: " ").first ?? "").trimmingCharacters(in: CharacterSet(charactersIn: ","))
        entries.append((name, t))
      } else if !t.isEmpty, !entries.isEmpty, line.hasPrefix("      ") {
        entries[entries.count - 1].1 += " " + t
      }
    }
    #expect(entries.count >= 40)
    for (name, text) in entries {
      let isOption = text.contains("<")
      if isOption && !noDefault.contains(name) { #expect(text.contains("default"), "\(name) does not give its default: \(text)") }
      #expect(text.split(separator: " ").count > 2, "\(name) has no help: \(text)")
    }
  }

  /// SIGINT mid-run: the run checkpoints, exits 130 with status interrupted; --resume
  /// then finishes it, and metrics.jsonl equals an uninterrupted run's line for line
  /// (wall_s aside).
  @Test func interruptedRunResumesBitIdentically() throws {
    let straight = Self.folder("straight"), interrupted = Self.folder("interrupted")
    defer { for d in [straight, interrupted] { try? FileManager.default.removeItem(atPath: d) } }
    let args = ["train", "--optimizer", "adam", "--lr", "1e-3", "--steps", "300", "--track-every", "5", "--checkpoint-every", "7", "--quiet"] + Self.small
    let a = try CLI.run(args + ["--out", straight])
    #expect(a.status == 0, "\(a.stderr)")

    let p = Process()
    p.executableURL = CLI.executable
    p.arguments = args + ["--out", interrupted]
    p.standardOutput = FileHandle.nullDevice
    p.standardError = FileHandle.nullDevice
    try p.run()
    // Interrupt once it has written some lines (at most ~60 s of waiting).
    let metrics = interrupted + "/metrics.jsonl"
    for _ in 0..<600 {
      let lines = (try? String(contentsOfFile: metrics, encoding: .utf8))?.split(separator: "\n").count ?? 0
      if lines >= 20 { break }
      Thread.sleep(forTimeInterval: 0.1)
    }
    p.interrupt()
    p.waitUntilExit()
    let summary = (try? String(contentsOfFile: interrupted + "/summary.json", encoding: .utf8)) ?? ""
    if p.terminationStatus == 130 {
      #expect(summary.contains("\"interrupted\""))
      let partial = try Self.metricsWithoutWallTimes(interrupted)
      #expect(partial.count < 301)
    } else {
      // The run may have finished before the signal arrived on a fast machine.
      #expect(p.terminationStatus == 0)
    }
    let r = try CLI.run(["train", "--out", interrupted, "--resume", "--quiet"])
    #expect(r.status == 0, "\(r.stderr)")
    #expect(try Self.metricsWithoutWallTimes(interrupted) == Self.metricsWithoutWallTimes(straight))
  }

  /// A diverging run exits 3, keeps its lines, and says why.
  @Test func divergingRunExitsThree() throws {
    let dir = Self.folder("diverge")
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let r = try CLI.run(["train", "--out", dir, "--optimizer", "gd", "--lr", "200", "--steps", "100", "--quiet"] + Self.small)
    #expect(r.status == 3)
    #expect(r.stdout.contains("diverged"))
    let lines = try Self.metricsWithoutWallTimes(dir)
    #expect(lines.count >= 1 && lines.count < 101)
    let summary = try String(contentsOfFile: dir + "/summary.json", encoding: .utf8)
    #expect(summary.contains("\"status\": \"diverged\""))
  }

  /// An existing folder is never overwritten without --force; bad combinations are named.
  @Test func foldersAndFlagCombinations() throws {
    let dir = Self.folder("exists")
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let base = ["train", "--out", dir, "--optimizer", "gd", "--lr", "0.01", "--steps", "2", "--quiet"] + Self.small
    #expect(try CLI.run(base).status == 0)
    let again = try CLI.run(base)
    #expect(again.status == 64 && again.stderr.contains("already exists") && again.stderr.contains("--force"))
    #expect(try CLI.run(base + ["--force"]).status == 0)
    let both = try CLI.run(base + ["--force", "--resume"])
    #expect(both.status == 64 && both.stderr.contains("--force and --resume"))
    let resumeWithLR = try CLI.run(["train", "--out", dir, "--resume", "--lr", "0.1"])
    #expect(resumeWithLR.status == 64 && resumeWithLR.stderr.contains("--lr"))
    let frozenGD = try CLI.run(["train", "--out", dir + "x", "--optimizer", "gd", "--lr", "0.1", "--freeze-preconditioner-at", "3"] + Self.small)
    #expect(frozenGD.status == 64 && frozenGD.stderr.contains("--freeze-preconditioner-at"))
    let noLR = try CLI.run(["train", "--out", dir + "y", "--optimizer", "gd"])
    #expect(noLR.status == 64 && noLR.stderr.contains("--lr"))
    let badRule = try CLI.run(["train", "--out", dir + "z", "--rule", "x' = x - eta*g*x", "--lr", "0.1"] + Self.small)
    #expect(badRule.status == 64 && badRule.stderr.contains("not linear"))
    #expect(!FileManager.default.fileExists(atPath: dir + "z"))
    // refused while the run is being set up (run time): the message alone, never the
    // root command's usage ("aeos <subcommand>") under it
    let eta = try CLI.run(["train", "--out", dir + "w", "--rule", "x' = x - eta*g", "--lr", "0.1", "--param", "eta=3"] + Self.small)
    #expect(eta.status == 64 && eta.stderr.contains("--param eta: the learning rate is set by --lr"), "\(eta.stderr)")
    #expect(!eta.stderr.contains("<subcommand>"), "\(eta.stderr)")
  }

  /// metrics.jsonl and summary.json parse with Python's json module, with the keys of
  /// DESIGN.md; the weights load in NumPy from the safetensors file alone, under the
  /// documented names and shapes.
  @Test(.enabled(if: Python.hasNumPy)) func runFolderLoadsInPython() throws {
    let dir = Self.folder("python")
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let r = try CLI.run(["train", "--out", dir, "--optimizer", "adam", "--lr", "1e-3", "--steps", "6", "--track-every", "3", "--quiet"] + Self.small)
    #expect(r.status == 0, "\(r.stderr)")
    let script = """
      import json, struct, numpy as np
      d = \(String(reflecting: dir))
      lines = [json.loads(l) for l in open(d + '/metrics.jsonl')]
      assert [l['step'] for l in lines] == list(range(7)), [l['step'] for l in lines]
      for l in lines:
          assert set(['step', 'loss', 'accuracy', 'grad_norm', 'lr', 'wall_s']) <= set(l), l
      tracked = [l for l in lines if 'sharpness' in l]
      assert [l['step'] for l in tracked] == [0, 3, 6]
      for l in tracked:
          assert set(['sharpness', 'preconditioned_sharpness', 'threshold', 'ratio', 'test_loss', 'test_accuracy', 'hvps', 'residual']) <= set(l), l
          assert abs(l['ratio'] - l['preconditioned_sharpness'] / l['threshold']) <= 1e-12 * l['ratio']
      s = json.load(open(d + '/summary.json'))
      assert set(['optimizer', 'quantity', 'threshold', 'status', 'onset_step', 'plateau', 'verdict', 'final_loss', 'final_accuracy', 'steps', 'wall_s']) <= set(s), s
      assert s['status'] == 'completed' and s['steps'] == 6 and s['quantity'] == 'preconditioned sharpness'
      c = json.load(open(d + '/config.json'))
      assert c['method']['optimizer'] == 'adam' and 'provenance' in c
      raw = open(d + '/checkpoint.safetensors', 'rb').read()
      (n,) = struct.unpack('<Q', raw[:8])
      header = json.loads(raw[8:8 + n])
      meta = header.pop('__metadata__')
      assert meta['step'] == '6' and json.loads(meta['model'])['width'] == 16
      shapes = {k: v['shape'] for k, v in header.items()}
      assert shapes == {'dense0.weight': [16, 784], 'dense0.bias': [16], 'dense1.weight': [10, 16], 'dense1.bias': [10]}, shapes
      for k, v in header.items():
          a, b = v['data_offsets']
          w = np.frombuffer(raw[8 + n + a:8 + n + b], dtype='<f4').reshape(v['shape'])
          assert np.all(np.isfinite(w))
      print('ok')
      """
    let py = try Python.run(script)
    #expect(py.status == 0 && py.stdout.contains("ok"), "\(py.stderr)")
  }

  /// `aeos curvature DIR --json` has DESIGN.md's keys; its λ₁ at the final checkpoint
  /// agrees with the run's own last measurement at that step (same iterate, same
  /// operator: Lanczos to its tolerances, 1e-4 relative); eigenvectors load as .npy.
  @Test func curvatureOfARunFolder() throws {
    let dir = Self.folder("curvature")
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let r = try CLI.run(["train", "--out", dir, "--optimizer", "adam", "--lr", "1e-3", "--steps", "10", "--track-every", "5", "--quiet"] + Self.small)
    #expect(r.status == 0, "\(r.stderr)")
    let npy = dir + "/top.npy"
    let j = try CLI.json(["curvature", dir, "--top-k", "2", "--json", "--eigenvectors", npy])
    #expect(Set(j.keys) == ["source", "n", "dtype", "loss", "eigenvalues", "residuals", "lambda_min", "preconditioned_eigenvalues", "hvps", "seconds"])
    let values = try #require(j["eigenvalues"] as? [Double])
    #expect(values.count == 2 && values[0] >= values[1])
    let lambdaMin = try #require(j["lambda_min"] as? Double)
    #expect(lambdaMin <= values[1])
    #expect((j["preconditioned_eigenvalues"] as? [Double])?.count == 2)
    let lines = try String(contentsOfFile: dir + "/metrics.jsonl", encoding: .utf8).split(separator: "\n")
    let last = try #require(try JSONSerialization.jsonObject(with: Data(lines[lines.count - 1].utf8)) as? [String: Any])
    let measured = try #require(last["sharpness"] as? Double)
    #expect(abs(measured - values[0]) <= 1e-4 * values[0])
    let data = try Data(contentsOf: URL(fileURLWithPath: npy))
    #expect(data.prefix(6) == Data([0x93] + Array("NUMPY".utf8)))
    #expect(data.count > 2 * (784 * 16 + 16 + 16 * 10 + 10) * 8)
  }
}
