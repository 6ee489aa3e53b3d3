import Foundation
import RoadtestCore

/// Renders a paired comparison: terminal, JSON (the contract), Markdown (a pull-request comment), HTML.
public enum ComparisonRenderer {
    public static func json(_ report: ComparisonReport) throws -> Data {
        try JSONReport.encode(report)
    }

    static func percent(_ value: Double?) -> String { Format.percent(value) }

    static func signedPercent(_ value: Double?) -> String {
        guard let value else { return "–" }
        return (value >= 0 ? "+" : "") + String(format: "%.1f pt", value * 100)
    }

    static func interval(_ delta: Delta, _ format: (Double) -> String) -> String {
        guard let ci = delta.ci95, ci.count == 2 else { return "" }
        return " [" + format(ci[0]) + ", " + format(ci[1]) + "]"
    }

    static func milliseconds(_ delta: Delta) -> String {
        let signed: (Double) -> String = { ($0 >= 0 ? "+" : "") + String(format: "%.0f", $0) }
        return "\(Format.milliseconds(delta.base)) → \(Format.milliseconds(delta.head)) ms"
            + (delta.delta.map { " (" + signed($0) + interval(delta, signed) + ")" } ?? "")
    }

    static func usd(_ delta: Delta) -> String {
        "\(Format.usd(delta.base)) → \(Format.usd(delta.head))"
            + (delta.delta.map { " (" + ($0 >= 0 ? "+" : "") + Format.usd($0) + ")" } ?? "")
    }

    static func verdictText(_ verdict: Verdict) -> String {
        switch verdict {
        case .regression: return "REGRESSION"
        case .improvement: return "improvement"
        case .noSignificantChange: return "no significant change"
        }
    }

    /// Lines for a terminal (no colour codes; every name from a suite escaped).
    public static func terminal(_ report: ComparisonReport, flippedLimit: Int = 10) -> String {
        var lines = [
            "Roadtest compare · base \(report.base.runID) (\(Escape.terminal(report.base.suite))) → head "
                + "\(report.head.runID) (\(Escape.terminal(report.head.suite)))"
        ]
        for candidate in report.candidates {
            lines.append("")
            lines.append("\(Escape.terminal(candidate.id)): \(verdictText(candidate.verdict))")
            lines.append(
                "  pass rate  \(percent(candidate.passRate.base)) → \(percent(candidate.passRate.head))  "
                    + signedPercent(candidate.passRate.delta) + interval(candidate.passRate, signedPercent)
                    + String(format: "  McNemar p = %.4g", candidate.mcnemarP)
            )
            lines.append(
                "  pairs \(candidate.pairs) (unpaired \(candidate.unpaired)): both pass \(candidate.bothPass), "
                    + "both fail \(candidate.bothFail), regressions \(candidate.regressions), fixes \(candidate.fixes)"
            )
            lines.append("  E2E p95   " + milliseconds(candidate.latencyMilliseconds.e2eP95))
            lines.append("  TTFT p95  " + milliseconds(candidate.latencyMilliseconds.ttftP95))
            lines.append("  cost/success " + usd(candidate.costPerSuccess))
            if let detectable = candidate.minimumDetectableDifference {
                // No pass rate moves by more than 100 points: past that, nothing is detectable.
                lines.append(
                    detectable > 1
                        ? "  " + Scorecard.tooSmallToDetect
                        : String(format: "  detectable difference at 80%% power: about %.0f pt", detectable * 100)
                )
            }
            for flip in candidate.flipped.prefix(flippedLimit) {
                lines.append(
                    "  \(flip.base ? "✗ regressed" : "✓ fixed    ") \(Escape.terminal(flip.caseID))"
                        + (flip.sample > 0 ? " #\(flip.sample)" : "")
                        + (flip.variant.map { " [\(Escape.terminal($0))]" } ?? "")
                )
            }
            if candidate.flipped.count > flippedLimit {
                lines.append("  … \(candidate.flipped.count - flippedLimit) more flipped (see --json or --html)")
            }
        }
        for warning in report.warnings { lines.append("warning: " + Escape.terminal(warning)) }
        return lines.joined(separator: "\n") + "\n"
    }

    /// A pull-request comment.
    public static func markdown(_ report: ComparisonReport) -> String {
        var md = "### Roadtest compare: `\(report.base.runID)` → `\(report.head.runID)`\n\n"
        md +=
            "| candidate | verdict | pass rate | Δ [95% CI] | McNemar p | regressions / fixes | E2E p95 | cost/success |\n"
        md += "|---|---|---|---|---|---|---|---|\n"
        for candidate in report.candidates {
            let cells = [
                Escape.markdownCell(candidate.id), verdictText(candidate.verdict),
                "\(percent(candidate.passRate.base)) → \(percent(candidate.passRate.head))",
                signedPercent(candidate.passRate.delta) + interval(candidate.passRate, signedPercent),
                String(format: "%.4g", candidate.mcnemarP), "\(candidate.regressions) / \(candidate.fixes)",
                Escape.markdownCell(milliseconds(candidate.latencyMilliseconds.e2eP95)),
                Escape.markdownCell(usd(candidate.costPerSuccess)),
            ]
            md += "| " + cells.joined(separator: " | ") + " |\n"
        }
        let flipped = report.candidates.flatMap { candidate in candidate.flipped.map { (candidate.id, $0) } }
        if !flipped.isEmpty {
            md +=
                "\n<details><summary>\(flipped.count) flipped trial(s)</summary>\n\n| candidate | case | change |\n|---|---|---|\n"
            for (id, flip) in flipped.prefix(200) {
                md +=
                    "| \(Escape.markdownCell(id)) | \(Escape.markdownCell(flip.caseID + (flip.variant.map { " [\($0)]" } ?? ""))) | "
                    + (flip.base ? "pass → fail" : "fail → pass") + " |\n"
            }
            md += "\n</details>\n"
        }
        for warning in report.warnings { md += "\n> " + Escape.markdownCell(warning) + "\n" }
        return md
    }

    /// A self-contained page; flipped trials show both outputs side by side (`outputs`: candidate, case, sample,
    /// variant name → base output, head output).
    public static func html(_ report: ComparisonReport, outputs: [String: (base: String, head: String)]) -> String {
        var html = """
            <!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Roadtest compare</title><style>
            body{font:14px/1.45 system-ui,sans-serif;max-width:1100px;margin:0 auto;padding:16px;color:#1d2330}
            table{border-collapse:collapse;margin:8px 0}td,th{border:1px solid #e1e4ea;padding:4px 8px;text-align:left}
            .io{display:grid;grid-template-columns:1fr 1fr;gap:10px}pre{white-space:pre-wrap;background:#f3f4f7;padding:8px}
            .regression{color:#b42318}.improvement{color:#11743b}</style></head><body>
            <h1>Roadtest compare</h1><p>Base <code>\(Escape.html(report.base.runID))</code> → head
            <code>\(Escape.html(report.head.runID))</code> · alpha \(report.alpha)</p>
            """
        for candidate in report.candidates {
            html +=
                "<h2>\(Escape.html(candidate.id)) · <span class=\"\(candidate.verdict.rawValue)\">"
                + "\(verdictText(candidate.verdict))</span></h2><table>"
            let rows = [
                ("pass rate", "\(percent(candidate.passRate.base)) → \(percent(candidate.passRate.head))"),
                (
                    "difference [95% CI]",
                    signedPercent(candidate.passRate.delta) + interval(candidate.passRate, signedPercent)
                ),
                ("McNemar p", String(format: "%.4g", candidate.mcnemarP)),
                ("pairs", "\(candidate.pairs) (both pass \(candidate.bothPass), both fail \(candidate.bothFail))"),
                ("regressions / fixes", "\(candidate.regressions) / \(candidate.fixes)"),
                ("E2E p95", milliseconds(candidate.latencyMilliseconds.e2eP95)),
                ("TTFT p95", milliseconds(candidate.latencyMilliseconds.ttftP95)),
                ("cost per success", usd(candidate.costPerSuccess)),
            ]
            for (label, value) in rows { html += "<tr><th>\(label)</th><td>\(Escape.html(value))</td></tr>" }
            html += "</table>"
            for flip in candidate.flipped.prefix(500) {
                let key = [candidate.id, flip.caseID, String(flip.sample), flip.variant ?? ""].joined(
                    separator: "\u{1F}"
                )
                let pair = outputs[key]
                html +=
                    "<details><summary>\(flip.base ? "pass → fail" : "fail → pass") · \(Escape.html(flip.caseID))"
                    + "\(flip.variant.map { " [\(Escape.html($0))]" } ?? "")</summary><div class=\"io\">"
                    + "<div><h4>Base</h4><pre>\(Escape.html(pair?.base ?? ""))</pre></div>"
                    + "<div><h4>Head</h4><pre>\(Escape.html(pair?.head ?? ""))</pre></div></div></details>"
            }
        }
        for warning in report.warnings { html += "<p><strong>Warning:</strong> \(Escape.html(warning))</p>" }
        return html + "</body></html>\n"
    }

    /// The key `html(_:outputs:)` looks outputs up by.
    public static func outputKey(candidate: String, caseID: String, sample: Int, variant: String?) -> String {
        [candidate, caseID, String(sample), variant ?? ""].joined(separator: "\u{1F}")
    }
}
