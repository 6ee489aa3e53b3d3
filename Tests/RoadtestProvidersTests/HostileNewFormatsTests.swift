import Foundation
import RoadtestCore
import RoadtestProviders
import RoadtestTestSupport
import RoadtestWire
import Testing

/// The Responses API and Bedrock's event-stream from a hostile server: absurd usage numbers are `malformed` and name
/// the field; random events, broken checksums, truncated and split frames and random statuses are classified, never
/// a trap, and never counted.
@Suite(.serialized) struct HostileNewFormatsTests {
    func request(stream: Bool) -> ChatRequest {
        ChatRequest(
            model: "m",
            messages: [Message(role: "user", content: "hi")],
            maxTokens: 8,
            stream: stream,
            timeout: 3
        )
    }

    static func responsesEvent(_ type: String, _ json: String) -> String {
        "event: \(type)\ndata: {\"type\":\"\(type)\"\(json.isEmpty ? "" : ",")\(json)}\n\n"
    }

    static func frame(_ type: String, _ json: String, kind: String = "event") -> [UInt8] {
        var headers: [String: EventStreamHeaderValue] = [
            ":message-type": .string(kind), ":content-type": .string("application/json"),
        ]
        headers[kind == "event" ? ":event-type" : ":exception-type"] = .string(type)
        return EventStreamMessage(headers: headers, payload: Array(json.utf8)).encoded()
    }

    @Test func absurdUsageIsMalformedAndNamesTheField() async throws {
        let server = HostileServer()
        try await server.run { baseURL in
            let transport = HTTPTransport()
            let responses = OpenAIResponsesProvider(baseURL: baseURL, apiKey: nil, transport: transport)
            let bedrock = BedrockProvider(baseURL: baseURL, credential: nil, transport: transport)
            for number in HostileProviderTests.badNumbers {
                let usage = #""usage":{"input_tokens":"# + number + #","output_tokens":1}"#
                let bedrockUsage = #"{"usage":{"inputTokens":1,"outputTokens":"# + number + "}}"
                let cases: [(String, any ModelProvider, Bool, [[UInt8]])] = [
                    (
                        "responses stream", responses, true,
                        [
                            Array(
                                (Self.responsesEvent("response.output_text.delta", #""delta":"ok""#)
                                    + Self.responsesEvent(
                                        "response.completed",
                                        #""response":{"output":[],"# + usage + "}"
                                    ))
                                    .utf8
                            )
                        ]
                    ),
                    (
                        "responses body", responses, false,
                        [Array((#"{"status":"completed","output":[],"# + usage + "}").utf8)]
                    ),
                    (
                        "bedrock stream", bedrock, true,
                        [
                            Self.frame("contentBlockDelta", #"{"delta":{"text":"ok"}}"#)
                                + Self.frame("metadata", bedrockUsage)
                        ]
                    ),
                    (
                        "bedrock body", bedrock, false,
                        [
                            Array(
                                (#"{"output":{"message":{"role":"assistant","content":[{"text":"ok"}]}},"#
                                    + #""usage":{"inputTokens":"# + number + #","outputTokens":1}}"#).utf8
                            )
                        ]
                    ),
                ]
                for (name, provider, stream, bytes) in cases {
                    let type =
                        stream && name.hasPrefix("bedrock") ? "application/vnd.amazon.eventstream" : "text/event-stream"
                    server.script([.init(headers: [("Content-Type", stream ? type : "application/json")], bytes: bytes)]
                    )
                    let response = await provider.send(request(stream: stream))
                    #expect(response.attemptClass == .malformed, "\(name) with \(number): \(response.attemptClass)")
                    #expect(
                        response.message?.lowercased().contains("tokens") == true,
                        "\(name): \(response.message ?? "")"
                    )
                    #expect(response.inputTokens >= 0 && response.outputTokens >= 0)
                }
            }
            await transport.shutdown()
        }
    }

    /// A content filter's refusal is its own class in every format that has one: Azure's 400 `content_filter`, a
    /// `content_filter` finish, Gemini's blocked prompt and `SAFETY` finish, Bedrock's guardrail.
    @Test func contentFilterRefusalsAreTheirOwnClassNeverRetried() async throws {
        #expect(!AttemptClass.contentFilter.isRetryable && !AttemptClass.contentFilter.warrantsFallback)
        let server = HostileServer()
        try await server.run { baseURL in
            let transport = HTTPTransport()
            let azure = OpenAIProvider(url: baseURL + "/chat/completions", credential: nil, transport: transport)
            let gemini = GeminiProvider(baseURL: baseURL, surface: .gemini, credential: nil, transport: transport)
            let bedrock = BedrockProvider(baseURL: baseURL, credential: nil, transport: transport)
            let json = [("Content-Type", "application/json")]
            let cases: [(String, any ModelProvider, HostileServer.Reply)] = [
                (
                    "azure 400", azure,
                    .init(
                        status: 400,
                        headers: json,
                        chunks: [
                            #"{"error":{"message":"filtered","code":"content_filter","innererror":{"code":"ResponsibleAIPolicyViolation"}}}"#
                        ]
                    )
                ),
                (
                    "azure finish", azure,
                    .init(
                        headers: json,
                        chunks: [
                            #"{"choices":[{"index":0,"message":{"role":"assistant","content":"I"},"finish_reason":"content_filter"}]}"#
                        ]
                    )
                ),
                (
                    "gemini prompt", gemini,
                    .init(headers: json, chunks: [#"{"promptFeedback":{"blockReason":"SAFETY"}}"#])
                ),
                (
                    "gemini finish", gemini,
                    .init(
                        headers: json,
                        chunks: [#"{"candidates":[{"content":{"role":"model","parts":[]},"finishReason":"SAFETY"}]}"#]
                    )
                ),
                (
                    "bedrock guardrail", bedrock,
                    .init(
                        headers: json,
                        chunks: [
                            #"{"output":{"message":{"role":"assistant","content":[{"text":"no"}]}},"stopReason":"guardrail_intervened"}"#
                        ]
                    )
                ),
            ]
            for (name, provider, reply) in cases {
                server.script([reply])
                let response = await provider.send(request(stream: false))
                #expect(
                    response.attemptClass == .contentFilter,
                    "\(name): \(response.attemptClass) \(response.message ?? "")"
                )
            }
            await transport.shutdown()
        }
    }

    @Test func aHostileServerNeverCrashesTheNewProviders() async throws {
        var seeded = EventStreamFuzzRandom(state: 20_261_205)
        func pick<T>(_ items: [T]) -> T { items[Int(seeded.next() % UInt64(items.count))] }
        let numbers = ["1", "0", "-1", "1e40", "1e308", "2.5", "\"7\"", "null", "99999999999"]
        let texts = ["ok", "", "\\u0000", "é\\u2028", "\\ud800"]
        func responsesEvent() -> String {
            switch seeded.next() % 8 {
            case 0: return Self.responsesEvent("response.output_text.delta", #""delta":""# + pick(texts) + "\"")
            case 1:
                return Self.responsesEvent(
                    "response.output_item.added",
                    #""output_index":"# + pick(numbers) + #","item":{"type":"function_call","call_id":"c","name":"f"}"#
                )
            case 2:
                return Self.responsesEvent("response.function_call_arguments.delta", #""output_index":0,"delta":"{""#)
            case 3:
                return Self.responsesEvent(
                    "response.completed",
                    #""response":{"output":[],"usage":{"input_tokens":"# + pick(numbers) + #","output_tokens":1}}"#
                )
            case 4: return Self.responsesEvent("response.failed", #""response":{"error":{"code":"x","message":"y"}}"#)
            case 5: return Self.responsesEvent("error", #""code":"server_error","message":"boom""#)
            case 6: return "data: \u{00}garbage\n\n"
            default:
                return Self.responsesEvent(
                    "response.incomplete",
                    #""response":{"incomplete_details":{"reason":"max_output_tokens"}}"#
                )
            }
        }
        func bedrockFrame() -> [UInt8] {
            var bytes: [UInt8]
            switch seeded.next() % 7 {
            case 0:
                bytes = Self.frame(
                    "contentBlockDelta",
                    #"{"contentBlockIndex":0,"delta":{"text":""# + pick(texts) + "\"}}"
                )
            case 1:
                bytes = Self.frame(
                    "contentBlockStart",
                    #"{"contentBlockIndex":"# + pick(numbers) + #","start":{"toolUse":{"toolUseId":"t","name":"f"}}}"#
                )
            case 2:
                bytes = Self.frame(
                    "messageStop",
                    #"{"stopReason":""# + pick(["end_turn", "tool_use", "guardrail_intervened", "??"]) + "\"}"
                )
            case 3:
                bytes = Self.frame("metadata", #"{"usage":{"inputTokens":"# + pick(numbers) + #","outputTokens":2}}"#)
            case 4: bytes = Self.frame("throttlingException", #"{"message":"slow down"}"#, kind: "exception")
            case 5: bytes = (0..<Int(seeded.next() % 40)).map { _ in UInt8(truncatingIfNeeded: seeded.next()) }
            default:
                bytes = Self.frame(
                    "contentBlockDelta",
                    #"{"delta":{"toolUse":{"input":"{\"a\":"# + pick(numbers) + "}\"}}}"
                )
            }
            // Break a checksum, or a length, now and then.
            if bytes.count > 16, seeded.next() % 6 == 0 { bytes[Int(seeded.next() % UInt64(bytes.count))] ^= 0x5A }
            return bytes
        }
        var script: [(isBedrock: Bool, stream: Bool, reply: HostileServer.Reply)] = []
        for iteration in 0..<400 {
            let isBedrock = iteration % 2 == 1
            let stream = seeded.next() % 4 != 0
            let status = pick([200, 200, 200, 200, 200, 429, 500, 503, 400, 204])
            var bytes: [UInt8]
            if stream {
                bytes = (0..<Int(seeded.next() % 6)).flatMap { _ in
                    isBedrock ? bedrockFrame() : Array(responsesEvent().utf8)
                }
            } else {
                bytes = Array(
                    pick([
                        #"{"status":"completed","output":[{"type":"message","content":[{"type":"output_text","text":"x"}]}],"usage":{"input_tokens":"#
                            + pick(numbers) + "}}",
                        #"{"output":{"message":{"content":[{"text":"x"}]}},"usage":{"inputTokens":"# + pick(numbers)
                            + "}}",
                        "{", "", "null", "[]", #"{"output":"x"}"#, #"{"status":"failed","error":{"code":"e"}}"#,
                    ]).utf8
                )
            }
            // Split the body at a random point, across two writes.
            var pieces = [bytes]
            if bytes.count > 1, seeded.next() % 2 == 0 {
                let cut = Int(seeded.next() % UInt64(bytes.count))
                pieces = [Array(bytes[0..<cut]), Array(bytes[cut..<bytes.count])]
            }
            let type =
                isBedrock && stream
                ? "application/vnd.amazon.eventstream" : stream ? "text/event-stream" : "application/json"
            script.append(
                (
                    isBedrock, stream,
                    .init(
                        status: status,
                        headers: [("Content-Type", type)],
                        bytes: pieces,
                        abort: seeded.next() % 5 == 0
                    )
                )
            )
        }
        let cases = script
        let server = HostileServer()
        try await server.run { baseURL in
            let transport = HTTPTransport()
            let responses = OpenAIResponsesProvider(baseURL: baseURL, apiKey: nil, transport: transport)
            let bedrock = BedrockProvider(baseURL: baseURL, credential: .bearer("k"), transport: transport)
            var classes: [Bool: Set<AttemptClass>] = [:]
            for (iteration, (isBedrock, stream, reply)) in cases.enumerated() {
                server.script([reply])
                let provider: any ModelProvider = isBedrock ? bedrock : responses
                let response = await provider.send(request(stream: stream))
                classes[isBedrock, default: []].insert(response.attemptClass)
                #expect((0...1_000_000_000).contains(response.inputTokens), "\(iteration)")
                #expect((0...1_000_000_000).contains(response.outputTokens), "\(iteration)")
            }
            for isBedrock in [false, true] {
                let reached = classes[isBedrock, default: []]
                #expect(
                    reached.isSuperset(of: [.ok, .malformed, .streamCut, .http429, .http5xx]),
                    "\(isBedrock): \(reached)"
                )
            }
            await transport.shutdown()
        }
    }
}
