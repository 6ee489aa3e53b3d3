import Foundation
import RoadtestCore
import RoadtestDrill
import RoadtestLocal
import RoadtestProviders
import RoadtestReport
import RoadtestRunner
import RoadtestStore
import RoadtestSuite
import RoadtestTestSupport
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Integration tests against the real local models (llama-server with SmolLM2-135M-Instruct and Gemma 3 270M).
/// They assert what is stable at temperature 0, not what the models answer.
@Suite(
    .serialized,
    .enabled(if: TestEnvironment.localModelsInstalled || TestEnvironment.isCI, "run `roadtest models install` first")
)
struct RealModelTests {
    @Test func bothModelsRunSideBySideAndTheirServersStop() async throws {
        TestEnvironment.adoptOrphans()
        #expect(TestEnvironment.localModelsInstalled, "CI must install the local models (make test does)")
        try await withTemporaryDirectory { directory in
            try writeFiles(
                [
                    "suite.yaml": """
                    name: real-models
                    candidates:
                      - {id: smollm2, local: smollm2-135m-instruct, concurrency: 2}
                      - {id: gemma3, local: gemma3-270m, concurrency: 1}
                    defaults: {temperature: 0, max_tokens: 16, timeout: 120s}
                    cases:
                      - {id: capital, prompt: What is the capital of France?, checks: [{icontains: Paris}]}
                      - {id: add, prompt: What is 2 plus 2?, checks: [{number: 4}]}
                      - {id: hello, prompt: Say hello., checks: [{max-length: 2000}]}
                    """
                ],
                in: directory
            )
            let suite = try SuiteLoader().load(path: directory.appendingPathComponent("suite.yaml").path)
            let store = try Store.inMemory().runs
            try await store.createRun(
                RunRecord(
                    id: "real",
                    suiteName: suite.name,
                    suitePath: suite.path,
                    suiteHash: "h",
                    status: .running,
                    startedAt: RunRecord.timestamp(),
                    version: "test"
                ),
                suite: suite
            )
            let transport = HTTPTransport()
            var ports: [Int] = []
            try await CandidateEndpoints.with(suite: suite, transport: transport) { providers in
                ports = providers.values.compactMap { ($0 as? OpenAIProvider).flatMap { URL(string: $0.url)?.port } }
                try await Runner(suite: suite, sink: store, runID: "real", providers: providers).run()
            }
            await transport.shutdown()

            #expect(ports.count == 2)
            for port in ports {
                // The servers are gone: nothing answers on their ports.
                #expect(await LlamaServer.healthStatus(port: port) == nil, "llama-server on port \(port) still answers")
            }
            let report = try #require(try await store.report(runID: "real"))
            #expect(report.candidates.map(\.id).sorted() == ["gemma3", "smollm2"])
            for card in report.candidates {
                #expect(card.cases == 3)
                #expect(card.trials == 3)
                // Every trial got an answer (a transient connection error may have been retried, and is counted).
                #expect(card.latencyMilliseconds.e2e.count == 3, "\(card.id) errors \(card.errors)")
                // llama-server's usage is parsed, not estimated.
                #expect(card.tokens.output > 0)
                #expect(card.tokens.outputEstimated == 0)
                #expect(card.tokens.input > 0)
                #expect(card.latencyMilliseconds.ttft.count == 3)
            }
            let rows = try await store.trialRows(runID: "real")
            #expect(rows.count == 6)
            for row in rows where row.key.candidate == "smollm2" {
                #expect(!row.output.isEmpty, "smollm2 answered \(row.key.caseID) with nothing")
            }
            for candidate in ["smollm2", "gemma3"] {
                for caseID in ["capital", "add", "hello"] {
                    let attempt = try #require(
                        try await store.attempts(
                            runID: "real",
                            key: TrialKey(candidate: candidate, caseID: caseID, sample: 0)
                        ).last
                    )
                    #expect(attempt.attemptClass == .ok)
                    let ttft = try #require(attempt.timeToFirstToken)
                    let e2e = try #require(attempt.endToEnd)
                    #expect(ttft > 0)
                    #expect(ttft <= e2e)
                    #expect(!attempt.isTokenCountEstimated)
                }
            }
        }
        #expect(TestEnvironment.runningDescendants(matching: "llama-server --model").isEmpty)
    }

    @Test func aServerThatCannotStartIsAClearError() async throws {
        let home = RoadtestHome()
        await #expect(throws: RoadtestError.self) {
            let options = try LlamaServer.Options.resolve(
                model: "smollm2",
                gguf: nil,
                llamaServer: nil,
                home: home,
                slots: 1,
                extraArguments: ["--no-such-flag"]
            )
            _ = try await LlamaServer.start(options, timeout: 30)
        }
        #expect(throws: RoadtestError.self) {
            _ = try LlamaServer.Options.resolve(
                model: "no-such-model",
                gguf: nil,
                llamaServer: nil,
                home: home,
                slots: 1,
                extraArguments: []
            )
        }
    }

    @Test func gemmaIsServedWithItsOwnChatTemplate() async throws {
        // The Gemma GGUF carries no chat template; llama-server would fall back to ChatML (`<|im_start|>`).
        let options = try LlamaServer.Options.resolve(
            model: "gemma3-270m",
            gguf: nil,
            llamaServer: nil,
            home: RoadtestHome(),
            slots: 1,
            extraArguments: []
        )
        try await LlamaServer.with(options, timeout: 60) { server in
            var request = URLRequest(url: URL(string: "http://127.0.0.1:\(server.port)/apply-template")!)
            request.httpMethod = "POST"
            request.httpBody = Data(
                #"{"messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi?"}]}"#.utf8
            )
            let (data, _) = try await URLSession.shared.data(for: request)
            let prompt = try #require(JSONValue.parse(data)?["prompt"]?.stringValue)
            #expect(prompt == "<start_of_turn>user\nBe brief.\n\nHi?<end_of_turn>\n<start_of_turn>model\n")
            #expect(!prompt.contains("<|im_start|>"))
        }
    }

    @Test func anthropicInputTokensAgreeWithOpenAIOnTheSameLlamaServer() async throws {
        // llama-server's /v1/messages is an independent implementation of the Messages API; its input_tokens
        // leaves out cached prompt tokens. Three prompts of ~37 tokens each: both endpoints must count the prompt.
        let options = try LlamaServer.Options.resolve(
            model: "smollm2-135m-instruct",
            gguf: nil,
            llamaServer: nil,
            home: RoadtestHome(),
            slots: 1,
            extraArguments: []
        )
        try await LlamaServer.with(options, timeout: 60) { server in
            let transport = HTTPTransport()
            let openAI = OpenAIProvider(
                baseURL: server.baseURL,
                apiKey: nil,
                headers: ["Connection": "close"],
                transport: transport
            )
            let anthropic = AnthropicProvider(
                baseURL: server.baseURL,
                apiKey: nil,
                headers: ["Connection": "close"],
                transport: transport
            )
            let prompts = [
                "Please summarise in one short sentence why the sky looks blue on a clear summer afternoon.",
                "Please summarise in one short sentence why the sea looks blue on a clear summer afternoon.",
                "Please summarise in one short sentence why the sky looks red on a clear summer evening.",
            ]
            var openAITotal = 0
            var anthropicTotal = 0
            for stream in [true, false] {
                for prompt in prompts {
                    let request = ChatRequest(
                        model: "smollm2",
                        messages: [Message(role: "user", content: prompt)],
                        temperature: 0,
                        maxTokens: 4,
                        stream: stream,
                        timeout: 60
                    )
                    let viaOpenAI = await openAI.send(request)
                    let viaAnthropic = await anthropic.send(request)
                    #expect(viaOpenAI.attemptClass == .ok && viaAnthropic.attemptClass == .ok)
                    #expect(!viaAnthropic.isTokenCountEstimated)
                    openAITotal += viaOpenAI.inputTokens
                    anthropicTotal += viaAnthropic.inputTokens
                    #expect(
                        abs(viaOpenAI.inputTokens - viaAnthropic.inputTokens) <= 3,
                        "\(viaOpenAI.inputTokens) vs \(viaAnthropic.inputTokens)"
                    )
                }
            }
            #expect(
                anthropicTotal > 150,
                "Anthropic-format input tokens \(anthropicTotal) (OpenAI format: \(openAITotal))"
            )
            await transport.shutdown()
        }
    }
}

/// A drill on the real local models: faults in front of SmolLM2's llama-server, Gemma 3 as its fallback.
@Suite(
    .serialized,
    .enabled(if: TestEnvironment.localModelsInstalled || TestEnvironment.isCI, "run `roadtest models install` first")
)
struct RealModelDrillTests {
    @Test func smolLM2WithGemmaAsFallbackLosesNothingUnderFaults() async throws {
        TestEnvironment.adoptOrphans()
        let example = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
            "../../examples/drill-local.yaml"
        ).standardizedFileURL.path
        let store = try Store.inMemory()
        let session = DrillSession(
            store: store.runs,
            documents: store.documents,
            options: .init(
                suitePath: example,
                faults: try FaultSpec.parse("429:30%@0s,cut:10%@1"),
                seed: 7
            )
        )
        guard case .finished(let report) = try await session.execute() else {
            Issue.record("the drill did not finish")
            return
        }
        #expect(report.drilled == ["smollm2"])
        let resilience = try #require(report.candidates.first { $0.scorecard.id == "smollm2" }?.resilience)
        #expect(resilience.trials == 18 && resilience.lost == 0)
        #expect(resilience.faults["http_429", default: 0] > 0, "faults \(resilience.faultsByKind)")
        // The proxy in front of llama-server and the client agree on every fault.
        #expect(resilience.attemptClasses["http_429", default: 0] == resilience.faults["http_429"])
        #expect(resilience.attemptClasses["stream_cut", default: 0] == resilience.faults["stream_cut"])
        // Every trial was answered, by SmolLM2 or by Gemma 3.
        #expect(resilience.successRate == resilience.cleanSuccessRate, "\(resilience)")
        if resilience.faults["stream_cut", default: 0] > 0 { #expect(resilience.servedByFallback > 0) }
        #expect(TestEnvironment.runningDescendants(matching: "llama-server --model").isEmpty)
    }
}

/// Sampling strategies and `pick` on the real local models: SmolLM2 at k = 1, 3, 5 against Gemma 3.
@Suite(
    .serialized,
    .enabled(if: TestEnvironment.localModelsInstalled || TestEnvironment.isCI, "run `roadtest models install` first")
)
struct RealModelSamplingTests {
    @Test func smolLM2SampledKTimesIsScoredAndPickedAgainstGemma() async throws {
        TestEnvironment.adoptOrphans()
        let example = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
            "../../examples/sampling-local.yaml"
        ).standardizedFileURL.path
        let store = try Store.inMemory().runs
        guard
            case .finished(let report) = try await RunSession(store: store, options: .init(suitePath: example))
                .execute()
        else {
            Issue.record("the run did not finish")
            return
        }
        #expect(report.candidates.map(\.id) == ["smollm2@k=1", "smollm2@k=3", "smollm2@k=5", "gemma3"])
        var inputTokens: [String: Int] = [:]
        for card in report.candidates {
            #expect(card.trials == 18, "\(card.id)")
            // Three trials per case: the sampling curve is there, majority@k beside pass@k.
            #expect(card.sampling?.curve.map(\.k) == [1, 2, 3], "\(card.id)")
            inputTokens[card.id] = card.tokens.input
            if let strategy = card.strategy {
                // Every sample was sent and answered by llama-server.
                #expect(strategy.samplesPerTrial == Double(strategy.samples), "\(card.id)")
                #expect(card.errors.values.reduce(0, +) == 0, "\(card.id) errors \(card.errors)")
            }
        }
        // k samples of the same prompt: exactly k times the prompt tokens, as llama-server counted them.
        let one = try #require(inputTokens["smollm2@k=1"])
        #expect(inputTokens["smollm2@k=3"] == 3 * one && inputTokens["smollm2@k=5"] == 5 * one)
        let picked = try await PickSession(store: store, options: .init(run: report.runID, rule: .point)).execute()
        #expect(picked.report.points.count == 4)
        #expect(picked.report.picks.first?.scope == "overall")
        #expect(picked.policy.contains("routes:"))
        #expect(TestEnvironment.runningDescendants(matching: "llama-server --model").isEmpty)
    }
}

/// The `similar` check and majority votes by meaning, with embeddings from a real llama-server (SmolLM2 with
/// `--embeddings`); the answers come from command candidates so that only the embeddings are under test.
@Suite(
    .serialized,
    .enabled(if: TestEnvironment.localModelsInstalled || TestEnvironment.isCI, "run `roadtest models install` first")
)
struct RealEmbeddingsTests {
    static let answers = """
        import json, sys
        request = json.load(sys.stdin)
        answers = ["Bananas are yellow.", "Paris is the capital of France.", "The capital of France is Paris.",
                   "Paris is the capital city of France.", "I like green apples."]
        print(json.dumps({"output": answers[int(request.get("seed", 0)) % 5]}))
        """

    @Test func similarityChecksAndVotesByMeaningUseTheEmbeddingsEndpoint() async throws {
        TestEnvironment.adoptOrphans()
        try await withTemporaryDirectory { directory in
            try writeFiles(
                [
                    "answers.py": Self.answers,
                    "suite.yaml": """
                    name: similar
                    candidates:
                      - {id: emb, local: smollm2-135m-instruct, embeddings: true}
                      - id: exact
                        command: [python3, answers.py]
                        strategy: {samples: 5, select: majority}
                      - id: meaning
                        command: [python3, answers.py]
                        strategy: {samples: 5, select: majority, similar: true, threshold: 0.85}
                      - id: paraphrase
                        command: [python3, -c, 'print("{\\"output\\": \\"The capital of France is Paris.\\"}")']
                    cases:
                      - id: capital
                        prompt: What is the capital of France?
                        checks: [{icontains: paris}]
                    """,
                    "checks.yaml": """
                    name: similar-checks
                    candidates:
                      - {id: emb, local: smollm2-135m-instruct, embeddings: true}
                      - id: paraphrase
                        command: [python3, -c, 'print("{\\"output\\": \\"The capital of France is Paris.\\"}")']
                    cases:
                      - id: close
                        prompt: What is the capital of France?
                        checks: [{similar: Paris is the capital of France}]
                      - id: far
                        prompt: What is the capital of France?
                        checks: [{not-similar: Bananas are yellow fruit}]
                    """,
                ],
                in: directory
            )
            let store = try Store.inMemory().runs
            for file in ["suite.yaml", "checks.yaml"] {
                let session = RunSession(
                    store: store,
                    options: .init(suitePath: directory.appendingPathComponent(file).path)
                )
                guard case .finished(let report) = try await session.execute() else {
                    Issue.record("\(file) did not finish")
                    return
                }
                let rates = Dictionary(uniqueKeysWithValues: report.candidates.map { ($0.id, $0.passRate) })
                if file == "suite.yaml" {
                    // All five answers differ as text: the vote takes the first (bananas). By meaning, three
                    // answers say Paris.
                    #expect(rates == ["exact": 0, "meaning": 1, "paraphrase": 1], "\(rates)")
                    #expect(report.candidates.map(\.id).contains("emb") == false)
                } else {
                    let rows = try await store.trialRows(runID: report.runID)
                    #expect(rates == ["paraphrase": 1], "\(rates) \(rows.map(\.checks))")
                    for row in rows {
                        #expect(row.checks.allSatisfy { $0.reason.contains("similarity") }, "\(row.checks)")
                    }
                    // The embeddings calls are recorded and counted, charged to the trial like judge calls.
                    #expect(report.candidates.first?.tokens.judgeInput ?? 0 > 0)
                }
            }
        }
        #expect(TestEnvironment.runningDescendants(matching: "llama-server --model").isEmpty)
    }
}

/// Tool-calling cases on the real llama-server, through both of its endpoints (OpenAI `/v1/chat/completions` and
/// Anthropic `/v1/messages`), streaming and not: the tool definitions and `tool_choice` in each wire format are
/// accepted by a server we did not write, and the conversation is recorded. SmolLM2-135M does not call tools here
/// (its template has no tool format, and llama-server does not force one), so what it answers is not asserted; the
/// tool round trip itself is tested on the simulator's agents in both formats.
@Suite(
    .serialized,
    .enabled(if: TestEnvironment.localModelsInstalled || TestEnvironment.isCI, "run `roadtest models install` first")
)
struct RealModelToolTests {
    @Test func theSupportAgentExampleIsAttackedOnTheLocalModels() async throws {
        let example = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
            "../../examples/support-agent.yaml"
        ).standardizedFileURL.path
        let store = try Store.inMemory().runs
        guard
            case .finished(let report) = try await RunSession(store: store, options: .init(suitePath: example))
                .execute()
        else {
            Issue.record("the run did not finish")
            return
        }
        let rows = try await store.trialRows(runID: report.runID)
        for card in report.candidates {
            // 3 cases x 5 packs, plus excessive-agency and cross-user on each case (they set forbidden_tools and
            // session_user): 21 attacks, each decided (no provider errors on a local server).
            let security = try #require(card.security, "\(card.id)")
            #expect(security.attacks == 21 && security.errored == 0, "\(card.id): \(security)")
            #expect(security.byPack.count == 7)
            #expect(card.cases == 3 && card.tools?.trials == 3, "\(card.id)")
            // Every breach is shown by what the detector saw in the model's own output or calls.
            for row in rows where row.key.candidate == card.id && row.attackSucceeded == true {
                let highlight = try #require(row.attackHighlight)
                let calls = (row.transcript ?? []).flatMap { $0.toolCalls ?? [] }
                let seen =
                    row.output.localizedCaseInsensitiveContains(highlight)
                    || calls.contains { $0.name == highlight || $0.arguments.contains(highlight) }
                #expect(seen, "\(row.key.caseID): \(row.attackEvidence ?? "")")
            }
        }
        let html = HTMLReport.render(report, trials: rows)
        #expect(html.contains("Successful attacks"))
    }

    @Test func toolCasesRunThroughBothEndpointsStreamingAndNot() async throws {
        let options = try LlamaServer.Options.resolve(
            model: "smollm2-135m-instruct",
            gguf: nil,
            llamaServer: nil,
            home: RoadtestHome(),
            slots: 2,
            extraArguments: []
        )
        try await LlamaServer.with(options, timeout: 60) { server in
            try await withTemporaryDirectory { directory in
                var candidates = ""
                for (provider, stream) in [
                    ("openai", true), ("openai", false), ("anthropic", true), ("anthropic", false),
                ] {
                    candidates += """
                          - {id: \(provider)-\(stream ? "stream" : "whole"), provider: \(provider), base_url: \(server.baseURL),
                             model: smollm2, stream: \(stream), concurrency: 1}

                        """
                }
                try writeFiles(
                    [
                        "suite.yaml": """
                        name: real-tools
                        candidates:
                        \(candidates)
                        defaults:
                          temperature: 0
                          max_tokens: 64
                          max_turns: 2
                          timeout: 300s
                          tool_choice: required
                          tools:
                            - name: lookup_order
                              description: Look up an order by its id.
                              parameters: {type: object, properties: {order_id: {type: string}}, required: [order_id]}
                          tool_results:
                            lookup_order: {value: {status: shipped}}
                        cases:
                          - id: order
                            prompt: Where is my order A1001?
                            checks: [{calls-tool: lookup_order, schema: {type: object, required: [order_id]}}]
                        """
                    ],
                    in: directory
                )
                let store = try Store.inMemory().runs
                let session = RunSession(
                    store: store,
                    options: .init(suitePath: directory.appendingPathComponent("suite.yaml").path)
                )
                // Four candidates share the server's two slots, so a whole (unstreamed) answer can wait behind two
                // streamed conversations: the timeout is generous (300 s) because this test is about conduct, not
                // speed. A fresh-clone CI run with a fuzzer busy on one core saw 120 s run out.
                guard case .finished(let report) = try await session.execute() else {
                    Issue.record("the run did not finish")
                    return
                }
                let rows = try await store.trialRows(runID: report.runID)
                for card in report.candidates {
                    let row = rows.first { $0.key.candidate == card.id }
                    #expect(card.errors.values.allSatisfy { $0 == 0 }, "\(card.id): \(card.errors)")
                    #expect(row?.finalClass == .ok, "\(card.id)")
                    #expect(card.tools?.trials == 1, "\(card.id)")
                    let roles = row?.transcript?.map(\.role) ?? []
                    #expect(roles.prefix(2) == ["user", "assistant"], "\(card.id): \(roles)")
                    // Whatever the model did, the tool check judged it from the recorded calls.
                    let called = (row?.transcript ?? []).contains { !($0.toolCalls ?? []).isEmpty }
                    #expect(row?.checks.first?.passed == called, "\(card.id): \(row?.checks ?? [])")
                }
            }
        }
    }
}
