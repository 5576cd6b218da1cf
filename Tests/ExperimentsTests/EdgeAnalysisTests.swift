import Foundation
import PropertyBased
import Testing

@testable import Experiments

/// DESIGN.md's onset, plateau and verdict, checked from their definitions on random
/// ratio sequences (around the 0.95 onset level and the [0.85, 1.2] band).
@Suite struct EdgeAnalysisTests {
  static let ratios = Gen.double(in: 0.5...1.5).array(of: 1...30)

  /// One hand-worked case of DESIGN.md's definitions: the expected onset step,
  /// plateau (median, p10, p90) and verdict are worked out by hand, not computed.
  struct Case: Sendable, CustomTestStringConvertible {
    var name: String
    var steps: [Int]
    var ratios: [Double]
    var diverged = false
    var onsetStep: Int?
    var plateau: (median: Double, p10: Double, p90: Double)?
    var verdict: EdgeAnalysis.Verdict
    var testDescription: String { name }
  }

  /// Percentiles by numpy's default (linear): the q-quantile of n sorted values s is
  /// at rank q·(n − 1), s[⌊rank⌋] + frac(rank)·(s[⌊rank⌋+1] − s[⌊rank⌋]).
  static let cases: [Case] = [
    // Starts above, dips, returns: the first two (≥ 0.95 but not from below) do not
    // count; onset at 0.96 (step 40). Tail [0.96, 1.0]: median rank 0.5 → 0.98,
    // p10 rank 0.1 → 0.96 + 0.1·0.04 = 0.964, p90 rank 0.9 → 0.996.
    Case(
      name: "starts above, dips, returns", steps: [0, 10, 20, 30, 40, 50], ratios: [1.0, 1.1, 0.9, 0.8, 0.96, 1.0],
      onsetStep: 40, plateau: (0.98, 0.964, 0.996), verdict: .atTheEdge),
    // Never below 0.95: onset at the first measurement. Tail sorted [0.95, 1.0, 1.3]:
    // median rank 1 → 1.0, p10 rank 0.2 → 0.95 + 0.2·0.05 = 0.96, p90 rank 1.8 →
    // 1.0 + 0.8·0.3 = 1.24.
    Case(
      name: "never below", steps: [5, 15, 25], ratios: [1.0, 0.95, 1.3],
      onsetStep: 5, plateau: (1.0, 0.96, 1.24), verdict: .atTheEdge),
    Case(name: "never reaches 0.95", steps: [0, 1, 2], ratios: [0.5, 0.6, 0.94], verdict: .below),
    Case(name: "starts above, falls, never returns", steps: [0, 1, 2], ratios: [1.0, 0.9, 0.8], verdict: .below),
    Case(name: "one measurement above", steps: [7], ratios: [2.0], onsetStep: 7, plateau: (2.0, 2.0, 2.0), verdict: .above),
    Case(name: "one measurement below", steps: [7], ratios: [0.5], verdict: .below),
    Case(name: "no measurements", steps: [], ratios: [], verdict: .below),
    // Exactly 0.95 counts as reached (≥). Tail [0.95, 0.9] sorted [0.9, 0.95]:
    // median 0.925, p10 0.9 + 0.1·0.05 = 0.905, p90 0.9 + 0.9·0.05 = 0.945.
    Case(
      name: "exactly 0.95 from below", steps: [0, 1, 2], ratios: [0.9, 0.95, 0.9],
      onsetStep: 1, plateau: (0.925, 0.905, 0.945), verdict: .atTheEdge),
    // Just below 0.95 is still below: onset only at the exact 0.95 after it.
    Case(
      name: "just below 0.95, then 0.95", steps: [0, 1, 2], ratios: [Double(0.95).nextDown, Double(0.95).nextDown, 0.95],
      onsetStep: 2, plateau: (0.95, 0.95, 0.95), verdict: .atTheEdge),
    // Non-finite ratios are skipped: the NaN between 0.9 and 1.0 is no measurement,
    // and the NaN / ∞ entries are left out of the plateau. Tail [1.0, 1.1] → median
    // 1.05, p10 1.01, p90 1.09.
    Case(
      name: "NaN and ∞ skipped", steps: [0, 10, 20, 30, 40, 50], ratios: [0.9, .nan, 1.0, .infinity, .nan, 1.1],
      onsetStep: 20, plateau: (1.05, 1.01, 1.09), verdict: .atTheEdge),
    // A NaN first: the first *finite* measurement is the first measurement.
    Case(
      name: "NaN first, never below", steps: [0, 10, 20], ratios: [.nan, 1.0, 1.0],
      onsetStep: 10, plateau: (1.0, 1.0, 1.0), verdict: .atTheEdge),
    Case(name: "only NaN", steps: [0, 10], ratios: [.nan, .nan], verdict: .below),
    // A NaN does not break "has been below": 1.0, 0.9, NaN, 0.97 has its onset at 0.97.
    Case(
      name: "NaN between below and back", steps: [0, 10, 20, 30], ratios: [1.0, 0.9, .nan, 0.97],
      onsetStep: 30, plateau: (0.97, 0.97, 0.97), verdict: .atTheEdge),
    // Plateau, odd count: tail sorted [0.9, 1.0, 1.05, 1.1, 1.2] (n = 5): median rank
    // 2 → 1.05; p10 rank 0.4 → 0.9 + 0.4·0.1 = 0.94; p90 rank 3.6 → 1.1 + 0.6·0.1 = 1.16.
    Case(
      name: "plateau of five", steps: [0, 1, 2, 3, 4, 5], ratios: [0.5, 1.2, 0.9, 1.1, 1.0, 1.05],
      onsetStep: 1, plateau: (1.05, 0.94, 1.16), verdict: .atTheEdge),
    // Plateau, even count: tail sorted [0.96, 1.0, 1.02, 1.1] (n = 4): median rank 1.5
    // → 1.01; p10 rank 0.3 → 0.96 + 0.3·0.04 = 0.972; p90 rank 2.7 → 1.02 + 0.7·0.08 = 1.076.
    Case(
      name: "plateau of four", steps: [0, 1, 2, 3, 4], ratios: [0.1, 1.1, 0.96, 1.02, 1.0],
      onsetStep: 1, plateau: (1.01, 0.972, 1.076), verdict: .atTheEdge),
    // Verdict band [0.85, 1.2], both ends inclusive. Median exactly 0.85: tail sorted
    // [0.85, 0.85, 0.95], rank 1 → 0.85.
    Case(
      name: "median exactly 0.85", steps: [0, 1, 2, 3], ratios: [0.5, 0.95, 0.85, 0.85],
      onsetStep: 1, plateau: (0.85, 0.85, 0.93), verdict: .atTheEdge),
    Case(
      name: "median just below 0.85", steps: [0, 1, 2, 3], ratios: [0.5, 0.95, Double(0.85).nextDown, Double(0.85).nextDown],
      onsetStep: 1, plateau: (Double(0.85).nextDown, Double(0.85).nextDown, 0.93), verdict: .below),
    Case(name: "median exactly 1.2", steps: [0, 1], ratios: [0.5, 1.2], onsetStep: 1, plateau: (1.2, 1.2, 1.2), verdict: .atTheEdge),
    Case(
      name: "median just above 1.2", steps: [0, 1], ratios: [0.5, Double(1.2).nextUp], onsetStep: 1, plateau: (Double(1.2).nextUp, Double(1.2).nextUp, Double(1.2).nextUp),
      verdict: .above),
    // Diverged overrides the plateau's verdict, but onset and plateau are still reported.
    Case(
      name: "diverged at the edge", steps: [0, 1], ratios: [0.5, 1.0], diverged: true,
      onsetStep: 1, plateau: (1.0, 1.0, 1.0), verdict: .diverged),
    Case(name: "diverged without onset", steps: [0], ratios: [0.5], diverged: true, verdict: .diverged),
  ]

  /// The table above. The percentile arithmetic (one subtraction, one product, one
  /// sum on values ≤ 2) is within a few ulps of the hand values; 1e-12 is far below
  /// the smallest difference a wrong rank would make (0.004 here) and, at the band
  /// edges, the values are data entries returned exactly (integer rank), which the
  /// verdict must classify by the exact value.
  @Test(arguments: Self.cases)
  func handWorkedCases(_ c: Case) {
    let a = EdgeAnalysis(steps: c.steps, ratios: c.ratios, diverged: c.diverged)
    #expect(a.onsetStep == c.onsetStep)
    #expect(a.verdict == c.verdict)
    switch (a.plateau, c.plateau) {
    case (nil, nil): break
    case let (p?, e?):
      #expect(abs(p.median - e.median) <= 1e-12, "median \(p.median), expected \(e.median)")
      #expect(abs(p.p10 - e.p10) <= 1e-12, "p10 \(p.p10), expected \(e.p10)")
      #expect(abs(p.p90 - e.p90) <= 1e-12, "p90 \(p.p90), expected \(e.p90)")
    case let (p, e):
      Issue.record("plateau \(String(describing: p)), expected \(String(describing: e))")
    }
  }

  /// Ratios around the onset level, with exactly 0.95 one time in ten (a draw
  /// below 0.6 becomes 0.95) so the boundary is exercised.
  static let onsetRatios = Gen.double(in: 0.5...1.5).map { $0 < 0.6 ? 0.95 : $0 }.array(of: 0...30)

  /// The onset from its defining properties, not by re-running the search. Call a
  /// measurement "up" if r ≥ 0.95 and "down" otherwise. DESIGN.md's definition says:
  /// - onset at i > 0 ⇔ r[i] is up, r[i − 1] is down, and nothing before i is an
  ///   up that comes after a down (else that would be an earlier onset): r[0..<i] is
  ///   some ups followed by at least one down;
  /// - onset at 0 ⇔ every measurement is up (never below);
  /// - no onset ⇔ the whole run is some ups followed by at least one down (it went
  ///   below and never came back), or there are no measurements.
  @Test func onsetSatisfiesItsDefinition() async {
    await propertyCheck(count: 300, input: Self.onsetRatios) { r in
      let steps = r.indices.map { 10 * $0 + 3 }
      let a = EdgeAnalysis(steps: steps, ratios: r)
      let up = r.map { $0 >= 0.95 }
      /// ups, then one or more downs
      func upsThenDowns(_ u: ArraySlice<Bool>) -> Bool {
        guard let firstDown = u.firstIndex(of: false) else { return false }
        return u[firstDown...].allSatisfy { !$0 }
      }
      if let i = a.onsetIndex {
        #expect(a.onsetStep == steps[i])
        #expect(up[i], "onset at a ratio \(r[i]) < 0.95")
        if i == 0 {
          #expect(up.allSatisfy { $0 }, "onset at the first measurement, but the run goes below 0.95 later: \(r)")
        } else {
          #expect(!up[i - 1], "the measurement before the onset is not below 0.95: \(r)")
          #expect(upsThenDowns(up[..<i]), "an earlier measurement came back from below: \(r)")
        }
        #expect(a.plateau != nil)
      } else {
        #expect(r.isEmpty || upsThenDowns(up[...]), "no onset, yet the run comes back from below or never goes below: \(r)")
        #expect(a.onsetStep == nil && a.plateau == nil && a.verdict == .below)
      }
    }
  }

  @Test func plateauIsOrderedAndWithinTheTail() async {
    await propertyCheck(count: 300, input: Self.ratios) { r in
      let a = EdgeAnalysis(steps: Array(r.indices), ratios: r)
      guard let i = a.onsetIndex, let p = a.plateau else { return }
      let tail = r[i...]
      #expect(p.p10 <= p.median && p.median <= p.p90)
      #expect((tail.min() ?? .nan) <= p.p10 && p.p90 <= (tail.max() ?? .nan))
      // the median splits the tail: at most half strictly above, at most half strictly below
      #expect(2 * tail.filter { $0 > p.median }.count <= tail.count)
      #expect(2 * tail.filter { $0 < p.median }.count <= tail.count)
    }
  }

  @Test func verdictFollowsThePlateauMedian() async {
    await propertyCheck(count: 300, input: Self.ratios, Gen.bool) { r, diverged in
      let a = EdgeAnalysis(steps: Array(r.indices), ratios: r, diverged: diverged)
      if diverged {
        #expect(a.verdict == .diverged)
      } else if let m = a.plateau?.median {
        #expect(a.verdict == (m < 0.85 ? .below : m > 1.2 ? .above : .atTheEdge))
      } else {
        #expect(a.verdict == .below)
      }
    }
  }

  @Test func nonFiniteRatiosAreSkipped() async {
    await propertyCheck(count: 100, input: Self.ratios, Gen.int(in: 0...29)) { r, at in
      var withNaN = r
      var steps = Array(r.indices)
      let k = min(at, r.count)
      withNaN.insert(.nan, at: k)
      steps.insert(-1, at: k)
      let a = EdgeAnalysis(steps: steps, ratios: withNaN)
      let b = EdgeAnalysis(steps: Array(r.indices), ratios: r)
      #expect(a.onsetStep == b.onsetStep && a.plateau == b.plateau && a.verdict == b.verdict)
    }
  }

  /// Percentiles: the data values at the ranks, between them inside, monotone in q.
  @Test func percentileInterpolatesBetweenRanks() async {
    await propertyCheck(count: 200, input: Gen.double(in: -100...100).array(of: 1...40), Gen.double(in: 0...1)) { xs, q in
      let s = xs.sorted()
      let n = s.count
      let tolerance = 1e-12 * (1 + s[n - 1] - s[0])
      // At q = k/(n − 1) the value is s[k], up to the round-off of the rank q·(n − 1)
      // (a few ulps of k) times the gap to the next value: 1e-12 of the data's range.
      for k in 0..<n where n > 1 {
        #expect(abs(percentile(sorted: s, Double(k) / Double(n - 1)) - s[k]) <= tolerance)
      }
      let v = percentile(sorted: s, q)
      #expect(s[0] <= v && v <= s[n - 1])
      #expect(percentile(sorted: s, min(1, q + 0.1)) >= v - tolerance)
    }
    #expect(percentile(sorted: [], 0.5).isNaN)
    #expect(percentile(sorted: [1, 2, 3, 4], 0.5) == 2.5)
  }
}
