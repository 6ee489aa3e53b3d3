import NIOCore
import RoadtestCore
import RoadtestWire

/// Passes an upstream body on, applying a body fault. Pure: bytes in, bytes (or a drop) out.
///
/// Without a body fault (or for `slow`, which only delays), buffers pass through untouched. Streams are split into
/// events for the others: `cut` forwards `cutAfterEvents` events and drops the connection (never the end marker: the
/// last event is held back until the next arrives); `malformed` corrupts the first event; `error_event` sends the
/// format's error event after the first event and ends the stream there. Whole bodies: `cut` sends half and drops,
/// `malformed` sends half followed by broken JSON, `error_event` replaces the body with an error object.
///
/// ```swift
/// var relay = Relay(rule: FaultRule(kind: .cut, rate: 1), format: .openAI, isStream: true)
/// for try await buffer in upstream.body { write(relay.feed(buffer)) }
/// write(relay.finish())
/// ```
public struct Relay: Sendable {
    /// What to do next with the client's connection.
    public enum Output: Sendable, Equatable {
        /// Send these bytes.
        case bytes(ByteBuffer)
        /// Close the connection abruptly now.
        case drop
    }

    /// The body fault, nil for none.
    public let rule: FaultRule?
    /// The format error events and error bodies are written in.
    public let format: ChaosProxy.WireFormat
    /// The body is a server-sent event stream (split into events) rather than one whole body.
    public let isStream: Bool
    /// Events (or buffers, when passing through) sent on.
    public private(set) var events = 0
    private var pending: [UInt8] = []
    private var held: [UInt8]?
    private var body: [UInt8] = []
    private var ended = false

    /// A relay for one response.
    public init(rule: FaultRule?, format: ChaosProxy.WireFormat, isStream: Bool) {
        self.rule = rule
        self.format = format
        self.isStream = isStream
    }

    var passesThrough: Bool { rule == nil || rule?.kind == .slow }

    /// Takes the next buffer from the upstream; returns what to send on now (nothing after a drop or the end).
    public mutating func feed(_ buffer: ByteBuffer) -> [Output] {
        guard !ended else { return [] }
        if passesThrough {
            events += 1
            return [.bytes(buffer)]
        }
        guard isStream else {
            body.append(contentsOf: buffer.readableBytesView)
            return []
        }
        pending.append(contentsOf: buffer.readableBytesView)
        var outputs: [Output] = []
        while let end = format == .bedrock ? Self.frameEnd(in: pending) : Self.eventEnd(in: pending) {
            let event = Array(pending[..<end])
            pending.removeFirst(end)
            outputs += handle(event)
            if ended { break }
        }
        return outputs
    }

    /// The upstream body ended; returns what to send last (or a drop). Only the first call returns anything.
    public mutating func finish() -> [Output] {
        guard !ended else { return [] }
        ended = true
        if passesThrough { return [] }
        guard let kind = rule?.kind else { return [] }
        if !isStream {
            switch kind {
            case .cut:
                return [.bytes(ByteBuffer(bytes: body.prefix(body.count / 2))), .drop]
            case .malformed:
                return [.bytes(ByteBuffer(bytes: Array(body.prefix(body.count / 2)) + Array("{\"broken".utf8)))]
            case .errorEvent:
                return [.bytes(ByteBuffer(bytes: Array(errorJSON.utf8)))]
            default:
                return [.bytes(ByteBuffer(bytes: body))]
            }
        }
        // The stream ended before the fault struck: strike now, before the held last event (the end marker).
        var outputs: [Output] = []
        switch kind {
        case .cut:
            outputs.append(.drop)
        case .errorEvent:
            outputs.append(.bytes(ByteBuffer(bytes: errorEvent)))
        default:
            if let held { outputs.append(.bytes(ByteBuffer(bytes: held))) }
            if !pending.isEmpty { outputs.append(.bytes(ByteBuffer(bytes: pending))) }
        }
        return outputs
    }

    /// One complete event from the upstream, through the fault.
    private mutating func handle(_ event: [UInt8]) -> [Output] {
        guard let rule else { return [] }
        switch rule.kind {
        case .malformed:
            if events == 0 {
                events += 1
                return [
                    .bytes(ByteBuffer(bytes: format == .bedrock ? Self.corruptedFrame(event) : Self.corrupted(event)))
                ]
            }
            events += 1
            return [.bytes(ByteBuffer(bytes: event))]
        case .cut:
            // Hold each event until the next arrives, so the stream's last event is never the one sent.
            let previous = held
            held = event
            guard let previous else { return [] }
            if events >= rule.cutAfterEvents {
                ended = true
                return [.drop]
            }
            events += 1
            return [.bytes(ByteBuffer(bytes: previous))]
        case .errorEvent:
            let previous = held
            held = event
            guard let previous else { return [] }
            events += 1
            ended = true
            return [.bytes(ByteBuffer(bytes: previous)), .bytes(ByteBuffer(bytes: errorEvent))]
        default:
            events += 1
            return [.bytes(ByteBuffer(bytes: event))]
        }
    }

    var errorJSON: String {
        if format == .bedrock { return #"{"message":"error event injected by roadtest chaos"}"# }
        return format == .anthropic
            ? WireJSON.text(
                AnthropicMessages.ErrorBody(type: "overloaded_error", message: "error event injected by roadtest chaos")
            )
            : WireJSON.text(
                OpenAIChat.ErrorBody(message: "error event injected by roadtest chaos", type: "server_error")
            )
    }

    var errorEvent: [UInt8] {
        switch format {
        case .anthropic: return Array(ServerSentEvent(event: "error", data: errorJSON).encoded.utf8)
        case .responses:
            var event = OpenAIResponses.StreamEvent(type: "error", sequence: 0)
            event.code = "server_error"
            event.message = "error event injected by roadtest chaos"
            return Array(ServerSentEventEncoder.event(event, name: "error").utf8)
        case .openAI: return Array(ServerSentEvent(data: errorJSON).encoded.utf8)
        case .bedrock:
            return EventStreamMessage(
                headers: [
                    ":exception-type": .string("modelStreamErrorException"),
                    ":content-type": .string("application/json"), ":message-type": .string("exception"),
                ],
                payload: Array(errorJSON.utf8)
            ).encoded()
        }
    }

    /// The event with its data replaced by broken JSON (its `event:` name kept).
    static func corrupted(_ event: [UInt8]) -> [UInt8] {
        let text = String(decoding: event, as: UTF8.self)
        let name = text.split(whereSeparator: \.isNewline).first { $0.hasPrefix("event:") }
        return Array(((name.map { $0 + "\n" } ?? "") + "data: {\"choices\": [ {broken\n\n").utf8)
    }

    /// An event-stream message whose checksum no longer matches (its last payload byte flipped).
    static func corruptedFrame(_ frame: [UInt8]) -> [UInt8] {
        var bytes = frame
        if bytes.count > 16 { bytes[bytes.count - 5] ^= 0xFF }
        return bytes
    }

    /// The index just past the first complete event-stream message in `bytes` (its length is its first four bytes),
    /// if there is one. A length too small to be a message ends at once, so the client sees the damage.
    static func frameEnd(in bytes: [UInt8]) -> Int? {
        guard bytes.count >= 4 else { return nil }
        let length = bytes.prefix(4).reduce(0) { $0 << 8 | Int($1) }
        if length < 16 { return bytes.count }
        return bytes.count >= length ? length : nil
    }

    /// The index just past the first complete event (its blank line) in `bytes`, if there is one.
    static func eventEnd(in bytes: [UInt8]) -> Int? {
        var index = 0
        while index + 1 < bytes.count {
            if bytes[index] == 0x0A && bytes[index + 1] == 0x0A { return index + 2 }
            if index + 3 < bytes.count, bytes[index] == 0x0D, bytes[index + 1] == 0x0A, bytes[index + 2] == 0x0D,
                bytes[index + 3] == 0x0A
            {
                return index + 4
            }
            index += 1
        }
        return nil
    }
}
