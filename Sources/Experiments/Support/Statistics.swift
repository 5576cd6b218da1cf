/// Summary statistics of samples (run summaries, benchmarks, verify).

/// Median of a non-empty sample (mean of the middle two for even counts).
public func median(_ xs: [Double]) -> Double {
  let s = xs.sorted()
  guard !s.isEmpty else { return .nan }
  return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
}

/// The q-quantile (0 ≤ q ≤ 1) of ascending `sorted` with linear interpolation between
/// the closest ranks (numpy's default): rank q·(n − 1). NaN for an empty array.
public func percentile(sorted: [Double], _ q: Double) -> Double {
  guard !sorted.isEmpty else { return .nan }
  let rank = min(max(q, 0), 1) * Double(sorted.count - 1)
  let lo = Int(rank.rounded(.down))
  let hi = min(lo + 1, sorted.count - 1)
  let w = rank - Double(lo)
  return w == 0 ? sorted[lo] : sorted[lo] + w * (sorted[hi] - sorted[lo])
}
