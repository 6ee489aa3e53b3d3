import Foundation
import RoadtestCore
import Testing

@Suite struct StatisticsTests {
    @Test func wilsonIntervalMatchesPublishedValues() {
        // 8 of 16: Wilson 95% interval is [0.2800, 0.7200].
        let half = Statistics.wilsonInterval(successes: 8, trials: 16)
        #expect(abs(half.lower - 0.2800) < 0.0005)
        #expect(abs(half.upper - 0.7200) < 0.0005)
        // 0 of 10: [0, 0.2775]; 10 of 10: [0.7225, 1].
        let none = Statistics.wilsonInterval(successes: 0, trials: 10)
        #expect(none.lower == 0)
        #expect(abs(none.upper - 0.2775) < 0.0005)
        let all = Statistics.wilsonInterval(successes: 10, trials: 10)
        #expect(abs(all.lower - 0.7225) < 0.0005)
        #expect(all.upper == 1)
        #expect(Statistics.wilsonInterval(successes: 0, trials: 0) == (0, 1))
    }

    @Test func nearestRankPercentiles() {
        let values = (1...100).map(Double.init)
        #expect(Statistics.percentile(sorted: values, 0.5) == 50)
        #expect(Statistics.percentile(sorted: values, 0.95) == 95)
        #expect(Statistics.percentile(sorted: values, 0.99) == 99)
        #expect(Statistics.percentile(sorted: values, 1) == 100)
        #expect(Statistics.percentile(sorted: [7], 0.99) == 7)
        #expect(Statistics.percentile(sorted: [], 0.5) == nil)
        #expect(Statistics.percentile(sorted: [1, 2, 3, 4], 0.5) == 2)
    }

    @Test func passAtKAndPassHatK() {
        // n=5, c=2, k=1 -> 0.4; k=2 -> 1 - C(3,2)/C(5,2) = 1 - 3/10 = 0.7.
        #expect(abs(Statistics.passAtK(n: 5, c: 2, k: 1) - 0.4) < 1e-12)
        #expect(abs(Statistics.passAtK(n: 5, c: 2, k: 2) - 0.7) < 1e-12)
        #expect(Statistics.passAtK(n: 5, c: 4, k: 2) == 1)
        #expect(Statistics.passAtK(n: 5, c: 0, k: 3) == 0)
        // pass^2 with n=5, c=2: C(2,2)/C(5,2) = 0.1.
        #expect(abs(Statistics.passHatK(n: 5, c: 2, k: 2) - 0.1) < 1e-12)
        #expect(Statistics.passHatK(n: 3, c: 3, k: 3) == 1)
        #expect(Statistics.passHatK(n: 3, c: 2, k: 3) == 0)
    }

    @Test func costArithmetic() {
        let price = Price(input: 0.15, output: 0.60, cachedInput: 0.075)
        // 1000 input (200 cached) and 500 output tokens.
        let cost = price.cost(inputTokens: 1000, outputTokens: 500, cachedInputTokens: 200)
        #expect(abs(cost - (800 * 0.15 + 200 * 0.075 + 500 * 0.60) / 1_000_000) < 1e-15)
        #expect(Price.free.cost(inputTokens: 10, outputTokens: 10) == 0)
    }

    @Test func durations() {
        #expect(DurationText.seconds("500ms") == 0.5)
        #expect(DurationText.seconds("30s") == 30)
        #expect(DurationText.seconds("2m") == 120)
        #expect(DurationText.seconds("1.5") == 1.5)
        #expect(DurationText.seconds("fast") == nil)
        #expect(DurationText.seconds("-1s") == nil)
    }
}

@Suite struct PairedStatisticsTests {
    @Test func detectableDifferenceShrinksWithTheSquareRootOfCases() throws {
        let hundred = try #require(Statistics.minimumDetectableDifference(cases: 100, discordance: 0.2))
        let four = try #require(Statistics.minimumDetectableDifference(cases: 400, discordance: 0.2))
        #expect(abs(hundred - 2.801585 * (0.2 / 100).squareRoot()) < 1e-9)
        #expect(abs(hundred / four - 2) < 1e-9)
        #expect(Statistics.minimumDetectableDifference(cases: 0) == nil)
    }

    @Test func bootstrapIsSeededAndCoversTheTruth() throws {
        let values = (0..<200).map { Double($0 % 10) }
        let first = try #require(Statistics.bootstrapInterval(values) { $0.reduce(0, +) / Double($0.count) })
        let again = try #require(Statistics.bootstrapInterval(values) { $0.reduce(0, +) / Double($0.count) })
        #expect(first.lower == again.lower && first.upper == again.upper)
        #expect(first.lower < 4.5 && first.upper > 4.5 && first.upper - first.lower < 1.5)
    }
}

@Suite struct ComparisonContractTests {
    @Test func figuresThatCouldNotBeComputedAreNull() throws {
        let data = try JSONEncoder().encode(Delta(base: 0.5, head: nil, delta: nil, ci95: nil))
        let json = try #require(JSONValue.parse(data))
        #expect(json == .object(["base": .number(0.5), "head": .null, "delta": .null, "ci95": .null]))
    }
}

@Suite struct PickerTests {
    func card(_ id: String, passed: Int, of cases: Int, cost: Double?, p95: Double?) -> Scorecard {
        let interval = Statistics.wilsonInterval(successes: Double(passed), trials: Double(cases))
        return Scorecard(
            id: id,
            provider: "openai",
            model: nil,
            cases: cases,
            trials: cases,
            passed: Double(passed),
            passRate: Double(passed) / Double(cases),
            passRateCI95: [interval.lower, interval.upper],
            byTag: [:],
            failuresByCheck: [:],
            latencyMilliseconds: LatencySummary(ttft: Percentiles(), e2e: Percentiles(count: cases, p95: p95)),
            outputTokensPerSecond: nil,
            tokens: TokenSummary(input: 0, output: 0, outputEstimated: 0, judgeInput: 0, judgeOutput: 0),
            attempts: cases,
            retries: 0,
            errors: [:],
            costUSD: CostSummary(total: (cost ?? 0) * Double(passed), perSuccess: cost, judge: 0),
            sampling: nil,
            bars: BarsSummary(met: true, results: [])
        )
    }

    @Test func theRuleDecidesAndTiesGoToLatency() {
        let bars = [Bar(metric: .passRate, target: 0.8)]
        let cards = [
            card("cheap", passed: 18, of: 20, cost: 0.001, p95: 900),  // point 0.90, lower bound ~0.70
            card("big", passed: 100, of: 100, cost: 0.01, p95: 500),  // lower bound ~0.96
            card("twin", passed: 100, of: 100, cost: 0.01, p95: 400),
        ]
        let strict = Picker.choose(scope: "overall", cards: cards, bars: bars, rule: .ciLowerBound)
        #expect(strict.candidate == "twin" && strict.fallback == "big", "same cost: lower p95 first")
        let point = Picker.choose(scope: "overall", cards: cards, bars: bars, rule: .point)
        #expect(point.candidate == "cheap" && point.fallback == "twin" && point.saturated)
        let none = Picker.choose(
            scope: "overall",
            cards: cards,
            bars: [Bar(metric: .passRate, target: 0.99)],
            rule: .ciLowerBound
        )
        #expect(none.candidate == nil && none.closest == "big" && !none.clears)
        let frontier = Picker.points(cards).filter(\.onFrontier).map(\.candidate)
        #expect(frontier == ["cheap", "big", "twin"])
        let dominated = Picker.points(cards + [card("worse", passed: 10, of: 20, cost: 0.02, p95: 100)])
        #expect(dominated.first { $0.candidate == "worse" }?.onFrontier == false)
    }
}
