import Foundation

/// A suite's runs over time, per candidate: the figures that drift, and where a run differs significantly from
/// the one before it (paired on their common trials).
public struct HistoryReport: Sendable, Hashable, Codable {
    public struct Point: Sendable, Hashable, Codable {
        public var candidate: String
        public var passRate: Double
        public var passRateCI95: [Double]
        public var e2eP95Milliseconds: Double?
        public var costPerSuccess: Double?
        /// Against the previous run with this candidate: `regression`, `improvement` or `no_significant_change`.
        public var drift: Verdict?
        public var mcnemarP: Double?

        enum CodingKeys: String, CodingKey {
            case candidate
            case passRate = "pass_rate"
            case passRateCI95 = "pass_rate_ci95"
            case e2eP95Milliseconds = "e2e_p95_ms"
            case costPerSuccess = "cost_per_success"
            case drift
            case mcnemarP = "mcnemar_p"
        }

        public init(
            candidate: String,
            passRate: Double,
            passRateCI95: [Double],
            e2eP95Milliseconds: Double?,
            costPerSuccess: Double?,
            drift: Verdict? = nil,
            mcnemarP: Double? = nil
        ) {
            self.candidate = candidate
            self.passRate = passRate
            self.passRateCI95 = passRateCI95
            self.e2eP95Milliseconds = e2eP95Milliseconds
            self.costPerSuccess = costPerSuccess
            self.drift = drift
            self.mcnemarP = mcnemarP
        }
    }

    public struct Run: Sendable, Hashable, Codable {
        public var runID: String
        public var startedAt: String
        public var candidates: [Point]

        enum CodingKeys: String, CodingKey {
            case runID = "run_id"
            case startedAt = "started_at"
            case candidates
        }

        public init(runID: String, startedAt: String, candidates: [Point]) {
            self.runID = runID
            self.startedAt = startedAt
            self.candidates = candidates
        }
    }

    public var schemaVersion = 1
    public var suite: String
    public var suitePath: String
    /// Oldest first.
    public var runs: [Run]

    enum CodingKeys: String, CodingKey {
        case schemaVersion = "schema_version"
        case suite
        case suitePath = "suite_path"
        case runs
    }

    public init(suite: String, suitePath: String, runs: [Run]) {
        self.suite = suite
        self.suitePath = suitePath
        self.runs = runs
    }

    /// Every point where a candidate drifted significantly.
    public var drifts: [(runID: String, point: Point)] {
        runs.flatMap { run in
            run.candidates.filter { $0.drift == .regression || $0.drift == .improvement }.map { (run.runID, $0) }
        }
    }
}
