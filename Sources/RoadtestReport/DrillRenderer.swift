import Foundation
import RoadtestCore

/// `roadtest drill` output: the resilience table for the terminal, the JSON contract, and a self-contained HTML
/// page with the resilience table, the scorecards under faults and a timeline of faults and outcomes.
public enum DrillRenderer {
    public static func json(_ report: DrillReport) throws -> Data { try JSONReport.encode(report) }

    static func signedMilliseconds(_ value: Double?) -> String {
        guard let value else { return "–" }
        return (value >= 0 ? "+" : "−") + Format.milliseconds(abs(value))
    }

    static func signedPercent(_ value: Double?) -> String {
        guard let value else { return "–" }
        return (value >= 0 ? "+" : "−") + Format.percent(abs(value))
    }

    static func faultSummary(_ resilience: Resilience) -> String {
        let parts = FaultKind.categories.compactMap { key -> String? in
            let count = resilience.faults[key, default: 0]
            return count > 0 ? "\(key) \(count)" : nil
        }
        return parts.isEmpty ? "none" : parts.joined(separator: ", ")
    }

    /// Rows: label, then one value per drilled candidate.
    static func rows(_ report: DrillReport) -> [(String, [String])] {
        let drilled = report.candidates.compactMap { card in card.resilience.map { (card.scorecard.id, $0) } }
        func row(_ label: String, _ value: (Resilience) -> String) -> (String, [String]) {
            (label, drilled.map { value($0.1) })
        }
        return [
            ("candidate", drilled.map(\.0)),
            row("faults injected") { faultSummary($0) },
            row("requests proxied") { "\($0.requests)" },
            row("trials") { "\($0.trials)" },
            row("succeeded") { "\($0.succeeded)" },
            row("success rate (clean)") {
                "\(Format.percent($0.successRate)) (\(Format.percent($0.cleanSuccessRate)))"
            },
            row("lost") { "\($0.lost)" },
            row("served by fallback") { "\($0.servedByFallback)" },
            row("retries") { "\($0.retries)" },
            row("added latency p50 / p95") {
                "\(signedMilliseconds($0.addedLatencyMS.p50)) / \(signedMilliseconds($0.addedLatencyMS.p95)) ms"
            },
            row("cost per success (change)") { "\(Format.usd($0.costPerSuccess)) (\(signedPercent($0.costIncrease)))" },
            row("recovery after outage") { resilience in
                resilience.windows.isEmpty
                    ? "–" : resilience.recoveryS.map { String(format: "%.1f s", $0) } ?? "did not recover"
            },
        ]
    }

    public static func terminal(_ report: DrillReport) -> String {
        var text =
            "Drill \(Escape.terminal(report.runID)) (clean \(Escape.terminal(report.cleanRunID))) · "
            + "faults \(report.faults.isEmpty ? "–" : report.faults)"
            + (report.windows.isEmpty ? "" : " · \(report.windows.count) scenario window(s)")
            + " · seed \(report.seed)\n\n"
        let rows = rows(report)
        text += TextTable.render(rows.map { [$0.0] + $0.1.map { Escape.terminal($0) } })
        text +=
            report.lost == 0
            ? "\nNo trial was lost.\n" : "\n\(report.lost) trial(s) were lost: no outcome was recorded.\n"
        return text
    }

    public static func html(_ report: DrillReport) -> String {
        var html = """
            <!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Roadtest drill · \(Escape.html(report.suite))</title>
            <style>\(HTMLReport.style)\(SVGChart.style)</style></head><body>
            <header><h1>Roadtest drill · \(Escape.html(report.suite))</h1>
            <p>Faulted run <code>\(Escape.html(report.runID))</code> against clean run <code>\(Escape.html(report.cleanRunID))</code>
            · faults <code>\(Escape.html(report.faults.isEmpty ? "–" : report.faults))</code> · seed \(report.seed)
            · <strong class="\(report.lost == 0 ? "ok" : "bad")">\(report.lost == 0 ? "no trial lost" : "\(report.lost) trial(s) lost")</strong></p></header><main>
            <section><h2>Resilience</h2><table class="scorecard">
            """
        for (index, row) in rows(report).enumerated() {
            let cell = index == 0 ? "th" : "td"
            html += "<tr><th>\(Escape.html(row.0))</th>"
            for value in row.1 { html += "<\(cell)>\(Escape.html(value))</\(cell)>" }
            html += "</tr>"
        }
        html += "</table></section><section><h2>Timeline</h2>" + timeline(report) + "</section>"
        html += "<section><h2>Scorecard under faults</h2>" + HTMLReport.table(report.candidates.map(\.scorecard))
        html +=
            "</section></main><footer>Succeeded = answered and passed its checks. Added latency compares the wall time of successful trials (retries, backoff and fallbacks included) with the clean run, percentile by percentile. Recovery = time from the end of a scenario window to the first success after it.</footer></body></html>\n"
        return html
    }

    /// Faults (ticks above each lane, by category) and outcomes (dots: pass, fail, served by a fallback) over time,
    /// with the scenario's windows shaded.
    static func timeline(_ report: DrillReport) -> String {
        let lanes = report.drilled
        guard !lanes.isEmpty else { return "" }
        let end = max(1, report.timeline.map(\.t).max() ?? 1, report.windows.map(\.end).max() ?? 0)
        let left = 140.0
        let width = 940.0
        let plot = width - left - 20
        let laneHeight = 54.0
        let height = 40 + Double(lanes.count) * laneHeight + 30
        func x(_ t: Double) -> Double { left + max(0, t) / end * plot }
        let colours = [
            "http_429": "#d97706", "http_5xx": "#b42318", "stream_cut": "#7c3aed", "timeout": "#1d4ed8",
            "malformed": "#be185d", "reset": "#111827", "slow": "#0f766e",
        ]
        var svg = SVGChart.open(title: "Faults and outcomes over time (seconds)", width: width, height: height)
        for window in report.windows {
            svg +=
                "<rect x=\"\(SVGChart.f(x(window.at)))\" y=\"20\" width=\"\(SVGChart.f(x(window.end) - x(window.at)))\""
                + " height=\"\(SVGChart.f(Double(lanes.count) * laneHeight))\" fill=\"#fde68a\" opacity=\"0.5\"><title>"
                + Escape.html("\(window.rule.text) from \(window.at) s for \(window.duration) s") + "</title></rect>"
        }
        for (index, lane) in lanes.enumerated() {
            let top = 20 + Double(index) * laneHeight
            svg += SVGChart.text(left - 8, top + laneHeight / 2 + 4, lane, anchor: "end", css: "tick")
            svg += SVGChart.line(left, top + laneHeight - 6, width - 20, top + laneHeight - 6, "grid")
            for event in report.timeline where event.candidate == lane {
                if event.type == "fault" {
                    let kind = event.fault.flatMap { FaultKind(rawValue: $0) }?.category ?? "slow"
                    svg +=
                        "<line x1=\"\(SVGChart.f(x(event.t)))\" y1=\"\(SVGChart.f(top + 4))\" x2=\"\(SVGChart.f(x(event.t)))\""
                        + " y2=\"\(SVGChart.f(top + 20))\" stroke=\"\(colours[kind] ?? "#6b7385")\" stroke-width=\"1.5\"><title>"
                        + Escape.html("\(event.fault ?? "") at \(String(format: "%.2f", event.t)) s")
                        + "</title></line>"
                } else {
                    let fill = event.passed == true ? (event.servedBy == nil ? "#11743b" : "#2563eb") : "#b42318"
                    svg +=
                        "<circle cx=\"\(SVGChart.f(x(event.t)))\" cy=\"\(SVGChart.f(top + 34))\" r=\"3\" fill=\"\(fill)\"><title>"
                        + Escape.html(
                            (event.passed == true ? "succeeded" : "failed")
                                + (event.servedBy.map { " (served by \($0))" } ?? "")
                                + " at \(String(format: "%.2f", event.t)) s"
                        ) + "</title></circle>"
                }
            }
        }
        let axis = 20 + Double(lanes.count) * laneHeight
        for tick in SVGChart.niceTicks(upTo: end) where tick <= end {
            svg += SVGChart.text(x(tick), axis + 16, Format.number(tick), anchor: "middle", css: "tick")
        }
        svg += "</svg>"
        svg +=
            "<figcaption class=\"note\">Ticks: faults (orange 429, red 5xx, purple cut, blue stall, pink malformed, black reset, teal slow). Dots: green succeeded, blue succeeded through a fallback, red failed. Shaded: scenario windows.</figcaption></figure>"
        return svg
    }
}
