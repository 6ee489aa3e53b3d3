import Foundation
import RoadtestProviders
import RoadtestWire
import Testing

/// Bytes from a hex string (whitespace ignored); test data only.
func hexBytes(_ hex: String) -> [UInt8] {
    let digits = Array(hex.filter { !$0.isWhitespace }.utf8)
    return stride(from: 0, to: digits.count, by: 2).map {
        UInt8(String(decoding: digits[$0...$0 + 1], as: UTF8.self), radix: 16)!
    }
}

/// Decodes `bytes` in one feed and requires the stream to end cleanly.
func decodeAll(_ bytes: [UInt8]) throws(EventStreamError) -> [EventStreamMessage] {
    var decoder = EventStreamDecoder()
    let messages = try decoder.feed(bytes)
    try decoder.finish()
    return messages
}

/// A message with one header of every type and a Bedrock-like payload.
let everyTypeMessage = EventStreamMessage(
    headers: [
        ":message-type": .string("event"),
        ":event-type": .string("contentBlockDelta"),
        ":content-type": .string("application/json"),
        "true": .bool(true),
        "false": .bool(false),
        "byte": .byte(-2),
        "short": .short(-300),
        "int": .int(70_000),
        "long": .long(-5_000_000_000_000),
        "bytes": .bytes([0, 1, 2, 255]),
        "timestamp": .timestamp(1_714_566_896_000),
        "uuid": .uuid(Array(0..<16)),
        "empty-string": .string(""),
        "unicode": .string("h\u{E9}llo \u{2713}"),
    ],
    payload: Array(#"{"contentBlockIndex":0,"delta":{"text":"Hi \u2713"},"p":"abcdefghij"}"#.utf8)
)

/// `everyTypeMessage.encoded()`, which botocore 1.44.18's `EventStreamBuffer` decodes to exactly
/// `everyTypeMessage` (checked by scripts/botocore_eventstream_check.py, which holds the same hex).
let botocoreCheckedHex = """
    0000013b000000e631e6c2160d3a636f6e74656e742d747970650700106170706c69636174696f6e2f6a736f6e0b3a65
    76656e742d74797065070011636f6e74656e74426c6f636b44656c74610d3a6d6573736167652d747970650700056576
    656e74046279746502fe056279746573060004000102ff0c656d7074792d737472696e670700000566616c7365010369
    6e740400011170046c6f6e6705fffffb73d8c6b0000573686f727403fed40974696d657374616d70080000018f342699
    8004747275650007756e69636f646507000a68c3a96c6c6f20e29c93047575696409000102030405060708090a0b0c0d
    0e0f7b22636f6e74656e74426c6f636b496e646578223a302c2264656c7461223a7b2274657874223a224869205c7532
    373133227d2c2270223a226162636465666768696a227dbdad8be3
    """

@Suite struct EventStreamTests {
    // MARK: CRC

    @Test func crc32MatchesZlib() {
        #expect(CRC32.checksum([UInt8]()) == 0)
        #expect(CRC32.checksum(Array("123456789".utf8)) == 0xCBF4_3926)
        #expect(CRC32.checksum(Array("The quick brown fox jumps over the lazy dog".utf8)) == 0x414F_A339)
        let whole = Array("hello, world".utf8)
        #expect(CRC32.checksum(whole[5...], continuing: CRC32.checksum(whole[..<5])) == CRC32.checksum(whole))
    }

    // MARK: Round trips

    @Test func roundTripOfEveryHeaderType() throws {
        let decoded = try decodeAll(everyTypeMessage.encoded())
        #expect(decoded == [everyTypeMessage])
        #expect(decoded[0].messageType == "event")
        #expect(decoded[0].eventType == "contentBlockDelta")
        #expect(decoded[0].contentType == "application/json")
        #expect(decoded[0].exceptionType == nil)
    }

    @Test(arguments: [
        EventStreamHeaderValue.bool(true), .bool(false), .byte(.min), .byte(.max), .short(.min), .short(.max),
        .int(.min), .int(.max), .long(.min), .long(.max), .timestamp(-1), .timestamp(.max), .bytes([]),
        .bytes([UInt8](repeating: 7, count: 65_535)), .string(String(repeating: "x", count: 65_535)),
        .uuid([UInt8](repeating: 0xFF, count: 16)),
    ])
    func roundTripOfExtremeValues(_ value: EventStreamHeaderValue) throws {
        let message = EventStreamMessage(headers: [String(repeating: "n", count: 255): value], payload: [])
        #expect(try decodeAll(message.encoded()) == [message])
    }

    @Test func emptyMessage() throws {
        let bytes = EventStreamMessage().encoded()
        #expect(bytes == hexBytes("000000100000000005c248eb7d98c8ff"))
        #expect(try decodeAll(bytes) == [EventStreamMessage()])
    }

    /// The exact bytes also checked by botocore's decoder in scripts/botocore_eventstream_check.py.
    @Test func encodingIsStable() {
        #expect(everyTypeMessage.encoded() == hexBytes(botocoreCheckedHex))
    }

    // MARK: Chunking

    @Test func splitAtEveryBytePosition() throws {
        let bytes = everyTypeMessage.encoded()
        for cut in 0...bytes.count {
            var decoder = EventStreamDecoder()
            let first = try decoder.feed(bytes[..<cut])
            #expect(first.isEmpty == (cut < bytes.count))
            #expect(decoder.hasPartialMessage == (cut > 0 && cut < bytes.count))
            let second = try decoder.feed(bytes[cut...])
            #expect(first + second == [everyTypeMessage])
            #expect(!decoder.hasPartialMessage)
            try decoder.finish()
        }
    }

    @Test func oneByteAtATime() throws {
        let messages = [everyTypeMessage, EventStreamMessage(), EventStreamMessage(payload: [1, 2, 3])]
        let bytes = messages.flatMap { $0.encoded() }
        var decoder = EventStreamDecoder()
        var decoded: [EventStreamMessage] = []
        for byte in bytes {
            decoded += try decoder.feed(CollectionOfOne(byte))
        }
        #expect(decoded == messages)
    }

    @Test func severalMessagesInOneFeedAndSplitAcrossTwo() throws {
        let messages = (0..<5).map { index in
            EventStreamMessage(
                headers: [":event-type": .string("e\(index)")],
                payload: Array(repeating: UInt8(index), count: index * 7)
            )
        }
        let bytes = messages.flatMap { $0.encoded() }
        #expect(try decodeAll(bytes) == messages)
        for cut in stride(from: 0, through: bytes.count, by: 3) {
            var decoder = EventStreamDecoder()
            let decoded = try decoder.feed(bytes[..<cut]) + decoder.feed(bytes[cut...])
            #expect(decoded == messages)
        }
    }

    @Test func manySmallFeedsOfALongStream() throws {
        let message = EventStreamMessage(
            headers: [":event-type": .string("chunk")],
            payload: Array(repeating: 0x61, count: 100)
        )
        let bytes = Array([[UInt8]](repeating: message.encoded(), count: 2_000).joined())
        var decoder = EventStreamDecoder()
        var count = 0
        var offset = 0
        while offset < bytes.count {
            let end = min(bytes.count, offset + 13)
            count += try decoder.feed(bytes[offset..<end]).count
            offset = end
        }
        #expect(count == 2_000)
        try decoder.finish()
    }

    /// A 4 MiB message arriving in 1 KiB pieces: exercises buffering without quadratic copying.
    @Test func largeMessageInSmallPieces() throws {
        let message = EventStreamMessage(payload: (0..<(4 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 31) })
        let bytes = message.encoded()
        var decoder = EventStreamDecoder()
        var decoded: [EventStreamMessage] = []
        for start in stride(from: 0, to: bytes.count, by: 1024) {
            decoded += try decoder.feed(bytes[start..<min(bytes.count, start + 1024)])
        }
        #expect(decoded == [message])
    }

    // MARK: Errors

    @Test func badPreludeCRC() {
        var bytes = everyTypeMessage.encoded()
        bytes[9] ^= 0x01
        let error = #expect(throws: EventStreamError.self) { try decodeAll(bytes) }
        #expect(error?.kind == .preludeChecksumMismatch)
    }

    @Test func badMessageCRC() {
        var bytes = everyTypeMessage.encoded()
        bytes[bytes.count - 10] ^= 0x80
        let error = #expect(throws: EventStreamError.self) { try decodeAll(bytes) }
        #expect(error?.kind == .messageChecksumMismatch)
    }

    @Test func truncatedStream() throws {
        let bytes = everyTypeMessage.encoded()
        var decoder = EventStreamDecoder()
        #expect(try decoder.feed(bytes.dropLast()).isEmpty)
        #expect(decoder.hasPartialMessage)
        let error = #expect(throws: EventStreamError.self) { try decoder.finish() }
        #expect(error?.kind == .truncated)
        #expect(error?.messageOffset == 0)
    }

    @Test func errorIsStickyAndLocated() throws {
        let good = EventStreamMessage(payload: [1]).encoded()
        var bad = EventStreamMessage(payload: [2]).encoded()
        bad[bad.count - 1] ^= 1
        var decoder = EventStreamDecoder()
        #expect(try decoder.feed(good).count == 1)
        let error = try #require(#expect(throws: EventStreamError.self) { try decoder.feed(bad) })
        #expect(error.messageOffset == good.count)
        #expect(error.description.contains("message CRC"))
        #expect(error.description.contains("byte \(good.count)"))
        for _ in 0..<3 {
            #expect(throws: error) { _ = try decoder.feed(good) }
        }
        #expect(throws: error) { try decoder.finish() }
    }

    /// A prelude with a valid CRC but the given lengths.
    static func prelude(total: UInt32, headers: UInt32) -> [UInt8] {
        var bytes: [UInt8] = []
        EventStreamWire.appendUInt32(total, to: &bytes)
        EventStreamWire.appendUInt32(headers, to: &bytes)
        EventStreamWire.appendUInt32(CRC32.checksum(bytes), to: &bytes)
        return bytes
    }

    static let absurdLengths: [(UInt32, UInt32)] = [
        (0, 0), (15, 0), (16, 1), (100, 85), (.max, 0), (16 * 1024 * 1024 + 1, 0), (1_000_000, 128 * 1024 + 1),
        (.max, .max),
    ]

    @Test(arguments: absurdLengths)
    func absurdLengthsFailAtThePrelude(total: UInt32, headers: UInt32) {
        // Only the 12 prelude bytes are fed: the decoder must not wait for the rest.
        var decoder = EventStreamDecoder()
        let error = #expect(throws: EventStreamError.self) {
            try decoder.feed(Self.prelude(total: total, headers: headers))
        }
        #expect(error?.kind == .invalidLength)
    }

    @Test func largestAllowedLengthsWait() throws {
        var decoder = EventStreamDecoder()
        #expect(try decoder.feed(Self.prelude(total: 16 * 1024 * 1024, headers: 128 * 1024)).isEmpty)
        #expect(decoder.hasPartialMessage)
        var small = EventStreamDecoder(maximumMessageLength: 64)
        #expect(throws: EventStreamError.self) { _ = try small.feed(Self.prelude(total: 65, headers: 0)) }
    }

    /// A message with valid CRCs around the given header bytes.
    static func frame(headers: [UInt8], payload: [UInt8] = []) -> [UInt8] {
        var bytes = prelude(total: UInt32(16 + headers.count + payload.count), headers: UInt32(headers.count))
        bytes += headers + payload
        EventStreamWire.appendUInt32(CRC32.checksum(bytes), to: &bytes)
        return bytes
    }

    @Test(
        arguments: [
            ("unknown type", [1, 0x61, 10]),
            ("missing type", [1, 0x61]),
            ("name overruns", [5, 0x61, 0x62]),
            ("int overruns", [1, 0x61, 4, 0, 0, 0]),
            ("string overruns", [1, 0x61, 7, 0, 5, 0x62]),
            ("bytes overruns", [1, 0x61, 6, 0xFF, 0xFF]),
            ("uuid overruns", [1, 0x61, 9] + [UInt8](repeating: 0, count: 15)),
            ("bad UTF-8 value", [1, 0x61, 7, 0, 1, 0xFF]),
            ("bad UTF-8 name", [1, 0xC3, 0]),
            ("duplicate", [1, 0x61, 0, 1, 0x61, 1]),
        ] as [(String, [UInt8])]
    )
    func badHeaders(label: String, headers: [UInt8]) {
        let error = #expect(throws: EventStreamError.self, "\(label)") { try decodeAll(Self.frame(headers: headers)) }
        #expect(error?.kind == .invalidHeader)
    }
}

/// Vectors from botocore's tests/unit/test_eventstream.py (boto/botocore), as hex.
@Suite struct EventStreamBotocoreVectorTests {
    /// A decodable vector and what it decodes to.
    struct Vector: Sendable, CustomTestStringConvertible {
        var name: String
        var hex: String
        var headers: [String: EventStreamHeaderValue] = [:]
        var payload = ""
        /// Whether botocore's bytes list headers in name order, as our encoder writes them.
        var headersInNameOrder = true

        var testDescription: String { name }
    }

    static let positiveVectors: [Vector] = [
        Vector(name: "empty", hex: "000000100000000005c248eb7d98c8ff"),
        Vector(
            name: "int8",
            hex: "000000170000000729860158046279746502ffc2f869dc",
            headers: ["byte": .byte(-1)]
        ),
        Vector(
            name: "int16",
            hex: "0000001900000009710e923e0573686f727403ffffb27cb6cc",
            headers: ["short": .short(-1)]
        ),
        Vector(
            name: "int32",
            hex: "0000001d0000000d83e3f0e707696e746567657204ffffffff8b8e12eb",
            headers: ["integer": .int(-1)]
        ),
        Vector(
            name: "int64",
            hex: "0000001e0000000e5d4adb8d046c6f6e6705ffffffffffffffff4bc232da",
            headers: ["long": .long(-1)]
        ),
        Vector(
            name: "payload, no headers",
            hex: "0000001d00000000fd528c5a7b27666f6f273a27626172277dc3653936",
            payload: "{'foo':'bar'}"
        ),
        Vector(
            name: "payload, one string header",
            hex: "0000003d0000002007fd83960c636f6e74656e742d747970650700106170706c69636174696f6e2f6a736f6e"
                + "7b27666f6f273a27626172277d8d9c08b1",
            headers: ["content-type": .string("application/json")],
            payload: "{'foo':'bar'}"
        ),
        Vector(
            name: "all header types",
            hex: "000000620000005203b5cb9c01300001310101320202013303000301340400000004013505000000000000000501"
                + "36060005627974657301370700047574663801380800000000000000080139093031323334353637383961626364"
                + "656663353671",
            headers: [
                "0": .bool(true), "1": .bool(false), "2": .byte(2), "3": .short(3), "4": .int(4), "5": .long(5),
                "6": .bytes(Array("bytes".utf8)), "7": .string("utf8"), "8": .timestamp(8),
                "9": .uuid(Array("0123456789abcdef".utf8)),
            ]
        ),
        Vector(
            name: "error event",
            hex: "0000005200000042bf23637e0d3a6d6573736167652d747970650700056572726f720b3a6572726f722d636f6465"
                + "070004636f64650e3a6572726f722d6d6573736167650700076d6573736167656b6cea3d",
            headers: [
                ":message-type": .string("error"), ":error-code": .string("code"),
                ":error-message": .string("message"),
            ],
            headersInNameOrder: false
        ),
    ]

    @Test(arguments: positiveVectors)
    func positive(_ vector: Vector) throws {
        let bytes = hexBytes(vector.hex)
        let expected = EventStreamMessage(headers: vector.headers, payload: Array(vector.payload.utf8))
        #expect(try decodeAll(bytes) == [expected])
        if vector.headersInNameOrder {
            #expect(expected.encoded() == bytes)
        }
    }

    @Test func errorMessageAccessors() throws {
        let message = try decodeAll(hexBytes(Self.positiveVectors.last!.hex))[0]
        #expect(message.messageType == "error")
        #expect(message.errorCode == "code")
        #expect(message.errorMessage == "message")
    }

    @Test func allPositiveCasesInOneBuffer() throws {
        let bytes = Self.positiveVectors.flatMap { hexBytes($0.hex) }
        let expected = Self.positiveVectors.map {
            EventStreamMessage(headers: $0.headers, payload: Array($0.payload.utf8))
        }
        #expect(try decodeAll(bytes) == expected)
    }

    @Test(
        arguments: [
            // corrupted-length: prelude CRC catches the changed total length.
            (
                "0100001d00000000fd528c5a7b27666f6f273a27626172277dc3653936",
                EventStreamError.Kind.preludeChecksumMismatch
            ),
            // corrupted-payload
            ("0000001d00000000fd528c5a7b27666f6f273a27626172278dc3653936", .messageChecksumMismatch),
            // corrupted-headers
            (
                "0000003d0000002007fd83960c636f6e74656e742b747970650700106170706c69636174696f6e2f6a736f6e"
                    + "7b27666f6f273a27626172277d8d9c08b1", .messageChecksumMismatch
            ),
            // corrupted-headers-length
            (
                "0000003dff00010207fd83960c636f6e74656e742d747970650700106170706c69636174696f6e2f6a736f6e"
                    + "7b27666f6f273a27626172277d8d9c08b1", .preludeChecksumMismatch
            ),
            // duplicate-headers
            ("00000024000000144bb982d00474657374046173646604746573740461736466f3f47563", .invalidHeader),
            // invalid-headers-length (CRCs valid)
            (
                "0000003dff0001021583f5c20c636f6e74656e742d747970650700106170706c69636174696f6e2f6a736f6e"
                    + "7b27666f6f273a27626172277d2f377f5d", .invalidLength
            ),
            // invalid-payload-length: only its prelude (24 MiB + 33 total, valid CRC); the rest is never needed.
            ("0180002100000000dd3f33b1", .invalidLength),
        ] as [(String, EventStreamError.Kind)]
    )
    func negative(hex: String, kind: EventStreamError.Kind) {
        let error = #expect(throws: EventStreamError.self) { try decodeAll(hexBytes(hex)) }
        #expect(error?.kind == kind)
    }
}
