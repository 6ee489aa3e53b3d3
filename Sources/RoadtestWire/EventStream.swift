// AWS event stream framing (`application/vnd.amazon.eventstream`), the binary format of streaming
// responses such as Bedrock's ConverseStream and InvokeModelWithResponseStream.
//
// Every message is self-delimiting and checksummed twice:
//
//     total length    UInt32 BE   whole message, including these 4 bytes and the trailing CRC
//     headers length  UInt32 BE
//     prelude CRC     UInt32 BE   CRC32 of the 8 bytes above
//     headers         headers-length bytes
//     payload         total - headers length - 16 bytes
//     message CRC     UInt32 BE   CRC32 of everything before it
//
// The prelude has its own CRC so that a corrupted length is detected before the decoder waits for
// (or allocates) a bogus number of bytes.

/// The value of one event stream header. The wire format is typed; each case is one type code.
public enum EventStreamHeaderValue: Sendable, Hashable {
    /// Type 0 (true) or 1 (false); no value bytes.
    case bool(Bool)
    /// Type 2: one signed byte.
    case byte(Int8)
    /// Type 3: big-endian Int16.
    case short(Int16)
    /// Type 4: big-endian Int32.
    case int(Int32)
    /// Type 5: big-endian Int64.
    case long(Int64)
    /// Type 6: UInt16 length, then the bytes (at most 65,535).
    case bytes([UInt8])
    /// Type 7: UInt16 length, then UTF-8 (at most 65,535 bytes).
    case string(String)
    /// Type 8: big-endian Int64 milliseconds since the Unix epoch.
    case timestamp(Int64)
    /// Type 9: exactly 16 bytes.
    case uuid([UInt8])

    /// The string, for `.string` values; nil for every other type.
    public var stringValue: String? {
        if case .string(let value) = self { value } else { nil }
    }
}

/// One decoded (or to-be-encoded) event stream message.
public struct EventStreamMessage: Sendable, Hashable {
    /// Header names are unique within a message (the decoder rejects duplicates, as botocore does),
    /// so a dictionary loses nothing but their order, which carries no meaning.
    public var headers: [String: EventStreamHeaderValue]
    /// The payload; for Bedrock events, a JSON document.
    public var payload: [UInt8]

    /// Creates a message.
    public init(headers: [String: EventStreamHeaderValue] = [:], payload: [UInt8] = []) {
        self.headers = headers
        self.payload = payload
    }

    /// `:message-type`: `event`, `exception` (a modelled error, see ``exceptionType``) or `error`
    /// (an unmodelled one, see ``errorCode``).
    public var messageType: String? { headers[":message-type"]?.stringValue }
    /// `:event-type`, the event's name for `event` messages (e.g. `contentBlockDelta`).
    public var eventType: String? { headers[":event-type"]?.stringValue }
    /// `:exception-type`, the modelled error's name for `exception` messages (e.g. `throttlingException`).
    public var exceptionType: String? { headers[":exception-type"]?.stringValue }
    /// `:content-type` of the payload (e.g. `application/json`).
    public var contentType: String? { headers[":content-type"]?.stringValue }
    /// `:error-code` of `error` messages.
    public var errorCode: String? { headers[":error-code"]?.stringValue }
    /// `:error-message` of `error` messages.
    public var errorMessage: String? { headers[":error-message"]?.stringValue }

    /// The message in wire format, headers in name order so the output is deterministic.
    ///
    /// Meant for test servers and simulators, whose messages are built by code: a message the
    /// format cannot carry (a header name over 255 bytes, a string or byte array over 65,535 bytes, a
    /// UUID that isn't 16 bytes, headers over 128 KiB or a message over 4 GiB) is a programming
    /// error and stops the program.
    public func encoded() -> [UInt8] {
        var headerBytes: [UInt8] = []
        for name in headers.keys.sorted(by: { $0.utf8.lexicographicallyPrecedes($1.utf8) }) {
            EventStreamWire.appendHeader(name: name, value: headers[name]!, to: &headerBytes)
        }
        precondition(headerBytes.count <= EventStreamDecoder.maximumHeadersLength, "event stream headers too long")
        let total = EventStreamWire.preludeLength + headerBytes.count + payload.count + EventStreamWire.crcLength
        precondition(total <= Int(UInt32.max), "event stream message too long")

        var out: [UInt8] = []
        out.reserveCapacity(total)
        EventStreamWire.appendUInt32(UInt32(total), to: &out)
        EventStreamWire.appendUInt32(UInt32(headerBytes.count), to: &out)
        EventStreamWire.appendUInt32(CRC32.checksum(out), to: &out)
        out += headerBytes
        out += payload
        EventStreamWire.appendUInt32(CRC32.checksum(out), to: &out)
        return out
    }
}

/// Why a byte stream is not a valid event stream, and where.
public struct EventStreamError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The class of fault, for callers that react differently (all are fatal to the stream).
    public enum Kind: Sendable, Hashable {
        /// The prelude CRC doesn't match: the lengths can't be trusted.
        case preludeChecksumMismatch
        /// The message CRC doesn't match: headers or payload were corrupted.
        case messageChecksumMismatch
        /// A length in the prelude is impossible or over the limits.
        case invalidLength
        /// A header is malformed: unknown type, overrunning length, bad UTF-8 or a duplicate name.
        case invalidHeader
        /// The stream ended inside a message (reported by ``EventStreamDecoder/finish()``).
        case truncated
    }

    /// The class of fault.
    public var kind: Kind
    /// What exactly is wrong, for logs.
    public var reason: String
    /// Offset in the whole stream (bytes fed since the decoder was created) of the faulty message's
    /// first byte, to find it in a capture.
    public var messageOffset: Int

    /// Creates an error.
    public init(kind: Kind, reason: String, messageOffset: Int) {
        self.kind = kind
        self.reason = reason
        self.messageOffset = messageOffset
    }

    public var description: String {
        "invalid event stream: \(reason) (message starting at byte \(messageOffset))"
    }
}

/// Incremental decoder: feed it the response body as it arrives, get complete messages back.
///
/// Bytes are appended to one buffer that is consumed from a read offset and compacted only when
/// the consumed part dominates, so feeding a stream in many small pieces costs linear time.
public struct EventStreamDecoder: Sendable {
    /// The most bytes one message may have unless the initialiser says otherwise (16 MiB, the
    /// limit of AWS's own event stream implementation). Anything larger is treated as corruption
    /// rather than buffered.
    public static let defaultMaximumMessageLength = 16 * 1024 * 1024
    /// The most header bytes one message may have (128 KiB, the format's limit).
    public static let maximumHeadersLength = 128 * 1024

    /// The largest message this decoder accepts.
    public let maximumMessageLength: Int

    private var buffer: [UInt8] = []
    private var readOffset = 0
    /// Stream offset of `buffer[0]`, for error positions.
    private var bufferStreamOffset = 0
    private var failure: EventStreamError?

    /// Creates a decoder that rejects messages longer than `maximumMessageLength` bytes.
    public init(maximumMessageLength: Int = EventStreamDecoder.defaultMaximumMessageLength) {
        self.maximumMessageLength = maximumMessageLength
    }

    /// Whether bytes of an incomplete message are buffered; true at the end of a response means it
    /// was cut short.
    public var hasPartialMessage: Bool { readOffset < buffer.count }

    /// Adds `bytes` (any split of the stream: part of a message, several messages, or both) and
    /// returns the messages completed by them, in order.
    ///
    /// Throws on the first invalid message. The stream cannot be resynchronised after that (there is
    /// no frame marker to search for), so the decoder keeps failing: every later call throws the
    /// same error. Messages completed earlier in the failing call are not returned.
    public mutating func feed<C: Collection<UInt8>>(_ bytes: C) throws(EventStreamError) -> [EventStreamMessage] {
        if let failure { throw failure }
        append(bytes)
        var messages: [EventStreamMessage] = []
        do throws(EventStreamError) {
            while let message = try nextMessage() {
                messages.append(message)
            }
        } catch {
            failure = error
            throw error
        }
        return messages
    }

    /// Checks that the stream ended on a message boundary; call it at the end of the response body.
    /// Throws the earlier error if there was one, or a `.truncated` error if a message is incomplete.
    public func finish() throws(EventStreamError) {
        if let failure { throw failure }
        guard hasPartialMessage else { return }
        throw EventStreamError(
            kind: .truncated,
            reason: "stream ended \(buffer.count - readOffset) bytes into an incomplete message",
            messageOffset: bufferStreamOffset + readOffset
        )
    }

    /// Appends input, first dropping the consumed bytes if they make up at least half the buffer:
    /// the bytes moved are then never more than the bytes dropped, so compaction costs amortised
    /// O(1) per byte, while a large message still arriving is never moved.
    private mutating func append(_ bytes: some Collection<UInt8>) {
        if readOffset > 0 && readOffset >= buffer.count / 2 {
            buffer.removeSubrange(0..<readOffset)
            bufferStreamOffset += readOffset
            readOffset = 0
        }
        buffer.append(contentsOf: bytes)
    }

    /// Decodes the message at the read offset, or returns nil if it hasn't fully arrived.
    private mutating func nextMessage() throws(EventStreamError) -> EventStreamMessage? {
        let available = buffer.count - readOffset
        guard available >= EventStreamWire.preludeLength else { return nil }
        let prelude = try readPrelude(at: readOffset)
        guard available >= prelude.totalLength else { return nil }
        let message = try decodeMessage(at: readOffset, prelude: prelude)
        readOffset += prelude.totalLength
        return message
    }

    private struct Prelude {
        var totalLength: Int
        var headersLength: Int
    }

    /// Reads and validates the 12-byte prelude, before the rest of the message arrives, so that a
    /// corrupt or hostile length fails fast instead of making the decoder wait or allocate.
    private func readPrelude(at start: Int) throws(EventStreamError) -> Prelude {
        let total = Int(EventStreamWire.uint32(buffer, at: start))
        let headers = Int(EventStreamWire.uint32(buffer, at: start + 4))
        let expected = EventStreamWire.uint32(buffer, at: start + 8)
        let computed = crc(from: start, count: 8)
        guard computed == expected else {
            throw error(.preludeChecksumMismatch, "prelude CRC is \(hex(expected)), computed \(hex(computed))")
        }
        let minimum = EventStreamWire.preludeLength + EventStreamWire.crcLength
        guard total >= minimum else {
            throw error(.invalidLength, "total length \(total) is less than the minimum \(minimum)")
        }
        guard total <= maximumMessageLength else {
            throw error(.invalidLength, "total length \(total) exceeds the maximum \(maximumMessageLength)")
        }
        guard headers <= total - minimum else {
            throw error(.invalidLength, "headers length \(headers) exceeds total length \(total) minus \(minimum)")
        }
        guard headers <= Self.maximumHeadersLength else {
            throw error(.invalidLength, "headers length \(headers) exceeds the maximum \(Self.maximumHeadersLength)")
        }
        return Prelude(totalLength: total, headersLength: headers)
    }

    private func decodeMessage(at start: Int, prelude: Prelude) throws(EventStreamError) -> EventStreamMessage {
        let crcOffset = start + prelude.totalLength - EventStreamWire.crcLength
        let expected = EventStreamWire.uint32(buffer, at: crcOffset)
        let computed = crc(from: start, count: prelude.totalLength - EventStreamWire.crcLength)
        guard computed == expected else {
            throw error(.messageChecksumMismatch, "message CRC is \(hex(expected)), computed \(hex(computed))")
        }
        let headersStart = start + EventStreamWire.preludeLength
        let headersEnd = headersStart + prelude.headersLength
        let headers = try decodeHeaders(headersStart..<headersEnd)
        return EventStreamMessage(headers: headers, payload: Array(buffer[headersEnd..<crcOffset]))
    }

    private func decodeHeaders(_ range: Range<Int>) throws(EventStreamError) -> [String: EventStreamHeaderValue] {
        var reader = EventStreamWire.Reader(bytes: buffer, position: range.lowerBound, end: range.upperBound)
        var headers: [String: EventStreamHeaderValue] = [:]
        while !reader.isAtEnd {
            let headerOffset = reader.position - range.lowerBound
            do throws(EventStreamWire.HeaderFault) {
                let (name, value) = try reader.readHeader()
                guard headers.updateValue(value, forKey: name) == nil else {
                    throw EventStreamWire.HeaderFault("duplicate header name \"\(name)\"")
                }
            } catch {
                throw self.error(.invalidHeader, "\(error.reason) in the header at headers offset \(headerOffset)")
            }
        }
        return headers
    }

    private func crc(from start: Int, count: Int) -> UInt32 {
        buffer.withUnsafeBufferPointer { CRC32.checksum(UnsafeBufferPointer(rebasing: $0[start..<start + count])) }
    }

    private func error(_ kind: EventStreamError.Kind, _ reason: String) -> EventStreamError {
        EventStreamError(kind: kind, reason: reason, messageOffset: bufferStreamOffset + readOffset)
    }

    private func hex(_ value: UInt32) -> String {
        let digits = String(value, radix: 16)
        return "0x" + String(repeating: "0", count: 8 - digits.count) + digits
    }
}

// MARK: - Wire format helpers

/// Byte-level encoding shared by the encoder and the decoder.
public enum EventStreamWire {
    public static let preludeLength = 12
    public static let crcLength = 4

    /// Type codes of header values.
    enum TypeCode: UInt8 {
        case boolTrue = 0
        case boolFalse, byte, short, int, long, bytes, string, timestamp, uuid
    }

    /// A malformed header, before the decoder adds its position.
    struct HeaderFault: Error {
        var reason: String
        init(_ reason: String) { self.reason = reason }
    }

    public static func uint32(_ bytes: [UInt8], at offset: Int) -> UInt32 {
        UInt32(bytes[offset]) << 24 | UInt32(bytes[offset + 1]) << 16 | UInt32(bytes[offset + 2]) << 8
            | UInt32(bytes[offset + 3])
    }

    public static func appendUInt32(_ value: UInt32, to out: inout [UInt8]) {
        appendBigEndian(value, to: &out)
    }

    public static func appendBigEndian(_ value: some FixedWidthInteger, to out: inout [UInt8]) {
        let bigEndian = value.bigEndian
        withUnsafeBytes(of: bigEndian) { out.append(contentsOf: $0) }
    }

    public static func appendHeader(name: String, value: EventStreamHeaderValue, to out: inout [UInt8]) {
        let nameBytes = Array(name.utf8)
        precondition(nameBytes.count <= Int(UInt8.max), "event stream header name over 255 bytes: \(name)")
        out.append(UInt8(nameBytes.count))
        out += nameBytes
        switch value {
        case .bool(let flag): out.append((flag ? TypeCode.boolTrue : .boolFalse).rawValue)
        case .byte(let number): appendTyped(.byte, number, to: &out)
        case .short(let number): appendTyped(.short, number, to: &out)
        case .int(let number): appendTyped(.int, number, to: &out)
        case .long(let number): appendTyped(.long, number, to: &out)
        case .timestamp(let millis): appendTyped(.timestamp, millis, to: &out)
        case .bytes(let bytes): appendVariable(.bytes, bytes, name: name, to: &out)
        case .string(let text): appendVariable(.string, Array(text.utf8), name: name, to: &out)
        case .uuid(let bytes):
            precondition(bytes.count == 16, "event stream UUID header \(name) is not 16 bytes")
            out.append(TypeCode.uuid.rawValue)
            out += bytes
        }
    }

    private static func appendTyped(_ code: TypeCode, _ value: some FixedWidthInteger, to out: inout [UInt8]) {
        out.append(code.rawValue)
        appendBigEndian(value, to: &out)
    }

    private static func appendVariable(_ code: TypeCode, _ bytes: [UInt8], name: String, to out: inout [UInt8]) {
        precondition(bytes.count <= Int(UInt16.max), "event stream header \(name) value over 65,535 bytes")
        out.append(code.rawValue)
        appendBigEndian(UInt16(bytes.count), to: &out)
        out += bytes
    }

    /// A bounds-checked cursor over the headers block.
    struct Reader {
        let bytes: [UInt8]
        var position: Int
        let end: Int

        var isAtEnd: Bool { position >= end }

        mutating func readHeader() throws(HeaderFault) -> (String, EventStreamHeaderValue) {
            let nameLength = Int(try unsigned(1, "name length"))
            let name = try utf8(take(nameLength, "name"), "name")
            let rawType = UInt8(try unsigned(1, "value type"))
            guard let code = TypeCode(rawValue: rawType) else {
                throw HeaderFault("unknown value type \(rawType) for header \"\(name)\"")
            }
            return (name, try readValue(code, name: name))
        }

        private mutating func readValue(_ code: TypeCode, name: String) throws(HeaderFault) -> EventStreamHeaderValue {
            switch code {
            case .boolTrue: return .bool(true)
            case .boolFalse: return .bool(false)
            case .byte: return .byte(Int8(truncatingIfNeeded: try unsigned(1, name)))
            case .short: return .short(Int16(truncatingIfNeeded: try unsigned(2, name)))
            case .int: return .int(Int32(truncatingIfNeeded: try unsigned(4, name)))
            case .long: return .long(Int64(bitPattern: try unsigned(8, name)))
            case .timestamp: return .timestamp(Int64(bitPattern: try unsigned(8, name)))
            case .uuid: return .uuid(Array(try take(16, name)))
            case .bytes: return .bytes(Array(try take(Int(try unsigned(2, name)), name)))
            case .string: return .string(try utf8(take(Int(try unsigned(2, name)), name), name))
            }
        }

        /// A big-endian unsigned value of `width` bytes; signed types reinterpret its bits.
        private mutating func unsigned(_ width: Int, _ what: String) throws(HeaderFault) -> UInt64 {
            try take(width, what).reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        }

        private mutating func take(_ count: Int, _ what: String) throws(HeaderFault) -> ArraySlice<UInt8> {
            guard count <= end - position else {
                throw HeaderFault("\(what) needs \(count) bytes but only \(end - position) remain")
            }
            defer { position += count }
            return bytes[position..<position + count]
        }

        private func utf8(_ slice: ArraySlice<UInt8>, _ what: String) throws(HeaderFault) -> String {
            guard let text = String(validating: slice, as: UTF8.self) else {
                throw HeaderFault("\(what) is not valid UTF-8")
            }
            return text
        }
    }
}

/// CRC-32 with the IEEE 802.3 polynomial, reflected (zlib's `crc32`), which event stream uses
/// for both checksums. Table-driven, one byte per step; fast enough for network-rate streams.
public enum CRC32 {
    private static let table: [UInt32] = (0..<256).map { index in
        var crc = UInt32(index)
        for _ in 0..<8 {
            crc = crc & 1 == 1 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1
        }
        return crc
    }

    /// The CRC of `bytes`, continuing from `previous` (the CRC of the bytes before them, or 0).
    public static func checksum(_ bytes: some Sequence<UInt8>, continuing previous: UInt32 = 0) -> UInt32 {
        var crc = ~previous
        for byte in bytes {
            crc = table[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8)
        }
        return ~crc
    }
}
