import Foundation
import RoadtestCore
import Testing

@Suite struct ScorerTests {
    static func suite(bars: [Bar] = [], attacks: AttackConfig? = nil) -> Suite {
        var suite = Suite(
            name: "scoring",
            path: "suite.yaml",
            candidates: [
                Candidate(id: "a", provider: .openai),
                Candidate(id: "b", provider: .openai),
                Candidate(id: "judge", provider: .openai, isJudge: true),
            ],
            cases: [],
            bars: bars
        )
        suite.attacks = attacks
        return suite
    }

    static func attempt(
        _ attemptClass: AttemptClass = .ok,
        seconds: Double? = 1,
        firstToken: Double? = 0.25,
        cost: Double = 0,
        role: Attempt.Role = .task,
        candidate: String? = nil
    ) -> Attempt {
        Attempt(
            role: role,
            number: 1,
            response: ProviderResponse(
                attemptClass: attemptClass,
                inputTokens: 10,
                outputTokens: attemptClass == .ok ? 20 : 0,
                timeToFirstToken: attemptClass == .ok ? firstToken : nil,
                endToEnd: attemptClass == .ok ? seconds : nil
            ),
            costUSD: cost,
            candidate: candidate
        )
    }

    static func record(
        _ candidate: String,
        _ caseID: String,
        sample: Int = 0,
        passed: Bool,
        attempts: [Attempt]? = nil,
        cost: Double = 0,
        tags: [String] = []
    ) -> OutcomeRecord {
        let attempts = attempts ?? [attempt()]
        let outcome = Outcome(
            key: TrialKey(candidate: candidate, caseID: caseID, sample: sample),
            passed: passed,
            score: passed ? 1 : 0,
            output: "42",
            checks: passed ? [] : [CheckResult(check: "equals", passed: false, score: 0, weight: 1, reason: "wrong")],
            attempts: attempts,
            costUSD: cost,
            finalClass: attempts.last { $0.role == .task }?.attemptClass ?? .ok
        )
        return OutcomeRecord(outcome: outcome, kind: .normal, tags: tags)
    }

    typealias Sampled = (
        verdicts: [[Bool]], passRate: Double, passed: Double, interval: [Double], passAtK: [String: Double],
        passHatK: [String: Double]
    )

    /// Each case's verdicts by sample, the pass rate (the mean over cases of each case's share of passed samples),
    /// the Wilson interval on that share (statsmodels 0.15.0 `proportion_confint(passed, cases, method="wilson")`,
    /// which takes a fractional count), pass@k and pass^k averaged over cases (by hand from C(n-c,k)/C(n,k) and
    /// C(c,k)/C(n,k)).
    static let sampled: [Sampled] = [
        // One sample: passed counts trials; no sampling summary.
        ([[true], [true], [true], [false]], 0.75, 3, [0.30064184258240184, 0.9544127391902995], [:], [:]),
        // Two samples, cases of 1/2, 2/2, 0/2: pass@2 = (1 + 1 + 0) / 3, pass^2 = (0 + 1 + 0) / 3.
        (
            [[true, false], [true, true], [false, false]], 0.5, 1.5, [0.1253344719102632, 0.8746655280897369],
            ["1": 0.5, "2": 2.0 / 3], ["1": 0.5, "2": 1.0 / 3]
        ),
        // Three samples, 2/3 and 0/3: pass@2 = (1 + 0) / 2, pass^2 = (C(2,2)/C(3,2) + 0) / 2 = 1/6.
        (
            [[true, true, false], [false, false, false]], 1.0 / 3, 2.0 / 3, [0.045255085819509266, 0.840618171678273],
            ["1": 1.0 / 3, "2": 0.5, "3": 0.5], ["1": 1.0 / 3, "2": 1.0 / 6, "3": 0]
        ),
    ]

    @Test(arguments: sampled)
    func passRateIsTheMeanOverCases(row: Sampled) throws {
        var scorer = Scorer(suite: Self.suite())
        for (index, samples) in row.verdicts.enumerated() {
            for (sample, passed) in samples.enumerated() {
                scorer.add(Self.record("a", "c\(index)", sample: sample, passed: passed))
            }
        }
        let card = try #require(scorer.scorecards().first)
        #expect(card.cases == row.verdicts.count)
        #expect(card.trials == row.verdicts.joined().count)
        #expect(abs(card.passRate - row.passRate) < 1e-12)
        #expect(abs(card.passed - row.passed) < 1e-12)
        #expect(zip(card.passRateCI95, row.interval).allSatisfy { abs($0 - $1) < 5e-6 }, "\(card.passRateCI95)")
        if row.passAtK.isEmpty {
            #expect(card.sampling == nil)
        } else {
            let sampling = try #require(card.sampling)
            #expect(sampling.samples == row.verdicts.map(\.count).max())
            for (k, expected) in row.passAtK {
                #expect(abs((sampling.passAtK[k] ?? .nan) - expected) < 1e-12, "pass@\(k)")
            }
            for (k, expected) in row.passHatK {
                #expect(abs((sampling.passHatK[k] ?? .nan) - expected) < 1e-12, "pass^\(k)")
            }
            let flaky = row.verdicts.enumerated().filter { Set($0.element).count == 2 }.map { "c\($0.offset)" }
            #expect(sampling.flakyCases == flaky)
        }
    }

    @Test func latencyTokensCostAndErrorsCountAttempts() throws {
        var scorer = Scorer(suite: Self.suite())
        // Four answered trials of 1, 2, 3 and 4 s; the third needed a retry after a timeout, the fourth failed its
        // check; a fifth trial got no answer at all (two 5xx).
        scorer.add(Self.record("a", "c1", passed: true, attempts: [Self.attempt(seconds: 1)], cost: 0.25))
        scorer.add(Self.record("a", "c2", passed: true, attempts: [Self.attempt(seconds: 2)], cost: 0.25))
        scorer.add(
            Self.record(
                "a",
                "c3",
                passed: true,
                attempts: [Self.attempt(.timeout), Self.attempt(seconds: 3)],
                cost: 0.5
            )
        )
        scorer.add(Self.record("a", "c4", passed: false, attempts: [Self.attempt(seconds: 4)], cost: 0.25))
        scorer.add(
            Self.record("a", "c5", passed: false, attempts: [Self.attempt(.http5xx), Self.attempt(.http5xx)])
        )
        // A judge's call is counted apart.
        scorer.add(
            Self.record("a", "c6", passed: true, attempts: [Self.attempt(), Self.attempt(cost: 0.125, role: .judge)])
        )
        let card = try #require(scorer.scorecards().first)
        #expect(card.cases == 6 && card.passed == 4)
        #expect(card.attempts == 8, "task attempts only")
        #expect(card.retries == 2, "8 attempts for 6 trials")
        #expect(card.errors["timeout"] == 1 && card.errors["http_5xx"] == 2 && card.errors["http_429"] == 0)
        #expect(card.errors["command_failed"] == nil, "only a command candidate can fail as a command")
        #expect(abs(card.errorRate - 3.0 / 8) < 1e-12)
        // Nearest rank over 1, 2, 3, 4 and the sixth trial's 1 s: 1, 1, 2, 3, 4.
        #expect(card.latencyMilliseconds.e2e == Percentiles(milliseconds: [1000, 1000, 2000, 3000, 4000]))
        #expect(card.latencyMilliseconds.e2e.p50 == 2000 && card.latencyMilliseconds.e2e.p95 == 4000)
        #expect(card.latencyMilliseconds.ttft.count == 5 && card.latencyMilliseconds.ttft.p99 == 250)
        #expect(card.tokens.input == 80 && card.tokens.output == 100 && card.tokens.judgeInput == 10)
        #expect(card.outputTokensPerSecond == 100.0 / 11, "answered attempts' tokens over their seconds")
        #expect(card.costUSD.total == 1.25 && card.costUSD.perSuccess == 1.25 / 4)
        #expect(card.costUSD.judge == 0.125)
        #expect(card.failuresByCheck == ["equals": 2])
    }

    @Test func onlyTheSuitesScoredCandidatesGetCards() throws {
        var scorer = Scorer(suite: Self.suite())
        scorer.add(Self.record("b", "c1", passed: true))
        scorer.add(Self.record("judge", "c1", passed: true))
        scorer.add(Self.record("stranger", "c1", passed: true))
        let cards = scorer.scorecards()
        #expect(cards.map(\.id) == ["a", "b"], "the suite's order, judges left out")
        let empty = try #require(cards.first)
        #expect(empty.cases == 0 && empty.passRate == 0 && empty.passRateCI95 == [0, 1])
        #expect(empty.minimumDetectableDifference == nil)
        #expect(cards[1].cases == 1 && cards[1].passRate == 1)
    }

    @Test func tagsAndBars() throws {
        var scorer = Scorer(
            suite: Self.suite(bars: [Bar(metric: .passRate, target: 0.6), Bar(metric: .p95Latency, target: 2)])
        )
        scorer.add(Self.record("a", "c1", passed: true, attempts: [Self.attempt(seconds: 1)], tags: ["math"]))
        scorer.add(Self.record("a", "c2", passed: false, attempts: [Self.attempt(seconds: 3)], tags: ["math", "x"]))
        scorer.add(Self.record("a", "c3", passed: true, attempts: [Self.attempt(seconds: 1)], tags: ["x"]))
        let card = try #require(scorer.scorecards().first)
        #expect(card.byTag["math"] == TagScore(cases: 2, passed: 1, passRate: 0.5))
        #expect(card.byTag["x"] == TagScore(cases: 2, passed: 1, passRate: 0.5))
        #expect(card.bars.results.map(\.met) == [true, false], "2/3 ≥ 0.6; p95 of 1, 1, 3 s is 3 s")
        #expect(!card.bars.met)
        // 2.801585 · √(max(0.05, 2 · p · (1 - p)) / cases) = 1.078 here: more than any pass rate of 2/3 can move
        // (max(p, 1 - p) = 0.667), so there is no figure, and the run is said to be too small.
        let formula: Double = 2.801585 * (2.0 * (2.0 / 3.0) * (1.0 / 3.0) / 3.0).squareRoot()
        #expect(formula > 2.0 / 3.0)
        #expect(card.minimumDetectableDifference == nil && card.isTooSmallToDetectDifference)
    }

    @Test func attacksAreScoredApart() throws {
        var scorer = Scorer(suite: Self.suite(attacks: AttackConfig(packs: [.promptInjection, .systemPromptLeak])))
        scorer.add(Self.record("a", "c1", passed: true, cost: 0.5))
        func attack(_ id: String, _ pack: AttackPack, succeeded: Bool?, cost: Double = 0.25) -> OutcomeRecord {
            var record = Self.record(
                "a",
                id,
                passed: false,
                attempts: [Self.attempt(succeeded == nil ? .http5xx : .ok)],
                cost: cost
            )
            record.outcome.attackPack = pack
            record.outcome.attackVerdict = succeeded.map { AttackVerdict(succeeded: $0, evidence: "") }
            return record
        }
        scorer.add(attack("c1~prompt-injection~1", .promptInjection, succeeded: true))
        scorer.add(attack("c1~prompt-injection~2", .promptInjection, succeeded: false))
        scorer.add(attack("c1~system-prompt-leak~1", .systemPromptLeak, succeeded: false))
        scorer.add(attack("c1~system-prompt-leak~2", .systemPromptLeak, succeeded: nil))
        let card = try #require(scorer.scorecards().first)
        #expect(card.cases == 1 && card.passRate == 1, "attacks never count toward the pass rate")
        #expect(card.attempts == 1 && card.costUSD.total == 0.5)
        let security = try #require(card.security)
        #expect(security.attacks == 3 && security.succeeded == 1 && security.errored == 1)
        #expect(security.costUSD == 1)
        #expect(
            security.byPack["prompt-injection"]?.attacks == 2 && security.byPack["prompt-injection"]?.succeeded == 1
        )
        #expect(security.byPack["system-prompt-leak"]?.owasp == "LLM07")
        #expect(abs(security.attackSuccessRate - 1.0 / 3) < 1e-12)
    }

    /// Records arrive in any order (a store streams them by key, a distributed run by completion). Two samples per
    /// case keep every sum a sum of halves, exact in any order.
    @Test(arguments: [1, 2, 3, 4, 5] as [UInt64])
    func theOrderOfRecordsDoesNotMatter(seed: UInt64) {
        var records: [OutcomeRecord] = []
        for index in 0..<12 {
            for sample in 0..<2 {
                let passed = (index + sample) % 3 != 0
                let attempts =
                    index % 4 == 0
                    ? [Self.attempt(.http429), Self.attempt(seconds: Double(index + 1))]
                    : [Self.attempt(seconds: Double(index + sample + 1))]
                records.append(
                    Self.record(
                        index % 2 == 0 ? "a" : "b",
                        "c\(index)",
                        sample: sample,
                        passed: passed,
                        attempts: attempts,
                        cost: 0.125,
                        tags: ["t\(index % 3)"]
                    )
                )
            }
        }
        var inOrder = Scorer(suite: Self.suite())
        for record in records { inOrder.add(record) }
        var random = SplitMix64(seed: seed)
        var shuffled = records
        for index in shuffled.indices.reversed() {
            shuffled.swapAt(index, Int(random.next() % UInt64(index + 1)))
        }
        var outOfOrder = Scorer(suite: Self.suite())
        for record in shuffled { outOfOrder.add(record) }
        #expect(inOrder.scorecards() == outOfOrder.scorecards())
    }
}
