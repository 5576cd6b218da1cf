import PropertyBased
import Testing

@testable import Experiments

/// The verdicts of `aeos verify`'s training checks, on synthetic sharpness traces
/// (21 measurements, every 100 steps): a trace that dips, rises to the threshold and
/// hovers within ±4 % passes; one that never reaches it, or hovers off by more than
/// the bands, fails.
@Suite struct EdgeOfStabilityCheckTests {
  static func trace(dip: Double, hover: [Double], threshold: Double) -> Verify.SharpnessTrace {
    var t = Verify.SharpnessTrace()
    // step 0 far above (the initial catapult), a dip, a linear rise to the threshold
    // by step 900, then the hover values for steps 1000–2000.
    let rise = (0..<8).map { dip + (threshold - dip) * Double($0 + 1) / 8 }
    let values = [5 * threshold, dip] + rise + hover
    for (k, v) in values.enumerated() {
      t.steps.append(100 * k)
      t.sharpness.append(v)
      t.losses.append(1 / Double(k + 1))
    }
    return t
  }

  @Test func hoveringAtTheThresholdPasses() async {
    await propertyCheck(
      count: 100, input: Gen.double(in: 1...1000), Gen.double(in: 0.3...0.85), Gen.double(in: -0.04...0.04).array(of: 11)
    ) { threshold, dipFraction, offsets in
      let t = Self.trace(dip: dipFraction * threshold, hover: offsets.map { threshold * (1 + $0) }, threshold: threshold)
      let checks = Verify.edgeOfStabilityChecks(t, threshold: threshold, setup: "synthetic")
      #expect(checks.count == 3)
      let allPassed = checks.allSatisfy { $0.passed }
      #expect(allPassed, "\(checks.map(\.measured))")
    }
  }

  @Test func hoveringOffTheThresholdFails() async {
    // Every hover value 6–30 % above (or below) 2/η: the median is outside ±5 %.
    await propertyCheck(
      count: 100, input: Gen.double(in: 1...1000), Gen.double(in: 0.06...0.3).array(of: 11), Gen.bool
    ) { threshold, offsets, above in
      let hover = offsets.map { threshold * (above ? 1 + $0 : 1 - $0) }
      let t = Self.trace(dip: 0.5 * threshold, hover: hover, threshold: threshold)
      let checks = Verify.edgeOfStabilityChecks(t, threshold: threshold, setup: "synthetic")
      #expect(!checks[1].passed, "\(checks[1].measured)")
    }
  }

  @Test func neverReachingTheThresholdFailsProgressiveSharpening() async {
    await propertyCheck(count: 100, input: Gen.double(in: 1...1000), Gen.double(in: 0.2...0.9)) { threshold, ceiling in
      // Sharpness that stays at or below `ceiling` × 2/η < 0.95 × 2/η after step 0.
      var t = Verify.SharpnessTrace()
      for k in 0..<21 {
        t.steps.append(100 * k)
        t.sharpness.append(k == 0 ? 3 * threshold : ceiling * threshold * (0.5 + 0.5 * Double(k) / 20))
        t.losses.append(1 / Double(k + 1))
      }
      let checks = Verify.edgeOfStabilityChecks(t, threshold: threshold, setup: "synthetic")
      #expect(!checks[0].passed)
      #expect(!checks[1].passed)
    }
  }

  @Test func aLossThatRisesAtTheEdgeFails() {
    var t = Self.trace(dip: 10, hover: [Double](repeating: 25, count: 11), threshold: 25)
    t.losses[t.losses.count - 1] = 2 * t.losses[10]
    let checks = Verify.edgeOfStabilityChecks(t, threshold: 25, setup: "synthetic")
    #expect(checks[0].passed && checks[1].passed)
    #expect(!checks[2].passed)
  }
}

/// The files `aeos verify --plots` writes: a CSV that loads as a table (header, one
/// row per measurement, four numeric columns) and an SVG with the threshold rule.
@Suite struct TrainingRunOutputTests {
  @Test func csvAndSVG() async {
    await propertyCheck(count: 30, input: Gen.double(in: 1...1e5), Gen.double(in: 0.1...10).array(of: 2...40)) { threshold, values in
      var t = Verify.SharpnessTrace()
      for (k, v) in values.enumerated() {
        t.steps.append(100 * k)
        t.sharpness.append(v * threshold)
        t.losses.append(1 / Double(k + 1))
      }
      let run = Verify.TrainingRun(
        optimizer: "gd", lr: 2 / threshold, symbol: "λ₁(H)", threshold: threshold, thresholdName: "2/η", trace: t, checks: [])
      let lines = run.csv.split(separator: "\n")
      #expect(lines.first == "step,loss,sharpness,threshold")
      #expect(lines.count == values.count + 1)
      for (k, line) in lines.dropFirst().enumerated() {
        let cells = line.split(separator: ",").compactMap { Double($0) }
        #expect(cells.count == 4)
        #expect(cells.first == Double(100 * k))
        #expect(cells.last == threshold)
      }
      let svg = run.svg
      #expect(svg.contains("<svg"))
      #expect(svg.contains("2/η = "))
    }
  }
}
