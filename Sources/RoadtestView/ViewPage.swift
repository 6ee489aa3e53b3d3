import Foundation
import RoadtestCore
import RoadtestReport

/// The viewer's HTML: plain pages, one inline style sheet, no external assets. Every value is escaped.
enum ViewPage {
    static let style = """
        body{font:14px/1.45 system-ui,sans-serif;max-width:1200px;margin:0 auto;padding:12px 16px;color:#1d2330}
        nav a{margin-right:14px}table{border-collapse:collapse;margin:8px 0;width:100%}
        td,th{border:1px solid #e1e4ea;padding:4px 8px;text-align:left;vertical-align:top}
        th{background:#f6f7f9}pre{white-space:pre-wrap;background:#f3f4f7;padding:8px;margin:4px 0}
        .pass{color:#11743b}.fail{color:#b42318}.muted{color:#667085}form.filters{margin:8px 0}
        form.filters input,form.filters select{margin-right:8px}.bar{background:#d0d5dd;height:8px}
        .bar>span{display:block;height:8px;background:#12b76a}
        """

    static let navigation =
        "<nav><a href=\"/\">runs</a><a href=\"/compare\">compare</a><a href=\"/gateway\">gateway</a>"
        + "<a href=\"/shadow\">shadow</a></nav>"

    static func shell(_ title: String, _ body: String, script: String = "") -> String {
        """
        <!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>\(Escape.html(title)) · Roadtest</title>
        <style>\(style)</style></head><body>\(navigation)<h1>\(Escape.html(title))</h1>\(body)\(script)</body></html>
        """
    }

    static func link(_ path: String, _ query: [String: String]) -> String {
        var components = URLComponents()
        components.path = path
        components.queryItems = query.sorted { $0.key < $1.key }.map { URLQueryItem(name: $0.key, value: $0.value) }
        return components.string ?? path
    }

    static func percent(_ value: Double?) -> String {
        value.map { String(format: "%.1f%%", $0 * 100) } ?? "–"
    }

    static func milliseconds(_ seconds: Double?) -> String {
        seconds.map { String(format: "%.0f ms", $0 * 1_000) } ?? "–"
    }

    // MARK: - Runs

    static func runs(_ runs: [RunRecord], total: Int, query: [String: String]) -> String {
        var body = """
            <form class="filters" method="get">suite <input name="suite" value="\(Escape.html(query["suite"] ?? ""))">
            status <select name="status"><option value="">any</option>
            """
        for status in ["running", "interrupted", "failed", "finished"] {
            body += "<option\(query["status"] == status ? " selected" : "")>\(status)</option>"
        }
        body += "</select><button type=\"submit\">filter</button></form>"
        body += "<p class=\"muted\">\(runs.count) of \(total) runs</p>"
        body += """
            <form method="get" action="/compare" id="compare"><table><tr><th>base</th><th>head</th><th>run</th>
            <th>suite</th><th>status</th><th>started</th><th>finished</th></tr>
            """
        for run in runs {
            let id = Escape.html(run.id)
            body += """
                <tr><td><input type="radio" name="base" value="\(id)"></td>
                <td><input type="radio" name="head" value="\(id)"></td>
                <td><a class="run" href="/runs/\(id)">\(id)</a></td><td>\(Escape.html(run.suiteName))
                <a class="muted" href="\(Escape.html(link("/history", ["suite": run.suitePath])))">history</a></td>
                <td>\(Escape.html(run.status.rawValue))</td><td>\(Escape.html(run.startedAt))</td>
                <td>\(Escape.html(run.finishedAt ?? ""))</td></tr>
                """
        }
        body += "</table><button type=\"submit\">compare base → head</button></form>"
        return shell("Runs", body)
    }

    // MARK: - A run

    static func run(
        _ run: RunRecord,
        report: RunReport?,
        trials: TrialPage,
        page: Int,
        query: [String: String]
    ) -> String {
        var body = "<p><code>\(Escape.html(run.id))</code> · \(Escape.html(run.suiteName)) · "
        body += "\(Escape.html(run.status.rawValue)) · started \(Escape.html(run.startedAt))</p>"
        if let report { body += scorecards(report) }
        body += filters(report: report, query: query)
        let pages = max(1, (trials.total + ViewServer.pageSize - 1) / ViewServer.pageSize)
        body += "<p class=\"muted\" id=\"count\">\(trials.total) trials match · page \(page) of \(pages)</p>"
        body += """
            <table id="trials"><tr><th>candidate</th><th>case</th><th>sample</th><th>variant</th><th>verdict</th>
            <th>class</th><th>failed checks</th><th>E2E</th><th>output</th></tr>
            """
        for trial in trials.rows {
            let key = trial.key
            let href = link(
                "/runs/\(run.id)/trial",
                [
                    "candidate": key.candidate, "case": key.caseID, "sample": String(key.sample),
                    "variant": key.variant.description,
                ]
            )
            let failed = trial.checks.filter { !$0.passed }.map(\.check).joined(separator: ", ")
            body += """
                <tr class="trial"><td>\(Escape.html(key.candidate))</td>
                <td><a class="open" href="\(Escape.html(href))">\(Escape.html(key.caseID))</a></td>
                <td>\(key.sample)</td><td>\(Escape.html(key.variant.description))</td>
                <td class="\(trial.passed ? "pass" : "fail")">\(trial.passed ? "pass" : "fail")</td>
                <td>\(Escape.html(trial.finalClass.rawValue))</td><td>\(Escape.html(failed))</td>
                <td>\(milliseconds(trial.endToEnd))</td><td>\(Escape.html(String(trial.output.prefix(160))))</td></tr>
                """
        }
        body += "</table><p>"
        if page > 1 {
            body +=
                "<a id=\"previous\" href=\"\(Escape.html(link("/runs/\(run.id)", query.merging(["page": String(page - 1)]) { $1 })))\">← previous</a> "
        }
        if page < pages {
            body +=
                "<a id=\"next\" href=\"\(Escape.html(link("/runs/\(run.id)", query.merging(["page": String(page + 1)]) { $1 })))\">next →</a>"
        }
        body += "</p>"
        return shell("Run \(run.id)", body)
    }

    static func scorecards(_ report: RunReport) -> String {
        var html = """
            <table id="scorecards"><tr><th>candidate</th><th>pass rate [95% CI]</th><th></th><th>trials</th>
            <th>E2E p50 / p95</th><th>TTFT p95</th><th>cost / success</th><th>errors</th><th>bars</th></tr>
            """
        for card in report.candidates {
            let interval =
                card.passRateCI95.count == 2
                ? " [\(percent(card.passRateCI95[0]))–\(percent(card.passRateCI95[1]))]" : ""
            let errors = card.errors.filter { $0.value > 0 }.sorted { $0.key < $1.key }
                .map { "\($0.key)×\($0.value)" }.joined(separator: " ")
            let bars = card.bars.results.isEmpty ? "none" : (card.bars.met ? "met" : "not met")
            html += """
                <tr><td>\(Escape.html(card.id))</td><td>\(percent(card.passRate))\(interval)</td>
                <td style="width:120px"><div class="bar"><span style="width:\(Int((card.passRate * 100).rounded()))%"></span></div></td>
                <td>\(card.trials)</td>
                <td>\(milliseconds(card.latencyMilliseconds.e2e.p50.map { $0 / 1_000 })) / \(milliseconds(card.latencyMilliseconds.e2e.p95.map { $0 / 1_000 }))</td>
                <td>\(milliseconds(card.latencyMilliseconds.ttft.p95.map { $0 / 1_000 }))</td>
                <td>\(card.costUSD.perSuccess.map { String(format: "$%.6f", $0) } ?? "–")</td>
                <td>\(Escape.html(errors.isEmpty ? "none" : errors))</td>
                <td class="\(bars == "not met" ? "fail" : "pass")">\(bars)</td></tr>
                """
        }
        return html + "</table>"
    }

    static func filters(report: RunReport?, query: [String: String]) -> String {
        var html = "<form class=\"filters\" method=\"get\" id=\"filters\">candidate <select name=\"candidate\">"
        html += "<option value=\"\">all</option>"
        for card in report?.candidates ?? [] {
            html += "<option\(query["candidate"] == card.id ? " selected" : "")>\(Escape.html(card.id))</option>"
        }
        html += "</select> verdict <select name=\"passed\">"
        for (value, label) in [("", "any"), ("no", "failed"), ("yes", "passed")] {
            html += "<option value=\"\(value)\"\(query["passed"] == value ? " selected" : "")>\(label)</option>"
        }
        html += "</select> class <select name=\"class\"><option value=\"\">any</option>"
        for attemptClass in AttemptClass.allCases {
            let value = attemptClass.rawValue
            html += "<option\(query["class"] == value ? " selected" : "")>\(value)</option>"
        }
        html += "</select>"
        for (name, label) in [("tag", "tag"), ("check", "failed check"), ("q", "text")] {
            html += "\(label) <input name=\"\(name)\" value=\"\(Escape.html(query[name] ?? ""))\" size=\"12\">"
        }
        return html + "<button type=\"submit\">filter</button></form>"
    }

    // MARK: - A trial

    static func trial(
        _ run: RunRecord,
        trial: TrialRow,
        attempts: [Attempt],
        subject: String,
        labels: [Feedback],
        formToken: String,
        saved: Bool
    ) -> String {
        let key = trial.key
        var body = "<p><a href=\"/runs/\(Escape.html(run.id))\">← run \(Escape.html(run.id))</a> · "
        body += "\(Escape.html(key.candidate)) · sample \(key.sample) · \(Escape.html(key.variant.description)) · "
        body +=
            "<span class=\"\(trial.passed ? "pass" : "fail")\" id=\"verdict\">\(trial.passed ? "pass" : "fail")</span>"
        body += " · \(Escape.html(trial.finalClass.rawValue)) · \(milliseconds(trial.endToEnd))"
        body += " · $\(String(format: "%.6f", trial.costUSD))</p>"
        if !trial.tags.isEmpty {
            body += "<p class=\"muted\">tags: \(Escape.html(trial.tags.joined(separator: ", ")))</p>"
        }
        if let system = trial.system { body += "<h3>System prompt</h3><pre id=\"system\">\(Escape.html(system))</pre>" }
        body += "<h3>Input</h3><pre id=\"input\">\(Escape.html(trial.input))</pre>"
        body += "<h3>Output</h3><pre id=\"output\">\(Escape.html(trial.output))</pre>"
        body += "<h3>Checks</h3><table id=\"checks\"><tr><th>check</th><th>verdict</th><th>score</th><th>why</th></tr>"
        for check in trial.checks {
            body += """
                <tr><td>\(Escape.html(check.check))\(check.isConstraint ? " (constraint)" : "")</td>
                <td class="\(check.passed ? "pass" : "fail")">\(check.passed ? "pass" : "fail")</td>
                <td>\(String(format: "%.2f", check.score))</td><td>\(Escape.html(check.reason))</td></tr>
                """
        }
        body += "</table><h3>Attempts</h3><table id=\"attempts\"><tr><th>#</th><th>role</th><th>candidate</th>"
        body += "<th>class</th><th>HTTP</th><th>TTFT</th><th>E2E</th><th>tokens in / out</th><th>message</th></tr>"
        for attempt in attempts {
            body += """
                <tr><td>\(attempt.number)</td><td>\(attempt.role.rawValue)</td>
                <td>\(Escape.html(attempt.candidate ?? key.candidate))</td><td>\(Escape.html(attempt.attemptClass.rawValue))</td>
                <td>\(attempt.httpStatus.map(String.init) ?? "–")</td><td>\(milliseconds(attempt.timeToFirstToken))</td>
                <td>\(milliseconds(attempt.endToEnd))</td><td>\(attempt.inputTokens) / \(attempt.outputTokens)</td>
                <td>\(Escape.html(attempt.message ?? ""))</td></tr>
                """
        }
        body += "</table><h3>Label</h3>"
        if saved { body += "<p class=\"pass\" id=\"saved\">Saved.</p>" }
        for label in labels {
            body += "<p class=\"label \(label.isGood ? "pass" : "fail")\">rated \(Escape.html(label.rating))"
            if let correction = label.correction { body += " · correction: \(Escape.html(correction))" }
            body += "</p>"
        }
        let back = link(
            "/runs/\(run.id)/trial",
            [
                "candidate": key.candidate, "case": key.caseID, "sample": String(key.sample),
                "variant": key.variant.description,
            ]
        )
        body += """
            <form method="post" action="/label" id="label">
            <input type="hidden" name="subject" value="\(Escape.html(subject))">
            <input type="hidden" name="token" value="\(formToken)">
            <input type="hidden" name="back" value="\(Escape.html(back))">
            <label><input type="radio" name="rating" value="up" id="good"> good (g)</label>
            <label><input type="radio" name="rating" value="down" id="bad" checked> bad (b)</label>
            <br><textarea name="correction" id="correction" rows="3" cols="90" placeholder="the correct answer (optional)"></textarea>
            <br><input name="comment" size="60" placeholder="comment (optional)">
            <button type="submit" id="save">save (ctrl+enter)</button></form>
            """
        let script = """
            <script>document.addEventListener('keydown',function(e){
            if(e.target.tagName==='TEXTAREA'||e.target.tagName==='INPUT'){
            if(e.ctrlKey&&e.key==='Enter'){document.getElementById('label').submit();}return;}
            if(e.key==='g'){document.getElementById('good').checked=true;}
            if(e.key==='b'){document.getElementById('bad').checked=true;}
            if(e.key==='c'){e.preventDefault();document.getElementById('correction').focus();}});</script>
            """
        return shell("Trial \(key.caseID)", body, script: script)
    }
}
