import Foundation
import RoadtestCore
import RoadtestProviders
import RoadtestRunner
import RoadtestServer
import RoadtestStore
import RoadtestSuite
import RoadtestTestSupport
import Testing

/// The runner end to end: real simulator on loopback, real SQLite store.
@Suite(.serialized) struct RunnerTests {
    func suite(_ yaml: String, baseURL: String, in directory: URL) throws -> Suite {
        let path = directory.appendingPathComponent("suite.yaml")
        try yaml.replacingOccurrences(of: "BASE_URL", with: baseURL).write(to: path, atomically: true, encoding: .utf8)
        return try SuiteLoader().load(path: path.path)
    }

    /// The real store at the runner's seam, counting each outcome once it is stored.
    struct CountingSink: OutcomeSink {
        let base: any RunStore
        let stored = OutcomeCounter()

        func record(_ outcome: Outcome, runID: String) async throws {
            try await base.record(outcome, runID: runID)
            stored.add()
        }
    }

    func execute(
        _ suite: Suite,
        store: any RunStore,
        sink: (any OutcomeSink)? = nil,
        runID: String = "run-1",
        skipping: Set<TrialKey> = []
    ) async throws {
        if try await store.run(id: runID) == nil {
            try await store.createRun(
                RunRecord(
                    id: runID,
                    suiteName: suite.name,
                    suitePath: suite.path,
                    suiteHash: "h",
                    status: .running,
                    startedAt: RunRecord.timestamp(),
                    version: "test"
                ),
                suite: suite
            )
        }
        let transport = HTTPTransport()
        let factory = ProviderFactory(transport: transport, workingDirectory: suite.directory)
        var providers: [String: any ModelProvider] = [:]
        for candidate in suite.candidates { providers[candidate.id] = try factory.makeProvider(for: candidate) }
        let runner = Runner(suite: suite, sink: sink ?? store, runID: runID, providers: providers)
        do {
            try await runner.run(skipping: skipping)
        } catch {
            await transport.shutdown()
            throw error
        }
        await transport.shutdown()
    }

    @Test func retriesHonourRetryAfterAndEveryAttemptIsRecorded() async throws {
        try await withSimulator { baseURL, simulator in
            try await withTemporaryDirectory { directory in
                let suite = try suite(
                    """
                    candidates:
                      - id: throttled
                        base_url: BASE_URL
                        model: "t;faults=429,500;retry_after=0.3"
                        retry_backoff: 10ms
                        price: {input: 1000, output: 1000}
                    defaults: {retries: 3}
                    cases:
                      - {id: c1, prompt: hello world, checks: [{contains: hello}]}
                    """,
                    baseURL: baseURL,
                    in: directory
                )
                let store = try Store.inMemory().runs
                try await execute(suite, store: store)
                let attempts = try await store.attempts(
                    runID: "run-1",
                    key: TrialKey(candidate: "throttled", caseID: "c1", sample: 0)
                )
                #expect(attempts.map(\.attemptClass) == [.http429, .http5xx, .ok])
                #expect(attempts.map(\.httpStatus) == [429, 500, 200])
                #expect(attempts[0].retryAfter == 0.3)
                let served = simulator.servedRequests
                #expect(served.count == 3)
                // The second request waited out Retry-After.
                let gap = Double(served[1].receivedAt - served[0].receivedAt) / 1e9
                #expect(gap >= 0.3, "gap \(gap)")
                let report = try #require(try await store.report(runID: "run-1"))
                let card = report.candidates[0]
                #expect(card.attempts == 3)
                #expect(card.retries == 2)
                #expect(card.errors["http_429"] == 1)
                #expect(card.errors["http_5xx"] == 1)
                #expect(card.passRate == 1)
                // Cost: only the ok attempt carried tokens here (errors have no usage): 2 in + 2 out at $1000/M.
                #expect(abs(card.costUSD.total - 4 * 1000 / 1e6) < 1e-12)
                #expect(card.costUSD.perSuccess == card.costUSD.total)
            }
        }
    }

    @Test func nonRetryableErrorsAreNotRetriedAndRetriesStopAtTheLimit() async throws {
        try await withSimulator { baseURL, simulator in
            try await withTemporaryDirectory { directory in
                let suite = try suite(
                    """
                    candidates:
                      - {id: bad, base_url: BASE_URL, model: "b;faults=400"}
                      - {id: down, base_url: BASE_URL, model: "d;faults=503;cycle=true", retries: 2, retry_backoff: 5ms}
                    cases:
                      - {id: c1, prompt: hi}
                    """,
                    baseURL: baseURL,
                    in: directory
                )
                let store = try Store.inMemory().runs
                try await execute(suite, store: store)
                let report = try #require(try await store.report(runID: "run-1"))
                let bad = try #require(report.candidates.first { $0.id == "bad" })
                let down = try #require(report.candidates.first { $0.id == "down" })
                #expect(bad.attempts == 1)
                #expect(bad.errors["http_4xx"] == 1)
                #expect(down.attempts == 3)
                #expect(down.errors["http_5xx"] == 3)
                #expect(down.passRate == 0)
                #expect(down.costUSD.perSuccess == nil)
                #expect(simulator.servedRequests.count == 4)
            }
        }
    }

    @Test func scorecardAggregatesTagsChecksSamplesAndBars() async throws {
        try await withSimulator { baseURL, _ in
            try await withTemporaryDirectory { directory in
                let suite = try suite(
                    """
                    candidates:
                      - id: echo
                        base_url: BASE_URL
                        model: "echo"
                        price: {input: 2, output: 4}
                    samples: 3
                    cases:
                      - {id: yes1, tags: [a], prompt: alpha, checks: [{contains: alpha}]}
                      - {id: yes2, tags: [a, b], prompt: beta, checks: [{contains: beta}]}
                      - {id: no1, tags: [b], prompt: gamma, checks: [{contains: delta}, {max-length: 2}]}
                      - {id: no2, prompt: gamma, checks: [{regex: '^\\d+$'}]}
                    bars:
                      pass_rate: 0.5
                      p95_latency: 10s
                      cost_per_success: 0.0000001
                    """,
                    baseURL: baseURL,
                    in: directory
                )
                let store = try Store.inMemory().runs
                try await execute(suite, store: store)
                let report = try #require(try await store.report(runID: "run-1"))
                let card = report.candidates[0]
                #expect(card.cases == 4)
                #expect(card.trials == 12)
                #expect(card.passed == 2)
                #expect(card.passRate == 0.5)
                #expect(card.byTag["a"] == TagScore(cases: 2, passed: 2, passRate: 1))
                #expect(card.byTag["b"] == TagScore(cases: 2, passed: 1, passRate: 0.5))
                #expect(card.failuresByCheck == ["contains": 3, "max-length": 3, "regex": 3])
                #expect(card.sampling?.samples == 3)
                #expect(card.sampling?.passAtK["3"] == 0.5)
                #expect(card.sampling?.flipRate == 0)
                #expect(card.latencyMilliseconds.e2e.count == 12)
                // Each trial: 1 prompt token in, 1 token out at $2/$4 per million.
                #expect(abs(card.costUSD.total - 12 * 6 / 1e6) < 1e-12)
                #expect(abs((card.costUSD.perSuccess ?? 0) - card.costUSD.total / 6) < 1e-15)
                let bars = Dictionary(uniqueKeysWithValues: card.bars.results.map { ($0.bar, $0) })
                #expect(bars["pass_rate"]?.met == true)
                #expect(bars["p95_latency"]?.met == true)
                #expect(bars["cost_per_success"]?.met == false)
                #expect(report.barsMet == false)
            }
        }
    }

    @Test func judgeGradesAndItsCostIsChargedToTheTask() async throws {
        try await withSimulator { baseURL, _ in
            try await withTemporaryDirectory { directory in
                let suite = try suite(
                    """
                    candidates:
                      - {id: model, base_url: BASE_URL, model: "echo", price: {input: 0, output: 0}}
                      - id: grader
                        judge: true
                        base_url: BASE_URL
                        model: 'grader;reply={"pass": true, "score": 0.8, "reason": "polite"}'
                        price: {input: 1000000, output: 1000000}
                    cases:
                      - {id: c1, prompt: thank you, checks: [{judge: is polite}]}
                    """,
                    baseURL: baseURL,
                    in: directory
                )
                let store = try Store.inMemory().runs
                try await execute(suite, store: store)
                let report = try #require(try await store.report(runID: "run-1"))
                #expect(report.candidates.map(\.id) == ["model"])
                let card = report.candidates[0]
                #expect(card.passRate == 1)
                #expect(card.tokens.judgeOutput == 6)  // the simulator streams one chunk per word
                let judgeTokens = Double(card.tokens.judgeInput + card.tokens.judgeOutput)
                #expect(card.costUSD.judge == judgeTokens)
                #expect(card.costUSD.total == judgeTokens)
                let rows = try await store.trialRows(runID: "run-1")
                #expect(rows[0].checks[0].score == 0.8)
                #expect(rows[0].checks[0].reason.contains("polite"))
            }
        }
    }

    @Test func commandCheckGradesWithAnExternalProgram() async throws {
        try await withSimulator { baseURL, _ in
            try await withTemporaryDirectory { directory in
                try writeFiles(
                    [
                        "grade.sh":
                            "#!/bin/sh\ngrep -q yes && echo '{\"score\": 1, \"reason\": \"found yes\"}' || exit 1\n"
                    ],
                    in: directory
                )
                let suite = try suite(
                    """
                    candidates:
                      - {id: m, base_url: BASE_URL, model: echo}
                    cases:
                      - {id: pass, prompt: yes please, checks: [{command: [sh, grade.sh]}]}
                      - {id: fail, prompt: no thanks, checks: [{command: "sh grade.sh"}]}
                    """,
                    baseURL: baseURL,
                    in: directory
                )
                let store = try Store.inMemory().runs
                try await execute(suite, store: store)
                let rows = try await store.trialRows(runID: "run-1")
                #expect(rows.first { $0.key.caseID == "pass" }?.passed == true)
                #expect(rows.first { $0.key.caseID == "pass" }?.checks.first?.reason.contains("found yes") == true)
                #expect(rows.first { $0.key.caseID == "fail" }?.passed == false)
            }
        }
    }

    @Test func interruptedRunResumesWithoutRedoingFinishedWork() async throws {
        try await withSimulator { baseURL, simulator in
            try await withTemporaryDirectory { directory in
                let cases = (1...12).map { "  - {id: c\($0), prompt: case \($0), checks: [{contains: case}]}" }.joined(
                    separator: "\n"
                )
                let suite = try suite(
                    """
                    candidates:
                      - {id: slow, base_url: BASE_URL, model: "slow;ttft=200ms", concurrency: 2}
                    cases:
                    \(cases)
                    """,
                    baseURL: baseURL,
                    in: directory
                )
                let store = try Store.sqlite(path: directory.appendingPathComponent("store.db").path).runs
                let counted = CountingSink(base: store)
                let task = Task {
                    defer { counted.stored.finish() }
                    try await execute(suite, store: store, sink: counted)
                }
                // Interrupted once three outcomes are stored, not after a fixed time.
                #expect(await counted.stored.wait(for: 3), "the run ended before storing three outcomes")
                task.cancel()
                _ = await task.result
                let finished = try await store.completedTrials(runID: "run-1")
                #expect(finished.count >= 3 && finished.count < 12, "finished \(finished.count)")
                let firstRows = try await store.trialRows(runID: "run-1")
                let resumedAt = Monotonic.now()

                // Resume: only the unfinished trials are sent.
                try await execute(suite, store: store, skipping: finished)
                let all = try await store.completedTrials(runID: "run-1")
                #expect(all.count == 12)
                let sentOnResume = simulator.servedRequests.filter { $0.receivedAt > resumedAt }.count
                #expect(sentOnResume == 12 - finished.count)
                let rows = try await store.trialRows(runID: "run-1")
                for row in firstRows {
                    #expect(rows.contains(row), "finished work was kept unchanged")
                }
            }
        }
    }
}

/// Fallback chains in the runner: who is asked, in what order, and what each attempt costs.
@Suite(.serialized) struct FallbackChainTests {
    @Test func eachCandidateIsAskedAtMostOnceAndEveryAttemptIsChargedAtItsOwnPrice() async throws {
        try await withSimulator { baseURL, _ in
            try await withTemporaryDirectory { directory in
                // a and b fall back on each other and both fail: a request asks a, then b, and stops (no loop).
                let suite = try RunnerTests().suite(
                    """
                    candidates:
                      - id: a
                        base_url: BASE_URL
                        model: "a;faults=500;cycle=true"
                        retries: 1
                        retry_backoff: 1ms
                        fallback: [b]
                        price: {input: 1000000, output: 0}
                      - id: b
                        base_url: BASE_URL
                        model: "b;faults=503;cycle=true"
                        retries: 0
                        fallback: [a]
                        price: {input: 2000000, output: 0}
                    cases:
                      - {id: one, prompt: hello, checks: [{contains: hello}]}
                    """,
                    baseURL: baseURL,
                    in: directory
                )
                #expect(suite.scoredCandidates.map(\.id) == ["a", "b"])
                let store = try Store.inMemory().runs
                try await RunnerTests().execute(suite, store: store)
                let attempts = try await store.attempts(
                    runID: "run-1",
                    key: TrialKey(candidate: "a", caseID: "one", sample: 0)
                )
                // a twice (one retry), then b once; never a again.
                #expect(attempts.map(\.candidate) == [nil, nil, "b"])
                #expect(attempts.map(\.attemptClass) == [.http5xx, .http5xx, .http5xx])
                // Errors carry no tokens; the trial is not served by anyone else.
                var served: String?? = .none
                try await store.forEachOutcome(runID: "run-1") { record in
                    if record.outcome.key.candidate == "a" { served = .some(record.outcome.servedBy) }
                }
                #expect(served == .some("b"))
            }
        }
    }

    @Test func aFallbackServesWithItsOwnModelAndPrice() async throws {
        try await withSimulator { baseURL, _ in
            try await withTemporaryDirectory { directory in
                let suite = try RunnerTests().suite(
                    """
                    candidates:
                      - id: main
                        base_url: BASE_URL
                        model: "main;faults=429;cycle=true;retry_after=0"
                        retries: 0
                        fallback: [spare]
                        price: {input: 1000000, output: 1000000}
                      - id: spare
                        base_url: BASE_URL
                        model: "spare;reply=spare says hello"
                        fallback_only: true
                        price: {input: 3000000, output: 3000000}
                    cases:
                      - {id: one, prompt: hello, checks: [{contains: spare}]}
                    """,
                    baseURL: baseURL,
                    in: directory
                )
                let store = try Store.inMemory().runs
                try await RunnerTests().execute(suite, store: store)
                let report = try #require(try await store.report(runID: "run-1"))
                let card = try #require(report.candidates.first)
                #expect(report.candidates.count == 1 && card.passRate == 1)
                #expect(card.fallback?.servedBy == ["spare": 1] && card.retries == 0)
                let attempts = try await store.attempts(
                    runID: "run-1",
                    key: TrialKey(candidate: "main", caseID: "one", sample: 0)
                )
                let served = try #require(attempts.last)
                #expect(served.candidate == "spare" && served.attemptClass == .ok)
                // Charged at the spare's price: $3 per million tokens, input and output.
                let expected = Double(served.inputTokens + served.outputTokens) * 3
                #expect(abs(served.costUSD - expected) < 1e-9)
                #expect(abs(card.costUSD.total - attempts.map(\.costUSD).reduce(0, +)) < 1e-12)
            }
        }
    }
}

/// Sampling strategies and curves against a scripted noisy model: `right=3/5` answers right on exactly 3 of every
/// 5 identical prompts, so every expected figure is known exactly.
@Suite(.serialized) struct StrategyTests {
    static let cases = (1...4).map {
        "  - {id: c\($0), prompt: \"case \($0): the capital is Paris\", checks: [{contains: Paris}]}"
    }
    .joined(separator: "\n")

    @Test func majorityAtKAndCostPerSuccessFromRepeatedSamplesAreExact() async throws {
        try await withSimulator { baseURL, _ in
            try await withTemporaryDirectory { directory in
                let suite = try RunnerTests().suite(
                    """
                    samples: 5
                    candidates:
                      - id: noisy
                        base_url: BASE_URL
                        model: "noisy;right=3/5;wrong=Lyon"
                        concurrency: 1
                        price: {input: 1000000, output: 0}
                    cases:
                    \(Self.cases)
                    """,
                    baseURL: baseURL,
                    in: directory
                )
                let store = try Store.inMemory().runs
                try await RunnerTests().execute(suite, store: store)
                let card = try #require(try await store.report(runID: "run-1")?.candidates.first)
                #expect(abs(card.passRate - 0.6) < 1e-12)
                let sampling = try #require(card.sampling)
                // Samples 0-2 right, 3-4 "Lyon": majority of 2 ties go to the earlier (right) sample.
                let expected: [String: Double] = ["1": 0.6, "2": 0.9, "3": 0.7, "4": 1.0, "5": 1.0]
                for (k, value) in expected {
                    #expect(abs((sampling.majorityAtK[k] ?? -1) - value) < 1e-12, "majority@\(k)")
                }
                #expect(abs((sampling.passAtK["3"] ?? 0) - 1) < 1e-12)
                // Every trial costs its prompt's input tokens at $1 each; the curve's cost per success is k x that
                // over majority@k.
                let trialCost = card.costUSD.total / Double(card.trials)
                for point in sampling.curve {
                    let majority = try #require(expected[String(point.k)])
                    #expect(abs((point.costPerSuccessMajority ?? 0) - Double(point.k) * trialCost / majority) < 1e-9)
                }
            }
        }
    }

    @Test func strategiesSelectAsScriptedAndCountEverySample() async throws {
        try await withSimulator { baseURL, _ in
            try await withTemporaryDirectory { directory in
                try writeFiles(
                    [
                        "score.sh": """
                        if grep -q Paris; then echo '{"score": 0.9}'; else echo '{"score": 0.1}'; exit 1; fi
                        """
                    ],
                    in: directory
                )
                func candidate(_ id: String, _ model: String, _ strategy: String) -> String {
                    """
                      - id: \(id)
                        base_url: BASE_URL
                        model: "\(model);tag=\(id)"
                        concurrency: 1
                        price: {input: 1000000, output: 0}
                        strategy: \(strategy)
                    """
                }
                let suite = try RunnerTests().suite(
                    """
                    candidates:
                    \(candidate("majority", "noisy;right=3/5", "{samples: 5, select: majority}"))
                    \(candidate("outvoted", "noisy;right=2/5", "{samples: 5, select: majority}"))
                    \(candidate("scattered", "noisy;right=2/5;wrong=distinct", "{samples: 5, select: majority}"))
                    \(candidate("valid", "noisy;right=1/5", "{samples: 5, select: first-valid, verifier: {contains: Paris}}"))
                    \(candidate("best", "noisy;right=1/5", "{samples: 5, select: best-of, verifier: {command: [sh, score.sh]}}"))
                    cases:
                    \(Self.cases)
                    """,
                    baseURL: baseURL,
                    in: directory
                )
                let store = try Store.inMemory().runs
                try await RunnerTests().execute(suite, store: store)
                let cards = try #require(try await store.report(runID: "run-1")?.candidates)
                let passRates = Dictionary(uniqueKeysWithValues: cards.map { ($0.id, $0.passRate) })
                #expect(passRates == ["majority": 1, "outvoted": 0, "scattered": 1, "valid": 1, "best": 1])
                for card in cards {
                    let strategy = try #require(card.strategy, "\(card.id)")
                    #expect(strategy.samples == 5 && strategy.samplesPerTrial == 5, "\(card.id)")
                    #expect(card.attempts == 20 && card.retries == 0, "\(card.id): \(card.attempts) attempts")
                    // Latency is until the selected answer exists; there is no first token before selection.
                    #expect(card.latencyMilliseconds.ttft.count == 0)
                    #expect(card.latencyMilliseconds.e2e.count == (card.passRate > 0 ? 4 : 4))
                    // Every sample is paid for: 5 prompts' input tokens per trial.
                    let perTrial = card.costUSD.total / 4
                    let attempts = try await store.attempts(
                        runID: "run-1",
                        key: TrialKey(candidate: card.id, caseID: "c1", sample: 0)
                    )
                    let tokens = attempts.filter { $0.role == .task }.map(\.inputTokens).reduce(0, +)
                    #expect(abs(perTrial - Double(tokens)) < 1e-9, "\(card.id)")
                    #expect(Set(attempts.compactMap(\.strategySample)) == Set(0..<5))
                }
                #expect(cards.first { $0.id == "majority" }?.strategy?.name == "majority@5")
            }
        }
    }
}
