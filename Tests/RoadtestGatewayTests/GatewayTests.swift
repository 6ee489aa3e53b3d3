import Foundation
import Hummingbird
import RoadtestCore
import RoadtestGateway
import RoadtestProviders
import RoadtestStore
import RoadtestSuite
import RoadtestTestSupport
import ServiceLifecycle
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The gateway end to end: the simulator as upstream (known faults), the real gateway on loopback, real HTTP.
@Suite(.serialized) struct GatewayTests {
    struct Reply {
        var status: Int
        var headers: [String: String]
        var body: String
        var json: JSONValue? { JSONValue.parse(Data(body.utf8)) }
    }

    static func send(
        _ url: String,
        method: String = "POST",
        body: String? = nil,
        headers: [String: String] = [:]
    ) async throws -> Reply {
        var request = URLRequest(url: URL(string: url)!)
        request.httpMethod = method
        request.httpBody = body.map { Data($0.utf8) }
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        let (data, response) = try await URLSession.shared.data(for: request)
        let http = response as! HTTPURLResponse
        var fields: [String: String] = [:]
        for (name, value) in http.allHeaderFields { fields["\(name)".lowercased()] = "\(value)" }
        return Reply(status: http.statusCode, headers: fields, body: String(decoding: data, as: UTF8.self))
    }

    static func chat(_ model: String, _ text: String, stream: Bool = false) -> String {
        JSONValue.object([
            "model": .string(model), "stream": .bool(stream),
            "messages": .array([.object(["role": .string("user"), "content": .string(text)])]),
        ]).jsonText
    }

    /// A gateway for `yaml` (BASE_URL replaced by the simulator's) on a free loopback port.
    static func withGateway<T: Sendable>(
        _ yaml: String,
        upstream: String,
        tokens: String? = nil,
        store: Store? = nil,
        _ body: @Sendable (_ url: String, _ gateway: Gateway) async throws -> T
    ) async throws -> T {
        try await withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("policy.yaml")
            try yaml.replacingOccurrences(of: "BASE_URL", with: upstream).write(
                to: path,
                atomically: true,
                encoding: .utf8
            )
            let policy = try PolicyLoader().load(path: path.path)
            let transport = HTTPTransport()
            let factory = ProviderFactory(transport: transport, workingDirectory: directory.path)
            var providers: [String: any ModelProvider] = [:]
            for candidate in policy.candidates { providers[candidate.id] = try factory.makeProvider(for: candidate) }
            let gateway = try Gateway(
                policy: policy,
                providers: providers,
                tokens: tokens,
                store: store?.gateway,
                feedback: store?.feedback
            )
            let (stream, continuation) = AsyncStream.makeStream(of: Int.self)
            let app = try gateway.makeApplication(host: "127.0.0.1", port: 0) { port in continuation.yield(port) }
            let group = gateway.makeServiceGroup(app: app, signals: false)
            let server = Task { try await group.run() }
            var iterator = stream.makeAsyncIterator()
            guard let port = await iterator.next() else { throw CancellationError() }
            let result: Result<T, any Error>
            do {
                result = .success(try await body("http://127.0.0.1:\(port)", gateway))
            } catch {
                result = .failure(error)
            }
            await group.triggerGracefulShutdown()
            _ = await server.result
            await transport.shutdown()
            return try result.get()
        }
    }

    @Test func routesFallBackAndAnswerInOpenAIShapes() async throws {
        try await withSimulator { upstream, _ in
            let store = try Store.inMemory()
            try await Self.withGateway(
                """
                candidates:
                  - {id: main, base_url: BASE_URL, model: "main;faults=429,500,ok,ok,cut,ok;cut_after=0", retries: 0, price: {input: 1000000, output: 0}}
                  - {id: spare, base_url: BASE_URL, model: spare, price: {input: 2000000, output: 0}}
                  - {id: billing, base_url: BASE_URL, model: "billing;reply=Billing here.", retries: 0}
                routes:
                  - {name: default, candidate: main, fallback: [spare]}
                  - {name: money, candidate: billing, match: {tag: billing}}
                """,
                upstream: upstream,
                store: store
            ) { url, gateway in
                // 1: main answers 429 (no retries) -> spare. 2: 500 -> spare. 3, 4: main.
                var servedBy: [String] = []
                for index in 1...4 {
                    let reply = try await Self.send(
                        url + "/v1/chat/completions",
                        body: Self.chat("default", "hello \(index)")
                    )
                    #expect(reply.status == 200, "\(reply.body)")
                    #expect(reply.headers["x-roadtest-request-id"]?.hasPrefix("rt-") == true)
                    #expect(
                        reply.json?["choices"]?.arrayValue?.first?["message"]?["content"] == .string("hello \(index)")
                    )
                    #expect(reply.json?["model"] == .string("default"))
                    servedBy.append(reply.headers["x-roadtest-served-by"] ?? "")
                }
                #expect(servedBy == ["spare", "spare", "main", "main"])
                // 5: a stream cut before its first content byte falls back too; the client sees one clean stream.
                let cut = try await Self.send(
                    url + "/v1/chat/completions",
                    body: Self.chat("default", "stream me", stream: true)
                )
                #expect(cut.status == 200 && cut.headers["x-roadtest-served-by"] == "spare")
                #expect(
                    cut.body.contains(#""content":"stream "#) && cut.body.hasSuffix("data: [DONE]\n\n"),
                    "\(cut.body)"
                )
                // 6: main streams itself.
                let clean = try await Self.send(
                    url + "/v1/chat/completions",
                    body: Self.chat("default", "again", stream: true)
                )
                #expect(
                    clean.headers["x-roadtest-served-by"] == "main" && clean.body.contains(#""finish_reason":"stop""#)
                )
                // A tag picks its route whatever the model; unknown models are 404 with the route names.
                let tagged = try await Self.send(
                    url + "/v1/chat/completions",
                    body: Self.chat("anything", "refund?"),
                    headers: ["x-roadtest-tag": "billing"]
                )
                #expect(tagged.json?["choices"]?.arrayValue?.first?["message"]?["content"] == .string("Billing here."))
                let unknown = try await Self.send(url + "/v1/chat/completions", body: Self.chat("gpt-9", "hi"))
                #expect(unknown.status == 404 && unknown.json?["error"]?["code"] == .string("model_not_found"))
                #expect(unknown.body.contains("default, money"))
                // Prometheus text: requests by route, candidate and outcome; fallbacks; latency histograms; cost.
                let metrics = try await Self.send(url + "/metrics", method: "GET")
                #expect(metrics.status == 200)
                let exposition = metrics.body
                #expect(
                    exposition.contains(
                        #"roadtest_gateway_requests_total{route="default",candidate="spare",outcome="ok"} 3"#
                    ),
                    "\(exposition)"
                )
                #expect(
                    exposition.contains(
                        #"roadtest_gateway_requests_total{route="default",candidate="main",outcome="ok"} 3"#
                    )
                )
                #expect(
                    exposition.contains(
                        #"roadtest_gateway_requests_total{route="none",candidate="none",outcome="unknown_route"} 1"#
                    )
                )
                #expect(exposition.contains(#"roadtest_gateway_fallbacks_total{route="default",candidate="spare"} 3"#))
                #expect(
                    exposition.contains(#"roadtest_gateway_ttft_seconds_bucket{route="default",candidate="main",le="#)
                )
                #expect(exposition.contains("roadtest_gateway_cost_usd_total"))
                let models = try await Self.send(url + "/v1/models", method: "GET")
                #expect(models.json?["data"]?.arrayValue?.compactMap { $0["id"]?.stringValue } == ["default", "money"])
                await gateway.settle()
                // Every request is stored with who served it and what it cost (spare is charged at its price).
                let records = try await store.gateway.gatewayRequests(limit: 100)
                #expect(records.count == 8)
                let fellBack = records.filter(\.fellBack)
                #expect(fellBack.count == 3 && fellBack.allSatisfy { $0.servedBy == "spare" && $0.route == "default" })
                #expect(records.filter { $0.outcome == .refused(.unknownRoute) }.count == 1)
                #expect(records.filter(\.stream).count == 2)
                let spend = try await store.gateway.gatewaySpend(since: 0)
                #expect((spend["default"] ?? 0) > 0)
            }
        }
    }

    @Test func tokensLimitsAndBudgetsRefuseWithClearErrors() async throws {
        try await withSimulator { upstream, _ in
            let store = try Store.inMemory()
            try await Self.withGateway(
                """
                candidates:
                  - {id: main, base_url: BASE_URL, model: main, price: {input: 1000000, output: 1000000}}
                routes:
                  - {name: default, candidate: main}
                  - {name: capped, candidate: main, budget: {usd_per_day: 185}}
                auth: {tokens_env: GATEWAY_TOKENS}
                limits: {max_body_bytes: 2000, requests_per_minute: 6, reserve_output_tokens: 100}
                """,
                upstream: upstream,
                tokens: "alpha-token, beta-token",
                store: store
            ) { url, _ in
                let endpoint = url + "/v1/chat/completions"
                let missing = try await Self.send(endpoint, body: Self.chat("default", "hi"))
                #expect(missing.status == 401 && missing.json?["error"]?["type"] == .string("authentication_error"))
                let wrong = try await Self.send(
                    endpoint,
                    body: Self.chat("default", "hi"),
                    headers: ["Authorization": "Bearer alpha-tokem"]
                )
                #expect(wrong.status == 401)
                let alpha = ["Authorization": "Bearer alpha-token"]
                let ok = try await Self.send(endpoint, body: Self.chat("default", "hi"), headers: alpha)
                #expect(ok.status == 200)
                // Anthropic clients send x-api-key.
                let beta = try await Self.send(
                    endpoint,
                    body: Self.chat("default", "hi"),
                    headers: ["x-api-key": "beta-token"]
                )
                #expect(beta.status == 200)
                let large = try await Self.send(
                    endpoint,
                    body: Self.chat("default", String(repeating: "x", count: 5000)),
                    headers: alpha
                )
                #expect(large.status == 413)
                // At $1M a token, "a b" may cost up to $183 (3 bytes + 80 of framing in, 100 reserved out): it fits the
                // $185 cap and really costs $4 (2 + 2 tokens); the next one would not fit ($4 + $183) and is refused
                // before any candidate is asked.
                let first = try await Self.send(endpoint, body: Self.chat("capped", "a b"), headers: alpha)
                #expect(first.status == 200)
                let capped = try await Self.send(endpoint, body: Self.chat("capped", "a b"), headers: alpha)
                #expect(capped.status == 429 && capped.body.contains("cannot fit this request"), "\(capped.body)")
                // Six requests a minute per token: alpha has sent 4 (ok, large, first, capped; a 401 counts against no
                // token), so two more pass and the next is refused with Retry-After.
                for _ in 1...2 {
                    let more = try await Self.send(endpoint, body: Self.chat("default", "hi"), headers: alpha)
                    #expect(more.status == 200)
                }
                let limited = try await Self.send(endpoint, body: Self.chat("default", "hi"), headers: alpha)
                #expect(limited.status == 429 && Int(limited.headers["retry-after"] ?? "") ?? 0 >= 1, "\(limited.body)")
                // beta has its own bucket.
                let betaAgain = try await Self.send(
                    endpoint,
                    body: Self.chat("default", "hi"),
                    headers: ["x-api-key": "beta-token"]
                )
                #expect(betaAgain.status == 200)
            }
            // Nothing the clients presented is stored.
            let records = try await store.gateway.gatewayRequests(limit: 100)
            #expect(records.map(\.outcome).contains(.refused(.unauthorized)))
            let dump = String(decoding: try JSONEncoder().encode(records), as: UTF8.self)
            #expect(!dump.contains("alpha") && !dump.contains("beta"))
        }
    }

    @Test func shadowCopiesNeverDelayTheClientAndArePaired() async throws {
        try await withSimulator { upstream, _ in
            let store = try Store.inMemory()
            let gateway = try await Self.withGateway(
                """
                candidates:
                  - {id: live, base_url: BASE_URL, model: live}
                  - {id: slow, base_url: BASE_URL, model: "slow;ttft=1500ms"}
                  - {id: other, base_url: BASE_URL, model: "other;reply=Something else."}
                routes:
                  - {name: default, candidate: live, shadow: {candidates: [slow, other], sample: 100%}}
                limits: {shadow_queue: 1}
                """,
                upstream: upstream,
                store: store
            ) { url, gateway in
                // The shadow candidate takes 1.5 s; the client does not wait for it.
                for (index, stream) in [false, true, false, false].enumerated() {
                    let start = Date()
                    let reply = try await Self.send(
                        url + "/v1/chat/completions",
                        body: Self.chat("default", "question \(index)", stream: stream)
                    )
                    #expect(reply.status == 200 && reply.headers["x-roadtest-served-by"] == "live")
                    #expect(Date().timeIntervalSince(start) < 0.5, "the client waited for a shadow")
                }
                await gateway.settle()
                return gateway
            }
            // 4 requests x 2 shadow candidates = 8 copies; the queue holds 1 while 2 run, so some were dropped,
            // counted, and every other one was paired and stored.
            let pairs = try await store.gateway.shadowPairs(route: "default", limit: 100)
            #expect(gateway.shadowDropped > 0)
            #expect(pairs.count + gateway.shadowDropped == 8, "\(pairs.count) pairs, \(gateway.shadowDropped) dropped")
            #expect(pairs.count == gateway.shadowCompleted)
            let report = ShadowReport(pairs: pairs)
            let slow = report.comparisons.first { $0.shadow == "slow" }
            let other = report.comparisons.first { $0.shadow == "other" }
            // The slow shadow echoes like the live candidate: it agrees, 1.5 s slower; the other never agrees.
            if let slow {
                #expect(slow.agreed == slow.answered && slow.answered == slow.pairs)
                #expect((slow.e2eDeltaP50Ms ?? 0) > 1400, "\(slow)")
            }
            if let other { #expect(other.agreed == 0 && other.answered > 0) }
            #expect(slow != nil || other != nil)
            #expect(pairs.allSatisfy { $0.liveOutput.hasPrefix("question") })
            // Graded by a suite's checks: pairs whose input is a case's input, live and shadow side by side.
            let cases = (0..<4).map {
                Case(
                    id: "q\($0)",
                    messages: [Message(role: "user", content: "question \($0)")],
                    checks: [Check(kind: .contains("question"))]
                )
            }
            let graded = ShadowReport(pairs: pairs, cases: cases)
            for comparison in graded.comparisons {
                let result = try #require(comparison.graded)
                #expect(result.pairs == comparison.answered && result.livePassRate == 1)
                if comparison.shadow == "other" {
                    #expect(
                        result.shadowPassRate == 0 && result.shadowWorse == result.pairs && result.shadowBetter == 0
                    )
                } else {
                    #expect(result.shadowPassRate == 1 && result.mcnemarP == 1)
                }
            }
        }
    }

    @Test func aRouteBreachingItsSLORollsBackByItself() async throws {
        try await withSimulator { upstream, _ in
            try await Self.withGateway(
                """
                candidates:
                  - {id: new, base_url: BASE_URL, model: "new;faults=500;cycle=true", retries: 0}
                  - {id: slow, base_url: BASE_URL, model: "slow;ttft=300ms", retries: 0}
                  - {id: old, base_url: BASE_URL, model: old}
                routes:
                  - {name: default, candidate: new, rollback: {to: old, slo: {error_rate: 20%}, window: 60s, min_requests: 5}}
                  - {name: fast, candidate: slow, fallback: [old], rollback: {slo: {e2e_p95: 100ms}, min_requests: 3}}
                """,
                upstream: upstream
            ) { url, _ in
                let endpoint = url + "/v1/chat/completions"
                var statuses: [Int] = []
                for index in 1...7 {
                    let reply = try await Self.send(endpoint, body: Self.chat("default", "hello \(index)"))
                    statuses.append(reply.status)
                    if index > 5 { #expect(reply.headers["x-roadtest-served-by"] == "old") }
                }
                // Five failures fill the window (100% errors > 20%): the route rolls back to old.
                #expect(statuses == [502, 502, 502, 502, 502, 200, 200])
                var served: [String] = []
                for index in 1...5 {
                    let reply = try await Self.send(endpoint, body: Self.chat("fast", "hi \(index)"))
                    served.append(reply.headers["x-roadtest-served-by"] ?? "")
                }
                // Three answers at ~300 ms breach a 100 ms p95: the route moves to its first fallback.
                #expect(served == ["slow", "slow", "slow", "old", "old"])
                let status = try await Self.send(url + "/_roadtest/status", method: "GET")
                let routes = status.json?["routes"]?.arrayValue ?? []
                let rolled = routes.first { $0["name"] == .string("default") }?["rolled_back"]
                #expect(rolled?["from"] == .string("new") && rolled?["to"] == .string("old"))
                #expect(rolled?["reason"]?.stringValue?.contains("error rate 100.0% > 20.0% over 5 requests") == true)
                #expect(routes.first { $0["name"] == .string("fast") }?["candidate"] == .string("old"))
                let metrics = try await Self.send(url + "/metrics", method: "GET")
                #expect(metrics.body.contains(#"roadtest_gateway_rollbacks_total{route="default"} 1"#))
                #expect(metrics.body.contains(#"roadtest_gateway_rollbacks_total{route="fast"} 1"#))
            }
        }
    }

    @Test func weightsSplitTrafficForACanary() async throws {
        try await withSimulator { upstream, _ in
            try await Self.withGateway(
                """
                candidates:
                  - {id: stable, base_url: BASE_URL, model: stable}
                  - {id: canary, base_url: BASE_URL, model: canary}
                routes:
                  - {name: default, candidate: stable, weights: {stable: 3, canary: 1}}
                """,
                upstream: upstream
            ) { url, _ in
                var served: [String: Int] = [:]
                for index in 1...200 {
                    let reply = try await Self.send(
                        url + "/v1/chat/completions",
                        body: Self.chat("default", "n \(index)")
                    )
                    served[reply.headers["x-roadtest-served-by"] ?? "", default: 0] += 1
                }
                // A quarter to the canary: 50 expected, standard deviation about 6.
                #expect(served["stable", default: 0] + served["canary", default: 0] == 200)
                #expect((25...75).contains(served["canary", default: 0]), "\(served)")
            }
        }
    }

    @Test func toolCallsPassThroughBothFormats() async throws {
        try await withSimulator { upstream, _ in
            try await Self.withGateway(
                """
                candidates:
                  - {id: agent, base_url: BASE_URL, model: careful-agent}
                routes:
                  - {name: default, candidate: agent}
                """,
                upstream: upstream
            ) { url, _ in
                let tools = #"[{"type": "function", "function": {"name": "lookup", "parameters": {"type": "object"}}}]"#
                let prompt = #"call lookup with {\"id\": \"7\"}"#
                for stream in [false, true] {
                    let body =
                        #"{"model": "default", "stream": \#(stream), "tools": \#(tools), "messages": [{"role": "user", "content": "\#(prompt)"}]}"#
                    let reply = try await Self.send(url + "/v1/chat/completions", body: body)
                    #expect(reply.status == 200, "\(reply.body)")
                    if stream {
                        #expect(
                            reply.body.contains(#""name":"lookup""#)
                                && reply.body.contains(#""finish_reason":"tool_calls""#),
                            "\(reply.body)"
                        )
                    } else {
                        let call = reply.json?["choices"]?.arrayValue?.first?["message"]?["tool_calls"]?.arrayValue?
                            .first
                        #expect(call?["function"]?["name"] == .string("lookup"))
                        #expect(
                            call?["function"]?["arguments"]?.stringValue.flatMap { JSONValue.parse($0) }
                                == .object(["id": .string("7")])
                        )
                    }
                    // The same request in Anthropic's format: a tool_use block with the parsed input.
                    let anthropicTools = #"[{"name": "lookup", "input_schema": {"type": "object"}}]"#
                    let messages =
                        #"{"model": "default", "max_tokens": 64, "stream": \#(stream), "tools": \#(anthropicTools), "messages": [{"role": "user", "content": "\#(prompt)"}]}"#
                    let anthropic = try await Self.send(url + "/v1/messages", body: messages)
                    #expect(anthropic.status == 200, "\(anthropic.body)")
                    if stream {
                        #expect(
                            anthropic.body.contains("event: content_block_start")
                                && anthropic.body.contains(#""type":"tool_use""#)
                        )
                        #expect(
                            anthropic.body.contains(#""stop_reason":"tool_use""#)
                                && anthropic.body.contains("event: message_stop")
                        )
                    } else {
                        let block = anthropic.json?["content"]?.arrayValue?.first { $0["type"] == .string("tool_use") }
                        #expect(block?["name"] == .string("lookup") && block?["input"] == .object(["id": .string("7")]))
                        #expect(anthropic.json?["stop_reason"] == .string("tool_use"))
                    }
                }
            }
        }
    }

    @Test func policyMistakesNameFileAndLine() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("policy.yaml")
            try """
            candidates:
              - {id: a, base_url: "http://127.0.0.1:1/v1"}
            routes:
              - {name: default, candidate: b, fallback: [a]}
              - {name: x, candidate: a, shadow: {candidates: [a], sample: 150%}}
              - {name: y, candidate: a, rollback: {slo: {error_rate: 5%}}}
              - {name: z, candidate: a, colour: red}
            limits: {max_body_bytes: -1}
            """.write(to: path, atomically: true, encoding: .utf8)
            do {
                _ = try PolicyLoader().load(path: path.path)
                Issue.record("the policy loaded")
            } catch let error as RoadtestError {
                let problems = error.diagnostics.map(\.description)
                #expect(
                    problems.contains { $0.contains("policy.yaml:4") && $0.contains("candidate 'b'") },
                    "\(problems)"
                )
                #expect(problems.contains { $0.contains("policy.yaml:5") && $0.contains("'sample' is a share") })
                #expect(problems.contains { $0.contains("policy.yaml:6") && $0.contains("needs 'to'") })
                #expect(problems.contains { $0.contains("policy.yaml:7") && $0.contains("unknown key 'colour'") })
                #expect(problems.contains { $0.contains("policy.yaml:8") && $0.contains("max_body_bytes") })
            }
        }
    }

    @Test func aPolicyNamingATokenVariableNeedsTokens() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("policy.yaml")
            try """
            candidates: [{id: a, base_url: "http://127.0.0.1:1/v1"}]
            routes: [{name: default, candidate: a, fallback: [b]}]
            auth: {tokens_env: NOPE}
            """.write(to: path, atomically: true, encoding: .utf8)
            #expect(throws: RoadtestError.self) { try PolicyLoader().load(path: path.path) }
            try """
            candidates: [{id: a, base_url: "http://127.0.0.1:1/v1"}]
            routes: [{name: default, candidate: a}]
            auth: {tokens_env: NOPE}
            """.write(to: path, atomically: true, encoding: .utf8)
            let policy = try PolicyLoader().load(path: path.path)
            #expect(throws: RoadtestError.self) {
                _ = try Gateway(policy: policy, providers: [:], tokens: nil, store: nil)
            }
        }
    }
}
