import Foundation
import RoadtestCore
import RoadtestGateway
import RoadtestServer
import RoadtestTestSupport
import Testing

/// How the gateway conducts itself when candidates fail, scored the way failoverbench scores gateways: it honours
/// `Retry-After`, never retries or falls back on a request error (400) or a content filter, passes the upstream's
/// finish reason on (a truncated or filtered answer is not passed off as a whole one), never passes off a stream
/// cut after its first byte as a success, and goes back to a primary that recovered (the breaker's half-open probe).
@Suite struct FallbackConductTests {
    static func requests(_ simulator: Simulator, _ model: String) -> [Simulator.ServedRequest] {
        simulator.servedRequests.filter { $0.model.hasPrefix(model) }
    }

    @Test func retryAfterIsHonouredBeforeTheRetryAndPassedOnWhenEveryCandidateIsThrottled() async throws {
        try await withSimulator { upstream, simulator in
            try await GatewayTests.withGateway(
                """
                candidates:
                  - {id: main, base_url: BASE_URL, model: "main;faults=429;retry_after=1s", retries: 1, retry_backoff: 10ms}
                  - {id: busy, base_url: BASE_URL, model: "busy;faults=429,429;retry_after=3s", retries: 0}
                routes:
                  - {name: default, candidate: main}
                  - {name: throttled, candidate: busy}
                """,
                upstream: upstream
            ) { url, _ in
                let started = ContinuousClock.now
                let reply = try await GatewayTests.send(
                    url + "/v1/chat/completions",
                    body: GatewayTests.chat("default", "hi")
                )
                let waited = ContinuousClock.now - started
                #expect(reply.status == 200 && reply.headers["x-roadtest-served-by"] == "main")
                // The retry came after the second the provider asked for, not after the 10 ms backoff.
                let sent = Self.requests(simulator, "main").map(\.receivedAt)
                #expect(sent.count == 2)
                if sent.count == 2 { #expect(Monotonic.seconds(from: sent[0], to: sent[1]) >= 0.95) }
                #expect(waited >= .milliseconds(950))
                // Nothing left to try: the client gets the 429 and the provider's Retry-After, at once.
                let throttled = try await GatewayTests.send(
                    url + "/v1/chat/completions",
                    body: GatewayTests.chat("throttled", "hi")
                )
                #expect(throttled.status == 429 && throttled.headers["retry-after"] == "3", "\(throttled.headers)")
                #expect(Self.requests(simulator, "busy").count == 1)
            }
        }
    }

    @Test func aBadRequestIsNeitherRetriedNorSentToTheFallback() async throws {
        try await withSimulator { upstream, simulator in
            try await GatewayTests.withGateway(
                """
                candidates:
                  - {id: main, base_url: BASE_URL, model: "main;faults=400;cycle=true", retries: 3, retry_backoff: 10ms}
                  - {id: spare, base_url: BASE_URL, model: spare}
                routes:
                  - {name: default, candidate: main, fallback: [spare]}
                """,
                upstream: upstream
            ) { url, gateway in
                for (index, stream) in [false, true].enumerated() {
                    let reply = try await GatewayTests.send(
                        url + "/v1/chat/completions",
                        body: GatewayTests.chat("default", "hi", stream: stream)
                    )
                    #expect(reply.status == 400, "\(reply.body)")
                    #expect(Self.requests(simulator, "main").count == index + 1)
                    #expect(Self.requests(simulator, "spare").isEmpty)
                }
                await gateway.settle()
                #expect(gateway.counts["http_4xx"] == 2, "\(gateway.counts)")
            }
        }
    }

    @Test func aFilteredOrTruncatedAnswerSaysSoAndIsNotRetried() async throws {
        try await withSimulator { upstream, simulator in
            try await GatewayTests.withGateway(
                """
                candidates:
                  - {id: filtered, base_url: BASE_URL, model: "filtered;finish=content_filter;reply=I can't", retries: 2}
                  - {id: truncated, base_url: BASE_URL, model: "truncated;finish=length;reply=one two three", retries: 2}
                  - {id: spare, base_url: BASE_URL, model: spare}
                routes:
                  - {name: filtered, candidate: filtered, fallback: [spare]}
                  - {name: truncated, candidate: truncated, fallback: [spare]}
                """,
                upstream: upstream
            ) { url, _ in
                for (route, reason, anthropic) in [
                    ("filtered", "content_filter", "refusal"), ("truncated", "length", "max_tokens"),
                ] {
                    let whole = try await GatewayTests.send(
                        url + "/v1/chat/completions",
                        body: GatewayTests.chat(route, "hi")
                    )
                    #expect(whole.status == 200 && whole.headers["x-roadtest-served-by"] == route)
                    #expect(
                        whole.json?["choices"]?.arrayValue?.first?["finish_reason"] == .string(reason),
                        "\(whole.body)"
                    )
                    let streamed = try await GatewayTests.send(
                        url + "/v1/chat/completions",
                        body: GatewayTests.chat(route, "hi", stream: true)
                    )
                    #expect(streamed.body.contains(#""finish_reason":"\#(reason)""#), "\(streamed.body)")
                    let messages = try await GatewayTests.send(
                        url + "/v1/messages",
                        body:
                            #"{"model": "\#(route)", "max_tokens": 20, "messages": [{"role": "user", "content": "hi"}]}"#
                    )
                    #expect(messages.json?["stop_reason"] == .string(anthropic), "\(messages.body)")
                }
                // Each answer was taken as it was: one upstream request each, the fallback never asked.
                #expect(Self.requests(simulator, "filtered").count == 3)
                #expect(Self.requests(simulator, "truncated").count == 3)
                #expect(Self.requests(simulator, "spare").isEmpty)
            }
        }
    }

    // An orderly cut (the body ends without its end marker): the bytes before it always arrive. An abrupt one (a
    // reset) can take them with it on loopback, and then nothing had reached the client and falling back is right.
    @Test func aStreamCutAfterItsFirstByteIsCountedAsACutNotASuccess() async throws {
        try await withSimulator { upstream, simulator in
            try await GatewayTests.withGateway(
                """
                candidates:
                  - {id: main, base_url: BASE_URL, model: "main;faults=cut;cycle=true;cut_after=2", retries: 0}
                  - {id: spare, base_url: BASE_URL, model: spare}
                routes:
                  - {name: default, candidate: main, fallback: [spare]}
                """,
                upstream: upstream
            ) { url, gateway in
                for _ in 0..<2 {
                    let reply = try await GatewayTests.send(
                        url + "/v1/chat/completions",
                        body: GatewayTests.chat("default", "one two three four five", stream: true)
                    )
                    // Bytes already reached the client: no fallback; the stream ends with an error event, not [DONE].
                    #expect(reply.status == 200 && reply.headers["x-roadtest-served-by"] == "main")
                    #expect(reply.body.contains(#""content":"one "#))
                    #expect(reply.body.contains(#"{"error":{"#), "\(reply.body)")
                    #expect(!reply.body.contains("[DONE]") && !reply.body.contains(#""finish_reason""#))
                }
                #expect(Self.requests(simulator, "spare").isEmpty)
                await gateway.settle()
                #expect(gateway.counts["stream_cut"] == 2 && gateway.counts["ok"] == nil, "\(gateway.counts)")
                let metrics = try await GatewayTests.send(url + "/metrics", method: "GET")
                #expect(
                    metrics.body.contains(
                        #"roadtest_gateway_requests_total{route="default",candidate="main",outcome="stream_cut"} 2"#
                    ),
                    "\(metrics.body)"
                )
            }
        }
    }

    @Test func aFlappingPrimaryIsSkippedThenProbedAndServesAgainOnceItRecovers() async throws {
        try await withSimulator { upstream, simulator in
            try await GatewayTests.withGateway(
                """
                candidates:
                  - {id: main, base_url: BASE_URL, model: "main;faults=500,500,500", retries: 0,
                     cooldown: {after: 2, for: 1s}}
                  - {id: spare, base_url: BASE_URL, model: spare}
                routes:
                  - {name: default, candidate: main, fallback: [spare]}
                """,
                upstream: upstream
            ) { url, _ in
                func servedBy() async throws -> String? {
                    let reply = try await GatewayTests.send(
                        url + "/v1/chat/completions",
                        body: GatewayTests.chat("default", "hi")
                    )
                    #expect(reply.status == 200)
                    return reply.headers["x-roadtest-served-by"]
                }
                // Two failures in a row open main's circuit; the spare answers both.
                #expect(try await servedBy() == "spare")
                #expect(try await servedBy() == "spare")
                // Open: main is not even asked.
                #expect(try await servedBy() == "spare")
                #expect(Self.requests(simulator, "main").count == 2)
                // After the cooldown one request probes main; it fails once more (its third fault): open again.
                try await Task.sleep(for: .milliseconds(1100))
                #expect(try await servedBy() == "spare")
                #expect(Self.requests(simulator, "main").count == 3)
                #expect(try await servedBy() == "spare")
                #expect(Self.requests(simulator, "main").count == 3)
                // Main has recovered: the next probe succeeds, closes the circuit, and main serves again.
                try await Task.sleep(for: .milliseconds(1100))
                #expect(try await servedBy() == "main")
                #expect(try await servedBy() == "main")
                #expect(Self.requests(simulator, "main").count == 5)
            }
        }
    }
}
