import Foundation
import Testing

/// `aeos compare`, `aeos verify --report`/`--threshold-scale` and `aeos growth --slope`
/// as a user runs them; real (tiny, synthetic-data) run folders.
@Suite struct CompareCLITests {
  static let small = ["--data", "synthetic", "--n", "200", "--test-n", "0", "--depth", "1", "--width", "16", "--threads", "2", "--quiet"]

  static func folder(_ tag: String) -> String {
    FileManager.default.temporaryDirectory.appendingPathComponent("aeos-compare-cli-\(tag)-\(UUID().uuidString)").path
  }

  /// Three tiny runs: GD at η = 0.5 with seeds 0 and 1, and Adam.
  static func makeRuns(_ root: String) throws -> [String] {
    let specs: [[String]] = [
      ["--optimizer", "gd", "--lr", "0.5", "--seed", "0"],
      ["--optimizer", "gd", "--lr", "0.5", "--seed", "1"],
      ["--optimizer", "adam", "--lr", "0.01"],
    ]
    var dirs: [String] = []
    for (i, spec) in specs.enumerated() {
      let dir = "\(root)/run\(i)"
      let r = try CLI.run(["train", "--out", dir, "--steps", "60", "--track-every", "5"] + spec + Self.small)
      #expect(r.status == 0 || r.status == 3, "\(r.stderr)")
      dirs.append(dir)
    }
    return dirs
  }

  /// Every number of `--json` equals what `aeos train` wrote into the seeds'
  /// summary.json; the GD seeds merge into one row; CSV and the table have one line
  /// per setting.
  @Test func compareAgreesWithTheRunSummaries() throws {
    let root = Self.folder("agree")
    defer { try? FileManager.default.removeItem(atPath: root) }
    let dirs = try Self.makeRuns(root)
    let d = try CLI.json(["compare", root, "--json"])
    let rows = try #require(d["runs"] as? [[String: Any]])
    #expect(rows.count == 2)
    #expect(rows[0]["seeds"] as? [Int] == [0, 1])
    #expect(rows[0]["optimizer"] as? String == "gd" && rows[1]["optimizer"] as? String == "adam")
    #expect(rows[0]["beta1"] is NSNull && rows[1]["beta1"] as? Double == 0.9)
    #expect(rows[0]["quantity"] as? String == "sharpness" && rows[1]["quantity"] as? String == "preconditioned sharpness")
    #expect(rows[0]["threshold"] as? Double == 4)
    let perSeed = rows.flatMap { ($0["per_seed"] as? [[String: Any]]) ?? [] }
    #expect(perSeed.count == 3)
    for (dir, seed) in zip(dirs, perSeed) {
      let data = try Data(contentsOf: URL(fileURLWithPath: dir + "/summary.json"))
      let summary = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
      #expect(seed["dir"] as? String == dir)
      #expect(seed["status"] as? String == summary["status"] as? String)
      #expect(seed["verdict"] as? String == summary["verdict"] as? String)
      #expect("\(seed["onset_step"] ?? "nil")" == "\(summary["onset_step"] ?? "nil")")
      #expect(seed["plateau"] as? [String: Double] == summary["plateau"] as? [String: Double])
      #expect((seed["plateau"] is NSNull) == (summary["plateau"] is NSNull))
      #expect("\(seed["raw_sharpness_change_per_100"] ?? "nil")" == "\(summary["raw_sharpness_change_per_100"] ?? "nil")")
    }
    let csv = try CLI.run(["compare"] + dirs + ["--csv"])
    #expect(csv.status == 0)
    #expect(csv.stdout.split(separator: "\n").count == 3)
    #expect(csv.stdout.hasPrefix("label,optimizer,rule,lr,"))
    let table = try CLI.run(["compare", root])
    #expect(table.status == 0)
    let lines = table.stdout.split(separator: "\n")
    #expect(lines.count == 3 && lines[0].hasPrefix("setting"))
    #expect(lines[1].hasPrefix("gd η = 0.5 ") && lines[1].contains("2/η = 4"))
  }

  /// The plot renders with rsvg-convert (librsvg2-bin, which `make deps` installs) to
  /// a PNG that is not blank: a few percent of its pixels are drawn and both settings'
  /// colours (blue #1f77b4 and red #d62728) appear.
  @Test(.enabled(if: Python.exists)) func plotRendersWithRSVG() throws {
    let root = Self.folder("plot")
    defer { try? FileManager.default.removeItem(atPath: root) }
    _ = try Self.makeRuns(root)
    let svg = root + "/figure.svg", png = root + "/figure.png"
    let r = try CLI.run(["compare", root, "--plot", svg, "--raw"])
    #expect(r.status == 0, "\(r.stderr)")
    #expect(r.stderr.contains("wrote \(svg)"))
    let rsvg = try Subprocess.run(URL(fileURLWithPath: "/usr/bin/env"), ["rsvg-convert", "-f", "png", "-o", png, svg])
    try #require(rsvg.status == 0, "rsvg-convert failed (install librsvg2-bin: make deps does): \(rsvg.stderr)")
    let counts = try Python.run(Self.pngCounts + "\nprint(*counts(\"\(png)\"))")
    try #require(counts.status == 0, "\(counts.stderr)")
    let n = counts.stdout.split(separator: " ").compactMap { Double($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
    try #require(n.count == 3, "\(counts.stdout)")
    // drawn fraction: axes, text and curves cover a few percent of a white figure
    #expect(n[0] > 0.01 && n[0] < 0.5, "drawn fraction \(n[0])")
    #expect(n[1] > 30, "blue pixels \(n[1])")
    #expect(n[2] > 30, "red pixels \(n[2])")
  }

  /// A PNG decoder in the Python standard library (zlib + the five PNG row filters):
  /// the fraction of pixels that are not white, and the counts of blue-ish and
  /// red-ish pixels.
  static let pngCounts = #"""
    import struct, zlib
    def counts(path):
        data = open(path, 'rb').read()
        assert data[:8] == b'\x89PNG\r\n\x1a\n', 'not a PNG'
        pos, idat = 8, b''
        while pos < len(data):
            n, = struct.unpack('>I', data[pos:pos + 4])
            kind, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + n]
            pos += 12 + n
            if kind == b'IHDR':
                w, h, depth, ctype = struct.unpack('>IIBB', body[:10])
            elif kind == b'IDAT':
                idat += body
        assert depth == 8 and ctype in (2, 6), (depth, ctype)
        bpp = 4 if ctype == 6 else 3
        raw, stride = zlib.decompress(idat), w * bpp
        prev, i = bytearray(stride), 0
        drawn = blue = red = 0
        for y in range(h):
            f, line = raw[i], bytearray(raw[i + 1:i + 1 + stride])
            i += 1 + stride
            for x in range(stride):
                a = line[x - bpp] if x >= bpp else 0
                b = prev[x]
                c = prev[x - bpp] if x >= bpp else 0
                if f == 1: line[x] = (line[x] + a) & 255
                elif f == 2: line[x] = (line[x] + b) & 255
                elif f == 3: line[x] = (line[x] + ((a + b) >> 1)) & 255
                elif f == 4:
                    p = a + b - c
                    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                    line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
            for x in range(0, stride, bpp):
                r, g, bl = line[x], line[x + 1], line[x + 2]
                alpha = line[x + 3] if bpp == 4 else 255
                if alpha > 0 and min(r, g, bl) < 240: drawn += 1
                if bl > 120 and bl > r + 60: blue += 1
                if r > 150 and r > g + 80 and r > bl + 80: red += 1
            prev = line
        return drawn / (w * h), blue, red
    """#

  /// Bad input: no folder, a folder that does not exist, one that holds no run, a
  /// malformed metrics line, --raw without --plot: exit 64 and the path named.
  @Test func badInputIsRefused() throws {
    let root = Self.folder("bad")
    defer { try? FileManager.default.removeItem(atPath: root) }
    try FileManager.default.createDirectory(atPath: root + "/empty", withIntermediateDirectories: true)
    let none = try CLI.run(["compare"])
    #expect(none.status == 64)
    let missing = try CLI.run(["compare", root + "/nowhere"])
    #expect(missing.status == 64 && missing.stderr.contains(root + "/nowhere does not exist"), "\(missing.stderr)")
    let empty = try CLI.run(["compare", root + "/empty"])
    #expect(empty.status == 64 && empty.stderr.contains("not a run folder"), "\(empty.stderr)")
    let raw = try CLI.run(["compare", root, "--raw"])
    #expect(raw.status == 64 && raw.stderr.contains("--plot"))
    let train = try CLI.run(["train", "--out", root + "/run", "--optimizer", "gd", "--lr", "0.5", "--steps", "10", "--track-every", "5"] + Self.small)
    #expect(train.status == 0)
    let metrics = root + "/run/metrics.jsonl"
    var lines = try String(contentsOfFile: metrics, encoding: .utf8).split(separator: "\n").map(String.init)
    lines[4] = "not json"
    try (lines.joined(separator: "\n") + "\n").write(toFile: metrics, atomically: true, encoding: .utf8)
    let bad = try CLI.run(["compare", root + "/run"])
    #expect(bad.status == 64 && bad.stderr.contains("\(metrics) line 5"), "\(bad.stderr)")
  }

  /// `aeos verify` fails when its checks are held against a wrong threshold, and its
  /// report says so.
  @Test func verifyFailsOnAWrongThreshold() throws {
    let root = Self.folder("verify")
    defer { try? FileManager.default.removeItem(atPath: root) }
    let good = try CLI.run(["verify", "--layer", "theory", "--layer", "quadratics", "--report", root + "/good"])
    #expect(good.status == 0, "\(good.stdout)")
    #expect(!good.stdout.contains("✗"))
    let report = (try? String(contentsOfFile: root + "/good/report.md", encoding: .utf8)) ?? ""
    #expect(report.contains("All 28 checks passed"), "\(report.prefix(300))")
    for scale in ["1.1", "0.9"] {
      let bad = try CLI.run(["verify", "--layer", "theory", "--layer", "quadratics", "--threshold-scale", scale, "--report", root + "/bad"])
      #expect(bad.status == 1, "scale \(scale): \(bad.stdout)")
      #expect(bad.stdout.contains("✗ Table 1 closed form, gd"))
      #expect(bad.stdout.contains("✗ adam threshold"))
      let badReport = (try? String(contentsOfFile: root + "/bad/report.md", encoding: .utf8)) ?? ""
      #expect(badReport.contains("checks failed"))
    }
    let zero = try CLI.run(["verify", "--threshold-scale", "0"])
    #expect(zero.status == 64)
    let blocked = try CLI.run(["verify", "--layer", "theory", "--report", "/proc/aeos-no-such-folder"])
    #expect(blocked.status == 64 && blocked.stderr.contains("--report /proc/aeos-no-such-folder: cannot create"), "\(blocked.stderr)")
  }

  /// `aeos growth --slope`: GD's ρ = ηλ − 1 past 2/η rises with slope 2 in units of
  /// the threshold; heavy ball's with 2(1 + β)/(1 − β) (38 at β = 0.9; derived in
  /// docs/reference.md).
  @Test func growthSlope() throws {
    let gd = try CLI.json(["growth", "gd", "--lr", "0.3", "--slope", "--json"])
    // 1e-9: the threshold and the root are found to ~1e-12, the derivative is exact
    #expect(abs((gd["slope"] as? Double ?? 0) - 2) < 1e-9)
    let hb = try CLI.json(["growth", "hb", "--lr", "0.02", "--beta1", "0.8", "--slope", "--json"])
    #expect(abs((hb["slope"] as? Double ?? 0) - 18) < 1e-6)
    let text = try CLI.run(["growth", "ema-hb", "--lr", "0.4", "--slope"])
    #expect(text.stdout.contains("slope dρ/d(λ/λ*) at the threshold, from above: 38"))
    let both = try CLI.run(["growth", "gd", "--lr", "0.3", "--slope", "--eigenvalue", "1"])
    #expect(both.status == 64)
  }
}
