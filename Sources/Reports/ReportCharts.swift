import Foundation
import Units

/// Axis ticks at 1, 2 or 5 × 10^k steps covering [0, maximum], about `count` of them.
func niceTicks(upTo maximum: Double, count: Int = 5) -> [Double] {
    guard maximum > 0 else { return [0, 1] }
    let raw = maximum / Double(count)
    let magnitude = pow(10, floor(log10(raw)))
    let step = [1.0, 2, 5, 10].map { $0 * magnitude }.first { $0 >= raw }!
    return stride(from: 0.0, through: ceil(maximum / step) * step + step / 2, by: step).map { $0 }
}

/// A minimal SVG writer: elements appended as text, numbers with one decimal.
struct SVGCanvas {
    var body = ""
    static func n(_ v: Double) -> String { String(format: "%.1f", v) }
    static func esc(_ t: String) -> String {
        t.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }
    mutating func text(_ x: Double, _ y: Double, _ t: String, size: Double = 12, anchor: String = "start", weight: String = "normal", fill: String = "#222") {
        body += "<text x=\"\(Self.n(x))\" y=\"\(Self.n(y))\" font-size=\"\(Self.n(size))\" text-anchor=\"\(anchor)\" font-weight=\"\(weight)\" fill=\"\(fill)\">\(Self.esc(t))</text>\n"
    }
    mutating func rect(_ x: Double, _ y: Double, _ w: Double, _ h: Double, fill: String, title: String? = nil) {
        body += "<rect x=\"\(Self.n(x))\" y=\"\(Self.n(y))\" width=\"\(Self.n(max(w, 0)))\" height=\"\(Self.n(h))\" fill=\"\(fill)\">"
        if let title { body += "<title>\(Self.esc(title))</title>" }
        body += "</rect>\n"
    }
    mutating func line(_ x1: Double, _ y1: Double, _ x2: Double, _ y2: Double, stroke: String = "#555", width: Double = 1, dash: String? = nil) {
        body += "<line x1=\"\(Self.n(x1))\" y1=\"\(Self.n(y1))\" x2=\"\(Self.n(x2))\" y2=\"\(Self.n(y2))\" stroke=\"\(stroke)\" stroke-width=\"\(Self.n(width))\"\(dash.map { " stroke-dasharray=\"\($0)\"" } ?? "")/>\n"
    }
    mutating func polyline(_ points: [(Double, Double)], stroke: String) {
        body += "<polyline fill=\"none\" stroke=\"\(stroke)\" stroke-width=\"2\" points=\"\(points.map { "\(Self.n($0.0)),\(Self.n($0.1))" }.joined(separator: " "))\"/>\n"
        for p in points { body += "<circle cx=\"\(Self.n(p.0))\" cy=\"\(Self.n(p.1))\" r=\"3\" fill=\"\(stroke)\"/>\n" }
    }
    /// A horizontal value axis from x0 (value 0) to x1 (value ticks.last) at height y.
    mutating func horizontalAxis(x0: Double, x1: Double, y: Double, ticks: [Double], label: String, gridTop: Double? = nil) {
        line(x0, y, x1, y)
        let top = ticks.last!
        for t in ticks {
            let x = x0 + t / top * (x1 - x0)
            line(x, y, x, y + 4)
            if let gridTop { line(x, gridTop, x, y, stroke: "#e4e4e4") }
            text(x, y + 16, ReportDocument.tickLabel(t), size: 10, anchor: "middle")
        }
        text((x0 + x1) / 2, y + 30, label, size: 11, anchor: "middle")
    }
}

extension ReportDocument {
    static func tickLabel(_ t: Double) -> String {
        t == t.rounded() ? String(format: "%.0f", t) : (abs(t * 10 - (t * 10).rounded()) < 1e-9 ? String(format: "%.1f", t) : String(format: "%.2f", t))
    }

    static let seriesColors = ["#4e79a7", "#f28e2b", "#59a14f", "#e15759"]
    static let blockColors = ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"]

    /// The report as one SVG (with a viewBox): INT8 ÷ dINT / FP4 ratio bars on a value axis, the
    /// paper's 1.93× area and 2.56× power marked on the dINT bars they apply to; per-block
    /// stacked area (µm²) and energy (pJ/MAC) of every unit; the sweep as ratio-vs-parameter
    /// line charts (lanes, accumulator width, clock) when the report has one.
    public var svg: String {
        let width = 960.0
        var c = SVGCanvas()
        var y = 30.0
        c.text(16, y, "INT8 MAC vs dINT and FP4 (E2M1) MACs — \(technology)\(rows.first.map { ", \($0.delayModel) delay" } ?? "")", size: 17, weight: "bold")
        y += 18
        y = ratioPanel(&c, top: y, width: width)
        y = stackedPanel(&c, top: y + 20, width: width, title: "Area by block (µm²), first data set", unit: "µm²") { r in
            Self.blocks.map { ($0, r.areaByBlock[$0] ?? 0) } + r.areaByBlock.keys.filter { !Self.blocks.contains($0) }.sorted().map { ($0, r.areaByBlock[$0]!) }
        }
        y = stackedPanel(&c, top: y + 20, width: width, title: "Energy per MAC by block (pJ), first data set", unit: "pJ per MAC") { r in
            Self.blocks.map { ($0, r.dynamicPerMacByBlock[$0] ?? 0) }
                + r.dynamicPerMacByBlock.keys.filter { !Self.blocks.contains($0) }.sorted().map { ($0, r.dynamicPerMacByBlock[$0]!) }
                + [("clock", r.clockPerMacPJ), ("leakage", r.leakagePerMacPJ)]
        }
        if !sweep.isEmpty { y = sweepPanel(&c, top: y + 20, width: width) }
        let height = (y + 20).rounded()
        return "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 \(Int(width)) \(Int(height))\" width=\"\(Int(width))\" height=\"\(Int(height))\" font-family=\"sans-serif\">\n"
            + "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n" + c.body + "</svg>\n"
    }

    func legend(_ c: inout SVGCanvas, _ entries: [(String, String)], x: Double, y: Double, width: Double) -> Double {
        var lx = x, ly = y
        for (label, color) in entries {
            let w = 22 + Double(label.count) * 6.6
            if lx + w > x + width { lx = x; ly += 18 }
            c.rect(lx, ly - 10, 12, 12, fill: color)
            c.text(lx + 16, ly, label, size: 11)
            lx += w
        }
        return ly + 12
    }

    func ratioPanel(_ c: inout SVGCanvas, top: Double, width: Double) -> Double {
        let left = 250.0, right = width - 60
        let series = ["INT8 ÷ dINT, area", "INT8 ÷ dINT, energy per MAC", "INT8 ÷ FP4, area", "INT8 ÷ FP4, energy per MAC"]
        var y = legend(&c, Array(zip(series, Self.seriesColors)), x: 16, y: top + 14, width: width - 32) + 8
        let values = comparisons.flatMap { [$0.area, $0.energy, $0.fp4Area, $0.fp4Energy] } + [ratios.paperArea, ratios.paperPower]
        let ticks = niceTicks(upTo: values.max()! * 1.05)
        func x(_ v: Double) -> Double { left + v / ticks.last! * (right - left) }
        let gridTop = y
        let bar = 15.0
        for item in comparisons {
            c.text(16, y + 2 * bar + 4, "\(item.data), \(item.lanes) lane\(item.lanes == 1 ? "" : "s")", size: 12)
            for (k, (v, color)) in zip([item.area, item.energy, item.fp4Area, item.fp4Energy], Self.seriesColors).enumerated() {
                c.rect(left, y, x(v) - left, bar - 2, fill: color, title: "\(series[k]): \(Self.f(v, 3))×")
                c.text(x(v) + 4, y + bar - 4, "\(Self.f(v, 2))×", size: 10)
                // The paper's figures apply to INT8 ÷ dINT only: area on the area bar, power on the energy bar.
                if k < 2 {
                    let paper = k == 0 ? ratios.paperArea : ratios.paperPower
                    c.line(x(paper), y - 1, x(paper), y + bar - 1, stroke: "#000", width: 2)
                    if item.data == comparisons[0].data && item.lanes == comparisons[0].lanes {
                        c.text(x(paper) + 4, y + bar - 4, k == 0 ? "paper area \(paper)×" : "paper power \(paper)×", size: 10, fill: "#000")
                    }
                }
                y += bar
            }
            y += 12
        }
        c.line(x(1), gridTop, x(1), y, stroke: "#888", dash: "4 3")
        c.horizontalAxis(x0: left, x1: right, y: y, ticks: ticks, label: "ratio, INT8 MAC over the unit (×); 1 = parity; black ticks: the paper's \(ratios.paperArea)× area and \(ratios.paperPower)× power (dINT)", gridTop: nil)
        return y + 40
    }

    func stackedPanel(_ c: inout SVGCanvas, top: Double, width: Double, title: String, unit: String,
                      parts: (CostRow) -> [(String, Double)]) -> Double {
        let left = 250.0, right = width - 90
        c.text(16, top + 14, title, size: 14, weight: "bold")
        let shown = rows.filter { $0.data == rows[0].data }
        let names = parts(shown[0]).map(\.0).filter { name in shown.contains { r in parts(r).contains { $0.0 == name && $0.1 > 0 } } }
        let colors = Dictionary(uniqueKeysWithValues: names.enumerated().map { ($0.element, Self.blockColors[$0.offset % Self.blockColors.count]) })
        var y = legend(&c, names.map { ($0, colors[$0]!) }, x: 16, y: top + 34, width: width - 32) + 8
        let ticks = niceTicks(upTo: shown.map { parts($0).reduce(0) { $0 + $1.1 } }.max()! * 1.02)
        func x(_ v: Double) -> Double { left + v / ticks.last! * (right - left) }
        let bar = 16.0
        for r in shown {
            c.text(16, y + bar - 4, "\(r.unit), \(r.lanes) lane\(r.lanes == 1 ? "" : "s")", size: 12)
            var at = 0.0
            for (name, v) in parts(r) where v > 0 {
                c.rect(x(at), y, x(at + v) - x(at), bar - 2, fill: colors[name] ?? "#999", title: "\(name): \(Self.g(v)) \(unit)")
                at += v
            }
            c.text(x(at) + 4, y + bar - 4, "\(Self.g(at))", size: 10)
            y += bar + 4
        }
        c.horizontalAxis(x0: left, x1: right, y: y + 2, ticks: ticks, label: unit)
        return y + 40
    }

    /// Ratio against one swept parameter, per chart: lanes, accumulator width, clock.
    func sweepPanel(_ c: inout SVGCanvas, top: Double, width: Double) -> Double {
        c.text(16, top + 14, "Sweep: INT8 ÷ unit ratio against one parameter at a time (others at their defaults)", size: 14, weight: "bold")
        let series = ["÷ dINT area", "÷ dINT energy", "÷ FP4 area", "÷ FP4 energy"]
        let y0 = legend(&c, Array(zip(series, Self.seriesColors)), x: 16, y: top + 34, width: width - 32) + 12
        let parameters = [("lanes", "lanes"), (MacConfiguration.CodingKeys.accumulatorWidth.rawValue, "accumulator width (bits)"), ("clock_ns", "clock period (ns)")]
            .filter { p in sweep.contains { $0.parameter == p.0 } }
        guard !parameters.isEmpty else { return y0 }
        let panelWidth = (width - 32) / Double(parameters.count), plotHeight = 170.0
        let all = sweep.filter { p in parameters.contains { $0.0 == p.parameter } }
            .flatMap { [$0.areaRatio, $0.energyRatio, $0.fp4AreaRatio, $0.fp4EnergyRatio] } + [ratios.paperArea, ratios.paperPower]
        let ticks = niceTicks(upTo: all.max()! * 1.05, count: 4)
        for (k, (parameter, label)) in parameters.enumerated() {
            let points = sweep.filter { $0.parameter == parameter }
            let x0 = 16 + Double(k) * panelWidth + 40, x1 = x0 + panelWidth - 60
            let yBottom = y0 + plotHeight
            func py(_ v: Double) -> Double { yBottom - v / ticks.last! * plotHeight }
            func px(_ i: Int) -> Double { points.count == 1 ? (x0 + x1) / 2 : x0 + Double(i) / Double(points.count - 1) * (x1 - x0) }
            c.line(x0, y0, x0, yBottom)
            c.line(x0, yBottom, x1, yBottom)
            for t in ticks {
                c.line(x0 - 4, py(t), x0, py(t))
                c.line(x0, py(t), x1, py(t), stroke: "#eee")
                c.text(x0 - 6, py(t) + 3, Self.tickLabel(t) + "×", size: 9, anchor: "end")
            }
            for (i, p) in points.enumerated() {
                c.line(px(i), yBottom, px(i), yBottom + 4)
                c.text(px(i), yBottom + 16, p.value, size: 10, anchor: "middle")
            }
            c.text((x0 + x1) / 2, yBottom + 32, label, size: 11, anchor: "middle")
            c.line(x0, py(ratios.paperArea), x1, py(ratios.paperArea), stroke: Self.seriesColors[0], dash: "5 4")
            c.line(x0, py(ratios.paperPower), x1, py(ratios.paperPower), stroke: Self.seriesColors[1], dash: "5 4")
            if k == 0 {
                c.text(x1, py(ratios.paperArea) - 3, "paper dINT area \(ratios.paperArea)×", size: 9, anchor: "end", fill: Self.seriesColors[0])
                c.text(x1, py(ratios.paperPower) - 3, "paper dINT power \(ratios.paperPower)×", size: 9, anchor: "end", fill: Self.seriesColors[1])
            }
            for (s, value) in [\SweepRow.areaRatio, \SweepRow.energyRatio, \SweepRow.fp4AreaRatio, \SweepRow.fp4EnergyRatio].enumerated() {
                c.polyline(points.enumerated().map { (px($0.offset), py($0.element[keyPath: value])) }, stroke: Self.seriesColors[s])
            }
        }
        return y0 + plotHeight + 44
    }

    /// One self-contained HTML page: the tables of `markdown` and the charts of `svg` inline.
    public var html: String {
        var body = ""
        var inTable = false, header = true
        for line in markdown.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
            if line.hasPrefix("|") {
                let cells = line.dropFirst().dropLast().split(separator: "|", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
                if cells.allSatisfy({ $0.allSatisfy { $0 == "-" } && !$0.isEmpty }) { header = false; continue }
                if !inTable { body += "<table>\n"; inTable = true; header = true }
                let tag = header ? "th" : "td"
                body += "<tr>" + cells.map { "<\(tag)>\(Self.inline($0))</\(tag)>" }.joined() + "</tr>\n"
                continue
            }
            if inTable { body += "</table>\n"; inTable = false }
            if line.hasPrefix("## ") { body += "<h2>\(Self.inline(String(line.dropFirst(3))))</h2>\n" }
            else if line.hasPrefix("# ") { body += "<h1>\(Self.inline(String(line.dropFirst(2))))</h1>\n" + svg }
            else if !line.isEmpty { body += "<p>\(Self.inline(line))</p>\n" }
        }
        if inTable { body += "</table>\n" }
        return """
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8"><title>dintsim report — \(SVGCanvas.esc(technology))</title>
        <style>body{font-family:sans-serif;max-width:1000px;margin:2em auto;color:#222}table{border-collapse:collapse;margin:1em 0;font-size:13px}\
        th,td{border:1px solid #ccc;padding:3px 7px;text-align:right}th{background:#f3f3f3}td:first-child,th:first-child{text-align:left}svg{max-width:100%;height:auto}</style>
        </head><body>
        \(body)</body></html>

        """
    }

    /// Markdown emphasis and code to HTML, text escaped.
    static func inline(_ text: String) -> String {
        var s = SVGCanvas.esc(text)
        while let open = s.range(of: "**"), let close = s.range(of: "**", range: open.upperBound..<s.endIndex) {
            s.replaceSubrange(close, with: "</b>"); s.replaceSubrange(open, with: "<b>")
        }
        while let open = s.range(of: "`"), let close = s.range(of: "`", range: open.upperBound..<s.endIndex) {
            s.replaceSubrange(close, with: "</code>"); s.replaceSubrange(open, with: "<code>")
        }
        return s
    }
}
