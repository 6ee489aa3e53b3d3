import Foundation
import RoadtestCore
import RoadtestProviders
import RoadtestWire
import Testing

/// The one-pass chunk decoder agrees with the Codable reference on every chunk, usual and hostile: the same items,
/// or (for anything unusual) the Codable decoder's own answer.
@Suite struct WireFastPathTests {
    static let chunks: [String] = [
        #"{"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"Paris "},"finish_reason":null}]}"#,
        #"{"id":"c1","choices":[{"index":0,"delta":{"role":"assistant","content":""}}]}"#,
        #"{"choices":[{"index":0,"delta":{"reasoning_content":"think","content":"a \"quoted\" \u00e9 \ud83d\ude00"}}]}"#,
        #"{"choices":[{"index":0,"delta":{},"finish_reason":"length"}],"usage":{"prompt_tokens":12,"completion_tokens":8,"total_tokens":20,"prompt_tokens_details":{"cached_tokens":4},"completion_tokens_details":{"reasoning_tokens":2}}}"#,
        #"{"choices":[],"usage":{"prompt_tokens":12,"completion_tokens":8}}"#,
        #"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{\"ci"}}]}}]}"#,
        #"{"choices":[{"delta":{"tool_calls":[{"function":{"arguments":"ty\":1}"}},{"index":3,"function":{"name":"x"}}]}}]}"#,
        #"{"choices":[{"index":0,"text":"legacy completion text","finish_reason":"stop"}]}"#,
        #"{"choices":[{"index":0,"delta":{"content":"a"}},{"index":1,"delta":{"content":"b"}}]}"#,
        #"{"error":{"message":"overloaded","type":"server_error"}}"#,
        #"{"error":null,"choices":[{"delta":{"content":"ok"}}]}"#,
        #"{"choices":[{"index":0,"delta":{"content":"x"},"finish_reason":"content_filter"}],"extra":{"anything":[1,2]}}"#,
        // Hostile or unusual: the Codable decoder decides.
        #"{"choices":[{"index":"zero","delta":{"content":"x"}}]}"#,
        #"{"choices":[{"index":0,"delta":{"content":42}}]}"#,
        #"{"choices":{"index":0}}"#,
        #"{"choices":[1,2]}"#,
        #"{"usage":{"prompt_tokens":-3,"completion_tokens":8}}"#,
        #"{"usage":{"prompt_tokens":1.5}}"#,
        #"{"usage":{"prompt_tokens":"12"}}"#,
        #"{"created":"yesterday","choices":[]}"#,
        #"{"created":1.0,"choices":[]}"#,
        #"{"error":{"message":"x"},"choices":"bad"}"#,
        #"{"choices":[{"delta":{"tool_calls":[{"index":0,"function":"nope"}]}}]}"#,
        #"[1,2,3]"#,
        #"not json"#,
        #"{"choices":[{"delta":{"content":"unterminated}}]}"#,
        #"{"a":1} trailing"#,
    ]

    /// The first twelve are what servers send: the fast path reads them itself.
    static let usual = 12

    @Test(arguments: chunks.enumerated().map { ($0.offset, $0.element) })
    func theFastPathAgreesWithTheCodableDecoder(position: Int, chunk: String) {
        var decoder = OpenAIStreamDecoder()
        let decoded = decoder.decode(ServerSentEvent(data: chunk))
        let reference = OpenAIStreamDecoder.codableItems(chunk)
        #expect(decoded == reference, "\(chunk)")
        if position < Self.usual {
            #expect(OpenAIStreamDecoder.fastItems(chunk) == reference, "the fast path left a usual chunk: \(chunk)")
        }
    }

    static let requests: [String] = [
        #"{"model": "json", "stream": false, "messages": [{"role": "user", "content": "What is the capital of France?"}]}"#,
        #"{"model":"m","messages":[{"role":"system","content":"Be brief."},{"role":"user","content":[{"type":"text","text":"a"},{"type":"image_url"}]}],"temperature":0.7,"max_tokens":64,"n":1,"stream":true,"stream_options":{"include_usage":true},"top_p":0.9,"seed":7,"response_format":{"type":"json_object"},"user":null}"#,
        #"{"messages":[{"role":"assistant","content":null,"tool_calls":[{"id":"c1","type":"function","function":{"name":"f","arguments":"{\"x\":1}"}}]},{"role":"tool","tool_call_id":"c1","content":"42","name":"f"}],"tools":[{"type":"function","function":{"name":"f","description":"d","parameters":{"type":"object","properties":{"x":{"type":"number"}}}}}],"tool_choice":"auto"}"#,
        #"{"model":"m","messages":[],"temperature":1,"tool_choice":{"type":"function","function":{"name":"f"}},"logit_bias":{"50256":-100},"stop":["\n","é \u0001"]}"#,
        #"{"messages":[{"role":"user","content":"tab\tquote\"back\\slash/ 😀 \u2028"}],"metadata":{"b":1,"a":[true,false,null,1.5e-7,2e+21]}}"#,
        // Unusual: the Codable decoder decides.
        #"{"model":1,"messages":[]}"#,
        #"{"messages":[{"content":"no role"}]}"#,
        #"{"messages":"hi"}"#,
        #"{"messages":[],"stream":"yes"}"#,
        #"{"messages":[],"max_tokens":1.5}"#,
        #"{"messages":[],"tools":[{"function":{"name":"f"}}]}"#,
        #"[]"#,
        #"{"messages":[] "#,
    ]
    static let usualRequests = 5

    static let completions: [String] = [
        #"{"id":"chatcmpl-1","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"Paris is the capital of France."},"finish_reason":"stop"}],"usage":{"prompt_tokens":12,"completion_tokens":8,"total_tokens":20}}"#,
        #"{"choices":[{"index":0,"message":{"role":"assistant","content":null,"reasoning_content":"hm","tool_calls":[{"id":"c","type":"function","function":{"name":"f","arguments":"{}"}}]},"finish_reason":"tool_calls"}],"usage":{"prompt_tokens":1,"completion_tokens":2,"prompt_tokens_details":{"cached_tokens":1},"completion_tokens_details":{"reasoning_tokens":1}},"system_fingerprint":"x"}"#,
        #"{"choices":[{"text":"legacy","finish_reason":"length"}]}"#,
        #"{"choices":[]}"#,
        // Unusual.
        #"{"id":"x"}"#,
        #"{"choices":[{"message":{"role":"assistant","content":7}}]}"#,
        #"{"choices":[],"usage":{"prompt_tokens":-1}}"#,
        #"{"choices":[],"created":"now"}"#,
    ]
    static let usualCompletions = 4

    /// Reads one body both ways: the one-pass reader returns exactly what the Codable decoder does, or leaves it.
    func agree<Value: FastWireValue & Equatable>(_ type: Value.Type, _ body: String, usual: Bool) {
        let reference = WireJSON.codableDecode(type, from: Data(body.utf8))
        #expect(WireJSON.decode(type, from: Data(body.utf8)) == reference, "\(body)")
        let fast = JSONValue.parse(body).flatMap(Value.init(fastJSON:))
        if usual {
            #expect(fast != nil && fast == (try? reference.get()), "the fast path left a usual body: \(body)")
        } else {
            #expect(fast == nil, "the fast path took an unusual body: \(body)")
        }
        // Written back, the bytes are the Codable encoder's.
        if let value = try? reference.get() {
            #expect(WireJSON.bytes(value) == Array(WireJSON.codableData(value)), "\(body)")
        }
    }

    @Test(arguments: requests.enumerated().map { ($0.offset, $0.element) })
    func requestsReadAndWriteAsTheCodablePathDoes(position: Int, body: String) {
        agree(OpenAIChat.Request.self, body, usual: position < Self.usualRequests)
    }

    @Test(arguments: completions.enumerated().map { ($0.offset, $0.element) })
    func completionsReadAndWriteAsTheCodablePathDoes(position: Int, body: String) {
        agree(OpenAIChat.Completion.self, body, usual: position < Self.usualCompletions)
    }

    @Test(arguments: chunks.prefix(usual))
    func chunksWriteAsTheCodablePathDoes(chunk: String) throws {
        let value = try WireJSON.codableDecode(OpenAIChat.Chunk.self, from: Data(chunk.utf8)).get()
        #expect(WireJSON.bytes(value) == Array(WireJSON.codableData(value)), "\(chunk)")
    }

    /// The writer's strings and numbers are Foundation's, byte for byte, including every control character.
    @Test func theWriterMatchesFoundationOnStringsAndNumbers() {
        let controls = String(decoding: (0..<0x20).map { UInt8($0) }, as: UTF8.self)
        let strings = [controls, "\"\\/ é 😀 \u{2028}\u{7F}", "", "plain"]
        let numbers: [Double] = [
            0, -0.0, 1, -1, 0.7, 0.1 + 0.2, 1e15, 1e16, 123_456_789_012_345_678, 1e-7, 2.5e20, 1e21, 12345.678,
            9_007_199_254_740_993, .leastNonzeroMagnitude, .greatestFiniteMagnitude,
        ]
        let value = JSONValue.object([
            "strings": .array(strings.map(JSONValue.string)),
            "numbers": .array(numbers.map(JSONValue.number)),
            controls: .bool(true), "B": .null, "a": .object(["z": .number(1), "aa": .string("x")]),
        ])
        #expect(value.jsonBytes() == Array(WireJSON.codableData(value)))
    }
}
