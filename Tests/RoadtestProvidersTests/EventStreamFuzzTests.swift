import Foundation
import RoadtestProviders
import RoadtestWire
import Testing

/// Deterministic PRNG so that a failing fuzz case can be replayed.
struct EventStreamFuzzRandom: RandomNumberGenerator {
    var state: UInt64

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Random inputs must only ever produce messages or an ``EventStreamError``: no trap, no hang, no
/// unbounded buffering, and decoded messages must survive a re-encode.
@Suite struct EventStreamFuzzTests {
    static let validFrames: [[UInt8]] = [
        everyTypeMessage.encoded(),
        EventStreamMessage().encoded(),
        EventStreamMessage(headers: [":event-type": .string("messageStop")], payload: Array("{}".utf8)).encoded(),
        EventStreamMessage(headers: ["u": .uuid(Array(repeating: 9, count: 16)), "b": .bytes([1, 2])]).encoded(),
    ]

    @Test func randomInputsNeverCrash() throws {
        var rng = EventStreamFuzzRandom(state: 0x5EED_1234)
        var messageCount = 0
        var errorKinds: Set<EventStreamError.Kind> = []
        for iteration in 0..<20_000 {
            let input = Self.input(iteration: iteration, using: &rng)
            let outcome = try Self.decode(input, using: &rng)
            messageCount += outcome.messages
            if let kind = outcome.error { errorKinds.insert(kind) }
        }
        // The generator must reach every part of the decoder, not just the first CRC check.
        #expect(messageCount > 1_000)
        #expect(
            errorKinds == [
                .preludeChecksumMismatch, .messageChecksumMismatch, .invalidLength, .invalidHeader, .truncated,
            ]
        )
    }

    /// Feeds `input` in random chunks; returns how many messages came out and which error, if any.
    static func decode(
        _ input: [UInt8],
        using rng: inout EventStreamFuzzRandom
    ) throws -> (messages: Int, error: EventStreamError.Kind?) {
        var decoder = EventStreamDecoder(maximumMessageLength: Bool.random(using: &rng) ? 1 << 24 : 200)
        var offset = 0
        var count = 0
        while offset < input.count {
            let end = min(input.count, offset + Int.random(in: 0...40, using: &rng))
            do {
                let messages = try decoder.feed(input[offset..<end])
                for message in messages {
                    #expect(try decodeAll(message.encoded()) == [message])
                }
                count += messages.count
            } catch {
                #expect(throws: error) { _ = try decoder.feed([0]) }
                return (count, error.kind)
            }
            offset = end
        }
        do {
            try decoder.finish()
            return (count, nil)
        } catch {
            return (count, error.kind)
        }
    }

    static func input(iteration: Int, using rng: inout EventStreamFuzzRandom) -> [UInt8] {
        switch iteration % 6 {
        case 0: return randomBytes(count: Int.random(in: 0...300, using: &rng), using: &rng)
        case 1: return withValidPrelude(using: &rng)
        case 2: return mutated(validStream(using: &rng), using: &rng)
        case 3: return withValidCRCs(mutatingHeadersOf: validFrame(using: &rng), using: &rng)
        case 4: return Array(validStream(using: &rng).prefix(Int.random(in: 0...400, using: &rng)))
        default: return validStream(using: &rng)
        }
    }

    static func randomBytes(count: Int, using rng: inout EventStreamFuzzRandom) -> [UInt8] {
        (0..<count).map { _ in UInt8.random(in: 0...255, using: &rng) }
    }

    static func validFrame(using rng: inout EventStreamFuzzRandom) -> [UInt8] {
        validFrames.randomElement(using: &rng)!
    }

    static func validStream(using rng: inout EventStreamFuzzRandom) -> [UInt8] {
        (0..<Int.random(in: 1...4, using: &rng)).flatMap { _ in validFrame(using: &rng) }
    }

    /// Random lengths behind a correct prelude CRC, to exercise the length checks and the header parser.
    static func withValidPrelude(using rng: inout EventStreamFuzzRandom) -> [UInt8] {
        let total = UInt32.random(in: 0...260, using: &rng)
        let headers =
            Bool.random(using: &rng)
            ? UInt32.random(in: 0...total, using: &rng) : UInt32.random(in: 0...UInt32.max, using: &rng)
        var bytes: [UInt8] = []
        EventStreamWire.appendUInt32(total, to: &bytes)
        EventStreamWire.appendUInt32(headers, to: &bytes)
        EventStreamWire.appendUInt32(CRC32.checksum(bytes), to: &bytes)
        bytes += randomBytes(count: Int.random(in: 0...Int(total), using: &rng), using: &rng)
        if bytes.count == Int(total), total >= 16, Bool.random(using: &rng) {
            bytes.removeLast(4)
            EventStreamWire.appendUInt32(CRC32.checksum(bytes), to: &bytes)
        }
        return bytes
    }

    /// Bit flips, overwrites, insertions and deletions anywhere.
    static func mutated(_ input: [UInt8], using rng: inout EventStreamFuzzRandom) -> [UInt8] {
        var bytes = input
        for _ in 0..<Int.random(in: 1...4, using: &rng) where !bytes.isEmpty {
            let index = Int.random(in: 0..<bytes.count, using: &rng)
            switch Int.random(in: 0..<4, using: &rng) {
            case 0: bytes[index] ^= 1 << UInt8.random(in: 0...7, using: &rng)
            case 1: bytes[index] = UInt8.random(in: 0...255, using: &rng)
            case 2: bytes.insert(UInt8.random(in: 0...255, using: &rng), at: index)
            default: bytes.remove(at: index)
            }
        }
        return bytes
    }

    /// Corrupts bytes inside the headers block, then fixes the message CRC so the header parser sees them.
    static func withValidCRCs(mutatingHeadersOf frame: [UInt8], using rng: inout EventStreamFuzzRandom) -> [UInt8] {
        var bytes = frame
        let headersLength = Int(EventStreamWire.uint32(bytes, at: 4))
        guard headersLength > 0 else { return bytes }
        for _ in 0..<Int.random(in: 1...3, using: &rng) {
            let index = 12 + Int.random(in: 0..<headersLength, using: &rng)
            bytes[index] = Bool.random(using: &rng) ? UInt8.random(in: 0...255, using: &rng) : bytes[index] ^ 0x01
        }
        bytes.removeLast(4)
        EventStreamWire.appendUInt32(CRC32.checksum(bytes), to: &bytes)
        return bytes
    }
}
