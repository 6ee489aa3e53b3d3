import Foundation
import RoadtestCore
import RoadtestProviders
import RoadtestWire
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

    /// The parser reads lines in place: wherever the reads split the stream (every split point, and byte by byte),
    /// the events are the same.
    @Test func everySplitPointGivesTheSameEvents() {
        let stream = Array(
            "event: a\r\ndata: {\"x\": \"é:1\"}\r\n\r\n: note\rdata\rdata: two\n\ndata:  lead\r\rid: 7\nretry\n\n".utf8
        )
        var whole = ServerSentEventParser()
        let expected = whole.feed(stream)
        #expect(
            expected == [
                ServerSentEvent(event: "a", data: #"{"x": "é:1"}"#), ServerSentEvent(data: "\ntwo"),
                ServerSentEvent(data: " lead"),
            ]
        )
        for split in 0...stream.count {
            var parser = ServerSentEventParser()
            let events = parser.feed(stream[..<split]) + parser.feed(stream[split...])
            #expect(events == expected, "split at \(split)")
        }
        var parser = ServerSentEventParser()
        #expect(stream.flatMap { parser.feed([$0]) } == expected)
    }

    @Test func eventSplitInsideAMultibyteCharacter() {
        let bytes = Array("data: héllo\n\n".utf8)
        var parser = ServerSentEventParser()
        var events: [ServerSentEvent] = []
        for byte in bytes { events += parser.feed([byte]) }
        #expect(events == [ServerSentEvent(data: "héllo")])
    }

    @Test func roleOnlyChunkIsNotContentAndUsageIsRead() {
        var decoder = OpenAIStreamDecoder()
        #expect(
            decoder.decode(
                ServerSentEvent(data: #"{"choices":[{"index":0,"delta":{"role":"assistant","content":""}}]}"#)
            ).isEmpty
        )
        #expect(decoder.decode(ServerSentEvent(data: #"{"choices":[{"index":0,"delta":{}}]}"#)).isEmpty)
        #expect(
            decoder.decode(ServerSentEvent(data: #"{"choices":[{"index":0,"delta":{"content":"Hi"}}]}"#)) == [
                .text("Hi")
            ]
        )
        let usage = decoder.decode(
            ServerSentEvent(data: #"{"choices":[],"usage":{"prompt_tokens":12,"completion_tokens":3}}"#)
        )
        #expect(usage == [.usage(TokenUsage(input: 12, output: 3))])
        #expect(decoder.decode(ServerSentEvent(data: "[DONE]")) == [.end])
    }

    @Test func errorEventsAndGarbageAreMalformed() {
        var decoder = OpenAIStreamDecoder()
        for event in [
            ServerSentEvent(event: "error", data: "{}"), ServerSentEvent(data: "{not json"),
            ServerSentEvent(data: #"{"error":{"message":"overloaded"}}"#),
        ] {
            guard case .malformed = decoder.decode(event).first else {
                Issue.record("\(event) was not malformed")
                continue
            }
        }
    }

    @Test func anthropicEvents() {
        var decoder = AnthropicStreamDecoder()
        let start = decoder.decode(
            ServerSentEvent(
                event: "message_start",
                data: #"{"type":"message_start","message":{"usage":{"input_tokens":9,"output_tokens":1}}}"#
            )
        )
        #expect(start == [.usage(TokenUsage(input: 9, output: 1, cacheRead: nil, cacheWrite: nil))])
        let text = decoder.decode(
            ServerSentEvent(
                event: "content_block_delta",
                data: #"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Yo"}}"#
            )
        )
        #expect(text == [.text("Yo")])
        let delta = decoder.decode(
            ServerSentEvent(event: "message_delta", data: #"{"type":"message_delta","usage":{"output_tokens":4}}"#)
        )
        #expect(delta == [.usage(TokenUsage(input: 9, output: 4))])
        #expect(decoder.decode(ServerSentEvent(event: "message_stop", data: #"{"type":"message_stop"}"#)) == [.end])
        guard case .malformed = decoder.decode(ServerSentEvent(event: "error", data: #"{"type":"error"}"#)).first else {
            Issue.record("an error event was not malformed")
            return
        }
    }

    @Test func sseEncodingRoundTripsThroughTheParser() {
        let events = [
            ServerSentEvent(data: #"{"a":1}"#), ServerSentEvent(event: "message_stop", data: "line one\nline two"),
            ServerSentEvent(data: ""),
        ]
        var parser = ServerSentEventParser()
        let parsed = parser.feed(Array(events.map(\.encoded).joined().utf8))
        #expect(parsed == events)
    }

    @Test func retryAfterHeaderForms() {
        #expect(RetryAfter.seconds("2") == 2)
        #expect(RetryAfter.seconds("0.5") == 0.5)
        let now = Date(timeIntervalSince1970: 1_000_000)
        #expect(RetryAfter.seconds("Mon, 12 Jan 1970 13:46:50 GMT", now: now) == 10)
        #expect(RetryAfter.seconds("soon") == nil)
    }
}
