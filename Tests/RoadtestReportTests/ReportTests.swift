import Foundation
import RoadtestCore
import RoadtestReport
import Testing

#if canImport(FoundationXML)
import FoundationXML
#endif

@Suite struct ReportTests {
    static let hostile = "<script>alert('x')</script> & \"quotes\" \u{1B}[31mred | `code` ]]>"

    func sample() -> (RunReport, [TrialRow]) {
        let card = Scorecard(
            id: "cand<b>",
            provider: "openai",
            model: "m",
            cases: 2,
            trials: 2,
            passed: 1,
            passRate: 0.5,
            passRateCI95: [0.09, 0.91],
            byTag: ["t": TagScore(cases: 1, passed: 1, passRate: 1)],
            failuresByCheck: ["contains": 1],
            latencyMilliseconds: LatencySummary(
                ttft: Percentiles(milliseconds: [10, 20]),
                e2e: Percentiles(milliseconds: [30, 40])
            ),
            outputTokensPerSecond: 12,
            tokens: TokenSummary(input: 10, output: 20, outputEstimated: 0, judgeInput: 0, judgeOutput: 0),
            attempts: 3,
            retries: 1,
            errors: ["http_429": 1],
            costUSD: CostSummary(total: 0.002, perSuccess: 0.002, judge: 0),
            sampling: nil,
            bars: BarsSummary(
                met: false,
                results: [BarResult(bar: "pass_rate", target: 0.9, value: 0.5, met: false, margin: -0.4)]
            )
        )
        let report = RunReport(
            runID: "r1",
            suite: "suite <x>",
            suitePath: "/s.yaml",
            status: "finished",
            startedAt: "now",
            finishedAt: "later",
            candidates: [card]
        )
        let trial = TrialRow(
            key: TrialKey(candidate: "cand<b>", caseID: "case&1", sample: 0),
            tags: ["t"],
            input: Self.hostile,
            passed: false,
            score: 0,
            output: Self.hostile,
            checks: [CheckResult(check: "contains", passed: false, score: 0, weight: 1, reason: Self.hostile)],
            finalClass: .ok,
            attempts: 1,
            endToEnd: 0.04,
            costUSD: 0.001
        )
        return (report, [trial])
    }

    @Test func htmlIsSelfContainedAndEscapesEverything() {
        let (report, trials) = sample()
        let html = HTMLReport.render(report, trials: trials)
        #expect(!html.contains("<script"))
        #expect(html.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"))
        #expect(!html.contains("cand<b>"))
        #expect(!html.contains("\u{1B}"))
        #expect(!html.contains("src=\"http"))
        #expect(!html.contains("href=\"http"))
        #expect(!html.contains("@import"))
        #expect(html.contains("<svg"))
    }

    @Test func junitIsWellFormedXML() throws {
        let (report, trials) = sample()
        let xml = JUnitReport.render(report, trials: trials)
        let document = try XMLDocument(data: Data(xml.utf8))
        let failures = try document.nodes(forXPath: "//failure")
        #expect(failures.count == 2)  // the failing trial and the missed bar
        #expect(!xml.contains("\u{1B}"))
    }

    @Test func markdownNeutralisesTablesAndHTML() {
        let (report, trials) = sample()
        let markdown = MarkdownReport.render(report, failures: trials)
        #expect(!markdown.contains("<script"))
        #expect(!markdown.contains("| `code`"))
        let tableLines = markdown.split(separator: "\n").filter { $0.hasPrefix("| cand") }
        for line in tableLines { #expect(line.filter { $0 == "|" }.count == 5) }
    }

    @Test func terminalStripsControlCharacters() {
        let (report, trials) = sample()
        let text = TerminalReport(useColor: false).render(report, failures: trials)
        #expect(!text.contains("\u{1B}"))
        #expect(text.contains("✗ 50.0%"))
    }

    @Test func jsonFollowsTheContract() throws {
        let (report, _) = sample()
        let json = try #require(JSONValue.parse(try JSONReport.render(report)))
        #expect(json["schema_version"] == .number(1))
        #expect(json["run_id"] == .string("r1"))
        let card = try #require(json["candidates"]?.arrayValue?.first)
        for key in [
            "id", "cases", "passed", "pass_rate", "pass_rate_ci95", "by_tag", "latency_ms", "tokens", "attempts",
            "retries", "errors", "cost_usd", "bars",
        ] {
            #expect(card[key] != nil, "missing \(key)")
        }
        #expect(card["latency_ms"]?["ttft"]?["p95"] == .number(20))
        #expect(card["latency_ms"]?["e2e"]?["p50"] == .number(30))
        #expect(card["cost_usd"]?["per_success"] == .number(0.002))
        #expect(card["bars"]?["results"]?.arrayValue?.first?["bar"] == .string("pass_rate"))
        #expect(card["by_tag"]?["t"]?["pass_rate"] == .number(1))
    }

    @Test func theTerminalScorecardFitsOneHundredColumns() {
        // Given three candidates, one of which failed many different checks (a long cell)
        let (report, trials) = sample()
        var cards = [report.candidates[0], report.candidates[0], report.candidates[0]]
        cards[0].id = "a-candidate-with-a-long-name"
        cards[1].failuresByCheck = Dictionary(
            uniqueKeysWithValues: ["contains", "icontains", "regex", "is-json", "json-path", "max-length", "judge"]
                .enumerated().map { ($1, $0 + 1) }
        )
        cards[2].id = "third"
        let wide = RunReport(
            runID: "r",
            suite: "s",
            suitePath: "/s.yaml",
            status: "finished",
            startedAt: "now",
            finishedAt: nil,
            candidates: cards
        )
        let text = TerminalReport(useColor: false).render(wide, failures: trials)
        // Then no line is wider than 100 columns and every failed check is still shown
        for line in text.split(separator: "\n") { #expect(line.count <= 100, "\(line.count): \(line)") }
        for name in ["icontains×2", "judge×7", "max-length×6"] { #expect(text.contains(name), "\(name)") }
        #expect(text.contains("a-candidate-with-a-long-name"))
    }

    @Test func aRunTooSmallSaysSoInsteadOfAnImpossibleDetectableDifference() throws {
        // Given one card too small to detect any difference, and one with a figure
        let (report, _) = sample()
        var small = report.candidates[0]
        small.id = "small"
        small.minimumDetectableDifference = nil
        small.isTooSmallToDetectDifference = true
        var large = report.candidates[0]
        large.id = "large"
        large.minimumDetectableDifference = 0.12
        var both = report
        both.candidates = [small, large]
        // Then every renderer says so, and none prints a figure above 100 points
        let terminal = TerminalReport(useColor: false).render(both)
        let markdown = MarkdownReport.render(both, failures: [])
        let html = HTMLReport.render(both, trials: [])
        for text in [terminal, markdown, html] {
            #expect(text.contains(Scorecard.tooSmallToDetect))
            #expect(text.contains("±12 pt"))
        }
        #expect(terminal.split(separator: "\n").contains { $0.hasPrefix("detectable Δ (80% power)") })
        // And the JSON keeps the key: null, with the reason beside it
        let json = try #require(JSONValue.parse(try JSONReport.render(both)))
        let cards = try #require(json["candidates"]?.arrayValue)
        #expect(cards[0]["minimum_detectable_difference"] == .null)
        #expect(cards[0]["minimum_detectable_difference_reason"] == .string(Scorecard.tooSmallToDetect))
        #expect(cards[1]["minimum_detectable_difference"] == .number(0.12))
        #expect(cards[1]["minimum_detectable_difference_reason"] == nil)
    }

    @Test(arguments: [1, 5])
    func aLongBarLabelKeepsItsTargetWithItsOperator(candidates: Int) {
        // Given a redteam bar whose label is wider than the label column's usual 28
        let (report, _) = sample()
        var card = report.candidates[0]
        card.bars = BarsSummary(
            met: false,
            results: [BarResult(bar: "attack_success_rate", target: 0.25, value: 0.5, met: false, margin: -0.25)]
        )
        var wide = report
        wide.candidates = (0..<candidates).map { index in
            var copy = card
            copy.id = "candidate-\(index)"
            return copy
        }
        let lines = TerminalReport(useColor: false).render(wide).split(separator: "\n").map(String.init)
        // Then no line holds the target alone, and no line is wider than 100 columns
        #expect(!lines.contains { $0.trimmingCharacters(in: .whitespaces) == "0.25" }, "\(lines)")
        #expect(!lines.contains { $0.hasSuffix("≤") }, "\(lines)")
        for line in lines { #expect(line.count <= 100, "\(line.count): \(line)") }
        if candidates == 1 {
            // With room to spare, the label takes the columns it needs and stays on one line
            #expect(lines.contains { $0.hasPrefix("bar attack_success_rate ≤ 0.25") && $0.hasSuffix("✗ 0.50") })
        } else {
            // Without it, the label wraps inside its column, the target kept with its operator
            #expect(lines.contains { $0.hasPrefix("bar attack_success_rate ") && $0.contains("✗ 0.50") }, "\(lines)")
            #expect(lines.contains { $0.hasPrefix("  ≤ 0.25") }, "\(lines)")
        }
    }
}
