import Foundation
import NIOCore
import RoadtestCore
import RoadtestServer
import Testing

/// The chaos proxy's byte-level fault applier, fed as the proxy feeds it: buffers as they arrive, then the end,
/// and nothing after a drop.
@Suite struct RelayTests {
    /// What the client got: the bytes, whether the connection was dropped, and the events the relay counted.
    struct Delivery: Equatable, Sendable {
        var text = ""
        var dropped = false
        var events = 0
    }

    static func deliver(
        _ rule: FaultRule?,
        format: ChaosProxy.WireFormat = .openAI,
        stream: Bool = true,
        _ chunks: [String]
    ) -> Delivery {
        var relay = Relay(rule: rule, format: format, isStream: stream)
        var delivery = Delivery()
        func send(_ outputs: [Relay.Output]) {
            for output in outputs where !delivery.dropped {
                switch output {
                case .bytes(let buffer): delivery.text += String(buffer: buffer)
                case .drop: delivery.dropped = true
                }
            }
        }
        for chunk in chunks where !delivery.dropped { send(relay.feed(ByteBuffer(string: chunk))) }
        if !delivery.dropped { send(relay.finish()) }
        delivery.events = relay.events
        return delivery
    }

    /// `text` in pieces of `size` bytes (one piece when `size` is 0).
    static func pieces(_ text: String, _ size: Int) -> [String] {
        let bytes = Array(text.utf8)
        guard size > 0 else { return [text] }
        return stride(from: 0, to: bytes.count, by: size).map {
            String(decoding: bytes[$0..<min($0 + size, bytes.count)], as: UTF8.self)
        }
    }

    static let events = [#"data: {"n":1}"# + "\n\n", #"data: {"n":2}"# + "\n\n", #"data: {"n":3}"# + "\n\n"]
    static let done = "data: [DONE]\n\n"
    static let stream = events.joined() + done
    static let corrupted = "data: {\"choices\": [ {broken\n\n"

    static func rule(_ kind: FaultKind, _ parameter: Double? = nil) -> FaultRule {
        FaultRule(kind: kind, rate: 1, parameter: parameter)
    }

    /// A fault and what a client reading an OpenAI stream of three events and `[DONE]` gets, whatever the stream's
    /// chunking (whole, byte by byte, 5 or 16 bytes at a time).
    @Test(
        arguments: [
            (nil, Delivery(text: stream, dropped: false, events: 0)),
            (rule(.slow), Delivery(text: stream, dropped: false, events: 0)),
            (rule(.cut), Delivery(text: events[0] + events[1], dropped: true, events: 2)),  // 2 events by default
            (rule(.cut, 1), Delivery(text: events[0], dropped: true, events: 1)),
            (rule(.cut, 0), Delivery(text: "", dropped: true, events: 0)),
            // More events asked than the stream has: everything but the end marker, then the drop.
            (rule(.cut, 10), Delivery(text: events.joined(), dropped: true, events: 3)),
            (rule(.malformed), Delivery(text: corrupted + events[1] + events[2] + done, dropped: false, events: 4)),
        ] as [(FaultRule?, Delivery)],
        [0, 1, 5, 16]
    )
    func streamFaults(row: (rule: FaultRule?, expected: Delivery), chunkSize: Int) {
        var delivery = Self.deliver(row.rule, Self.pieces(Self.stream, chunkSize))
        if row.rule == nil || row.rule?.kind == .slow {
            // Passing through counts buffers, not events.
            #expect(delivery.events == Self.pieces(Self.stream, chunkSize).count)
            delivery.events = 0
        }
        #expect(delivery == row.expected)
    }

    @Test(arguments: [
        (ChaosProxy.WireFormat.openAI, nil, "server_error"),
        (.anthropic, "error", "overloaded_error"),
    ])
    func anErrorEventEndsTheStreamAfterTheFirstEvent(
        row: (format: ChaosProxy.WireFormat, name: String?, type: String)
    ) throws {
        for size in [0, 1, 7] {
            let delivery = Self.deliver(Self.rule(.errorEvent), format: row.format, Self.pieces(Self.stream, size))
            #expect(!delivery.dropped && delivery.events == 1)
            #expect(delivery.text.hasPrefix(Self.events[0]))
            let injected = String(delivery.text.dropFirst(Self.events[0].count))
            #expect(injected.hasSuffix("\n\n") && !injected.contains("[DONE]"))
            let lines = injected.split(separator: "\n")
            #expect(lines.count == (row.name == nil ? 1 : 2))
            if let name = row.name { #expect(lines.first == "event: \(name)") }
            let data = try #require(lines.last?.split(separator: " ", maxSplits: 1).last)
            let json = try #require(JSONValue.parse(String(data)))
            #expect(json["error"]?["type"]?.stringValue == row.type)
            #expect(json["error"]?["message"]?.stringValue == "error event injected by roadtest chaos")
        }
    }

    @Test func anErrorEventStrikesAStreamTooShortToHoldIt() {
        // One event then the end: the error comes in place of the held (last) event.
        let delivery = Self.deliver(Self.rule(.errorEvent), [Self.done])
        #expect(delivery.text.hasPrefix("data: {") && !delivery.text.contains("[DONE]") && !delivery.dropped)
    }

    @Test func aMalformedEventKeepsItsName() {
        let event = "event: content_block_delta\ndata: {\"delta\":{\"text\":\"hi\"}}\n\n"
        let stop = "event: message_stop\ndata: {}\n\n"
        let delivery = Self.deliver(Self.rule(.malformed), format: .anthropic, [event + stop])
        #expect(delivery.text == "event: content_block_delta\n" + Self.corrupted + stop)
    }

    @Test(arguments: [0, 1, 3])
    func eventsEndAtABlankLineInEitherLineEnding(chunkSize: Int) {
        let events = ["data: 1\r\n\r\n", "data: 2\r\n\r\n", "data: 3\n\n", "data: [DONE]\r\n\r\n"]
        let delivery = Self.deliver(Self.rule(.cut, 3), Self.pieces(events.joined(), chunkSize))
        #expect(delivery == Delivery(text: events[0..<3].joined(), dropped: true, events: 3))
        // A last event without its blank line is still the client's at the end (malformed strikes only the first).
        let unterminated = Self.deliver(Self.rule(.malformed), Self.pieces("data: 1\n\ndata: 2", chunkSize))
        #expect(unterminated.text == Self.corrupted + "data: 2")
    }

    static let body = #"{"id":"chatcmpl-1","choices":[{"message":{"content":"hello"}}]}"#

    /// A whole (not streamed) body: nothing leaves before it has all arrived, then the fault applies to all of it.
    @Test(
        arguments: [
            (nil, body, false),
            (rule(.slow), body, false),
            (rule(.cut), String(body.prefix(body.utf8.count / 2)), true),
            (rule(.malformed), String(body.prefix(body.utf8.count / 2)) + #"{"broken"#, false),
        ] as [(FaultRule?, String, Bool)],
        [0, 4]
    )
    func wholeBodyFaults(row: (rule: FaultRule?, text: String, dropped: Bool), chunkSize: Int) {
        let delivery = Self.deliver(row.rule, stream: false, Self.pieces(Self.body, chunkSize))
        #expect(delivery.text == row.text && delivery.dropped == row.dropped)
    }

    @Test func aWholeBodyWithAnErrorEventIsReplacedByAnError() throws {
        let delivery = Self.deliver(Self.rule(.errorEvent), format: .anthropic, stream: false, [Self.body])
        let json = try #require(JSONValue.parse(delivery.text))
        #expect(json["type"]?.stringValue == "error" && json["error"]?["type"]?.stringValue == "overloaded_error")
    }

    @Test func nothingLeavesBeforeTheWholeBodyHasArrived() {
        var relay = Relay(rule: Self.rule(.malformed), format: .openAI, isStream: false)
        #expect(relay.feed(ByteBuffer(string: Self.body)).isEmpty)
        #expect(!relay.finish().isEmpty)
    }

    @Test func nothingAfterTheEnd() {
        var relay = Relay(rule: Self.rule(.cut, 0), format: .openAI, isStream: true)
        #expect(relay.feed(ByteBuffer(string: Self.stream)) == [.drop])
        #expect(relay.feed(ByteBuffer(string: Self.stream)).isEmpty)
        #expect(relay.finish().isEmpty)
        var clean = Relay(rule: nil, format: .openAI, isStream: true)
        #expect(clean.feed(ByteBuffer(string: "data: 1\n\n")) == [.bytes(ByteBuffer(string: "data: 1\n\n"))])
        #expect(clean.finish().isEmpty)
        #expect(clean.feed(ByteBuffer(string: "late")).isEmpty, "a finished relay takes nothing more")
    }
}
