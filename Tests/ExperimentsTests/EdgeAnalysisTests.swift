import Foundation
import PropertyBased
import Testing

@testable import Experiments

/// DESIGN.md's onset, plateau and verdict, checked from their definitions on random
/// ratio sequences (around the 0.95 onset level and the [0.85, 1.2] band).
@Suite struct EdgeAnalysisTests {
  static let ratios = Gen.double(in: 0.5...1.5).array(of: 1...30)

  @Test func onsetIsTheFirstCrossingFromBelow() async {
    await propertyCheck(count: 300, input: Self.ratios) { r in
      let steps = r.indices.map { 10 * $0 }
      let a = EdgeAnalysis(steps: steps, ratios: r)
      let firstBelow = r.firstIndex { $0 < 0.95 }
      if let below = firstBelow {
        // the first index after a value below 0.95 that is back at or above it
        let expected = r.indices.first { $0 > below && r[$0] >= 0.95 }
        #expect(a.onsetIndex == expected)
      } else {
        #expect(a.onsetIndex == 0)
      }
      if let i = a.onsetIndex {
        #expect(a.onsetStep == steps[i])
        #expect(r[i] >= 0.95)
      } else {
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
