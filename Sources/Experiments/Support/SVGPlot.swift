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

/// Panels stacked over one shared x axis (the AEoS paper's Figure 1 layout: training
/// loss on top, sharpness below), each with its own y axis (linear or logarithmic),
/// lines in palette colours (solid or dashed), and one legend below the panels. Native
/// SVG 1.1, text escaped, so the file is well-formed XML and opens in any browser.
public struct StackedPlot: Sendable {
  public struct Line: Sendable {
    public var points: [(Double, Double)]
    /// Index into `StackedPlot.palette` (taken modulo its size).
    public var color: Int
    public var dashed: Bool
    public var width: Double
    /// A name for the SVG (`<title>` of the path, shown on hover), not the legend.
    public var name: String
    public init(name: String, points: [(Double, Double)], color: Int, dashed: Bool = false, width: Double = 1.5) {
      self.name = name
      self.points = points
      self.color = color
      self.dashed = dashed
      self.width = width
    }
  }

  public struct Panel: Sendable {
    public var yLabel: String
    public var logY: Bool
    public var lines: [Line] = []
    /// A line of text in the panel's top-left corner (e.g. "mixed quantities: …").
    public var note: String?
    public init(yLabel: String, logY: Bool, note: String? = nil) {
      self.yLabel = yLabel
      self.logY = logY
      self.note = note
    }
  }

  public struct LegendEntry: Sendable {
    public var label: String
    public var color: Int
    public init(label: String, color: Int) {
      self.label = label
      self.color = color
    }
  }

  public var title: String
  public var xLabel: String
  public var panels: [Panel] = []
  public var legend: [LegendEntry] = []
  /// A last legend line, e.g. "solid: measured · dashed: threshold (same colour)".
  public var legendNote: String?
  public var width = 760.0
  /// Tall enough for a y label of about 36 characters along the panel.
  public var panelHeight = 240.0

  public init(title: String, xLabel: String) {
    self.title = title
    self.xLabel = xLabel
  }

  /// Tableau's ten colours (distinguishable, and dark enough on white).
  public static let palette = [
    "#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf",
  ]

  public static func color(_ k: Int) -> String { palette[((k % palette.count) + palette.count) % palette.count] }

  static func escape(_ s: String) -> String {
    s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
      .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
  }

  /// A tick label: plain for 0.001 ≤ |v| < 100000, else mantissa and exponent ("2e5").
  static func tickLabel(_ v: Double) -> String {
    if v == 0 { return "0" }
    let a = abs(v)
    if a >= 1e-3 && a < 1e5 { return String(format: "%g", Double(String(format: "%.6g", v)) ?? v) }
    let e = Int(Foundation.log10(a).rounded(.down))
    let m = v / Foundation.pow(10, Double(e))
    let ms = String(format: "%g", (m * 1000).rounded() / 1000)
    return (ms == "1" ? "1" : ms) + "e\(e)"
  }

  /// Ticks of a log axis over [lo, hi] (log10 units): every decade (or every k-th)
  /// over many decades, 1-2-5 over a few, 1…9 over one, and evenly spaced values
  /// when the range is a fraction of a decade. Returned as values (not logs).
  static func logTicks(lo: Double, hi: Double) -> [Double] {
    let span = hi - lo
    let a = Foundation.pow(10, lo), b = Foundation.pow(10, hi)
    if span < 0.6 {
      let step = LinePlot.niceStep((b - a) / 7)
      var out: [Double] = []
      var v = (a / step).rounded(.up) * step
      while v <= b * (1 + 1e-12) { out.append(v); v += step }
      return out
    }
    let mantissas: [Double] = span > 4 ? [1] : span > 1.2 ? [1, 2, 5] : [1, 2, 3, 4, 5, 6, 7, 8, 9]
    let every = span > 8 ? Int((span / 6).rounded(.up)) : 1
    var out: [Double] = []
    for e in Int(lo.rounded(.down))...Int(hi.rounded(.up)) where (e % every + every) % every == 0 {
      for m in mantissas {
        let v = m * Foundation.pow(10, Double(e))
        if v >= a * (1 - 1e-12) && v <= b * (1 + 1e-12) { out.append(v) }
      }
    }
    return out
  }

  public func render() -> String {
    let left = 80.0, right = 24.0, top = 44.0, gap = 18.0, axisBelow = 46.0
    // wide enough for the longest legend line (≈ 6.6 px per character at 12 px)
    let longest = (legend.map { $0.label.count + 5 } + [legendNote?.count ?? 0]).max() ?? 0
    let width = max(self.width, (left + 32 + 6.6 * Double(longest) + right).rounded(.up))
    let pw = width - left - right
    let legendLines = legend.count + (legendNote == nil ? 0 : 1)
    let height = top + Double(panels.count) * panelHeight + Double(max(panels.count - 1, 0)) * gap + axisBelow + 16 * Double(legendLines) + 12
    func f(_ v: Double) -> String { String(format: "%.2f", v) }
    // the shared x range
    var xs: [Double] = []
    for p in panels { for l in p.lines { for (x, _) in l.points where x.isFinite { xs.append(x) } } }
    var x0 = xs.min() ?? 0, x1 = xs.max() ?? 1
    if x1 <= x0 { x1 = x0 + 1 }
    let xStep = LinePlot.niceStep((x1 - x0) / 6)
    x0 = (x0 / xStep).rounded(.down) * xStep
    x1 = (x1 / xStep).rounded(.up) * xStep
    func px(_ x: Double) -> Double { left + (x - x0) / (x1 - x0) * pw }

    var svg = """
      <?xml version="1.0" encoding="UTF-8"?>
      <svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="\(Int(width))" height="\(Int(height.rounded(.up)))" viewBox="0 0 \(Int(width)) \(Int(height.rounded(.up)))" font-family="sans-serif" font-size="12">
      <title>\(Self.escape(title))</title>
      <rect width="100%" height="100%" fill="white"/>
      <text x="\(f(width / 2))" y="24" text-anchor="middle" font-size="14">\(Self.escape(title))</text>

      """
    for (k, panel) in panels.enumerated() {
      let ptop = top + Double(k) * (panelHeight + gap)
      let ph = panelHeight
      func ty(_ y: Double) -> Double? {
        guard y.isFinite else { return nil }
        if panel.logY { return y > 0 ? Foundation.log10(y) : nil }
        return y
      }
      var ys: [Double] = []
      for l in panel.lines { for (x, y) in l.points where x.isFinite { if let v = ty(y) { ys.append(v) } } }
      var y0 = ys.min() ?? 0, y1 = ys.max() ?? 1
      let minSpan = panel.logY ? 0.1 : max(abs(y1) * 1e-3, 1e-12)
      if y1 - y0 < minSpan { let c = (y0 + y1) / 2; y0 = c - minSpan / 2; y1 = c + minSpan / 2 }
      let pad = 0.05 * (y1 - y0)
      y0 -= pad
      y1 += pad
      func py(_ v: Double) -> Double { ptop + (1 - (v - y0) / (y1 - y0)) * ph }
      svg += "<g class=\"panel\" id=\"panel-\(k)\">\n"
      svg += "<rect x=\"\(f(left))\" y=\"\(f(ptop))\" width=\"\(f(pw))\" height=\"\(f(ph))\" fill=\"none\" stroke=\"#444\"/>\n"
      let ticks: [Double]
      if panel.logY {
        ticks = Self.logTicks(lo: y0, hi: y1)
      } else {
        let s = LinePlot.niceStep((y1 - y0) / 5)
        var t: [Double] = []
        var v = (y0 / s).rounded(.up) * s
        while v <= y1 + 1e-9 * s { t.append(abs(v) < 1e-9 * s ? 0 : v); v += s }
        ticks = t
      }
      for t in ticks {
        guard let v = ty(t) else { continue }
        svg += "<line x1=\"\(f(left))\" x2=\"\(f(left + pw))\" y1=\"\(f(py(v)))\" y2=\"\(f(py(v)))\" stroke=\"#eee\"/>"
        svg += "<text x=\"\(f(left - 6))\" y=\"\(f(py(v) + 4))\" text-anchor=\"end\">\(Self.escape(Self.tickLabel(t)))</text>\n"
      }
      var xv = x0
      while xv <= x1 + 1e-9 * xStep {
        svg += "<line x1=\"\(f(px(xv)))\" x2=\"\(f(px(xv)))\" y1=\"\(f(ptop + ph))\" y2=\"\(f(ptop + ph + 4))\" stroke=\"#444\"/>"
        if k == panels.count - 1 {
          svg += "<text x=\"\(f(px(xv)))\" y=\"\(f(ptop + ph + 18))\" text-anchor=\"middle\">\(Self.escape(Self.tickLabel(xv)))</text>"
        }
        svg += "\n"
        xv += xStep
      }
      let label = panel.yLabel + (panel.logY ? " (log scale)" : "")
      svg += "<text transform=\"translate(16,\(f(ptop + ph / 2))) rotate(-90)\" text-anchor=\"middle\">\(Self.escape(label))</text>\n"
      if let note = panel.note {
        svg += "<text x=\"\(f(left + 8))\" y=\"\(f(ptop + 16))\" fill=\"#333\" font-style=\"italic\">\(Self.escape(note))</text>\n"
      }
      svg += "<svg x=\"\(f(left))\" y=\"\(f(ptop))\" width=\"\(f(pw))\" height=\"\(f(ph))\" viewBox=\"\(f(left)) \(f(ptop)) \(f(pw)) \(f(ph))\" overflow=\"hidden\">\n"
      for l in panel.lines {
        var path = ""
        var pen = false
        for (x, y) in l.points {
          guard x.isFinite, let v = ty(y) else { pen = false; continue }
          path += (pen ? " L" : (path.isEmpty ? "M" : " M")) + "\(f(px(x))),\(f(py(v)))"
          pen = true
        }
        guard !path.isEmpty else { continue }
        let dash = l.dashed ? " stroke-dasharray=\"6,4\"" : ""
        svg += "<path d=\"\(path)\" fill=\"none\" stroke=\"\(Self.color(l.color))\" stroke-width=\"\(f(l.width))\"\(dash)><title>\(Self.escape(l.name))</title></path>\n"
      }
      svg += "</svg>\n</g>\n"
    }
    let axisY = top + Double(panels.count) * panelHeight + Double(max(panels.count - 1, 0)) * gap
    svg += "<text x=\"\(f(left + pw / 2))\" y=\"\(f(axisY + 36))\" text-anchor=\"middle\">\(Self.escape(xLabel))</text>\n"
    var ly = axisY + axisBelow + 8
    svg += "<g class=\"legend\">\n"
    for e in legend {
      svg += "<line x1=\"\(f(left))\" x2=\"\(f(left + 24))\" y1=\"\(f(ly - 4))\" y2=\"\(f(ly - 4))\" stroke=\"\(Self.color(e.color))\" stroke-width=\"2.5\"/>"
      svg += "<text x=\"\(f(left + 32))\" y=\"\(f(ly))\">\(Self.escape(e.label))</text>\n"
      ly += 16
    }
    if let note = legendNote { svg += "<text x=\"\(f(left))\" y=\"\(f(ly))\" fill=\"#555\">\(Self.escape(note))</text>\n" }
    svg += "</g>\n</svg>\n"
    return svg
  }
}
