import Foundation
import RoadtestCore

/// One self-contained HTML file: no external scripts, styles or fonts; charts as inline SVG; every piece of
/// text from a suite or a model escaped.
public enum HTMLReport {
    public static func render(_ report: RunReport, trials: [TrialRow]) -> String {
        let cards = report.candidates
        var html = """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>Roadtest · \(Escape.html(report.suite))</title>
            <style>\(style)\(SVGChart.style)</style></head><body>
            <header><h1>Roadtest · \(Escape.html(report.suite))</h1>
            <p>Run <code>\(Escape.html(report.runID))</code> · \(Escape.html(report.status)) · started \(Escape.html(report.startedAt))
            · <strong class="\(report.barsMet ? "ok" : "bad")">\(report.barsMet ? "every candidate meets its bars" : "a bar is not met")</strong></p></header>
            <main>
            """
        html += "<section><h2>Scorecard</h2>" + table(cards) + "</section>"
        html += "<section class=\"charts\">"
        html += SVGChart.bars(
            title: "Pass rate with 95% Wilson interval",
            axis: "pass rate",
            cards.map {
                .init(label: $0.id, value: $0.passRate, low: $0.passRateCI95.first, high: $0.passRateCI95.last)
            },
            maximum: 1,
            format: { Format.percent($0) }
        )
        html += SVGChart.bars(
            title: "E2E latency: p50 bar, ○ p95, whisker to p99",
            axis: "milliseconds",
            cards.map {
                let e2e = $0.latencyMilliseconds.e2e
                return .init(label: $0.id, value: e2e.p50, low: e2e.p50, high: e2e.p99, mark: e2e.p95)
            },
            format: { Format.milliseconds($0) }
        )
        html += SVGChart.bars(
            title: "TTFT: p50 bar, ○ p95, whisker to p99",
            axis: "milliseconds",
            cards.map {
                let ttft = $0.latencyMilliseconds.ttft
                return .init(label: $0.id, value: ttft.p50, low: ttft.p50, high: ttft.p99, mark: ttft.p95)
            },
            format: { Format.milliseconds($0) }
        )
        if cards.contains(where: { ($0.costUSD.perSuccess ?? 0) > 0 }) {
            html += SVGChart.bars(
                title: "Cost per successful task",
                axis: "USD",
                cards.map { .init(label: $0.id, value: $0.costUSD.perSuccess) },
                format: { Format.usd($0) }
            )
        }
        let curves = cards.filter { ($0.sampling?.curve.count ?? 0) > 1 }
        if !curves.isEmpty {
            html += SVGChart.lines(
                title: "Sampling curve: majority@k and pass@k against k samples",
                xAxis: "k samples",
                yAxis: "rate",
                curves.flatMap { card in
                    let curve = card.sampling?.curve ?? []
                    return [
                        SVGChart.Series(
                            name: "\(card.id) majority@k",
                            points: curve.map { (Double($0.k), $0.majorityAtK) }
                        ),
                        SVGChart.Series(name: "\(card.id) pass@k", points: curve.map { (Double($0.k), $0.passAtK) }),
                    ]
                },
                formatX: { Format.number($0) },
                formatY: { Format.percent($0) }
            )
            if curves.contains(where: { $0.sampling?.curve.contains { $0.costPerSuccessMajority != nil } ?? false }) {
                html += SVGChart.lines(
                    title: "Cost per success of a majority vote over k samples",
                    xAxis: "k samples",
                    yAxis: "USD",
                    curves.map { card in
                        SVGChart.Series(
                            name: card.id,
                            points: (card.sampling?.curve ?? []).compactMap { point in
                                point.costPerSuccessMajority.map { (Double(point.k), $0) }
                            }
                        )
                    },
                    formatX: { Format.number($0) },
                    formatY: { Format.usd($0) }
                )
            }
        }
        html += "</section>"
        let breaches = trials.filter { $0.attackSucceeded == true }
        if cards.contains(where: { $0.security != nil }) {
            html +=
                "<section><h2>Successful attacks</h2><p class=\"note\">Each attack's conversation as sent and answered; the canary or the offending call is highlighted.</p>"
            if breaches.isEmpty { html += "<p>No attack succeeded.</p>" }
            for trial in breaches {
                html += attack(trial)
            }
            html += "</section>"
        }
        html +=
            "<section><h2>Trials</h2><p class=\"note\">Failing trials open first; click a row to see the input, the output and every check.</p>"
        for card in cards {
            let own = trials.filter { $0.key.candidate == card.id }
            let failing = own.filter { !$0.passed }
            html +=
                "<h3>\(Escape.html(card.id)) <span class=\"note\">\(failing.count) failing of \(own.count)</span></h3>"
            for trial in failing + own.filter(\.passed) {
                html += details(trial)
            }
        }
        html +=
            "</section></main><footer>Metric definitions: TTFT = first content event − send; E2E = last content event − send; percentiles are nearest-rank over successful attempts; pass rate carries a 95% Wilson interval; cost per success = total cost (every attempt, sample and judge call) / tasks passed.</footer></body></html>\n"
        return html
    }

    static func table(_ cards: [Scorecard]) -> String {
        var rows: [(String, [String], [String?])] = []
        func row(_ label: String, _ value: (Scorecard) -> String, _ css: (Scorecard) -> String? = { _ in nil }) {
            rows.append((label, cards.map(value), cards.map(css)))
        }
        row("Cases") { "\($0.cases)" + ($0.trials != $0.cases ? " (\($0.trials) trials)" : "") }
        row("Passed") { Format.number($0.passed) }
        row("Pass rate [95% CI]") {
            "\(Format.percent($0.passRate)) [\(Format.percent($0.passRateCI95.first))–\(Format.percent($0.passRateCI95.last))]"
        }
        if cards.contains(where: { $0.sampling != nil }) {
            row("pass@k / pass^k / flip rate") { card in
                guard let s = card.sampling else { return "–" }
                let k = String(s.samples)
                return
                    "\(Format.percent(s.passAtK[k])) / \(Format.percent(s.passHatK[k])) / \(Format.percent(s.flipRate)) (k=\(k))"
            }
        }
        for tag in Set(cards.flatMap { $0.byTag.keys }).sorted() {
            row("Tag " + tag) {
                $0.byTag[tag].map { "\(Format.percent($0.passRate)) (\(Format.number($0.passed))/\($0.cases))" } ?? "–"
            }
        }
        row("Failed checks") {
            $0.failuresByCheck.isEmpty
                ? "none"
                : $0.failuresByCheck.sorted { $0.value > $1.value }.map { "\($0.key) ×\($0.value)" }.joined(
                    separator: ", "
                )
        }
        for (label, values) in ScorecardExtras.rows(cards) { rows.append((label, values, cards.map { _ in nil })) }
        row("TTFT p50 / p90 / p95 / p99 / max (ms)") { five($0.latencyMilliseconds.ttft) }
        row("E2E p50 / p90 / p95 / p99 / max (ms)") { five($0.latencyMilliseconds.e2e) }
        row("Output tokens/s") { $0.outputTokensPerSecond.map { String(format: "%.1f", $0) } ?? "–" }
        row("Attempts (retries)") { "\($0.attempts) (\($0.retries))" }
        row("Errors") { card in
            let nonZero = card.errors.filter { $0.value > 0 }.sorted { $0.key < $1.key }
            return nonZero.isEmpty ? "none" : nonZero.map { "\($0.key) ×\($0.value)" }.joined(separator: ", ")
        }
        row("Tokens in / out") {
            "\($0.tokens.input) / \($0.tokens.output)" + ($0.tokens.outputEstimated > 0 ? " (estimated)" : "")
        }
        row("Cost total") { Format.usd($0.costUSD.total) }
        row("Cost per success") { Format.usd($0.costUSD.perSuccess) }
        row("Detectable difference (80% power)") { Format.detectableDifference($0) }
        for bar in Set(cards.flatMap { $0.bars.results.map(\.bar) }).sorted() {
            let target = cards.compactMap { $0.bars.results.first { $0.bar == bar } }.first?.target
            row(
                "Bar \(bar) \(Format.barOperator(bar)) \(Format.barValue(bar, target))",
                { card in
                    guard let result = card.bars.results.first(where: { $0.bar == bar }) else { return "–" }
                    return (result.met ? "✓ " : "✗ ") + Format.barValue(bar, result.value)
                },
                { card in card.bars.results.first(where: { $0.bar == bar }).map { $0.met ? "ok" : "bad" } }
            )
        }
        var html =
            "<table class=\"scorecard\"><thead><tr><th></th>"
            + cards.map {
                "<th>\(Escape.html($0.id))<div class=\"note\">\(Escape.html($0.provider + ($0.model.map { " · " + $0 } ?? "")))</div></th>"
            }.joined() + "</tr></thead><tbody>"
        for (label, values, classes) in rows {
            html += "<tr><th>\(Escape.html(label))</th>"
            for (value, css) in zip(values, classes) {
                html += "<td" + (css.map { " class=\"\($0)\"" } ?? "") + ">\(Escape.html(value))</td>"
            }
            html += "</tr>"
        }
        return html + "</tbody></table>"
    }

    static func five(_ p: Percentiles) -> String {
        [p.p50, p.p90, p.p95, p.p99, p.max].map { Format.milliseconds($0) }.joined(separator: " / ")
    }

    static func details(_ trial: TrialRow) -> String {
        let status = trial.passed ? "pass" : "fail"
        var title = "\(trial.key.caseID)"
        if trial.key.sample > 0 { title += " #\(trial.key.sample)" }
        if !trial.key.variant.isOriginal { title += " [\(trial.key.variant.name)]" }
        var html =
            "<details class=\"trial \(status)\"\(trial.passed ? "" : " open")><summary><span class=\"badge \(status)\">\(status)</span> \(Escape.html(title))"
        if !trial.tags.isEmpty {
            html += " <span class=\"note\">\(Escape.html(trial.tags.joined(separator: ", ")))</span>"
        }
        html +=
            " <span class=\"note\">\(Escape.html(trial.finalClass.rawValue)) · \(trial.attempts) attempt\(trial.attempts == 1 ? "" : "s") · \(Format.milliseconds(trial.endToEnd.map { $0 * 1000 })) ms · \(Format.usd(trial.costUSD))</span></summary>"
        if !trial.key.variant.isOriginal, let system = trial.system, trial.key.variant.kind == .prompt {
            html += "<h4>System prompt (\(Escape.html(trial.key.variant.name)))</h4><pre>\(Escape.html(system))</pre>"
        }
        let inputLabel =
            trial.key.variant.isOriginal || (trial.key.variant.kind == .prompt)
            ? "Input" : "Input (perturbed: \(Escape.html(trial.key.variant.name)))"
        html +=
            "<div class=\"io\"><div><h4>\(inputLabel)</h4><pre>\(Escape.html(trial.input))</pre></div><div><h4>Output</h4><pre>\(Escape.html(trial.output))</pre></div></div>"
        if let transcript = trial.transcript, transcript.contains(where: { $0.role == "tool" }) {
            html += "<h4>Conversation</h4><ol class=\"transcript\">"
            for message in transcript {
                html += "<li><h4>\(Escape.html(message.role))</h4>"
                if !message.content.isEmpty { html += "<pre>\(Escape.html(message.content))</pre>" }
                for call in message.toolCalls ?? [] {
                    html += "<pre>→ \(Escape.html(call.name))(\(Escape.html(call.arguments)))</pre>"
                }
                html += "</li>"
            }
            html += "</ol>"
        }
        html += "<ul class=\"checks\">"
        for check in trial.checks {
            html +=
                "<li class=\"\(check.passed ? "ok" : "bad")\">\(check.passed ? "✓" : "✗") <code>\(Escape.html(check.check))</code> \(Escape.html(check.reason))\(check.weight != 1 ? " (weight \(Format.number(check.weight)))" : "")</li>"
        }
        return html + "</ul></details>"
    }

    /// One successful attack: its pack and evidence, and the transcript with the highlight marked.
    static func attack(_ trial: TrialRow) -> String {
        let highlight = trial.attackHighlight ?? ""
        func marked(_ text: String) -> String {
            guard !highlight.isEmpty else { return Escape.html(text) }
            return text.components(separatedBy: highlight).map(Escape.html)
                .joined(separator: "<mark>\(Escape.html(highlight))</mark>")
        }
        var html =
            "<details class=\"trial fail\"><summary><span class=\"badge fail\">breached</span> \(Escape.html(trial.key.candidate)) · \(Escape.html(trial.key.caseID)) <span class=\"note\">\(Escape.html(trial.attackPack ?? "")) · \(Escape.html(trial.attackEvidence ?? ""))</span></summary><ol class=\"transcript\">"
        for message in trial.transcript ?? [] {
            html +=
                "<li><h4>\(Escape.html(message.role))\(message.toolCallID.map { " (\(Escape.html($0)))" } ?? "")</h4>"
            if !message.content.isEmpty { html += "<pre>\(marked(message.content))</pre>" }
            for call in message.toolCalls ?? [] {
                html += "<pre>→ \(marked(call.name))(\(marked(call.arguments)))</pre>"
            }
            html += "</li>"
        }
        return html + "</ol></details>"
    }

    static let style = """
        body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;color:#1d2330;background:#f6f7f9}
        header,main,footer{max-width:1100px;margin:0 auto;padding:12px 20px}
        h1{font-size:22px;margin:8px 0}h2{font-size:18px;margin-top:28px}h3{font-size:15px;margin:18px 0 6px}h4{margin:4px 0;font-size:12px;color:#5b6475}
        table.scorecard{border-collapse:collapse;background:#fff;width:100%}
        .scorecard th,.scorecard td{border:1px solid #e1e4ea;padding:6px 10px;text-align:left;vertical-align:top}
        .scorecard thead th{background:#eef1f6}.scorecard td{font-variant-numeric:tabular-nums}
        .ok{color:#11743b}.bad{color:#b42318}td.ok{background:#ecfdf3}td.bad{background:#fef3f2}
        .note{color:#6b7385;font-size:12px;font-weight:normal}
        .charts{display:flex;flex-wrap:wrap;gap:16px}
        details.trial{background:#fff;border:1px solid #e1e4ea;margin:4px 0;padding:4px 10px}
        details.trial summary{cursor:pointer}.badge{display:inline-block;border-radius:3px;padding:0 6px;font-size:11px;color:#fff}
        .badge.pass{background:#11743b}.badge.fail{background:#b42318}
        .io{display:grid;grid-template-columns:1fr 1fr;gap:10px}pre{white-space:pre-wrap;word-break:break-word;background:#f3f4f7;padding:8px;margin:0;max-height:320px;overflow:auto}
        ul.checks{margin:6px 0;padding-left:18px}footer{color:#6b7385;font-size:12px}
        mark{background:#fde68a;color:#7a2e0e;font-weight:600}ol.transcript{padding-left:18px}
        """
}
