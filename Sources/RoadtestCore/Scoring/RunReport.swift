import Foundation

/// A whole run's report: what every renderer takes.
public struct RunReport: Sendable, Hashable, Codable {
    public static let schemaVersion = 1

    public var schemaVersion: Int
    public var runID: String
    public var suite: String
    public var suitePath: String
    public var status: String
    public var startedAt: String
    public var finishedAt: String?
    public var candidates: [Scorecard]
    /// Every bar of every candidate met (true when the suite has none).
    public var barsMet: Bool

    enum CodingKeys: String, CodingKey {
        case schemaVersion = "schema_version"
        case runID = "run_id"
        case suite
        case suitePath = "suite_path"
        case status
        case startedAt = "started_at"
        case finishedAt = "finished_at"
        case candidates
        case barsMet = "bars_met"
    }

    public init(
        runID: String,
        suite: String,
        suitePath: String,
        status: String,
        startedAt: String,
        finishedAt: String?,
        candidates: [Scorecard]
    ) {
        self.schemaVersion = Self.schemaVersion
        self.runID = runID
        self.suite = suite
        self.suitePath = suitePath
        self.status = status
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.candidates = candidates
        self.barsMet = candidates.allSatisfy(\.bars.met)
    }
}

/// One trial as reports list it (outputs, failed checks).
public struct TrialRow: Sendable, Hashable, Codable {
    public var key: TrialKey
    public var tags: [String]
    public var input: String
    public var passed: Bool
    public var score: Double
    public var output: String
    public var checks: [CheckResult]
    public var finalClass: AttemptClass
    public var attempts: Int
    public var endToEnd: Double?
    public var costUSD: Double
    /// The system prompt sent, when it differs from the case's (prompt alternatives).
    public var system: String?
    /// The conversation of a tool-calling trial or an attack (system prompt first).
    public var transcript: [Message]?
    /// For attack trials: the pack, whether it succeeded, what showed it, and the text to highlight.
    public var attackPack: String?
    public var attackSucceeded: Bool?
    public var attackEvidence: String?
    public var attackHighlight: String?

    public init(
        key: TrialKey,
        tags: [String],
        input: String,
        passed: Bool,
        score: Double,
        output: String,
        checks: [CheckResult],
        finalClass: AttemptClass,
        attempts: Int,
        endToEnd: Double?,
        costUSD: Double,
        system: String? = nil
    ) {
        self.key = key
        self.tags = tags
        self.input = input
        self.passed = passed
        self.score = score
        self.output = output
        self.checks = checks
        self.finalClass = finalClass
        self.attempts = attempts
        self.endToEnd = endToEnd
        self.costUSD = costUSD
        self.system = system
    }
}

extension TrialRow {
    /// The row of a private (holdout) case as reports may show it: its id, and hashes of its input and output;
    /// no input, expected value, check reason or output.
    public func redacted() -> TrialRow {
        func hash(_ text: String) -> String { String(format: "fnv1a:%016llx", FNV.hash(text)) }
        var row = self
        row.input = "[private case · input \(hash(input))]"
        row.output = "[private case · output \(hash(output))]"
        row.checks = checks.map { check in
            var check = check
            check.reason = "[private]"
            return check
        }
        row.transcript = nil
        row.system = nil
        return row
    }
}
