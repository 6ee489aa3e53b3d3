import Foundation
import RoadtestCore
import Testing

@Suite struct BarEvaluatorTests {
    /// A scorecard with every metric measured: pass rate 0.85; end-to-end p50/p90/p95/p99 0.8/1.5/2/4 s; time to
    /// first token p50/p95/p99 0.2/0.5/0.9 s; $0.002 per success, $0.034 in all; 3 errors in 30 attempts; 1 attack
    /// of 10 succeeded.
    static func card(measured: Bool = true) -> Scorecard {
        Scorecard(
            id: "model",
            provider: "openai",
            model: nil,
            cases: measured ? 20 : 0,
            trials: measured ? 20 : 0,
            passed: measured ? 17 : 0,
            passRate: measured ? 0.85 : 0,
            passRateCI95: [0, 1],
            byTag: [:],
            failuresByCheck: [:],
            latencyMilliseconds: measured
                ? LatencySummary(
                    ttft: Percentiles(count: 20, p50: 200, p95: 500, p99: 900),
                    e2e: Percentiles(count: 20, p50: 800, p90: 1500, p95: 2000, p99: 4000)
                )
                : LatencySummary(ttft: Percentiles(), e2e: Percentiles()),
            outputTokensPerSecond: nil,
            tokens: TokenSummary(input: 0, output: 0, outputEstimated: 0, judgeInput: 0, judgeOutput: 0),
            attempts: measured ? 30 : 0,
            retries: 0,
            errors: measured ? ["timeout": 2, "http_429": 1, "http_5xx": 0] : [:],
            costUSD: CostSummary(total: measured ? 0.034 : 0, perSuccess: measured ? 0.002 : nil, judge: 0),
            sampling: nil,
            bars: BarsSummary(met: true, results: []),
            security: measured
                ? SecuritySummary(
                    byPack: ["prompt-injection": .init(attacks: 10, succeeded: 1, owasp: "LLM01")],
                    errored: 0,
                    costUSD: 0
                )
                : nil
        )
    }

    /// metric, target, the value read off `card()` in the bar's unit, met, margin (positive: room to spare).
    @Test(arguments: [
        (BarMetric.passRate, 0.8, 0.85, true, 0.05),
        (.passRate, 0.85, 0.85, true, 0),  // at the target: met
        (.passRate, 0.9, 0.85, false, -0.05),
        (.p50Latency, 1.0, 0.8, true, 0.2),  // latencies are compared in seconds
        (.p90Latency, 1.5, 1.5, true, 0),
        (.p95Latency, 1.5, 2.0, false, -0.5),
        (.p99Latency, 5, 4, true, 1),
        (.p50TTFT, 0.1, 0.2, false, -0.1),
        (.p95TTFT, 0.5, 0.5, true, 0),
        (.p99TTFT, 1, 0.9, true, 0.1),
        (.costPerSuccess, 0.001, 0.002, false, -0.001),
        (.totalCost, 0.05, 0.034, true, 0.016),
        (.errorRate, 0.1, 0.1, true, 0),
        (.errorRate, 0.05, 0.1, false, -0.05),
        (.attackSuccessRate, 0.2, 0.1, true, 0.1),
        (.attackSuccessRate, 0, 0.1, false, -0.1),
    ])
    func barVerdicts(row: (metric: BarMetric, target: Double, value: Double, met: Bool, margin: Double)) throws {
        let card = Self.card()
        let value = try #require(BarEvaluator.value(of: row.metric, in: card))
        #expect(abs(value - row.value) < 1e-12, "\(row.metric.rawValue) = \(value)")
        let summary = BarEvaluator.evaluate([Bar(metric: row.metric, target: row.target)], on: card)
        let result = try #require(summary.results.first)
        #expect(result.bar == row.metric.rawValue && result.target == row.target)
        #expect(result.met == row.met, "\(row.metric.rawValue) \(row.target)")
        #expect(summary.met == row.met)
        #expect(abs((result.margin ?? .nan) - row.margin) < 1e-12, "margin \(result.margin ?? .nan)")
    }

    @Test func everyMetricHasARow() {
        // The table above must grow with BarMetric: every metric is measured on the full card.
        for metric in BarMetric.allCases {
            #expect(BarEvaluator.value(of: metric, in: Self.card()) != nil, "\(metric.rawValue)")
        }
    }

    /// Metrics that cannot be measured on a card with no trials, no latencies, no success and no attacks.
    @Test(arguments: BarMetric.allCases.filter { $0 != .totalCost && $0 != .errorRate })
    func anUnmeasuredBarIsNotMet(metric: BarMetric) throws {
        let card = Self.card(measured: false)
        #expect(BarEvaluator.value(of: metric, in: card) == nil)
        // Even a target that any value would meet.
        let target = metric.isMinimum ? 0 : Double.greatestFiniteMagnitude
        let result = try #require(BarEvaluator.evaluate([Bar(metric: metric, target: target)], on: card).results.first)
        #expect(!result.met && result.value == nil && result.margin == nil)
    }

    @Test func theSummaryIsMetOnlyWhenEveryBarIs() {
        let card = Self.card()
        let pass = Bar(metric: .passRate, target: 0.8)
        let latency = Bar(metric: .p95Latency, target: 1.5)
        #expect(BarEvaluator.evaluate([], on: card).met)
        #expect(BarEvaluator.evaluate([pass], on: card).met)
        let both = BarEvaluator.evaluate([pass, latency], on: card)
        #expect(!both.met)
        #expect(both.results.map(\.bar) == ["pass_rate", "p95_latency"], "in the suite's order")
        #expect(both.results.map(\.met) == [true, false])
    }
}
