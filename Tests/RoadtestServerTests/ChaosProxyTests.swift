import Foundation
import RoadtestCore
import RoadtestProviders
import RoadtestServer
import RoadtestTestSupport
import Testing

/// The chaos proxy in front of the simulator: every fault kind, both wire formats, streamed and not. The proxy's
/// log and the client's attempt class must agree for every request.
@Suite(.serialized) struct ChaosProxyTests {
    func providers(_ baseURL: String, _ transport: HTTPTransport) -> [(String, any ModelProvider)] {
        [
            ("openai", OpenAIProvider(baseURL: baseURL, apiKey: nil, transport: transport)),
            ("anthropic", AnthropicProvider(baseURL: baseURL, apiKey: nil, transport: transport)),
        ]
    }

    func request(stream: Bool, timeout: Double = 5, model: String = "echo;ttft=20ms;itl=5ms") -> ChatRequest {
        ChatRequest(
            model: model,
            messages: [Message(role: "user", content: "one two three four five six seven eight")],
            maxTokens: 64,
            stream: stream,
            timeout: timeout
        )
    }

    @Test func everyFaultKindReachesTheClientAsItsAttemptClass() async throws {
        try await withSimulator { upstream, _ in
            let transport = HTTPTransport()
            defer { Task { await transport.shutdown() } }
            for kind in FaultKind.allCases where kind != .slow {
                let rule = FaultRule(kind: kind, rate: 1, parameter: kind == .stall ? 1 : nil)
                try await withChaosProxy(upstream: upstream, plan: FaultPlan(spec: FaultSpec(rules: [rule]))) {
                    baseURL,
                    proxy in
                    for (format, provider) in providers(baseURL, transport) {
                        for stream in [true, false] {
                            let response = await provider.send(
                                request(stream: stream, timeout: kind == .stall ? 0.5 : 5)
                            )
                            #expect(
                                response.attemptClass == kind.attemptClass,
                                "\(kind.rawValue) \(format) stream=\(stream): \(response.attemptClass) \(response.message ?? "")"
                            )
                            if kind == .http429 { #expect(response.retryAfter == 1) }
                        }
                    }
                    // Let the proxy finish logging requests whose clients gave up (stalls).
                    for _ in 0..<150 where proxy.entries.count < 4 { try await Task.sleep(nanoseconds: 20_000_000) }
                    let entries = proxy.entries
                    #expect(entries.count == 4, "\(kind.rawValue): \(entries.count) log entries")
                    #expect(entries.allSatisfy { $0.fault == kind.rawValue && $0.kind == kind.category })
                    let forwarded = !kind.isAnsweredByProxy
                    #expect(entries.allSatisfy { ($0.upstreamStatus != nil) == forwarded }, "\(kind.rawValue)")
                }
            }
        }
    }

    @Test func withoutFaultsStreamsPassThroughUnchanged() async throws {
        try await withSimulator { upstream, _ in
            let transport = HTTPTransport()
            defer { Task { await transport.shutdown() } }
            try await withChaosProxy(upstream: upstream, plan: FaultPlan()) { baseURL, proxy in
                for ((format, direct), (_, proxied)) in zip(
                    providers(upstream, transport),
                    providers(baseURL, transport)
                ) {
                    for stream in [true, false] {
                        let a = await direct.send(request(stream: stream))
                        let b = await proxied.send(request(stream: stream))
                        #expect(b.attemptClass == .ok, "\(format): \(b.message ?? "")")
                        #expect(
                            a.output == b.output && a.outputTokens == b.outputTokens && a.inputTokens == b.inputTokens
                        )
                        if stream { #expect(a.contentEvents == b.contentEvents, "\(format)") }
                    }
                }
                // A request's log entry is written as its response ends, which can be just after the client has
                // read the last byte: wait for the four, then check them.
                _ = try await eventually(timeout: .seconds(10), every: .milliseconds(10)) { proxy.entries.count >= 4 }
                #expect(proxy.entries.count == 4)
                #expect(proxy.entries.allSatisfy { $0.fault == nil && $0.upstreamStatus == 200 && $0.status == 200 })
            }
        }
    }

    @Test func slowMultipliesTimeToFirstTokenAndGaps() async throws {
        try await withSimulator { upstream, _ in
            let transport = HTTPTransport()
            defer { Task { await transport.shutdown() } }
            let plan = FaultPlan(spec: FaultSpec(rules: [FaultRule(kind: .slow, rate: 1, factor: 4)]))
            try await withChaosProxy(upstream: upstream, plan: plan) { baseURL, _ in
                let provider = OpenAIProvider(baseURL: baseURL, apiKey: nil, transport: transport)
                let response = await provider.send(request(stream: true, model: "echo;ttft=100ms;itl=40ms"))
                #expect(response.attemptClass == .ok)
                let ttft = try #require(response.timeToFirstToken)
                // 4 x 100 ms, give or take scheduling.
                #expect(ttft >= 0.38 && ttft < 0.8, "TTFT \(ttft)")
                let gaps = response.interChunkGaps.filter { $0 > 0.05 }
                #expect(!gaps.isEmpty && gaps.allSatisfy { $0 > 0.12 }, "gaps \(response.interChunkGaps)")
            }
        }
    }

    @Test func faultsAreDeterministicForASeedAndRatesHold() async throws {
        let spec = try FaultSpec.parse("429:20%,500:5%,cut:5%,slow:10%x5")
        let plan = FaultPlan(spec: spec, seed: 7)
        var counts: [String: Int] = [:]
        var first: [String?] = []
        for index in 0..<10_000 {
            let hash = FaultPlan.hash(Array("request \(index)".utf8))
            let fault = plan.decide(bodyHash: hash, occurrence: 0, elapsed: 0)?.rule.kind.rawValue
            counts[fault ?? "none", default: 0] += 1
            if index < 100 { first.append(fault) }
        }
        let again = (0..<100).map {
            plan.decide(bodyHash: FaultPlan.hash(Array("request \($0)".utf8)), occurrence: 0, elapsed: 0)?.rule.kind
                .rawValue
        }
        #expect(first == again)
        // 10,000 draws: within 1.5 points of each rate.
        #expect(abs(Double(counts["429", default: 0]) / 10_000 - 0.20) < 0.015)
        #expect(abs(Double(counts["500", default: 0]) / 10_000 - 0.05) < 0.015)
        #expect(abs(Double(counts["slow", default: 0]) / 10_000 - 0.10) < 0.015)
        let otherSeed = FaultPlan(spec: spec, seed: 8)
        let different = (0..<100).map {
            otherSeed.decide(bodyHash: FaultPlan.hash(Array("request \($0)".utf8)), occurrence: 0, elapsed: 0)?.rule
                .kind.rawValue
        }
        #expect(different != first)
    }

    @Test func specsParseAndBadSpecsSayWhatIsWrong() throws {
        let spec = try FaultSpec.parse("429:20%@2s, 500:5%, cut:5%@3, slow:10%x5, stall:1%@30s, error_event:0.02")
        #expect(spec.rules.count == 6)
        #expect(spec.rules[0].retryAfter == 2)
        #expect(spec.rules[2].cutAfterEvents == 3)
        #expect(spec.rules[3].slowFactor == 5)
        #expect(spec.rules[4].stallHold == 30)
        #expect(abs(spec.rules[5].rate - 0.02) < 1e-9)
        #expect(try FaultSpec.parse(spec.text) == spec)
        for bad in ["404:10%", "429:120%", "429:60%,500:60%", "429", "500:5%x3", "cut:5%@soon"] {
            #expect(throws: RoadtestError.self, "\(bad)") { try FaultSpec.parse(bad) }
        }
    }

    @Test func scenarioWindowsStrikeOnlyInsideThem() {
        let window = FaultWindow(at: 10, duration: 5, rule: FaultRule(kind: .http503, rate: 1))
        let plan = FaultPlan(windows: [window], seed: 1)
        #expect(plan.decide(bodyHash: 1, occurrence: 0, elapsed: 9.99) == nil)
        #expect(plan.decide(bodyHash: 1, occurrence: 0, elapsed: 10)?.rule.kind == .http503)
        #expect(plan.decide(bodyHash: 1, occurrence: 0, elapsed: 14.9)?.window == 0)
        #expect(plan.decide(bodyHash: 1, occurrence: 0, elapsed: 15) == nil)
    }
}
