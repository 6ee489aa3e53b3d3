import Foundation

/// One server-sent event.
public struct ServerSentEvent: Sendable, Hashable {
    public var event: String?
    public var data: String

    public init(event: String? = nil, data: String) {
        self.event = event
        self.data = data
    }

    /// The event in the wire format: `event:` when named, one `data:` line per line of data, a blank line.
    public var encoded: String {
        // The usual event: one line of data, no name.
        if event == nil, !data.isEmpty, !data.utf8.contains(where: { $0 == 0x0A || $0 == 0x0D }) {
            return "data: " + data + "\n\n"
        }
        var text = event.map { "event: \($0)\n" } ?? ""
        if data.isEmpty {
            text += "data: \n"
        } else {
            for line in data.split(separator: "\n", omittingEmptySubsequences: false) {
                text += "data: " + line.replacingOccurrences(of: "\r", with: "") + "\n"
            }
        }
        return text + "\n"
    }
}

/// Encodes events for a `text/event-stream` body (the simulator, and the proxy and gateway to come).
public enum ServerSentEventEncoder {
    /// A named or unnamed event whose data is `json`'s compact text.
    public static func event<Value: Encodable>(_ json: Value, name: String? = nil) -> String {
        ServerSentEvent(event: name, data: WireJSON.text(json)).encoded
    }

    public static func event<Value: FastWireValue>(_ json: Value, name: String? = nil) -> String {
        ServerSentEvent(event: name, data: WireJSON.text(json)).encoded
    }

    /// OpenAI's end-of-stream marker.
    public static let done = "data: [DONE]\n\n"
}

/// A pure SSE parser (WHATWG event-stream rules): feed it bytes as they arrive, get whole events back.
/// Handles lines split across reads, `\r\n`, `\r` and `\n` endings, comments, and multi-line `data`. Lines are read
/// in place from the bytes given; only a line split across reads is copied.
public struct ServerSentEventParser: Sendable {
    /// The start of a line whose end has not arrived yet.
    private var line: [UInt8] = []
    private var dataLines: [String] = []
    private var eventName: String?
    private var hasData = false
    private var lastWasCarriageReturn = false

    public init() {}

    /// Parses the next bytes; returns every event they complete.
    public mutating func feed<Bytes: Sequence>(_ bytes: Bytes) -> [ServerSentEvent] where Bytes.Element == UInt8 {
        var events: [ServerSentEvent] = []
        let done: Void? = bytes.withContiguousStorageIfAvailable { feed($0, into: &events) }
        if done == nil { Array(bytes).withUnsafeBufferPointer { feed($0, into: &events) } }
        return events
    }

    private mutating func feed(_ bytes: UnsafeBufferPointer<UInt8>, into events: inout [ServerSentEvent]) {
        var index = 0
        if lastWasCarriageReturn, !bytes.isEmpty {
            // A `\r\n` split across reads: the `\n` ends nothing.
            if bytes[0] == UInt8(ascii: "\n") { index = 1 }
            lastWasCarriageReturn = false
        }
        var start = index
        while index < bytes.count {
            let byte = bytes[index]
            guard byte == UInt8(ascii: "\n") || byte == UInt8(ascii: "\r") else {
                index += 1
                continue
            }
            let event: ServerSentEvent?
            if line.isEmpty {
                event = endLine(UnsafeBufferPointer(rebasing: bytes[start..<index]))
            } else {
                line.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[start..<index]))
                event = line.withUnsafeBufferPointer { endLine($0) }
                line.removeAll(keepingCapacity: true)
            }
            if let event { events.append(event) }
            index += 1
            if byte == UInt8(ascii: "\r") {
                if index == bytes.count {
                    lastWasCarriageReturn = true
                } else if bytes[index] == UInt8(ascii: "\n") {
                    index += 1
                }
            }
            start = index
        }
        line.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[start..<bytes.count]))
    }

    /// Ends the stream: returns an event left without its blank line, if any (servers that close early).
    public mutating func finish() -> ServerSentEvent? {
        if !line.isEmpty {
            _ = line.withUnsafeBufferPointer { endLine($0) }
            line.removeAll()
        }
        return dispatch()
    }

    /// True when bytes of an unfinished line or event are buffered.
    public var hasPendingData: Bool { !line.isEmpty || hasData }

    private mutating func endLine(_ line: UnsafeBufferPointer<UInt8>) -> ServerSentEvent? {
        if line.isEmpty { return dispatch() }
        if line[0] == UInt8(ascii: ":") { return nil }
        let colon = line.firstIndex(of: UInt8(ascii: ":")) ?? line.count
        var valueStart = min(colon + 1, line.count)
        if valueStart < line.count, line[valueStart] == UInt8(ascii: " ") { valueStart += 1 }
        func value() -> String { String(decoding: UnsafeBufferPointer(rebasing: line[valueStart...]), as: UTF8.self) }
        let field = UnsafeBufferPointer(rebasing: line[..<colon])
        if field.elementsEqual("data".utf8) {
            dataLines.append(value())
            hasData = true
        } else if field.elementsEqual("event".utf8) {
            eventName = value()
        }
        return nil
    }

    private mutating func dispatch() -> ServerSentEvent? {
        defer {
            dataLines.removeAll(keepingCapacity: true)
            eventName = nil
            hasData = false
        }
        guard hasData || eventName != nil else { return nil }
        return ServerSentEvent(
            event: eventName,
            data: dataLines.count == 1 ? dataLines[0] : dataLines.joined(separator: "\n")
        )
    }
}
