import Foundation
import RoadtestCore

/// A Markdown scorecard sized for a pull-request comment.
public enum MarkdownReport {
    public static func render(_ report: RunReport, failures: [TrialRow], failureLimit: Int = 20) -> String {
        let cards = report.candidates
        var md = "## Roadtest: \(Escape.markdownCell(report.suite))\n\n"
        md += "Run `\(report.runID)` · \(report.status) · "
        md += report.barsMet ? "**every candidate meets its bars** ✅\n\n" : "**a bar is not met** ❌\n\n"
        md += "| | " + cards.map { "**\(Escape.markdownCell($0.id))**" }.joined(separator: " | ") + " |\n"
        md += "|---|" + cards.map { _ in "---:" }.joined(separator: "|") + "|\n"
        func row(_ label: String, _ value: (Scorecard) -> String) {
            md += "| \(label) | " + cards.map { Escape.markdownCell(value($0)) }.joined(separator: " | ") + " |\n"
        }
        row("pass rate (95% CI)") {
            "\(Format.percent($0.passRate)) (\(Format.percent($0.passRateCI95.first))–\(Format.percent($0.passRateCI95.last)))"
        }
        row("passed / cases") { "\(Format.number($0.passed)) / \($0.cases)" }
        for tag in Set(cards.flatMap { $0.byTag.keys }).sorted() {
            row("tag " + tag) { $0.byTag[tag].map { Format.percent($0.passRate) } ?? "–" }
        }
        for (label, values) in ScorecardExtras.rows(cards) {
            md +=
                "| \(Escape.markdownCell(label)) | " + values.map(Escape.markdownCell).joined(separator: " | ") + " |\n"
        }
        row("TTFT p50 / p95 ms") {
            "\(Format.milliseconds($0.latencyMilliseconds.ttft.p50)) / \(Format.milliseconds($0.latencyMilliseconds.ttft.p95))"
        }
        row("E2E p50 / p95 / p99 ms") {
            "\(Format.milliseconds($0.latencyMilliseconds.e2e.p50)) / \(Format.milliseconds($0.latencyMilliseconds.e2e.p95)) / \(Format.milliseconds($0.latencyMilliseconds.e2e.p99))"
        }
        row("errors") { card in
            let nonZero = card.errors.filter { $0.value > 0 }.sorted { $0.key < $1.key }
            return nonZero.isEmpty ? "none" : nonZero.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
        }
        row("attempts (retries)") { "\($0.attempts) (\($0.retries))" }
        row("cost total") { Format.usd($0.costUSD.total) }
        row("cost / success") { Format.usd($0.costUSD.perSuccess) }
        row("detectable Δ (80% power)") { Format.detectableDifference($0) }
        for bar in Set(cards.flatMap { $0.bars.results.map(\.bar) }).sorted() {
            let target = cards.compactMap { $0.bars.results.first { $0.bar == bar } }.first?.target
            row("bar \(bar) \(Format.barOperator(bar)) \(Format.barValue(bar, target))") { card in
                guard let result = card.bars.results.first(where: { $0.bar == bar }) else { return "–" }
                return (result.met ? "✅ " : "❌ ") + Format.barValue(bar, result.value)
            }
        }
        let shown = failures.prefix(failureLimit)
        if !shown.isEmpty {
            md +=
                "\n<details><summary>\(failures.count) failing trial\(failures.count == 1 ? "" : "s")\(failures.count > shown.count ? " (first \(shown.count) shown)" : "")</summary>\n\n"
            md += "| candidate | case | failed checks | output |\n|---|---|---|---|\n"
            for trial in shown {
                let reasons = trial.checks.filter { !$0.passed }.map { "\($0.check): \($0.reason)" }.joined(
                    separator: "; "
                )
                md +=
                    "| \(Escape.markdownCell(trial.key.candidate)) | \(Escape.markdownCell(trial.key.caseID + (trial.key.variant.isOriginal ? "" : " [\(trial.key.variant.name)]"))) | \(Escape.markdownCell(Escape.truncate(reasons, 200))) | \(Escape.markdownCell(Escape.truncate(trial.output, 200))) |\n"
            }
            md += "\n</details>\n"
        }
        return md
    }
}
