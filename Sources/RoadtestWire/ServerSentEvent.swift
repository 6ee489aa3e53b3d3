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

    /// OpenAI's end-of-stream marker.
    public static let done = "data: [DONE]\n\n"
}

/// A pure SSE parser (WHATWG event-stream rules): feed it bytes as they arrive, get whole events back.
/// Handles lines split across reads, `\r\n`, `\r` and `\n` endings, comments, and multi-line `data`.
public struct ServerSentEventParser: Sendable {
    private var line: [UInt8] = []
    private var dataLines: [String] = []
    private var eventName: String?
    private var hasData = false
    private var lastWasCarriageReturn = false

    public init() {}

    /// Parses the next bytes; returns every event they complete.
    public mutating func feed<Bytes: Sequence>(_ bytes: Bytes) -> [ServerSentEvent] where Bytes.Element == UInt8 {
        var events: [ServerSentEvent] = []
        for byte in bytes {
            if byte == UInt8(ascii: "\n") && lastWasCarriageReturn {
                lastWasCarriageReturn = false
                continue
            }
            lastWasCarriageReturn = byte == UInt8(ascii: "\r")
            if byte == UInt8(ascii: "\n") || byte == UInt8(ascii: "\r") {
                if let event = endLine() { events.append(event) }
            } else {
                line.append(byte)
            }
        }
        return events
    }

    /// Ends the stream: returns an event left without its blank line, if any (servers that close early).
    public mutating func finish() -> ServerSentEvent? {
        if !line.isEmpty { _ = endLine() }
        return dispatch()
    }

    /// True when bytes of an unfinished line or event are buffered.
    public var hasPendingData: Bool { !line.isEmpty || hasData }

    private mutating func endLine() -> ServerSentEvent? {
        defer { line.removeAll(keepingCapacity: true) }
        if line.isEmpty { return dispatch() }
        if line.first == UInt8(ascii: ":") { return nil }
        let text = String(decoding: line, as: UTF8.self)
        let field: Substring
        var value: Substring
        if let colon = text.firstIndex(of: ":") {
            field = text[..<colon]
            value = text[text.index(after: colon)...]
            if value.first == " " { value = value.dropFirst() }
        } else {
            field = Substring(text)
            value = ""
        }
        switch field {
        case "data":
            dataLines.append(String(value))
            hasData = true
        case "event":
            eventName = String(value)
        default:
            break
        }
        return nil
    }

    private mutating func dispatch() -> ServerSentEvent? {
        defer {
            dataLines.removeAll()
            eventName = nil
            hasData = false
        }
        guard hasData || eventName != nil else { return nil }
        return ServerSentEvent(event: eventName, data: dataLines.joined(separator: "\n"))
    }
}
