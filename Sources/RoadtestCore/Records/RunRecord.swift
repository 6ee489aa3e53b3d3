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

    /// An ISO 8601 timestamp (UTC, milliseconds) for `date`.
    public static func timestamp(_ date: Date = Date()) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: date)
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
