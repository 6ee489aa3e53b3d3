import Foundation

/// One fuzz input, and the chunks a stream target feeds it in.
///
/// The chunk boundaries are derived from the input itself (a hash of its bytes seeds the sizes), so a corpus file is
/// a plain stream or body, readable and usable elsewhere, and a crashing input replays with the same chunks.
public struct FuzzInput {
    public let bytes: UnsafeBufferPointer<UInt8>
    /// FNV-1a of the bytes: seeds the chunking and any other choice a target makes.
    public let hash: UInt64

    public init(_ data: UnsafePointer<UInt8>, _ size: Int) {
        bytes = UnsafeBufferPointer(start: data, count: size)
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        self.hash = hash
    }

    public var array: [UInt8] { Array(bytes) }
    public var data: Data { Data(buffer: bytes) }
    /// The bytes as text, invalid UTF-8 repaired (what a loader handed a `String` sees).
    public var text: String { String(decoding: bytes, as: UTF8.self) }

    /// Consecutive ranges covering the whole input, some of them empty: one of five plans, chosen by the hash (the
    /// whole input at once; one byte at a time; pieces of up to 8, 64 or 512 bytes).
    public var chunks: [Range<Int>] {
        var random = SplitMix64(seed: hash)
        let limit: Int
        switch hash >> 61 {
        case 0: return [0..<bytes.count]
        case 1: limit = 1
        case 2, 3: limit = 8
        case 4, 5: limit = 64
        default: limit = 512
        }
        var ranges: [Range<Int>] = []
        var start = 0
        while start < bytes.count {
            // Sizes from 0 (an empty read, which must change nothing) to the limit; one-byte reads have no empties.
            let size = limit == 1 ? 1 : Int(random.next() % UInt64(limit + 1))
            let end = min(start + size, bytes.count)
            ranges.append(start..<end)
            start = end
        }
        return ranges
    }

    /// Whether the bytes contain `text` (a plain loop: the generic `firstRange(of:)` costs more than a suite's load).
    public func contains(_ text: StaticString) -> Bool {
        let count = text.utf8CodeUnitCount
        guard count > 0 else { return true }
        guard bytes.count >= count else { return false }
        let needle = text.utf8Start
        search: for start in 0...(bytes.count - count) where bytes[start] == needle[0] {
            for offset in 1..<count where bytes[start + offset] != needle[offset] { continue search }
            return true
        }
        return false
    }

    /// The bytes of one chunk.
    public subscript(range: Range<Int>) -> UnsafeBufferPointer<UInt8> {
        UnsafeBufferPointer(rebasing: bytes[range])
    }
}

/// A small, fast generator for choices derived from the input.
public struct SplitMix64 {
    private var state: UInt64

    public init(seed: UInt64) {
        state = seed
    }

    public mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var mixed = state
        mixed = (mixed ^ (mixed >> 30)) &* 0xbf58_476d_1ce4_e5b9
        mixed = (mixed ^ (mixed >> 27)) &* 0x94d0_49bb_1331_11eb
        return mixed ^ (mixed >> 31)
    }
}
