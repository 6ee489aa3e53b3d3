import Foundation
import RoadtestCore

/// Renders a suite's history: terminal, JSON, and HTML with trend charts.
public enum HistoryRenderer {
    public static func json(_ report: HistoryReport) throws -> Data {
        try JSONReport.encode(report)
    }

    static func drift(_ point: HistoryReport.Point) -> String {
        switch point.drift {
        case .regression?: return String(format: "REGRESSION (p %.3g)", point.mcnemarP ?? 1)
        case .improvement?: return String(format: "improvement (p %.3g)", point.mcnemarP ?? 1)
        case .noSignificantChange?: return "steady"
        case nil: return "–"
        }
    }

    /// One line per run and candidate, oldest first.
    public static func terminal(_ report: HistoryReport) -> String {
        var rows = [["RUN", "STARTED", "CANDIDATE", "PASS RATE [95% CI]", "E2E P95", "COST/SUCCESS", "VS PREVIOUS"]]
        for run in report.runs {
            for point in run.candidates {
                rows.append([
                    run.runID, String(run.startedAt.prefix(19)), Escape.terminal(point.candidate),
                    "\(Format.percent(point.passRate)) [\(Format.percent(point.passRateCI95.first))–"
                        + "\(Format.percent(point.passRateCI95.last))]",
                    Format.milliseconds(point.e2eP95Milliseconds) + " ms", Format.usd(point.costPerSuccess),
                    drift(point),
                ])
            }
        }
        var text = "Roadtest history · \(Escape.terminal(report.suite)) · \(report.runs.count) run(s)\n"
        text += TextTable.render(rows)
        let drifts = report.drifts
        text +=
            drifts.isEmpty
            ? "no significant drift between consecutive runs\n"
            : drifts.map { "drift: \(Escape.terminal($0.point.candidate)) in \($0.runID): \(drift($0.point))" }
                .joined(separator: "\n") + "\n"
        return text
    }

    /// A self-contained page with pass rate, E2E p95 and cost per success over the runs, one line per candidate.
    public static func html(_ report: HistoryReport) -> String {
        let candidates = Array(Set(report.runs.flatMap { $0.candidates.map(\.candidate) })).sorted()
        func series(_ value: @escaping (HistoryReport.Point) -> Double?) -> [SVGChart.Series] {
            candidates.map { id in
                SVGChart.Series(
                    name: id,
                    points: report.runs.enumerated().compactMap { index, run in
                        run.candidates.first { $0.candidate == id }.flatMap(value).map { (Double(index + 1), $0) }
                    }
                )
            }
        }
        let runNumber: (Double) -> String = { String(format: "%.0f", $0) }
        var html = """
            <!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Roadtest history</title><style>
            body{font:14px/1.45 system-ui,sans-serif;max-width:1100px;margin:0 auto;padding:16px;color:#1d2330}
            table{border-collapse:collapse}td,th{border:1px solid #e1e4ea;padding:4px 8px;text-align:left}
            .regression{color:#b42318}.improvement{color:#11743b}\(SVGChart.style)</style></head><body>
            <h1>Roadtest history · \(Escape.html(report.suite))</h1>
            <p>\(report.runs.count) finished run(s) of <code>\(Escape.html(report.suitePath))</code>, oldest first.
            Drift: each run compared, paired on common trials, with the previous run of the same candidate.</p>
            """
        html += SVGChart.lines(
            title: "Pass rate by run",
            xAxis: "run",
            yAxis: "pass rate",
            series { $0.passRate },
            formatX: runNumber,
            formatY: { Format.percent($0) }
        )
        html += SVGChart.lines(
            title: "E2E p95 by run",
            xAxis: "run",
            yAxis: "milliseconds",
            series { $0.e2eP95Milliseconds },
            formatX: runNumber,
            formatY: { Format.milliseconds($0) }
        )
        html += SVGChart.lines(
            title: "Cost per success by run",
            xAxis: "run",
            yAxis: "USD",
            series { $0.costPerSuccess },
            formatX: runNumber,
            formatY: { Format.usd($0) }
        )
        html +=
            "<table><tr><th>#</th><th>run</th><th>candidate</th><th>pass rate</th><th>E2E p95</th>"
            + "<th>cost/success</th><th>vs previous</th></tr>"
        for (index, run) in report.runs.enumerated() {
            for point in run.candidates {
                html +=
                    "<tr><td>\(index + 1)</td><td>\(Escape.html(run.runID))</td><td>\(Escape.html(point.candidate))</td>"
                    + "<td>\(Format.percent(point.passRate))</td><td>\(Format.milliseconds(point.e2eP95Milliseconds))</td>"
                    + "<td>\(Format.usd(point.costPerSuccess))</td><td class=\"\(point.drift?.rawValue ?? "")\">"
                    + "\(Escape.html(drift(point)))</td></tr>"
            }
        }
        return html + "</table></body></html>\n"
    }
}

/// Renders the life of each case.
public enum CaseLifecycleRenderer {
    public static func json(_ report: CaseLifecycleReport) throws -> Data {
        try JSONReport.encode(report)
    }

    public static func terminal(_ report: CaseLifecycleReport) -> String {
        let candidates = Array(Set(report.cases.flatMap(\.passRate.keys))).sorted()
        var rows = [["CASE"] + candidates.map { Escape.terminal($0) } + ["STATUS"]]
        for status in report.cases {
            var label = [String]()
            if status.saturated { label.append("saturated") }
            if status.neverPassed { label.append("never passed") }
            if status.discriminates { label.append("discriminates") }
            rows.append(
                [Escape.terminal(status.id)] + candidates.map { Format.percent(status.passRate[$0]) }
                    + [label.isEmpty ? "–" : label.joined(separator: ", ")]
            )
        }
        var text = "Roadtest cases · \(Escape.terminal(report.suite)) · over \(report.runIDs.count) run(s)\n"
        text += TextTable.render(rows)
        let saturated = report.cases.filter(\.saturated).map(\.id)
        if !saturated.isEmpty {
            text +=
                "\(saturated.count) saturated case(s) every candidate passes in every run no longer tell them apart; "
                + "consider retiring them: " + saturated.prefix(20).map { Escape.terminal($0) }.joined(separator: ", ")
                + (saturated.count > 20 ? ", …" : "") + "\n"
        }
        let never = report.cases.filter(\.neverPassed).count
        if never > 0 { text += "\(never) case(s) never passed: check the case, or the candidates are not there yet\n" }
        return text
    }
}
