import Foundation
import RoadtestCore

/// `roadtest pick` output: the choice per scope for the terminal, the JSON contract, and an HTML page with the
/// cost/quality frontier as an inline SVG chart.
public enum PickRenderer {
    public static func json(_ report: PickReport) throws -> Data { try JSONReport.encode(report) }

    static func ruleText(_ rule: PickRule) -> String {
        rule == .point
            ? "pass rate judged on its point estimate"
            : "pass rate judged on the lower bound of its 95% interval"
    }

    static func interval(_ values: [Double]?) -> String {
        guard let values, values.count == 2 else { return "" }
        return String(format: " [%.1f, %.1f]", values[0] * 100, values[1] * 100)
    }

    public static func terminal(_ report: PickReport) -> String {
        var text = "Pick for run \(Escape.terminal(report.runID)) (\(ruleText(report.rule)))\n"
        if report.bars.isEmpty {
            text += "The suite has no bars: every candidate clears; choosing on cost and latency.\n"
        }
        text += "\n"
        var rows = [["scope", "pick", "fallback", "cost/success", "pass rate [95% CI]", "E2E p95"]]
        for pick in report.picks {
            rows.append(
                [
                    pick.scope,
                    pick.candidate ?? "none clears" + (pick.closest.map { " (closest: \($0))" } ?? ""),
                    pick.fallback ?? "–",
                    Format.usd(pick.costPerSuccess),
                    pick.passRate.map { Format.percent($0) + interval(pick.passRateCI95) } ?? "–",
                    pick.e2eP95MS.map { Format.milliseconds($0) + " ms" } ?? "–",
                ].map { Escape.terminal($0) }
            )
        }
        text += TextTable.render(rows)
        if report.saturated {
            text +=
                "\nEvery candidate clears every bar: the suite is saturated for them; the choice is on cost and latency.\n"
        }
        for pick in report.picks where pick.candidate == nil {
            let closest = pick.standings.first { $0.candidate == pick.closest }
            text +=
                "\nNothing clears \(pick.scope)."
                + (closest.map {
                    " Closest: \(Escape.terminal($0.candidate)) (fails \($0.failedBars.joined(separator: ", ")))."
                } ?? "")
                + "\n"
        }
        let frontier = report.frontier.map { point in
            "\(Escape.terminal(point.candidate)) (\(Format.usd(point.costPerSuccess)), \(Format.percent(point.passRate)))"
        }
        text += "\nFrontier (cheapest per success for its pass rate): " + frontier.joined(separator: ", ") + "\n"
        return text
    }

    public static func html(_ report: PickReport) -> String {
        var html = """
            <!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Roadtest pick · \(Escape.html(report.suite))</title>
            <style>\(HTMLReport.style)\(SVGChart.style)</style></head><body>
            <header><h1>Roadtest pick · \(Escape.html(report.suite))</h1>
            <p>Run <code>\(Escape.html(report.runID))</code> · \(Escape.html(ruleText(report.rule)))\(report.saturated ? " · <strong>saturated: every candidate clears</strong>" : "")</p></header><main>
            <section><h2>Choice</h2><table class="scorecard"><thead><tr><th>scope</th><th>pick</th><th>fallback</th><th>cost per success</th><th>pass rate [95% CI]</th><th>E2E p95</th></tr></thead>
            """
        for pick in report.picks {
            html +=
                "<tr><td>\(Escape.html(pick.scope))</td><td class=\"\(pick.candidate == nil ? "bad" : "ok")\">"
                + Escape.html(pick.candidate ?? "none clears" + (pick.closest.map { " (closest: \($0))" } ?? ""))
                + "</td><td>\(Escape.html(pick.fallback ?? "–"))</td><td>\(Format.usd(pick.costPerSuccess))</td>"
                + "<td>\(pick.passRate.map { Format.percent($0) + interval(pick.passRateCI95) } ?? "–")</td>"
                + "<td>\(pick.e2eP95MS.map { Format.milliseconds($0) + " ms" } ?? "–")</td></tr>"
        }
        html +=
            "</table></section><section><h2>Cost per success against pass rate</h2>" + frontierChart(report)
            + "</section>"
        html +=
            "<section><h2>Every candidate</h2><table class=\"scorecard\"><thead><tr><th>candidate</th><th>cost per success</th><th>pass rate [95% CI]</th><th>E2E p95</th><th>clears</th><th>failed bars</th></tr></thead>"
        for standing in report.picks.first?.standings ?? [] {
            html +=
                "<tr><td>\(Escape.html(standing.candidate))</td><td>\(Format.usd(standing.costPerSuccess))</td>"
                + "<td>\(Format.percent(standing.passRate))\(interval(standing.passRateCI95))</td>"
                + "<td>\(standing.e2eP95MS.map { Format.milliseconds($0) + " ms" } ?? "–")</td>"
                + "<td class=\"\(standing.clears ? "ok" : "bad")\">\(standing.clears ? "yes" : "no")</td>"
                + "<td>\(Escape.html(standing.failedBars.joined(separator: ", ")))</td></tr>"
        }
        html += "</table></section></main></body></html>\n"
        return html
    }

    /// A scatter of every candidate (cost per success on x, pass rate on y), the frontier joined by a line, the
    /// overall pick ringed, E2E p95 in each label.
    static func frontierChart(_ report: PickReport) -> String {
        let points = report.points.filter { $0.costPerSuccess != nil }
        let left = 70.0
        let top = 16.0
        let width = 560.0
        let height = 300.0
        let costMax = SVGChart.niceTicks(upTo: max(points.compactMap(\.costPerSuccess).max() ?? 1, 1e-12)).last ?? 1
        func x(_ cost: Double) -> Double { left + cost / costMax * width }
        func y(_ rate: Double) -> Double { top + height - rate * height }
        var svg = SVGChart.open(
            title: "Cost per success (x) against pass rate (y)",
            width: left + width + 160,
            height: top + height + 50
        )
        for tick in stride(from: 0.0, through: 1.0, by: 0.25) {
            svg += SVGChart.line(left, y(tick), left + width, y(tick), "grid")
            svg += SVGChart.text(left - 6, y(tick) + 4, Format.percent(tick), anchor: "end", css: "tick")
        }
        for tick in SVGChart.niceTicks(upTo: costMax) {
            svg += SVGChart.text(x(tick), top + height + 16, Format.usd(tick), anchor: "middle", css: "tick")
        }
        svg += SVGChart.line(left, top + height, left + width, top + height, "axis")
        let frontier = report.frontier.compactMap { point in point.costPerSuccess.map { (x($0), y(point.passRate)) } }
            .sorted { $0.0 < $1.0 }
        if frontier.count > 1 {
            svg +=
                "<polyline fill=\"none\" stroke=\"#2563eb\" stroke-width=\"1.5\" points=\""
                + frontier.map { "\(SVGChart.f($0.0)),\(SVGChart.f($0.1))" }.joined(separator: " ") + "\"/>"
        }
        let picked = report.picks.first { $0.scope == "overall" }?.candidate
        for point in points {
            guard let cost = point.costPerSuccess else { continue }
            let cx = x(cost)
            let cy = y(point.passRate)
            svg +=
                "<circle cx=\"\(SVGChart.f(cx))\" cy=\"\(SVGChart.f(cy))\" r=\"5\" fill=\"\(point.onFrontier ? "#2563eb" : "#9aa3b2")\"/>"
            if point.candidate == picked {
                svg +=
                    "<circle cx=\"\(SVGChart.f(cx))\" cy=\"\(SVGChart.f(cy))\" r=\"9\" fill=\"none\" stroke=\"#11743b\" stroke-width=\"2\"/>"
            }
            let label = point.candidate + (point.e2eP95MS.map { " · p95 " + Format.milliseconds($0) + " ms" } ?? "")
            svg += SVGChart.text(cx + 9, cy - 7, label, anchor: "start", css: "tick")
        }
        svg +=
            "</svg><figcaption class=\"note\">Blue: on the frontier (nothing else is both cheaper per success and at least as good). Ringed: the overall pick. Candidates with no success have no cost per success and are not drawn.</figcaption></figure>"
        return svg
    }
}
