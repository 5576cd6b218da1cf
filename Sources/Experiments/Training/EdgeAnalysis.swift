import Foundation

/// Where a tracked run reaches the edge and how it sits there, as DESIGN.md's run
/// folder defines it (`summary.json`: `onset_step`, `plateau`, `verdict`), from the
/// measured ratios r = governing sharpness / threshold.
///
/// - onset: the first measurement with r ≥ 0.95 *coming from below*. A run that
///   starts at or above 0.95 counts only once it has been below and comes back; a run
///   that is never below 0.95 has its onset at its first measurement; none if r never
///   reaches 0.95 from below.
/// - plateau: median, 10th and 90th percentile (linear interpolation, as numpy's
///   default) of r over the measurements at and after the onset; none without onset.
/// - verdict: `diverged` for a diverged run; else `at the edge` if the plateau median
///   is in [0.85, 1.2], `above` if larger, `below` if smaller or without onset.
///
/// Non-finite ratios (a failed measurement) are skipped.
public struct EdgeAnalysis: Sendable, Equatable {
  public struct Plateau: Sendable, Equatable {
    public var median: Double
    public var p10: Double
    public var p90: Double
  }

  public enum Verdict: String, Sendable, Equatable, CaseIterable {
    case atTheEdge = "at the edge"
    case above
    case below
    case diverged
  }

  /// The onset's ratio threshold, and the plateau band of `at the edge`.
  public static let onsetRatio = 0.95
  public static let edgeBand = 0.85...1.2

  /// The step of the onset measurement, if any.
  public var onsetStep: Int?
  /// Its index among the (finite) measurements given.
  public var onsetIndex: Int?
  public var plateau: Plateau?
  public var verdict: Verdict

  /// - Parameters: `steps[i]` is the step of measurement i and `ratios[i]` its ratio
  ///   (equal counts); `diverged`: the run's status.
  public init(steps: [Int], ratios: [Double], diverged: Bool = false) {
    precondition(steps.count == ratios.count, "EdgeAnalysis: one step per ratio")
    let kept = zip(steps, ratios).filter { $0.1.isFinite }
    var onset: Int? = nil
    var beenBelow = false
    for (i, (_, r)) in kept.enumerated() {
      if r < Self.onsetRatio {
        beenBelow = true
      } else if beenBelow {
        onset = i
        break
      }
    }
    if onset == nil, !kept.isEmpty, !beenBelow { onset = 0 }
    onsetIndex = onset
    onsetStep = onset.map { kept[$0].0 }
    if let onset {
      let tail = kept[onset...].map(\.1).sorted()
      plateau = Plateau(median: percentile(sorted: tail, 0.5), p10: percentile(sorted: tail, 0.1), p90: percentile(sorted: tail, 0.9))
    }
    if diverged {
      verdict = .diverged
    } else if let m = plateau?.median {
      verdict = Self.edgeBand.contains(m) ? .atTheEdge : (m > Self.edgeBand.upperBound ? .above : .below)
    } else {
      verdict = .below
    }
  }
}

extension EdgeAnalysis {
  /// "onset at step 500, plateau 1.003× (p10 0.997, p90 1.006), at the edge".
  public var summary: String {
    guard let step = onsetStep, let p = plateau else { return "no onset, \(verdict.rawValue)" }
    return String(format: "onset at step %d, plateau %.3f× (p10 %.3f, p90 %.3f), %@", step, p.median, p.p10, p.p90, verdict.rawValue)
  }
}
