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
    /// encoded whole), to notice that a suite changed under a resumed run.
    public var fingerprint: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        func add(_ data: Data?) {
            for byte in data ?? Data() {
                hash ^= UInt64(byte)
                hash = hash &* 0x100_0000_01b3
            }
        }
        add(try? encoder.encode(withoutCases))
        for testCase in cases { add(try? encoder.encode(testCase)) }
        return String(format: "%016llx", hash)
    }

    /// The suite with its cases left out (stored apart from them, one row per case).
    public var withoutCases: Suite {
        var header = self
        header.cases = []
        return header
    }
}
