import Foundation

/// The one chart implementation every HTML report uses: inline SVG with axes, "nice" ticks, gridlines, axis
/// titles, a legend that never overlaps the plot, and the exact value of every bar and point on hover (`<title>`).
/// Every label is escaped.
public enum SVGChart {
    /// One horizontal bar, with an optional whisker from `low` to `high` (an interval or a percentile range).
    public struct Bar: Sendable {
        public var label: String
        public var value: Double?
        public var low: Double?
        public var high: Double?
        /// A value marked on the whisker (a p95 between p50 and p99).
        public var mark: Double?

        public init(label: String, value: Double?, low: Double? = nil, high: Double? = nil, mark: Double? = nil) {
            self.label = label
            self.value = value
            self.low = low
            self.high = high
            self.mark = mark
        }
    }

    /// One line of a line chart.
    public struct Series: Sendable {
        public var name: String
        public var points: [(x: Double, y: Double)]

        public init(name: String, points: [(x: Double, y: Double)]) {
            self.name = name
            self.points = points
        }
    }

    static let colors = ["#3b6fd8", "#e07b39", "#3a9d5d", "#b42318", "#9b59b6", "#16a085"]

    /// Horizontal bars, one per candidate, on a value axis from 0 with ticks and gridlines.
    public static func bars(
        title: String,
        axis: String,
        _ bars: [Bar],
        maximum: Double? = nil,
        format: (Double) -> String
    ) -> String {
        let rowHeight = 26.0
        let labelWidth = 160.0
        let plotWidth = 380.0
        let top = 8.0
        let plotHeight = Double(max(1, bars.count)) * rowHeight
        let height = top + plotHeight + 44
        let dataMax = bars.flatMap { [$0.value, $0.high] }.compactMap { $0 }.max() ?? 0
        let ticks = niceTicks(upTo: max(maximum ?? dataMax, 1e-12))
        let scaleMax = ticks.last ?? 1
        func x(_ value: Double) -> Double { labelWidth + max(0, min(1, value / scaleMax)) * plotWidth }

        var svg = open(title: title, width: labelWidth + plotWidth + 80, height: height)
        for tick in ticks {
            svg += line(x(tick), top, x(tick), top + plotHeight, "grid")
            svg += text(x(tick), top + plotHeight + 14, format(tick), anchor: "middle", css: "tick")
        }
        svg += line(labelWidth, top, labelWidth, top + plotHeight, "axis")
        svg += line(labelWidth, top + plotHeight, labelWidth + plotWidth, top + plotHeight, "axis")
        svg += text(labelWidth + plotWidth / 2, top + plotHeight + 34, axis, anchor: "middle", css: "axis-title")
        for (index, bar) in bars.enumerated() {
            let y = top + Double(index) * rowHeight + 4
            let barHeight = rowHeight - 8
            svg += text(labelWidth - 8, y + barHeight - 4, Escape.truncate(bar.label, 24), anchor: "end", css: "label")
            guard let value = bar.value else {
                svg += text(labelWidth + 6, y + barHeight - 4, "not measured", anchor: "start", css: "note")
                continue
            }
            var hover = "\(bar.label): \(format(value))"
            if let low = bar.low, let high = bar.high { hover += " (\(format(low)) – \(format(high)))" }
            if let mark = bar.mark { hover += ", marked \(format(mark))" }
            svg += "<g><title>\(Escape.html(hover))</title>"
            svg +=
                "<rect x=\"\(f(labelWidth))\" y=\"\(f(y))\" width=\"\(f(x(value) - labelWidth))\" height=\"\(f(barHeight))\""
                + " fill=\"\(colors[index % colors.count])\" opacity=\"0.85\"/>"
            if let low = bar.low, let high = bar.high {
                let mid = y + barHeight / 2
                svg += line(x(low), mid, x(high), mid, "whisker")
                svg += line(x(low), mid - 5, x(low), mid + 5, "whisker")
                svg += line(x(high), mid - 5, x(high), mid + 5, "whisker")
                if let mark = bar.mark {
                    svg += "<circle cx=\"\(f(x(mark)))\" cy=\"\(f(mid))\" r=\"3.5\" fill=\"#fff\" stroke=\"#1d2330\"/>"
                }
            }
            svg += "</g>"
            let valueText = bar.mark.map { "\(format(value)) · \(format($0))" } ?? format(value)
            svg += text(
                max(x(value), x(bar.high ?? 0)) + 6,
                y + barHeight - 4,
                valueText,
                anchor: "start",
                css: "value"
            )
        }
        return svg + "</svg></figure>"
    }

    /// Lines over a numeric x axis (e.g. latency against offered load), legend below the plot.
    public static func lines(
        title: String,
        xAxis: String,
        yAxis: String,
        _ series: [Series],
        formatX: (Double) -> String,
        formatY: (Double) -> String
    ) -> String {
        let left = 64.0
        let top = 10.0
        let plotWidth = 440.0
        let plotHeight = 220.0
        let points = series.flatMap(\.points)
        let xTicks = niceTicks(upTo: max(points.map(\.x).max() ?? 1, 1e-12))
        let yTicks = niceTicks(upTo: max(points.map(\.y).max() ?? 1, 1e-12))
        let xMax = xTicks.last ?? 1
        let yMax = yTicks.last ?? 1
        func px(_ value: Double) -> Double { left + value / xMax * plotWidth }
        func py(_ value: Double) -> Double { top + plotHeight - value / yMax * plotHeight }
        let legendRows = (series.count + 2) / 3
        let height = top + plotHeight + 48 + Double(legendRows) * 18

        var svg = open(title: title, width: left + plotWidth + 24, height: height)
        for tick in yTicks {
            svg += line(left, py(tick), left + plotWidth, py(tick), "grid")
            svg += text(left - 6, py(tick) + 4, formatY(tick), anchor: "end", css: "tick")
        }
        for tick in xTicks {
            svg += line(px(tick), top, px(tick), top + plotHeight, "grid")
            svg += text(px(tick), top + plotHeight + 14, formatX(tick), anchor: "middle", css: "tick")
        }
        svg += line(left, top, left, top + plotHeight, "axis")
        svg += line(left, top + plotHeight, left + plotWidth, top + plotHeight, "axis")
        svg += text(left + plotWidth / 2, top + plotHeight + 32, xAxis, anchor: "middle", css: "axis-title")
        svg +=
            "<text x=\"12\" y=\"\(f(top + plotHeight / 2))\" text-anchor=\"middle\" class=\"axis-title\""
            + " transform=\"rotate(-90 12 \(f(top + plotHeight / 2)))\">\(Escape.html(yAxis))</text>"
        for (index, line) in series.enumerated() where !line.points.isEmpty {
            let color = colors[index % colors.count]
            let coordinates = line.points.map { "\(f(px($0.x))),\(f(py($0.y)))" }.joined(separator: " ")
            svg += "<polyline fill=\"none\" stroke=\"\(color)\" stroke-width=\"2\" points=\"\(coordinates)\"/>"
            for point in line.points {
                let hover = "\(line.name): \(formatY(point.y)) at \(formatX(point.x))"
                svg +=
                    "<circle cx=\"\(f(px(point.x)))\" cy=\"\(f(py(point.y)))\" r=\"3.5\" fill=\"\(color)\">"
                    + "<title>\(Escape.html(hover))</title></circle>"
            }
            let legendX = left + Double(index % 3) * (plotWidth / 3)
            let legendY = top + plotHeight + 48 + Double(index / 3) * 18
            svg += "<rect x=\"\(f(legendX))\" y=\"\(f(legendY - 9))\" width=\"12\" height=\"3\" fill=\"\(color)\"/>"
            svg += text(legendX + 16, legendY - 4, Escape.truncate(line.name, 28), anchor: "start", css: "label")
        }
        return svg + "</svg></figure>"
    }

    /// The CSS the charts use (the pages embed it).
    public static let style = """
        figure{display:inline-block;margin:8px;border:1px solid #e1e4ea;border-radius:6px;padding:8px;background:#fff}
        figcaption{font-weight:600;margin-bottom:6px}svg text{font-size:11px;fill:#1d2330}svg .tick{fill:#6b7385}
        svg .axis-title{font-size:12px;fill:#3c4455}svg .note{fill:#6b7385;font-style:italic}
        svg .grid{stroke:#eceff4;stroke-width:1}svg .axis{stroke:#9aa3b2;stroke-width:1}
        svg .whisker{stroke:#1d2330;stroke-width:1.5}
        """

    /// Ticks from 0 at a 1-2-5 step, the last at or above `maximum` (about five of them).
    static func niceTicks(upTo maximum: Double) -> [Double] {
        guard maximum.isFinite, maximum > 0 else { return [0, 1] }
        let rough = maximum / 5
        let magnitude = pow(10, floor(log10(rough)))
        let step = [1.0, 2, 2.5, 5, 10].map { $0 * magnitude }.first { $0 >= rough } ?? 10 * magnitude
        let count = Int((maximum / step).rounded(.up))
        return (0...max(1, count)).map { Double($0) * step }
    }

    static func open(title: String, width: Double, height: Double) -> String {
        "<figure><figcaption>\(Escape.html(title))</figcaption><svg xmlns=\"http://www.w3.org/2000/svg\""
            + " width=\"\(Int(width))\" height=\"\(Int(height))\" role=\"img\" aria-label=\"\(Escape.html(title))\">"
    }

    static func line(_ x1: Double, _ y1: Double, _ x2: Double, _ y2: Double, _ css: String) -> String {
        "<line x1=\"\(f(x1))\" y1=\"\(f(y1))\" x2=\"\(f(x2))\" y2=\"\(f(y2))\" class=\"\(css)\"/>"
    }

    static func text(_ x: Double, _ y: Double, _ content: String, anchor: String, css: String) -> String {
        "<text x=\"\(f(x))\" y=\"\(f(y))\" text-anchor=\"\(anchor)\" class=\"\(css)\">\(Escape.html(content))</text>"
    }

    static func f(_ value: Double) -> String { String(format: "%.1f", value) }
}
