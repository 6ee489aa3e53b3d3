import Foundation

extension Suite {
    /// The placeholder stored instead of a header value.
    public static let redacted = "<redacted>"

    /// The suite as it may be stored or shown: header values (which may carry credentials, such as an
    /// `Authorization` header) replaced by a placeholder. API keys are never in a suite, only the names of the
    /// environment variables that hold them.
    public func redactingSecrets() -> Suite {
        var copy = self
        for index in copy.candidates.indices {
            copy.candidates[index].headers = copy.candidates[index].headers.mapValues { _ in Self.redacted }
        }
        return copy
    }

    /// A stable fingerprint of the suite (FNV-1a over its sorted-keys JSON, case by case: a large suite is never
    /// encoded whole), to notice that a suite changed under a resumed run. The store computes the same value as it
    /// writes the cases (`SuiteFingerprint`), so a new run encodes its cases once.
    public var fingerprint: String {
        let encoder = SuiteFingerprint.encoder()
        var fingerprint = SuiteFingerprint()
        fingerprint.add((try? encoder.encode(withoutCases)) ?? Data())
        for testCase in cases { fingerprint.add((try? testCase.sortedJSON(encoder: encoder)) ?? []) }
        return fingerprint.text
    }

    /// The suite with its cases left out (stored apart from them, one row per case).
    public var withoutCases: Suite {
        var header = self
        header.cases = []
        return header
    }
}

/// FNV-1a over a suite's header and then each case, as sorted-keys JSON (`Suite.fingerprint`).
public struct SuiteFingerprint: Sendable {
    private var hash: UInt64 = 0xcbf2_9ce4_8422_2325

    public init() {}

    /// The encoder whose output is hashed: sorted keys, so equal suites give equal bytes.
    public static func encoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return encoder
    }

    public mutating func add(_ data: Data) {
        for byte in data {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01b3
        }
    }

    public mutating func add(_ bytes: [UInt8]) {
        var hash = self.hash
        bytes.withUnsafeBufferPointer { buffer in
            for byte in buffer {
                hash ^= UInt64(byte)
                hash = hash &* 0x100_0000_01b3
            }
        }
        self.hash = hash
    }

    /// 16 hex digits.
    public var text: String {
        hash.hex16
    }
}
