import Foundation

/// The result of `roadtest drill`: the faulted run's scorecards, each with its resilience figures, and the
/// timeline of faults and outcomes. The JSON contract of `drill --json` (schema_version 1).
public struct DrillReport: Sendable, Hashable, Codable {
    public static let schemaVersion = 1

    /// One candidate: its scorecard under faults with a `resilience` section beside the scorecard's fields.
    public struct Candidate: Sendable, Hashable, Codable {
        public var scorecard: Scorecard
        /// Nil for candidates that ran without faults in front of them.
        public var resilience: Resilience?

        public init(scorecard: Scorecard, resilience: Resilience?) {
            self.scorecard = scorecard
            self.resilience = resilience
        }

        enum CodingKeys: String, CodingKey { case resilience }

        public init(from decoder: any Decoder) throws {
            scorecard = try Scorecard(from: decoder)
            resilience = try decoder.container(keyedBy: CodingKeys.self).decodeIfPresent(
                Resilience.self,
                forKey: .resilience
            )
        }

        public func encode(to encoder: any Encoder) throws {
            try scorecard.encode(to: encoder)
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(resilience, forKey: .resilience)
        }
    }

    /// A point of the timeline, seconds after the faults started.
    public struct Event: Sendable, Hashable, Codable {
        public var t: Double
        public var candidate: String
        /// `fault` (an injected fault) or `outcome` (a trial finished).
        public var type: String
        /// The fault as written, for faults.
        public var fault: String?
        /// For outcomes: passed its checks.
        public var passed: Bool?
        /// For outcomes: the fallback candidate that served it, if one did.
        public var servedBy: String?

        enum CodingKeys: String, CodingKey {
            case t, candidate, type, fault, passed
            case servedBy = "served_by"
        }

        public init(
            t: Double,
            candidate: String,
            type: String,
            fault: String? = nil,
            passed: Bool? = nil,
            servedBy: String? = nil
        ) {
            self.t = t
            self.candidate = candidate
            self.type = type
            self.fault = fault
            self.passed = passed
            self.servedBy = servedBy
        }
    }

    public var schemaVersion: Int
    /// The faulted run (stored like any run).
    public var runID: String
    /// The clean run it is compared with.
    public var cleanRunID: String
    public var suite: String
    /// The fault spec as parsed (`429:30%,cut:10%`), empty when only a scenario was given.
    public var faults: String
    public var seed: UInt64
    public var windows: [FaultWindow]
    /// Candidates that had faults in front of them.
    public var drilled: [String]
    public var startedAt: String
    public var candidates: [Candidate]
    /// Trials planned but not recorded, over every drilled candidate (must be 0).
    public var lost: Int
    public var timeline: [Event]

    enum CodingKeys: String, CodingKey {
        case schemaVersion = "schema_version"
        case runID = "run_id"
        case cleanRunID = "clean_run_id"
        case suite, faults, seed, windows, drilled
        case startedAt = "started_at"
        case candidates, lost, timeline
    }

    public init(
        runID: String,
        cleanRunID: String,
        suite: String,
        faults: String,
        seed: UInt64,
        windows: [FaultWindow],
        drilled: [String],
        startedAt: String,
        candidates: [Candidate],
        timeline: [Event]
    ) {
        self.schemaVersion = Self.schemaVersion
        self.runID = runID
        self.cleanRunID = cleanRunID
        self.suite = suite
        self.faults = faults
        self.seed = seed
        self.windows = windows
        self.drilled = drilled
        self.startedAt = startedAt
        self.candidates = candidates
        self.lost = candidates.compactMap(\.resilience?.lost).reduce(0, +)
        self.timeline = timeline
    }
}
