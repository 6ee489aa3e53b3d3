import Foundation
import RoadtestCore
import RoadtestProviders
import Testing

@Suite struct ServerSentEventTests {
    func feed(_ chunks: [String]) -> [ServerSentEvent] {
        var parser = ServerSentEventParser()
        var events: [ServerSentEvent] = []
        for chunk in chunks { events += parser.feed(Array(chunk.utf8)) }
        if let last = parser.finish() { events.append(last) }
        return events
    }

    @Test func linesSplitAcrossReadsAndLineEndings() {
        let events = feed(["da", "ta: {\"a\"", ":1}\r", "\n\r\n", ": comment\n", "event: error\ndata: x\ndata: y\n\n"])
        #expect(events == [ServerSentEvent(data: "{\"a\":1}"), ServerSentEvent(event: "error", data: "x\ny")])
    }

    @Test func eventSplitInsideAMultibyteCharacter() {
        let bytes = Array("data: héllo\n\n".utf8)
        var parser = ServerSentEventParser()
        var events: [ServerSentEvent] = []
        for byte in bytes { events += parser.feed([byte]) }
        #expect(events == [ServerSentEvent(data: "héllo")])
    }

    @Test func roleOnlyChunkIsNotContentAndUsageIsRead() {
        var interpreter = OpenAIStreamInterpreter()
        let role = interpreter.step(ServerSentEvent(data: #"{"choices":[{"index":0,"delta":{"role":"assistant","content":""}}]}"#))
        #expect(role.content == nil)
        let empty = interpreter.step(ServerSentEvent(data: #"{"choices":[{"index":0,"delta":{}}]}"#))
        #expect(empty.content == nil)
        let content = interpreter.step(ServerSentEvent(data: #"{"choices":[{"index":0,"delta":{"content":"Hi"}}]}"#))
        #expect(content.content == "Hi")
        let usage = interpreter.step(ServerSentEvent(data: #"{"choices":[],"usage":{"prompt_tokens":12,"completion_tokens":3}}"#))
        #expect(usage.content == nil)
        #expect(interpreter.inputTokens == 12)
        #expect(interpreter.outputTokens == 3)
        #expect(interpreter.step(ServerSentEvent(data: "[DONE]")).isEnd)
    }

    @Test func errorEventsAndGarbageAreMalformed() {
        var interpreter = OpenAIStreamInterpreter()
        #expect(interpreter.step(ServerSentEvent(event: "error", data: "{}")).error != nil)
        #expect(interpreter.step(ServerSentEvent(data: "{not json")).error != nil)
        #expect(interpreter.step(ServerSentEvent(data: #"{"error":{"message":"overloaded"}}"#)).error != nil)
    }

    @Test func anthropicEvents() {
        var interpreter = AnthropicStreamInterpreter()
        _ = interpreter.step(ServerSentEvent(event: "message_start", data: #"{"type":"message_start","message":{"usage":{"input_tokens":9,"output_tokens":1}}}"#))
        let text = interpreter.step(ServerSentEvent(event: "content_block_delta", data: #"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Yo"}}"#))
        #expect(text.content == "Yo")
        _ = interpreter.step(ServerSentEvent(event: "message_delta", data: #"{"type":"message_delta","usage":{"output_tokens":4}}"#))
        #expect(interpreter.step(ServerSentEvent(event: "message_stop", data: #"{"type":"message_stop"}"#)).isEnd)
        #expect(interpreter.inputTokens == 9)
        #expect(interpreter.outputTokens == 4)
        #expect(interpreter.step(ServerSentEvent(event: "error", data: #"{"type":"error"}"#)).error != nil)
    }

    @Test func retryAfterHeaderForms() {
        #expect(RetryAfter.seconds("2") == 2)
        #expect(RetryAfter.seconds("0.5") == 0.5)
        let now = Date(timeIntervalSince1970: 1_000_000)
        #expect(RetryAfter.seconds("Mon, 12 Jan 1970 13:46:50 GMT", now: now) == 10)
        #expect(RetryAfter.seconds("soon") == nil)
    }
}
