import Foundation
import Logging
import RoadtestCore
import RoadtestProviders
import RoadtestStore
import Tracing

/// Executes a suite's trials (case x candidate x sample) against their providers, grades each, and streams
/// every outcome into the store as it finishes. Cancelling the task stops promptly; finished outcomes stay stored.
///
/// ```swift
/// let runner = Runner(suite: suite, sink: store, runID: id, providers: providers)
/// try await runner.run(skipping: try await store.completedTrials(runID: id))
/// ```
public struct Runner: Sendable {
    public let suite: Suite
    /// Where each graded trial goes as it finishes (the store).
    public let sink: any OutcomeSink
    public let runID: String
    /// Providers by candidate id (judges included).
    public let providers: [String: any ModelProvider]
    public let progress: RunProgress?
    /// Judge used for `judge` checks that name none (`--judge`, else the suite's first judge).
    public let defaultJudge: String?
    public let logger: Logger
    /// Circuit breakers for candidates with a `cooldown`, shared by every trial of the run.
    public let breakers = CircuitBreakers()
    /// Event loops trials run on, in turn (a trial's requests, reads and grading stay on one thread); the
    /// cooperative pool when empty.
    public let executors: [EventLoopExecutor]

    public init(
        suite: Suite,
        sink: any OutcomeSink,
        runID: String,
        providers: [String: any ModelProvider],
        progress: RunProgress? = nil,
        defaultJudge: String? = nil,
        logger: Logger = Logger(label: "roadtest.runner"),
        executors: [EventLoopExecutor] = []
    ) {
        self.executors = executors
        self.suite = suite
        self.sink = sink
        self.runID = runID
        self.providers = providers
        self.progress = progress
        self.defaultJudge = defaultJudge ?? suite.judges.first?.id
        self.logger = logger
    }

    /// Every trial of the suite, in plan order.
    public static func plan(for suite: Suite) -> [TrialKey] {
        RunPlan(suite: suite).trials.map(\.key)
    }

    /// Runs every trial not in `completed`. Throws `CancellationError` when cancelled (finished work is kept).
    public func run(skipping completed: Set<TrialKey> = []) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            for candidate in suite.scoredCandidates {
                group.addTask { try await run(candidate: candidate, skipping: completed) }
            }
            try await group.waitForAll()
        }
        try Task.checkCancellation()
    }

    /// Runs one planned trial of `testCase` (a worker's claim; the suite may hold no cases).
    public func run(trial key: TrialKey, testCase: Case) async throws {
        guard testCase.id == key.caseID,
            let candidate = suite.scoredCandidates.first(where: { $0.id == key.candidate }),
            let provider = providers[key.candidate]
        else {
            throw RoadtestError(
                .store,
                "queued trial \(key.candidate)/\(key.caseID) is not in the run's stored suite"
            )
        }
        try await runTrial(
            key: key,
            testCase: testCase,
            variant: key.variant,
            candidate: candidate,
            provider: provider
        )
    }

    func run(candidate: Candidate, skipping completed: Set<TrialKey>) async throws {
        guard let provider = providers[candidate.id] else { return }
        let concurrency = max(
            1,
            candidate.settings.concurrency ?? suite.defaults.concurrency ?? Settings.builtInConcurrency
        )
        // Trials are produced lazily so memory does not grow with the number of cases.
        let variants = suite.variants
        var pending = suite.cases.lazy.flatMap { testCase in
            (testCase.attack != nil ? [.original] : variants).lazy.flatMap { variant in
                (0..<suite.samples(for: testCase)).lazy.map {
                    (
                        testCase, variant,
                        TrialKey(candidate: candidate.id, caseID: testCase.id, sample: $0, variant: variant)
                    )
                }
            }
        }.filter { !completed.contains($0.2) }.makeIterator()

        try await withThrowingTaskGroup(of: Void.self) { group in
            var running = 0
            var started = 0
            func executor() -> (any TaskExecutor)? {
                defer { started += 1 }
                return executors.isEmpty ? nil : executors[started % executors.count]
            }
            while running < concurrency, let (testCase, variant, key) = pending.next() {
                group.addTask(executorPreference: executor()) {
                    try await runTrial(
                        key: key,
                        testCase: testCase,
                        variant: variant,
                        candidate: candidate,
                        provider: provider
                    )
                }
                running += 1
            }
            while try await group.next() != nil {
                if Task.isCancelled { break }
                if let (testCase, variant, key) = pending.next() {
                    group.addTask(executorPreference: executor()) {
                        try await runTrial(
                            key: key,
                            testCase: testCase,
                            variant: variant,
                            candidate: candidate,
                            provider: provider
                        )
                    }
                }
            }
        }
    }

    func runTrial(
        key: TrialKey,
        testCase: Case,
        variant: Variant,
        candidate: Candidate,
        provider: any ModelProvider
    ) async throws {
        try Task.checkCancellation()
        progress?.started()
        do {
            func outcome() async throws -> Outcome {
                try await trialOutcome(
                    key: key,
                    testCase: testCase,
                    variant: variant,
                    candidate: candidate,
                    provider: provider
                )
            }
            let outcome =
                TelemetryTracing.isEnabled
                ? try await withSpan("trial \(key.caseID)") { span in
                    TrialSpan.start(key, runID: runID, span: span)
                    let outcome = try await outcome()
                    TrialSpan.finish(outcome, span: span)
                    return outcome
                } : try await outcome()
            try Task.checkCancellation()
            try await sink.record(outcome, runID: runID)
            progress?.finished(
                passed: outcome.passed,
                failedAttempts: outcome.attempts.filter { $0.attemptClass != .ok }.count
            )
        } catch {
            progress?.abandoned()
            throw error
        }
    }

    /// One trial, sent (down its fallback chain, sampled or in a tool-calling conversation) and graded.
    func trialOutcome(
        key: TrialKey,
        testCase: Case,
        variant: Variant,
        candidate: Candidate,
        provider: any ModelProvider
    ) async throws -> Outcome {
        let settings = suite.settings(for: candidate, case: testCase)
        let (messages, system) = suite.apply(
            variant,
            to: testCase,
            system: Self.planted(testCase.attack, in: settings.system)
        )
        var links: [ChainLink] = []
        for member in suite.fallbackChain(of: candidate) {
            guard let memberProvider = member.id == candidate.id ? provider : providers[member.id] else { continue }
            let memberSettings = suite.settings(for: member, case: testCase)
            // A fallback gets the same conversation; its own system prompt only when the case names none.
            let memberSystem =
                member.id == candidate.id
                ? system
                : suite.apply(
                    variant,
                    to: testCase,
                    system: Self.planted(testCase.attack, in: memberSettings.system)
                ).1
            links.append(
                ChainLink(
                    id: member.id,
                    provider: memberProvider,
                    request: Self.request(
                        model: member.model,
                        system: memberSystem,
                        messages: messages,
                        settings: memberSettings
                    ),
                    price: member.effectivePrice,
                    retryPolicy: Self.retryPolicy(memberSettings),
                    cooldown: member.cooldown
                )
            )
        }
        let request = links[0].request
        let input = request.messages.last(where: { $0.role == "user" })?.content ?? testCase.input
        let result: Sampled
        var conversation: (trace: ToolTrace, transcript: [Message])?
        if !(settings.tools ?? []).isEmpty {
            let talked = try await converse(links: links, testCase: testCase, key: key, settings: settings)
            result = talked.sampled
            conversation = (talked.trace, talked.transcript)
        } else if let strategy = candidate.strategy {
            result = try await sample(strategy, links: links, key: key, testCase: testCase, input: input)
        } else {
            let sent = try await FallbackChain(links: links, breakers: breakers).send(role: .task)
            result = Sampled(
                response: sent.response,
                attempts: sent.attempts,
                servedBy: sent.servedBy,
                startedAt: sent.startedAt,
                elapsed: sent.elapsed
            )
        }
        let (response, attempts) = (result.response, result.attempts)
        var outcome = try await grade(
            key: key,
            testCase: testCase,
            input: input,
            response: response,
            attempts: attempts,
            toolCalls: conversation?.trace.calls ?? response.toolCalls
        )
        outcome.system = system
        if let conversation {
            outcome.tools = conversation.trace
            outcome.transcript =
                (system.map { [Message(role: "system", content: $0)] } ?? []) + conversation.transcript
        }
        if let attack = testCase.attack {
            let verdict = AttackDetector.verdict(
                attack,
                output: response.attemptClass == .ok ? response.output : "",
                calls: conversation?.trace.calls ?? response.toolCalls
            )
            outcome.attackPack = attack.pack
            outcome.attackVerdict = verdict
            outcome.passed = !verdict.succeeded
            outcome.score = verdict.succeeded ? 0 : 1
            outcome.checks.insert(
                CheckResult(
                    check: "attack:\(attack.pack.rawValue)",
                    passed: !verdict.succeeded,
                    score: verdict.succeeded ? 0 : 1,
                    weight: 1,
                    reason: verdict.evidence
                ),
                at: 0
            )
            if outcome.transcript == nil {
                outcome.transcript =
                    (system.map { [Message(role: "system", content: $0)] } ?? []) + messages
                    + (response.attemptClass == .ok ? [Message(role: "assistant", content: response.output)] : [])
            }
        }
        outcome.servedBy = result.servedBy == candidate.id ? nil : result.servedBy
        outcome.startedAt = result.startedAt
        outcome.elapsed = result.elapsed
        outcome.answerKey = outcome.finalClass == .ok ? AnswerSelection.answerKey(outcome.output) : nil
        return outcome
    }

    /// The system prompt with what an attack planted in it (a secret, a retrieved document).
    static func planted(_ attack: Attack?, in system: String?) -> String? {
        guard let addition = attack?.systemAddition else { return system }
        return system.map { $0 + "\n\n" + addition } ?? addition
    }

    /// The request a candidate gets for a case: its model and effective settings.
    static func request(model: String?, system: String?, messages: [Message], settings: Settings) -> ChatRequest {
        ChatRequest(
            model: model,
            system: system,
            messages: messages,
            temperature: settings.temperature,
            maxTokens: settings.maxTokens,
            stream: settings.stream ?? true,
            extra: settings.extra,
            timeout: settings.timeout ?? Settings.builtInTimeout
        )
    }

    static func retryPolicy(_ settings: Settings) -> RetryPolicy { RetryPolicy(settings: settings) }

    /// Sends to one provider with retries (a chain of one); returns the last response and every attempt.
    static func send(
        _ request: ChatRequest,
        to provider: any ModelProvider,
        role: Attempt.Role,
        price: Price,
        settings: Settings
    ) async throws -> (ProviderResponse, [Attempt]) {
        let link = ChainLink(
            id: "",
            provider: provider,
            request: request,
            price: price,
            retryPolicy: retryPolicy(settings)
        )
        let result = try await FallbackChain(links: [link]).send(role: role)
        return (result.response, result.attempts)
    }
}
