import Foundation
import RoadtestCore
import RoadtestReport

extension LoadReport {
    /// The JSON document (schema_version 1).
    public func json() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(self)
    }

    /// One table per candidate, a row per level.
    public func terminalText() -> String {
        var lines = ["Roadtest load · \(Escape.terminal(suite)) · \(id)"]
        for candidate in candidates {
            lines.append("")
            lines.append("\(Escape.terminal(candidate.id))")
            lines.append(Self.header)
            for level in candidate.levels { lines.append(Self.row(level)) }
            if let saturation = candidate.saturation {
                lines.append(
                    "saturation: "
                        + (saturation.rateRPS.map { String(format: "serves %.2f req/s", $0) } ?? "no offered rate was served")
                        + (saturation.maxThroughputRPS.map { String(format: "; max throughput %.2f req/s", $0) } ?? "")
                        + (saturation.reason.map { " (\($0))" } ?? ""))
            }
        }
        for warning in warnings { lines.append("warning: " + warning) }
        return lines.joined(separator: "\n") + "\n"
    }

    static let widths = [16, 7, 6, 8, 8, 18, 18, 9, 8, 6, 5, 8, 6]

    static func line(_ cells: [String]) -> String {
        zip(cells, widths).enumerated().map { index, pair in
            let (cell, width) = pair
            let padding = String(repeating: " ", count: max(0, width - cell.count))
            return index == 0 ? cell + padding : padding + cell
        }.joined(separator: " ")
    }

    static let header = line(["level", "done", "inflt", "req/s", "tok/s", "TTFT p50/95/99", "E2E p50/95/99", "corr p99", "lag p99", "errors", "429s", "goodput", "attain"])

    public static func row(_ level: LevelResult) -> String {
        func ms(_ value: Double?) -> String { value.map { $0 >= 1000 ? String(format: "%.1fs", $0 / 1000) : String(format: "%.0f", $0) } ?? "–" }
        let name = level.mode == "rate" ? String(format: "rate %.2f/s", level.target) : "conc \(Int(level.target))"
        let errors = level.errors.values.reduce(0, +)
        return line([
            name, "\(level.completed)", "\(level.inFlightAtEnd)", String(format: "%.2f", level.achievedRPS), String(format: "%.1f", level.outputTokensPerSecond),
            "\(ms(level.ttft.p50))/\(ms(level.ttft.p95))/\(ms(level.ttft.p99))", "\(ms(level.e2e.p50))/\(ms(level.e2e.p95))/\(ms(level.e2e.p99))",
            ms(level.correctedE2E?.p99), level.scheduleLag.map { String(format: "%.2f", $0.p99 ?? 0) } ?? "–", "\(errors)", "\(level.throttled)",
            String(format: "%.2f", level.goodputRPS), level.attainment.map { String(format: "%.0f%%", $0 * 100) } ?? "–",
        ]) + (level.stoppedEarly.map { "  (stopped: \($0))" } ?? "")
    }

    /// A self-contained HTML page: latency-versus-load and throughput-versus-load charts per candidate.
    public func html() -> String {
        var html = """
            <!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Roadtest load · \(Escape.html(suite))</title>
            <style>body{font:14px/1.45 system-ui,sans-serif;max-width:1100px;margin:0 auto;padding:16px;color:#1d2330}
            table{border-collapse:collapse;width:100%;margin:8px 0}td,th{border:1px solid #e1e4ea;padding:4px 8px;text-align:right}
            th:first-child,td:first-child{text-align:left}figure{display:inline-block;margin:8px;border:1px solid #e1e4ea;padding:8px}
            .note{color:#6b7385;font-size:12px}svg text{font-size:11px}</style></head><body>
            <h1>Roadtest load · \(Escape.html(suite))</h1><p class="note">\(Escape.html(id)) · started \(Escape.html(startedAt)).
            Latencies are HdrHistogram percentiles (3 significant digits). Corrected latencies are measured from the intended send time.</p>
            """
        for warning in warnings { html += "<p><strong>Warning:</strong> \(Escape.html(warning))</p>" }
        for candidate in candidates {
            html += "<h2>\(Escape.html(candidate.id))</h2>"
            let levels = candidate.levels
            let xs = levels.map { $0.mode == "rate" ? $0.target : $0.achievedRPS }
            html += Self.lineChart(
                title: "E2E latency (ms) vs offered load (req/s)", xs: xs,
                series: [
                    ("p50", levels.map { $0.e2e.p50 }), ("p95", levels.map { $0.e2e.p95 }), ("p99", levels.map { $0.e2e.p99 }),
                    ("corrected p99", levels.map { $0.correctedE2E?.p99 }),
                ])
            html += Self.lineChart(
                title: "Throughput (req/s) vs offered load (req/s)", xs: xs,
                series: [("achieved", levels.map { $0.achievedRPS }), ("goodput", levels.map { $0.goodputRPS })])
            html += "<table><tr><th>level</th><th>completed</th><th>in flight at end</th><th>req/s</th><th>tok/s</th><th>TTFT p50/p95/p99</th><th>TPOT p50</th><th>E2E p50/p95/p99</th><th>corrected E2E p99</th><th>lag p99</th><th>errors</th><th>429s</th><th>goodput</th><th>attainment</th></tr>"
            for level in levels {
                func ms(_ v: Double?) -> String { v.map { String(format: "%.1f", $0) } ?? "–" }
                html += "<tr><td>\(level.mode == "rate" ? String(format: "rate %.2f/s", level.target) : "concurrency \(Int(level.target))")</td>"
                html += "<td>\(level.completed)</td><td>\(level.inFlightAtEnd)</td><td>\(String(format: "%.2f", level.achievedRPS))</td><td>\(String(format: "%.1f", level.outputTokensPerSecond))</td>"
                html += "<td>\(ms(level.ttft.p50)) / \(ms(level.ttft.p95)) / \(ms(level.ttft.p99))</td><td>\(ms(level.tpot.p50))</td>"
                html += "<td>\(ms(level.e2e.p50)) / \(ms(level.e2e.p95)) / \(ms(level.e2e.p99))</td><td>\(ms(level.correctedE2E?.p99))</td><td>\(ms(level.scheduleLag?.p99))</td>"
                html += "<td>\(level.errors.values.reduce(0, +))</td><td>\(level.throttled)</td><td>\(String(format: "%.2f", level.goodputRPS))</td><td>\(level.attainment.map { String(format: "%.0f%%", $0 * 100) } ?? "–")</td></tr>"
            }
            html += "</table>"
            if let saturation = candidate.saturation {
                html += "<p>Saturation: \(Escape.html(saturation.rateRPS.map { String(format: "serves %.2f req/s", $0) } ?? "no offered rate was served")); max throughput \(Escape.html(saturation.maxThroughputRPS.map { String(format: "%.2f", $0) } ?? "–")) req/s. \(Escape.html(saturation.reason ?? ""))</p>"
            }
        }
        return html + "</body></html>\n"
    }

    static func lineChart(title: String, xs: [Double], series: [(String, [Double?])]) -> String {
        let width = 480.0
        let height = 260.0
        let left = 50.0
        let bottom = 30.0
        let maxX = max(xs.max() ?? 1, 0.001)
        let maxY = max(series.flatMap { $0.1.compactMap { $0 } }.max() ?? 1, 0.001)
        let colors = ["#3b6fd8", "#e07b39", "#3a9d5d", "#b42318", "#9b59b6"]
        func px(_ x: Double) -> Double { left + x / maxX * (width - left - 10) }
        func py(_ y: Double) -> Double { height - bottom - y / maxY * (height - bottom - 10) }
        var svg = "<figure><figcaption>\(Escape.html(title))</figcaption><svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\">"
        svg += "<line x1=\"\(left)\" y1=\"\(height - bottom)\" x2=\"\(width - 10)\" y2=\"\(height - bottom)\" stroke=\"#9aa3b2\"/><line x1=\"\(left)\" y1=\"10\" x2=\"\(left)\" y2=\"\(height - bottom)\" stroke=\"#9aa3b2\"/>"
        svg += "<text x=\"\(left)\" y=\"\(height - 8)\">0</text><text x=\"\(width - 60)\" y=\"\(height - 8)\">\(String(format: "%.2f", maxX))</text>"
        svg += "<text x=\"2\" y=\"18\">\(String(format: "%.0f", maxY))</text>"
        for (index, (name, values)) in series.enumerated() {
            let points = zip(xs, values).compactMap { x, y in y.map { String(format: "%.1f,%.1f", px(x), py($0)) } }
            guard !points.isEmpty else { continue }
            let color = colors[index % colors.count]
            svg += "<polyline fill=\"none\" stroke=\"\(color)\" stroke-width=\"2\" points=\"\(points.joined(separator: " "))\"/>"
            for point in points {
                let parts = point.split(separator: ",")
                svg += "<circle cx=\"\(parts[0])\" cy=\"\(parts[1])\" r=\"3\" fill=\"\(color)\"/>"
            }
            svg += "<text x=\"\(left + 10 + Double(index) * 95)\" y=\"24\" fill=\"\(color)\">\(Escape.html(name))</text>"
        }
        return svg + "</svg></figure>"
    }
}
