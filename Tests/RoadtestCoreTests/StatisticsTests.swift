import Foundation
import RoadtestCore
import Testing

@Suite struct StatisticsTests {
    /// Reference: statsmodels 0.15.0 `proportion_confint(successes, trials, alpha=0.05, method="wilson")`.
    @Test(arguments: [
        (8, 10, 0.490162, 0.943318),
        (8, 16, 0.279996, 0.720004),
        (0, 10, 0.000000, 0.277533),
        (10, 10, 0.722467, 1.000000),
        (1, 1, 0.206549, 1.000000),
        (3, 7, 0.158220, 0.749542),
        (47, 50, 0.837829, 0.979385),
        (1, 100, 0.001767, 0.054486),
        (50, 100, 0.403832, 0.596168),
        (999, 1000, 0.994357, 0.999823),
    ])
    func wilsonIntervalMatchesStatsmodels(row: (successes: Int, trials: Int, lower: Double, upper: Double)) {
        let interval = Statistics.wilsonInterval(successes: Double(row.successes), trials: Double(row.trials))
        #expect(abs(interval.lower - row.lower) < 5e-6, "lower \(interval.lower)")
        #expect(abs(interval.upper - row.upper) < 5e-6, "upper \(interval.upper)")
    }

    /// Reference: scipy 1.17.1, `binom.cdf`: lower = the largest l with cdf(l − 1) ≤ 0.025, upper = the smallest u
    /// with cdf(u − 1) ≥ 0.975. Above 20,000 values the normal approximation may be one rank off.
    @Test(arguments: [
        (100, 0.5, 40, 61), (1000, 0.99, 983, 997), (1000, 0.95, 936, 964), (500, 0.9, 436, 464),
        (368, 0.99, 360, 368), (72, 0.95, 64, 72), (6, 0.5, 1, 6), (20000, 0.99, 19772, 19828),
        (50000, 0.99, 49456, 49544), (100_000, 0.5, 49690, 50311), (1_000_000, 0.99, 989_805, 990_196),
    ])
    func quantileIntervalRanksMatchScipy(row: (count: Int, p: Double, lower: Int, upper: Int)) throws {
        let ranks = try #require(Statistics.quantileIntervalRanks(count: row.count, p: row.p))
        let slack = row.count > 20000 ? 1 : 0
        #expect(abs(ranks.lower - row.lower) <= slack, "lower \(ranks.lower)")
        #expect(abs(ranks.upper - row.upper) <= slack, "upper \(ranks.upper)")
    }

    /// Too few values to bound a percentile: no interval (the p99 of 367 values, the p95 of 71, the median of 5).
    @Test func quantileIntervalNeedsEnoughValues() {
        #expect(Statistics.quantileIntervalRanks(count: 367, p: 0.99) == nil)
        #expect(Statistics.quantileIntervalRanks(count: 71, p: 0.95) == nil)
        #expect(Statistics.quantileIntervalRanks(count: 5, p: 0.5) == nil)
        #expect(Statistics.quantileIntervalRanks(count: 0, p: 0.5) == nil)
    }

    /// The intervals cover the true percentile at least 95% of the time: 2,000 samples of 500 uniform values,
    /// whose p90 is 0.9 and p99 0.99.
    @Test func quantileIntervalsCoverTheTruePercentile() {
        var random = SplitMix64(seed: 7)
        var covered = [0.9: 0, 0.99: 0]
        let samples = 2000
        for _ in 0..<samples {
            let values = (0..<500).map { _ in Double(random.next() >> 11) / Double(1 << 53) }.sorted()
            let intervals = PercentileIntervals(count: values.count) { values[$0 - 1] }
            for p in [0.9, 0.99] {
                if let interval = intervals.interval(at: p), interval[0] <= p, p <= interval[1] {
                    covered[p]! += 1
                }
            }
        }
        // Exact coverage is at least 95%; 2,000 draws put the observed share within about 1 point of it.
        for (p, count) in covered {
            #expect(Double(count) / Double(samples) >= 0.935, "p\(p): \(count) of \(samples)")
        }
    }

    @Test func normalQuantileMatchesKnownValues() {
        #expect(abs(Statistics.normalQuantile(0.975) - 1.959964) < 1e-6)
        #expect(abs(Statistics.normalQuantile(0.5)) < 1e-9)
        #expect(abs(Statistics.normalQuantile(0.001) + 3.090232) < 1e-6)
    }

    /// The hand-made timestamp writes what `ISO8601DateFormatter` writes (UTC, milliseconds), across leap days,
    /// century rules, the epoch and before it.
    @Test func timestampsMatchFoundationsFormatter() {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        var random = SplitMix64(seed: 3)
        // Milliseconds since the epoch (+0.4 ms, so no rounding rule decides the digit).
        var moments: [Int64] = [
            0, -1, 951_782_400_000, 951_868_799_999, 4_107_542_400_000, 1_796_443_200_123, -2_208_988_800_000,
            253_402_300_799_999,
        ]
        for _ in 0..<2000 { moments.append(Int64(random.next() % 8_000_000_000_000) - 1_000_000_000_000) }
        for millis in moments {
            let date = Date(timeIntervalSince1970: (Double(millis) + 0.4) / 1000)
            #expect(RunRecord.timestamp(date) == formatter.string(from: date), "\(millis)")
        }
    }

    @Test func wilsonIntervalEdges() {
        #expect(Statistics.wilsonInterval(successes: 0, trials: 0) == (0, 1))
        #expect(Statistics.wilsonInterval(successes: 0, trials: 10).lower == 0)
        #expect(Statistics.wilsonInterval(successes: 10, trials: 10).upper == 1)
        // A wider z gives a wider interval around the same centre.
        let z95 = Statistics.wilsonInterval(successes: 8, trials: 10)
        let z99 = Statistics.wilsonInterval(successes: 8, trials: 10, z: 2.575829)
        #expect(z99.lower < z95.lower && z99.upper > z95.upper)
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

    /// Reference: the HumanEval estimator (Chen et al. 2021, "Evaluating Large Language Models Trained on Code",
    /// figure 3) in numpy, `1 - np.prod(1 - k / np.arange(n - c + 1, n + 1))` (1 when n - c < k), cross-checked
    /// with scipy 1.17.1 `1 - comb(n - c, k) / comb(n, k)` (exact integers).
    @Test(arguments: [
        (5, 2, 1, 0.4),
        (5, 2, 2, 0.7),
        (10, 3, 1, 0.3),
        (10, 3, 5, 0.916666666667),
        (10, 3, 8, 1),
        (20, 5, 10, 0.983746130031),
        (200, 13, 100, 0.999919497199),
        (100, 1, 1, 0.01),
        (100, 1, 50, 0.5),
        (5, 0, 3, 0),
        (5, 5, 1, 1),
        (7, 2, 6, 1),
    ])
    func passAtKMatchesTheHumanEvalEstimator(row: (n: Int, c: Int, k: Int, expected: Double)) {
        #expect(abs(Statistics.passAtK(n: row.n, c: row.c, k: row.k) - row.expected) < 1e-11)
    }

    /// Reference: pass^k (Yao et al. 2024, "tau-bench") = C(c, k) / C(n, k), from scipy 1.17.1 `comb(..., exact=True)`.
    @Test(arguments: [
        (5, 2, 2, 0.1),
        (3, 3, 3, 1),
        (3, 2, 3, 0),
        (10, 3, 1, 0.3),
        (10, 3, 2, 0.0666666666667),
        (10, 7, 3, 0.291666666667),
        (8, 8, 8, 1),
        (8, 7, 8, 0),
        (20, 15, 5, 0.193691950464),
        (5, 0, 1, 0),
        (16, 12, 4, 0.271978021978),
    ])
    func passHatKMatchesTheBinomialRatio(row: (n: Int, c: Int, k: Int, expected: Double)) {
        #expect(abs(Statistics.passHatK(n: row.n, c: row.c, k: row.k) - row.expected) < 1e-11)
    }

    @Test func passAtKOutsideItsDomain() {
        // k larger than n, or no samples: pass@k is whether anything passed; pass^k is 0.
        #expect(Statistics.passAtK(n: 3, c: 1, k: 5) == 1)
        #expect(Statistics.passAtK(n: 3, c: 0, k: 5) == 0)
        #expect(Statistics.passAtK(n: 0, c: 0, k: 1) == 0)
        #expect(Statistics.passHatK(n: 3, c: 3, k: 4) == 0)
        #expect(Statistics.passHatK(n: 0, c: 0, k: 1) == 0)
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

    /// Reference: scipy 1.17.1 `scipy.stats.binomtest(min(b, c), b + c, 0.5).pvalue` (two-sided), the same as
    /// statsmodels 0.15.0 `mcnemar([[0, b], [c, 0]], exact=True).pvalue`.
    @Test(arguments: [
        (0, 0, 1),
        (1, 0, 1),
        (0, 1, 1),
        (5, 0, 0.0625),
        (3, 3, 1),
        (7, 8, 1),
        (10, 2, 0.03857421875),
        (2, 10, 0.03857421875),
        (6, 1, 0.125),
        (0, 12, 0.00048828125),
        (20, 35, 0.05806414679),
        (40, 60, 0.05688793364),
        (150, 180, 0.1102607871),
        (450, 550, 0.0017305360849763027),
        (4_000, 6_000, 1.7404316412268293e-89),
    ])
    func mcnemarExactPMatchesTheBinomialTest(row: (b: Int, c: Int, expected: Double)) {
        let p = Statistics.mcnemarExactP(row.b, row.c)
        #expect(abs(p - row.expected) <= 1e-9 * row.expected, "p = \(p)")
        #expect(p == Statistics.mcnemarExactP(row.c, row.b), "symmetric")
    }

    @Test func mcnemarExactPIsCappedAtOne() {
        // Two tails that overlap at the centre add up to more than 1.
        #expect(Statistics.mcnemarExactP(5_000, 5_000) == 1)
        #expect(Statistics.mcnemarExactP(1, 1) == 1)
    }

    @Test func bootstrapIsSeededAndCoversTheTruth() throws {
        let values = (0..<200).map { Double($0 % 10) }
        let first = try #require(Statistics.bootstrapInterval(values) { $0.reduce(0, +) / Double($0.count) })
        let again = try #require(Statistics.bootstrapInterval(values) { $0.reduce(0, +) / Double($0.count) })
        #expect(first.lower == again.lower && first.upper == again.upper)
        #expect(first.lower < 4.5 && first.upper > 4.5 && first.upper - first.lower < 1.5)
    }

    static func mean(_ values: [Double]) -> Double? {
        values.isEmpty ? nil : values.reduce(0, +) / Double(values.count)
    }

    /// Reference: the percentile bootstrap written out in Python (SplitMix64 draws `next() % n`, 2,000 resamples,
    /// values[floor(0.025 * 2000)] and values[ceil(0.975 * 2000) - 1]) on 50 values ((37 i mod 101) / 10, i < 50),
    /// point estimate 5.002. scipy 1.17.1 `scipy.stats.bootstrap(..., method="percentile", n_resamples=20000)`, with
    /// its own generator, gives [4.180, 5.832]: each seed's ends lie within its Monte Carlo error (about 0.025 for
    /// 2,000 resamples at the 97.5th percentile; 0.1 allowed).
    @Test(arguments: [
        (UInt64(0x5EED_CAFE), 4.188, 5.82),
        (7, 4.194, 5.786000000000001),
        (42, 4.1979999999999995, 5.837999999999999),
    ])
    func bootstrapIntervalIsThePercentileIntervalOfItsSeed(row: (seed: UInt64, lower: Double, upper: Double)) throws {
        let values = (0..<50).map { Double(($0 * 37) % 101) / 10 }
        let interval = try #require(Statistics.bootstrapInterval(values, seed: row.seed, statistic: Self.mean))
        #expect(abs(interval.lower - row.lower) < 1e-12 && abs(interval.upper - row.upper) < 1e-12, "\(interval)")
        let point = try #require(Self.mean(values))
        #expect(abs(point - 5.002) < 1e-12)
        #expect(interval.lower < point && point < interval.upper)
        #expect(abs(interval.lower - 4.180) < 0.1 && abs(interval.upper - 5.832) < 0.1)
    }

    @Test func bootstrapOfPairedDifferencesCoversTheKnownEffect() throws {
        // 100 paired cases: 30 fixed (+1), 10 regressed (-1), 60 unchanged (0). The difference is 0.2, and its
        // normal-theory 95% interval is 0.2 ± 1.96 · 0.6 / √100 = [0.082, 0.318]; the percentile bootstrap (and
        // scipy's) gives [0.08, 0.32].
        let differences =
            Array(repeating: 1.0, count: 30) + Array(repeating: -1.0, count: 10)
            + Array(repeating: 0.0, count: 60)
        let interval = try #require(Statistics.bootstrapInterval(differences, statistic: Self.mean))
        #expect(abs(interval.lower - 0.08) < 1e-12 && abs(interval.upper - 0.32) < 1e-12, "\(interval)")
        #expect(interval.lower > 0, "a real improvement excludes 0")
    }

    @Test func bootstrapWithoutAnAnswer() {
        #expect(Statistics.bootstrapInterval([Double](), statistic: Self.mean) == nil)
        // A constant statistic has a zero-width interval.
        let constant = Statistics.bootstrapInterval([3.0, 3.0, 3.0], statistic: Self.mean)
        #expect(constant?.lower == 3 && constant?.upper == 3)
        // Most resamples without a value: no interval rather than one from a biased remainder.
        var calls = 0
        let mostlyNil = Statistics.bootstrapInterval([1.0, 2.0], resamples: 100) { sample -> Double? in
            calls += 1
            return calls % 3 == 0 ? sample[0] : nil
        }
        #expect(mostlyNil == nil)
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
