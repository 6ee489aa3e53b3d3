import Foundation
import RoadtestCore

extension LoadReport {
    /// The JSON document (schema_version 1).
    public func json() throws -> Data {
        try JSONReport.encode(self)
    }

    /// One table per candidate, a row per level.
    public func terminalText() -> String {
        var lines = ["Roadtest load · \(Escape.terminal(suite)) · \(id)"]
        if let generator { lines.append(Self.generatorLine(generator)) }
        for candidate in candidates {
            lines.append("")
            lines.append("\(Escape.terminal(candidate.id))")
            lines.append(Self.header)
            for level in candidate.levels { lines.append(Self.row(level)) }
            if candidate.levels.contains(where: Self.hasUnboundedPercentile) { lines.append(Self.tooFewNote) }
            if let saturation = candidate.saturation {
                lines.append(
                    "saturation: "
                        + (saturation.rateRPS.map { String(format: "serves %.2f req/s", $0) }
                            ?? "no offered rate was served")
                        + (saturation.maxThroughputRPS.map { String(format: "; max throughput %.2f req/s", $0) } ?? "")
                        + (saturation.reason.map { " (\($0))" } ?? "")
                )
            }
            if let frontier = candidate.frontier {
                lines.append(
                    "frontier (highest offered rate with p99 TTFT and E2E under): "
                        + frontier.map { "\(Escape.terminal($0.bound)) \(Self.frontierText($0))" }.joined(
                            separator: "; "
                        )
                )
            }
        }
        for warning in warnings { lines.append("warning: " + warning) }
        return lines.joined(separator: "\n") + "\n"
    }

    /// A frontier point: the rate that held, and the bracket the levels tried leave.
    static func frontierText(_ point: ThroughputBound) -> String {
        func rate(_ value: Double) -> String { String(format: value >= 100 ? "%.0f" : "%.2f", value) }
        guard let held = point.rateRPS else {
            return point.firstOverRPS.map { "none (the lowest rate tried, \(rate($0)) req/s, did not hold)" } ?? "none"
        }
        var text = "\(rate(held)) req/s"
        if let over = point.firstOverRPS { text += " (not \(rate(over)))" } else { text += " (every rate tried)" }
        if let confident = point.confidentRateRPS, confident != held {
            text += ", \(rate(confident)) with 95% confidence"
        }
        return text
    }

    /// The generator's own limits, as measured before the levels.
    static func generatorLine(_ generator: GeneratorReport) -> String {
        func ms(_ value: Double?) -> String { value.map { String(format: "%.2f ms", $0) } ?? "–" }
        return String(
            format: "generator: ceiling %.0f req/s at %d streams against its own zero-latency endpoint; adds %@ "
                + "(p50), %@ (p99) to each request",
            generator.ceilingRPS,
            generator.ceilingConcurrency,
            ms(generator.addedLatency.p50),
            ms(generator.addedLatency.p99)
        )
    }

    static let widths = [16, 7, 6, 8, 8, 18, 18, 9, 8, 6, 5, 8, 6]

    static func line(_ cells: [String]) -> String {
        zip(cells, widths).enumerated().map { index, pair in
            let (cell, width) = pair
            let padding = String(repeating: " ", count: max(0, width - cell.count))
            return index == 0 ? cell + padding : padding + cell
        }.joined(separator: " ")
    }

    static let header = line([
        "level", "done", "inflt", "req/s", "tok/s", "TTFT p50/95/99", "E2E p50/95/99", "corr p99", "lag p99", "errors",
        "429s", "goodput", "attain",
    ])

    /// Under a table where some percentile had too few requests to be estimated.
    static let tooFewNote =
        "* too few requests to bound this percentile (a p99 needs at least 368, a p95 72): the value is the largest "
        + "seen, not an estimate"

    /// A percentile's text, marked `*` when there were too few values for its 95% interval.
    static func cell(_ percentiles: Percentiles, _ p: Double, _ format: (Double?) -> String) -> String {
        let text = format(percentiles.value(at: p))
        guard let intervals = percentiles.ci95, percentiles.count > 0, intervals.interval(at: p) == nil else {
            return text
        }
        return text + "*"
    }

    static func hasUnboundedPercentile(_ level: LevelResult) -> Bool {
        [level.ttft, level.e2e].contains { percentiles in
            percentiles.count > 0 && percentiles.ci95 != nil && percentiles.ci95?.p99 == nil
        }
    }

    public static func row(_ level: LevelResult) -> String {
        func ms(_ value: Double?) -> String {
            value.map { $0 >= 1000 ? String(format: "%.1fs", $0 / 1000) : String(format: "%.0f", $0) } ?? "–"
        }
        func triple(_ percentiles: Percentiles) -> String {
            [0.5, 0.95, 0.99].map { cell(percentiles, $0, ms) }.joined(separator: "/")
        }
        let name = level.mode == "rate" ? String(format: "rate %.2f/s", level.target) : "conc \(Int(level.target))"
        let errors = level.errors.values.reduce(0, +)
        return line([
            name, "\(level.completed)", "\(level.inFlightAtEnd)", String(format: "%.2f", level.achievedRPS),
            String(format: "%.1f", level.outputTokensPerSecond),
            triple(level.ttft),
            triple(level.e2e),
            ms(level.correctedE2E?.p99), level.scheduleLag.map { String(format: "%.2f", $0.p99 ?? 0) } ?? "–",
            "\(errors)", "\(level.throttled)",
            String(format: "%.2f", level.goodputRPS),
            level.attainment.map { String(format: "%.0f%%", $0 * 100) } ?? "–",
        ]) + (level.stoppedEarly.map { "  (stopped: \($0))" } ?? "")
    }

    /// A self-contained HTML page: latency-versus-load and throughput-versus-load charts per candidate.
    public func html() -> String {
        var html = """
            <!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Roadtest load · \(Escape.html(suite))</title>
            <style>body{font:14px/1.45 system-ui,sans-serif;max-width:1100px;margin:0 auto;padding:16px;color:#1d2330}
            table{border-collapse:collapse;width:100%;margin:8px 0}td,th{border:1px solid #e1e4ea;padding:4px 8px;text-align:right}
            th:first-child,td:first-child{text-align:left}
            .note{color:#6b7385;font-size:12px}\(SVGChart.style)</style></head><body>
            <h1>Roadtest load · \(Escape.html(suite))</h1><p class="note">\(Escape.html(id)) · started \(Escape.html(startedAt)).
            Latencies are HdrHistogram percentiles (3 significant digits) with distribution-free 95% intervals. Corrected latencies are measured from the intended send time.</p>
            """
        if let generator { html += "<p class=\"note\">\(Escape.html(Self.generatorLine(generator)))</p>" }
        for warning in warnings { html += "<p><strong>Warning:</strong> \(Escape.html(warning))</p>" }
        for candidate in candidates {
            html += "<h2>\(Escape.html(candidate.id))</h2>"
            let levels = candidate.levels
            // Closed-loop levels are plotted against concurrency, open-loop levels against the offered rate.
            let closed = levels.filter { $0.mode != "rate" }
            let open = levels.filter { $0.mode == "rate" }
            for (group, xAxis) in [(closed, "concurrent streams"), (open, "offered load (req/s)")] where !group.isEmpty
            {
                func series(_ name: String, _ value: (LevelResult) -> Double?) -> SVGChart.Series {
                    SVGChart.Series(
                        name: name,
                        points: group.compactMap { level in value(level).map { (level.target, $0) } }
                    )
                }
                let formatX: (Double) -> String = { String(format: $0 == $0.rounded() ? "%.0f" : "%.2f", $0) }
                var latency = [
                    series("E2E p50", { $0.e2e.p50 }), series("E2E p95", { $0.e2e.p95 }),
                    series("E2E p99", { $0.e2e.p99 }),
                ]
                latency.append(series("TTFT p95", { $0.ttft.p95 }))
                if !open.isEmpty && group.first?.mode == "rate" {
                    latency.append(series("corrected E2E p99", { $0.correctedE2E?.p99 }))
                }
                html += SVGChart.lines(
                    title: "Latency vs \(xAxis)",
                    xAxis: xAxis,
                    yAxis: "milliseconds",
                    latency,
                    formatX: formatX,
                    formatY: { Format.milliseconds($0) }
                )
                html += SVGChart.lines(
                    title: "Throughput vs \(xAxis)",
                    xAxis: xAxis,
                    yAxis: "requests per second",
                    [series("achieved", { $0.achievedRPS }), series("goodput", { $0.goodputRPS })],
                    formatX: formatX,
                    formatY: { String(format: "%.1f", $0) }
                )
            }
            html +=
                "<table><tr><th>level</th><th>completed</th><th>in flight at end</th><th>req/s</th><th>tok/s</th><th>TTFT p50/p95/p99</th><th>TPOT p50</th><th>E2E p50/p95/p99</th><th>E2E p99 95% interval</th><th>corrected E2E p99</th><th>lag p99</th><th>errors</th><th>429s</th><th>goodput</th><th>attainment</th></tr>"
            for level in levels {
                func ms(_ v: Double?) -> String { v.map { String(format: "%.1f", $0) } ?? "–" }
                func triple(_ percentiles: Percentiles) -> String {
                    [0.5, 0.95, 0.99].map { Self.cell(percentiles, $0, ms) }.joined(separator: " / ")
                }
                let interval = level.e2e.ci95?.p99.map { "\(ms($0[0]))–\(ms($0[1]))" } ?? "too few"
                html +=
                    "<tr><td>\(level.mode == "rate" ? String(format: "rate %.2f/s", level.target) : "concurrency \(Int(level.target))")</td>"
                html +=
                    "<td>\(level.completed)</td><td>\(level.inFlightAtEnd)</td><td>\(String(format: "%.2f", level.achievedRPS))</td><td>\(String(format: "%.1f", level.outputTokensPerSecond))</td>"
                html +=
                    "<td>\(triple(level.ttft))</td><td>\(ms(level.tpot.p50))</td>"
                html +=
                    "<td>\(triple(level.e2e))</td><td>\(interval)</td><td>\(ms(level.correctedE2E?.p99))</td><td>\(ms(level.scheduleLag?.p99))</td>"
                html +=
                    "<td>\(level.errors.values.reduce(0, +))</td><td>\(level.throttled)</td><td>\(String(format: "%.2f", level.goodputRPS))</td><td>\(level.attainment.map { String(format: "%.0f%%", $0 * 100) } ?? "–")</td></tr>"
            }
            html += "</table>"
            if levels.contains(where: Self.hasUnboundedPercentile) {
                html += "<p class=\"note\">\(Escape.html(Self.tooFewNote))</p>"
            }
            if let frontier = candidate.frontier {
                html +=
                    "<h3>Throughput frontier</h3><p class=\"note\">The highest offered rate at which the p99 TTFT and the p99 E2E (from the intended send time) stayed under each bound, with under 5% errors; the true limit lies below the next rate tried.</p>"
                html +=
                    "<table><tr><th>bound</th><th>highest rate held (req/s)</th><th>held with 95% confidence</th><th>first rate over</th></tr>"
                for point in frontier {
                    func rate(_ value: Double?) -> String { value.map { String(format: "%.2f", $0) } ?? "–" }
                    html +=
                        "<tr><td>\(Escape.html(point.bound))</td><td>\(rate(point.rateRPS))</td><td>\(rate(point.confidentRateRPS))</td><td>\(rate(point.firstOverRPS))</td></tr>"
                }
                html += "</table>"
            }
            if let saturation = candidate.saturation {
                html +=
                    "<p>Saturation: \(Escape.html(saturation.rateRPS.map { String(format: "serves %.2f req/s", $0) } ?? "no offered rate was served")); max throughput \(Escape.html(saturation.maxThroughputRPS.map { String(format: "%.2f", $0) } ?? "–")) req/s. \(Escape.html(saturation.reason ?? ""))</p>"
            }
        }
        return html + "</body></html>\n"
    }
}
