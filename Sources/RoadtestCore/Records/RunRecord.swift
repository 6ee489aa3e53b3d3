import Foundation

/// Where a run is in its life.
public enum RunStatus: String, Sendable, Hashable, Codable, CaseIterable {
    /// Trials are being run (or the process running them died; `--resume` continues it).
    case running
    /// Stopped by Ctrl-C or SIGTERM; every finished trial is stored and `--resume` continues it.
    case interrupted
    /// Could not go on (a store error, say); finished trials are stored and `--resume` continues it.
    case failed
    /// Every trial ran.
    case finished
}

/// A stored run's header.
public struct RunRecord: Sendable, Hashable, Codable {
    public var id: String
    public var suiteName: String
    /// The suite file's absolute path (resume finds a run by it).
    public var suitePath: String
    /// A fingerprint of the suite, to notice it changed under a resumed run.
    public var suiteHash: String
    public var status: RunStatus
    public var startedAt: String
    public var finishedAt: String?
    /// The Roadtest version that started the run.
    public var version: String

    public init(
        id: String,
        suiteName: String,
        suitePath: String,
        suiteHash: String,
        status: RunStatus,
        startedAt: String,
        finishedAt: String? = nil,
        version: String
    ) {
        self.id = id
        self.suiteName = suiteName
        self.suitePath = suitePath
        self.suiteHash = suiteHash
        self.status = status
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.version = version
    }

    /// An ISO 8601 timestamp (UTC, milliseconds) for `date`: `2026-12-05T03:20:00.123Z`, as `ISO8601DateFormatter`
    /// writes it with fractional seconds. Computed by hand (every stored outcome carries one; a formatter per call
    /// took a fifth of a run's CPU): the civil date from the day count (Hinnant's `civil_from_days`).
    public static func timestamp(_ date: Date = Date()) -> String {
        let millis = Int64((date.timeIntervalSince1970 * 1000).rounded(.down))
        let days = millis >= 0 ? millis / 86_400_000 : (millis - 86_399_999) / 86_400_000
        var rest = millis - days * 86_400_000
        let shifted = days + 719_468
        let era = (shifted >= 0 ? shifted : shifted - 146_096) / 146_097
        let dayOfEra = shifted - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        var bytes: [UInt8] = []
        bytes.reserveCapacity(24)
        func digits(_ value: Int64, _ count: Int) {
            var divisor: Int64 = 1
            for _ in 1..<count { divisor *= 10 }
            var value = value
            while divisor > 0 {
                bytes.append(UInt8(ascii: "0") + UInt8(value / divisor % 10))
                value %= divisor
                divisor /= 10
            }
        }
        digits(year, 4)
        bytes.append(UInt8(ascii: "-"))
        digits(month, 2)
        bytes.append(UInt8(ascii: "-"))
        digits(day, 2)
        bytes.append(UInt8(ascii: "T"))
        digits(rest / 3_600_000, 2)
        rest %= 3_600_000
        bytes.append(UInt8(ascii: ":"))
        digits(rest / 60_000, 2)
        rest %= 60_000
        bytes.append(UInt8(ascii: ":"))
        digits(rest / 1000, 2)
        bytes.append(UInt8(ascii: "."))
        digits(rest % 1000, 3)
        bytes.append(UInt8(ascii: "Z"))
        return String(decoding: bytes, as: UTF8.self)
    }

    /// A new run id: sortable by time, unique enough for one machine (`20261122-150000-ab12`).
    public static func makeID(date: Date = Date()) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMdd-HHmmss"
        return formatter.string(from: date) + "-" + String(format: "%04x", UInt16.random(in: 0...UInt16.max))
    }
}
