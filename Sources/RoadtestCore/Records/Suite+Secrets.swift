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

    /// A stable fingerprint of the suite (FNV-1a over its sorted-keys JSON), to notice that a suite changed under
    /// a resumed run.
    public var fingerprint: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let data = (try? encoder.encode(self)) ?? Data()
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in data {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01b3
        }
        return String(format: "%016llx", hash)
    }
}
