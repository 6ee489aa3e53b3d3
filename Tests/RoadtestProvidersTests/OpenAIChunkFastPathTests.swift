import Foundation
import RoadtestProviders
import RoadtestWire
import Testing

/// The one-pass chunk decoder agrees with the Codable reference on every chunk, usual and hostile: the same items,
/// or (for anything unusual) the Codable decoder's own answer.
@Suite struct OpenAIChunkFastPathTests {
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
}
