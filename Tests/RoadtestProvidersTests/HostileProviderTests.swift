import Foundation
import RoadtestCore
import RoadtestProviders
import RoadtestTestSupport
import Testing

/// Everything a provider sends is untrusted: hostile numbers, bodies, events and statuses are classified, never a
/// trap, and never counted.
@Suite(.serialized) struct HostileProviderTests {
    static let badNumbers = ["1e40", "-5", "1.5", "\"12\"", "1e308", "true", "[]"]

    func request(stream: Bool) -> ChatRequest {
        ChatRequest(
            model: "m",
            messages: [Message(role: "user", content: "hi")],
            maxTokens: 8,
            stream: stream,
            timeout: 3
        )
    }

    func openAIStream(_ number: String) -> [String] {
        [
            #"data: {"choices":[{"index":0,"delta":{"content":"ok"}}]}"# + "\n\n",
            #"data: {"choices":[],"usage":{"prompt_tokens":3,"completion_tokens":"# + number + "}}\n\n",
            "data: [DONE]\n\n",
        ]
    }

    func anthropicStream(_ number: String) -> [String] {
        [
            "event: message_start\ndata: " + #"{"type":"message_start","message":{"usage":{"input_tokens":"# + number
                + #","output_tokens":1}}}"# + "\n\n",
            "event: content_block_delta\ndata: "
                + #"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"ok"}}"# + "\n\n",
            "event: message_stop\ndata: " + #"{"type":"message_stop"}"# + "\n\n",
        ]
    }

    @Test func outOfRangeNegativeFractionalOrMistypedUsageIsMalformed() async throws {
        let server = HostileServer()
        try await server.run { baseURL in
            let transport = HTTPTransport()
            let openAI = OpenAIProvider(baseURL: baseURL, apiKey: nil, transport: transport)
            let anthropic = AnthropicProvider(baseURL: baseURL, apiKey: nil, transport: transport)
            for number in Self.badNumbers {
                // OpenAI and Anthropic, streaming and not: a `malformed` attempt that names the field.
                let cases: [(String, any ModelProvider, Bool, String)] = [
                    ("openai stream", openAI, true, openAIStream(number).joined()),
                    (
                        "openai body", openAI, false,
                        #"{"choices":[{"index":0,"message":{"role":"assistant","content":"ok"}}],"usage":{"prompt_tokens":"#
                            + number + #","completion_tokens":1}}"#
                    ),
                    ("anthropic stream", anthropic, true, anthropicStream(number).joined()),
                    (
                        "anthropic body", anthropic, false,
                        #"{"content":[{"type":"text","text":"ok"}],"usage":{"input_tokens":1,"output_tokens":"# + number
                            + "}}"
                    ),
                ]
                for (name, provider, stream, body) in cases {
                    server.script([
                        .init(
                            headers: [("Content-Type", stream ? "text/event-stream" : "application/json")],
                            chunks: [body]
                        )
                    ])
                    let response = await provider.send(request(stream: stream))
                    #expect(response.attemptClass == .malformed, "\(name) with \(number): \(response.attemptClass)")
                    #expect(response.message?.contains("tokens") == true, "\(name): \(response.message ?? "")")
                    #expect(response.inputTokens >= 0 && response.outputTokens >= 0)
                    #expect(response.inputTokens <= 1_000_000_000 && response.outputTokens <= 1_000_000_000)
                }
            }
            await transport.shutdown()
        }
    }

    @Test func aHostileServerNeverCrashesAProvider() async throws {
        // Seeded random responses: statuses, SSE framing, truncation, random JSON and numbers in every usage field,
        // for both formats, streaming and not. Every attempt must end in a class, with counts in range.
        var random = SplitMix64(seed: 0xF022)
        func pick<T>(_ items: [T]) -> T { items[Int(random.next() % UInt64(items.count))] }
        let numbers = ["0", "7", "-1", "1e40", "2.5", "1e9", "1000000001", "\"3\"", "null", "{}", "-0", "1E2"]
        let texts = ["hello", "", "\\u00e9", "\\ud83d\\ude00", "\\\"", "\\n"]
        func openAIEvent() -> String {
            switch random.next() % 7 {
            case 0: return "data: [DONE]\n\n"
            case 1:
                return #"data: {"choices":[],"usage":{"prompt_tokens":"# + pick(numbers) + #","completion_tokens":"#
                    + pick(numbers) + #","prompt_tokens_details":{"cached_tokens":"# + pick(numbers) + "}}}\n\n"
            case 2:
                return #"data: {"choices":[{"index":0,"delta":{"tool_calls":[{"index":"#
                    + pick(["0", "1", "-3", "1e40"])
                    + #","id":"c","function":{"name":"f","arguments":"{\"a\":"# + pick(numbers) + #"}"}}]}}]}"# + "\n\n"
            case 3: return "data: {\"choices\": [ {broken\n\n"
            case 4: return "event: error\ndata: {\"error\": 1}\n\n"
            case 5: return ": comment\r\n\r\n"
            default:
                return #"data: {"choices":[{"index":0,"delta":{"content":""# + pick(texts)
                    + #"","reasoning_content":"x"}}]}"#
                    + "\n\n"
            }
        }
        func anthropicEvent() -> String {
            switch random.next() % 7 {
            case 0: return "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n"
            case 1:
                return "event: message_start\ndata: " + #"{"type":"message_start","message":{"usage":{"input_tokens":"#
                    + pick(numbers) + #","cache_read_input_tokens":"# + pick(numbers) + #","output_tokens":"#
                    + pick(numbers)
                    + "}}}\n\n"
            case 2:
                return "event: content_block_start\ndata: "
                    + #"{"type":"content_block_start","index":"# + pick(["0", "1", "2.5"])
                    + #","content_block":{"type":"tool_use","id":"t","name":"f","input":{}}}"# + "\n\n"
            case 3:
                return "event: content_block_delta\ndata: "
                    + #"{"type":"content_block_delta","index":0,"delta":{"type":"input_json_delta","partial_json":"{\"a\":"#
                    + pick(numbers) + "\"}}\n\n"
            case 4:
                return "event: message_delta\ndata: " + #"{"type":"message_delta","usage":{"output_tokens":"#
                    + pick(numbers) + "}}\n\n"
            case 5: return "data: \u{00}\u{FF}garbage\n\n"
            default:
                return "event: content_block_delta\ndata: "
                    + #"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":""# + pick(texts)
                    + "\"}}\n\n"
            }
        }
        var cases: [(isAnthropic: Bool, stream: Bool, reply: HostileServer.Reply)] = []
        for iteration in 0..<300 {
            let isAnthropic = iteration % 2 == 1
            let stream = random.next() % 4 != 0
            let status = pick([200, 200, 200, 200, 200, 429, 500, 503, 400, 204, 301])
            var chunks: [String]
            if stream {
                chunks = (0..<Int(random.next() % 6)).map { _ in isAnthropic ? anthropicEvent() : openAIEvent() }
                // Split events across writes at random points.
                let joined = chunks.joined()
                if !joined.isEmpty, random.next() % 2 == 0 {
                    let cut = joined.index(joined.startIndex, offsetBy: Int(random.next() % UInt64(joined.count)))
                    chunks = [String(joined[..<cut]), String(joined[cut...])]
                }
            } else {
                chunks = [
                    pick([
                        #"{"choices":[{"message":{"content":"x"}}],"usage":{"prompt_tokens":"# + pick(numbers) + "}}",
                        #"{"content":[{"type":"text","text":"x"}],"usage":{"output_tokens":"# + pick(numbers) + "}}",
                        "{", "", "null", "[]", #"{"choices":"x"}"#,
                    ])
                ]
            }
            let reply = HostileServer.Reply(
                status: status,
                headers: [("Retry-After", pick(["1", "-5", "1e40", "soon", "0.5"]))],
                chunks: chunks,
                abort: random.next() % 5 == 0
            )
            cases.append((isAnthropic, stream, reply))
        }
        let script = cases
        let server = HostileServer()
        try await server.run { baseURL in
            let transport = HTTPTransport()
            let openAI = OpenAIProvider(baseURL: baseURL, apiKey: nil, transport: transport)
            let anthropic = AnthropicProvider(baseURL: baseURL, apiKey: nil, transport: transport)
            var classes: Set<AttemptClass> = []
            for (iteration, (isAnthropic, stream, reply)) in script.enumerated() {
                server.script([reply])
                let provider: any ModelProvider = isAnthropic ? anthropic : openAI
                let response = await provider.send(request(stream: stream))
                classes.insert(response.attemptClass)
                #expect((0...1_000_000_000).contains(response.inputTokens), "\(iteration)")
                #expect((0...1_000_000_000).contains(response.outputTokens), "\(iteration)")
                #expect(response.retryAfter.map { $0 >= 0 && $0.isFinite } ?? true, "\(iteration)")
            }
            // The fuzzer reached the interesting classes.
            #expect(classes.isSuperset(of: [.ok, .malformed, .streamCut, .http429, .http5xx]), "\(classes)")
            await transport.shutdown()
        }
    }
}
