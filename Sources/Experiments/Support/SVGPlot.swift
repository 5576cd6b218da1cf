import Foundation

/// A small, dependency-free SVG line plot: several series, optional logarithmic y
/// axis, horizontal and vertical reference lines with labels. Opens in any browser.
public struct LinePlot: Sendable {
  public struct Series: Sendable {
    public var name: String
    public var points: [(Double, Double)]
    public init(name: String, points: [(Double, Double)]) {
      self.name = name
      self.points = points
    }
  }

  public var title: String
  public var xLabel: String
  public var yLabel: String
  public var logY = false
  public var series: [Series] = []
  public var horizontalRules: [(Double, String)] = []
  public var verticalRules: [(Double, String)] = []
  public var width = 720.0
  public var height = 440.0

  public init(title: String, xLabel: String, yLabel: String, logY: Bool = false) {
    self.title = title
    self.xLabel = xLabel
    self.yLabel = yLabel
    self.logY = logY
  }

  /// 1, 2 or 5 times a power of ten, at least `raw`.
  static func niceStep(_ raw: Double) -> Double {
    guard raw > 0, raw.isFinite else { return 1 }
    let p = Foundation.pow(10, (Foundation.log10(raw)).rounded(.down))
    for m in [1.0, 2, 5, 10] where m * p >= raw { return m * p }
    return 10 * p
  }

  static let palette = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"]

  public func render() -> String {
    let left = 78.0, right = 20.0, top = 40.0, bottom = 50.0
    let pw = width - left - right, ph = height - top - bottom
    func ty(_ y: Double) -> Double? {
      if logY { return y > 0 ? Foundation.log10(y) : nil }
      return y.isFinite ? y : nil
    }
    var xs: [Double] = [], ys: [Double] = []
    for s in series { for (x, y) in s.points where x.isFinite { if let v = ty(y) { xs.append(x); ys.append(v) } } }
    for (y, _) in horizontalRules { if let v = ty(y) { ys.append(v) } }
    for (x, _) in verticalRules where x.isFinite { xs.append(x) }
    var (x0, x1) = (xs.min() ?? 0, xs.max() ?? 1)
    var (y0, y1) = (ys.min() ?? 0, ys.max() ?? 1)
    if x1 <= x0 { x1 = x0 + 1 }
    if y1 <= y0 { y1 = y0 + 1 }
    // round the y range out to whole ticks (decades on a log axis)
    let yStep = logY ? max(1, (y1 - y0) / 6).rounded(.up) : Self.niceStep((y1 - y0) / 5)
    y0 = (y0 / yStep).rounded(.down) * yStep
    y1 = (y1 / yStep).rounded(.up) * yStep
    let xStep = Self.niceStep((x1 - x0) / 5)
    func px(_ x: Double) -> Double { left + (x - x0) / (x1 - x0) * pw }
    func py(_ v: Double) -> Double { top + (1 - (v - y0) / (y1 - y0)) * ph }
    func f(_ v: Double) -> String { String(format: "%.2f", v) }
    func esc(_ s: String) -> String {
      s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }
    var svg = """
      <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="\(Int(height))" viewBox="0 0 \(Int(width)) \(Int(height))" font-family="sans-serif" font-size="12">
      <rect width="100%" height="100%" fill="white"/>
      <text x="\(f(width / 2))" y="22" text-anchor="middle" font-size="14">\(esc(title))</text>
      <rect x="\(f(left))" y="\(f(top))" width="\(f(pw))" height="\(f(ph))" fill="none" stroke="#444"/>

      """
    var v = y0
    while v <= y1 + yStep * 1e-9 {
      let label = logY ? "1e\(Int(v.rounded()))" : String(format: "%.4g", abs(v) < yStep * 1e-9 ? 0 : v)
      svg += "<line x1=\"\(f(left))\" x2=\"\(f(left + pw))\" y1=\"\(f(py(v)))\" y2=\"\(f(py(v)))\" stroke=\"#eee\"/>"
      svg += "<text x=\"\(f(left - 6))\" y=\"\(f(py(v) + 4))\" text-anchor=\"end\">\(label)</text>\n"
      v += yStep
    }
    var xv = (x0 / xStep).rounded(.up) * xStep
    while xv <= x1 + xStep * 1e-9 {
      svg += "<text x=\"\(f(px(xv)))\" y=\"\(f(top + ph + 18))\" text-anchor=\"middle\">\(String(format: "%.4g", abs(xv) < xStep * 1e-9 ? 0 : xv))</text>\n"
      xv += xStep
    }
    svg += "<text x=\"\(f(left + pw / 2))\" y=\"\(f(height - 10))\" text-anchor=\"middle\">\(esc(xLabel))</text>\n"
    svg += "<text transform=\"translate(14,\(f(top + ph / 2))) rotate(-90)\" text-anchor=\"middle\">\(esc(yLabel))\(logY ? " (log scale)" : "")</text>\n"
    for (y, label) in horizontalRules {
      guard let v = ty(y) else { continue }
      svg += "<line x1=\"\(f(left))\" x2=\"\(f(left + pw))\" y1=\"\(f(py(v)))\" y2=\"\(f(py(v)))\" stroke=\"#888\" stroke-dasharray=\"5,4\"/>"
      svg += "<text x=\"\(f(left + pw - 4))\" y=\"\(f(py(v) - 4))\" text-anchor=\"end\" fill=\"#555\">\(esc(label))</text>\n"
    }
    for (x, label) in verticalRules where x.isFinite {
      svg += "<line x1=\"\(f(px(x)))\" x2=\"\(f(px(x)))\" y1=\"\(f(top))\" y2=\"\(f(top + ph))\" stroke=\"#888\" stroke-dasharray=\"2,3\"/>"
      svg += "<text x=\"\(f(px(x) + 4))\" y=\"\(f(top + 14))\" fill=\"#555\">\(esc(label))</text>\n"
    }
    for (k, s) in series.enumerated() {
      let color = Self.palette[k % Self.palette.count]
      var path = ""
      var pen = false
      for (x, y) in s.points {
        guard x.isFinite, let v = ty(y) else { pen = false; continue }
        path += (pen ? " L" : " M") + "\(f(px(x))),\(f(py(v)))"
        pen = true
      }
      svg += "<path d=\"\(path)\" fill=\"none\" stroke=\"\(color)\" stroke-width=\"1.6\"/>\n"
      if series.count > 1 || !s.name.isEmpty {
        let ly = top + 16 + Double(k) * 16
        svg += "<line x1=\"\(f(left + 10))\" x2=\"\(f(left + 30))\" y1=\"\(f(ly - 4))\" y2=\"\(f(ly - 4))\" stroke=\"\(color)\" stroke-width=\"2\"/>"
        svg += "<text x=\"\(f(left + 36))\" y=\"\(f(ly))\">\(esc(s.name))</text>\n"
      }
    }
    svg += "</svg>\n"
    return svg
  }
}
