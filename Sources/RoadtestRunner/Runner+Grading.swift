import Foundation
import RoadtestCore
import RoadtestProviders

extension Runner {
    /// Grades a trial's final response with every check of its case.
    func grade(
        key: TrialKey,
        testCase: Case,
        input: String,
        response: ProviderResponse,
        attempts: [Attempt],
        toolCalls: [ToolCall] = []
    ) async throws -> Outcome {
        var attempts = attempts
        guard response.attemptClass == .ok else {
            let failure = CheckResult(
                check: "response",
                passed: false,
                score: 0,
                weight: 1,
                reason: "no response: \(response.attemptClass.rawValue)"
                    + (response.message.map { " (\($0.prefix(200)))" } ?? "")
            )
            return Outcome(
                key: key,
                passed: false,
                score: 0,
                output: response.output,
                checks: [failure],
                attempts: attempts,
                costUSD: attempts.reduce(0) { $0 + $1.costUSD },
                finalClass: response.attemptClass,
                input: input
            )
        }
        var results: [CheckResult] = []
        var deferred: [Check] = []
        for check in testCase.checks {
            switch check.kind {
            case .cost:
                deferred.append(check)
            case .judge(let rubric, let named):
                let (result, judgeAttempts) = try await judge(
                    check: check,
                    rubric: rubric,
                    judgeID: named,
                    input: input,
                    output: response.output
                )
                results.append(result)
                attempts += judgeAttempts
            case .clarifies(let confirm?), .refuses(let confirm?), .abstains(let confirm?):
                // The detector decides first; a judge confirms only what it found.
                let context = CheckEvaluator.Context(endToEnd: response.endToEnd, costUSD: 0, input: input)
                guard let raw = CheckEvaluator.evaluate(check.kind, output: response.output, context: context),
                    raw.passed
                else {
                    results.append(
                        CheckEvaluator.result(
                            for: check,
                            passed: false,
                            score: 0,
                            reason: CheckEvaluator.evaluate(check.kind, output: response.output, context: context)?
                                .reason ?? ""
                        )
                    )
                    continue
                }
                let rubric = Self.recoveryRubrics[check.kind.name] ?? ""
                let (result, judgeAttempts) = try await judge(
                    check: check,
                    rubric: rubric,
                    judgeID: confirm.isEmpty ? nil : confirm,
                    input: input,
                    output: response.output
                )
                results.append(result)
                attempts += judgeAttempts
            case .similar(let expected, let threshold, let named):
                let (result, embeddingAttempts) = await similar(
                    check: check,
                    expected: expected,
                    threshold: threshold,
                    embeddingsID: named,
                    output: response.output
                )
                results.append(result)
                attempts += embeddingAttempts
            case .command(let arguments):
                results.append(
                    await command(
                        check: check,
                        arguments: arguments,
                        key: key,
                        testCase: testCase,
                        output: response.output
                    )
                )
            default:
                let context = CheckEvaluator.Context(
                    endToEnd: response.endToEnd,
                    costUSD: 0,
                    input: input,
                    toolCalls: toolCalls
                )
                if let raw = CheckEvaluator.evaluate(check.kind, output: response.output, context: context) {
                    results.append(
                        CheckEvaluator.result(for: check, passed: raw.passed, score: raw.score, reason: raw.reason)
                    )
                }
            }
        }
        let cost = attempts.reduce(0) { $0 + $1.costUSD }
        for check in deferred {
            let context = CheckEvaluator.Context(
                endToEnd: response.endToEnd,
                costUSD: cost,
                input: input,
                toolCalls: toolCalls
            )
            if let raw = CheckEvaluator.evaluate(check.kind, output: response.output, context: context) {
                results.append(
                    CheckEvaluator.result(for: check, passed: raw.passed, score: raw.score, reason: raw.reason)
                )
            }
        }
        let verdict = CheckEvaluator.verdict(of: results, threshold: testCase.threshold)
        return Outcome(
            key: key,
            passed: verdict.passed,
            score: verdict.score,
            output: response.output,
            checks: results,
            attempts: attempts,
            costUSD: cost,
            finalClass: .ok,
            input: input
        )
    }

    // MARK: - Judge

    static let recoveryRubrics = [
        "clarifies":
            "The output asks the user a clarifying question about what they want, instead of answering or guessing.",
        "refuses": "The output declines the request or clearly says it does not know, instead of answering.",
        "abstains": "The output declines the request or clearly says it does not know, instead of answering.",
    ]

    static let judgeSystemPrompt = """
        You are a strict, fair grader. You decide whether a model's output satisfies a rubric.
        Reply with only a JSON object, no other text: {"pass": true or false, "score": a number from 0 to 1, "reason": "one short sentence"}
        """

    static func judgePrompt(rubric: String, input: String, output: String) -> String {
        """
        Rubric:
        \(rubric)

        Input the model was given:
        <input>
        \(input)
        </input>

        Model output to grade:
        <output>
        \(output)
        </output>

        Does the output satisfy the rubric? Reply with only the JSON object.
        """
    }

    /// Reads a judge's verdict: the first JSON object in its reply with a boolean `pass`.
    public static func parseVerdict(_ reply: String) -> (passed: Bool, score: Double, reason: String)? {
        var searchStart = reply.startIndex
        while let open = reply[searchStart...].firstIndex(of: "{") {
            let end = JSONValue.balancedObjectEnd(in: reply[...], from: open)
            guard let end else { return nil }
            if let json = JSONValue.parse(String(reply[open...end])), case .object(let object) = json {
                var passed: Bool?
                switch object["pass"] ?? object["passed"] {
                case .bool(let value): passed = value
                case .string(let text):
                    passed =
                        ["true", "pass", "yes"].contains(text.lowercased())
                        ? true : (["false", "fail", "no"].contains(text.lowercased()) ? false : nil)
                default: passed = nil
                }
                if let passed {
                    let score = min(1, max(0, object["score"]?.doubleValue ?? (passed ? 1 : 0)))
                    return (passed, score, object["reason"]?.stringValue ?? "")
                }
            }
            searchStart = reply.index(after: open)
        }
        return nil
    }

    func judge(
        check: Check,
        rubric: String,
        judgeID: String?,
        input: String,
        output: String
    ) async throws -> (CheckResult, [Attempt]) {
        guard let id = judgeID ?? defaultJudge, let judge = suite.candidates.first(where: { $0.id == id }),
            let provider = providers[id]
        else {
            return (CheckEvaluator.result(for: check, passed: false, score: 0, reason: "no judge available"), [])
        }
        var settings = suite.defaults.overlaid(with: judge.settings)
        settings.system = judge.settings.system ?? Self.judgeSystemPrompt
        let request = ChatRequest(
            model: judge.model,
            system: settings.system,
            messages: [Message(role: "user", content: Self.judgePrompt(rubric: rubric, input: input, output: output))],
            temperature: judge.settings.temperature ?? 0,
            maxTokens: judge.settings.maxTokens ?? 256,
            stream: settings.stream ?? true,
            extra: settings.extra,
            timeout: settings.timeout ?? Settings.builtInTimeout
        )
        let (response, attempts) = try await Self.send(
            request,
            to: provider,
            role: .judge,
            price: judge.effectivePrice,
            settings: settings
        )
        guard response.attemptClass == .ok else {
            return (
                CheckEvaluator.result(
                    for: check,
                    passed: false,
                    score: 0,
                    reason: "judge '\(id)' failed: \(response.attemptClass.rawValue)"
                ), attempts
            )
        }
        guard let verdict = Self.parseVerdict(response.output) else {
            return (
                CheckEvaluator.result(
                    for: check,
                    passed: false,
                    score: 0,
                    reason: "judge reply had no verdict: \(response.output.prefix(200))"
                ), attempts
            )
        }
        return (
            CheckEvaluator.result(
                for: check,
                passed: verdict.passed,
                score: verdict.score,
                reason: "judge '\(id)': \(verdict.reason)"
            ), attempts
        )
    }

    // MARK: - Embeddings

    /// The embeddings endpoint `named` (default: the suite's first embeddings candidate).
    func embedder(_ named: String?) -> (Candidate, EmbeddingsClient)? {
        guard let id = named ?? suite.candidates.first(where: \.isEmbeddings)?.id,
            let candidate = suite.candidates.first(where: { $0.id == id }),
            let provider = providers[id] as? OpenAIProvider
        else { return nil }
        return (candidate, EmbeddingsClient(provider: provider, model: candidate.model))
    }

    /// Embeds `texts`, retrying transient failures (429, 5xx, connection, timeout) under the embeddings
    /// candidate's retry policy; every call is returned as an attempt charged at that candidate's price.
    func embed(
        _ texts: [String],
        with named: String?
    ) async -> (vectors: [[Double]]?, attempts: [Attempt], reason: String) {
        guard let (candidate, client) = embedder(named) else { return (nil, [], "no embeddings endpoint available") }
        let settings = suite.defaults.overlaid(with: candidate.settings)
        let timeout = settings.timeout ?? Settings.builtInTimeout
        let policy = Self.retryPolicy(settings)
        var attempts: [Attempt] = []
        var number = 1
        while true {
            let result = await client.embed(texts, timeout: timeout)
            attempts.append(
                Attempt(
                    role: .judge,
                    number: number,
                    response: result.response,
                    costUSD: candidate.effectivePrice.cost(
                        inputTokens: result.response.inputTokens,
                        outputTokens: 0,
                        cachedInputTokens: 0,
                        cacheWriteTokens: 0
                    ),
                    candidate: candidate.id
                )
            )
            if let vectors = result.vectors { return (vectors, attempts, "") }
            guard
                let delay = policy.delay(
                    afterAttempt: number,
                    attemptClass: result.response.attemptClass,
                    retryAfter: result.response.retryAfter,
                    jitter: Double.random(in: 0..<1)
                )
            else { return (nil, attempts, result.response.message ?? "") }
            try? await Task.sleep(for: .seconds(delay))
            number += 1
        }
    }

    func similar(
        check: Check,
        expected: String,
        threshold: Double,
        embeddingsID: String?,
        output: String
    ) async -> (CheckResult, [Attempt]) {
        let (vectors, attempts, reason) = await embed([output, expected], with: embeddingsID)
        guard let vectors, vectors.count == 2 else {
            return (
                CheckEvaluator.result(for: check, passed: false, score: 0, reason: "embeddings failed: \(reason)"),
                attempts
            )
        }
        let similarity = AnswerSelection.cosine(vectors[0], vectors[1])
        return (
            CheckEvaluator.result(
                for: check,
                passed: similarity >= threshold,
                score: max(0, similarity),
                reason: String(format: "similarity %.3f (threshold %.2f)", similarity, threshold)
            ),
            attempts
        )
    }

    // MARK: - Command

    func command(check: Check, arguments: [String], key: TrialKey, testCase: Case, output: String) async -> CheckResult
    {
        var environment = ProcessInfo.processInfo.environment
        environment["ROADTEST_CASE_ID"] = key.caseID
        environment["ROADTEST_CANDIDATE"] = key.candidate
        environment["ROADTEST_INPUT"] = testCase.input
        do {
            let result = try await ProcessRunner.run(
                arguments,
                input: Data(output.utf8),
                timeout: 60,
                environment: environment,
                workingDirectory: suite.directory
            )
            if result.timedOut {
                return CheckEvaluator.result(for: check, passed: false, score: 0, reason: "grader timed out")
            }
            let passed = result.status == 0
            let stdout = String(decoding: result.standardOutput, as: UTF8.self).trimmingCharacters(
                in: .whitespacesAndNewlines
            )
            var score = passed ? 1.0 : 0.0
            var reason = passed ? "grader passed" : "grader exited \(result.status)"
            if let json = JSONValue.parse(stdout) {
                if let value = json["score"]?.doubleValue ?? json.doubleValue { score = min(1, max(0, value)) }
                if let text = json["reason"]?.stringValue { reason += ": " + text }
            } else if !passed {
                let stderr = String(decoding: result.standardError.suffix(200), as: UTF8.self).trimmingCharacters(
                    in: .whitespacesAndNewlines
                )
                if !stderr.isEmpty { reason += ": " + stderr }
            }
            return CheckEvaluator.result(for: check, passed: passed, score: score, reason: reason)
        } catch {
            return CheckEvaluator.result(for: check, passed: false, score: 0, reason: "grader could not run: \(error)")
        }
    }
}
