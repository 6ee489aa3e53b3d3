import Foundation

/// The life of each case over a suite's recent runs: does it still tell candidates apart?
public struct CaseLifecycleReport: Sendable, Hashable, Codable {
    public struct CaseStatus: Sendable, Hashable, Codable {
        public var id: String
        /// Pass rate per candidate over the runs considered (cases as written).
        public var passRate: [String: Double]
        /// Trials per candidate.
        public var trials: [String: Int]
        /// Candidates' pass rates differ by at least half: the case separates them.
        public var discriminates: Bool
        /// Every candidate passed every trial of the runs considered: it no longer tells anything apart.
        public var saturated: Bool
        /// No candidate ever passed it.
        public var neverPassed: Bool

        enum CodingKeys: String, CodingKey {
            case id
            case passRate = "pass_rate"
            case trials, discriminates, saturated
            case neverPassed = "never_passed"
        }
    }

    public var schemaVersion = 1
    public var suite: String
    /// The runs considered, oldest first.
    public var runIDs: [String]
    public var cases: [CaseStatus]

    enum CodingKeys: String, CodingKey {
        case schemaVersion = "schema_version"
        case suite
        case runIDs = "run_ids"
        case cases
    }

    public init(suite: String, runIDs: [String], cases: [CaseStatus]) {
        self.suite = suite
        self.runIDs = runIDs
        self.cases = cases
    }

    /// Folds the outcome records of the runs considered (cases as written only).
    public struct Builder: Sendable {
        private var counts: [String: [String: (trials: Int, passed: Int)]] = [:]
        private var candidates: Set<String> = []

        public init() {}

        public mutating func add(_ record: OutcomeRecord) {
            let key = record.outcome.key
            guard key.variant.isOriginal else { return }
            candidates.insert(key.candidate)
            var count = counts[key.caseID, default: [:]][key.candidate] ?? (0, 0)
            count.trials += 1
            if record.outcome.passed { count.passed += 1 }
            counts[key.caseID, default: [:]][key.candidate] = count
        }

        public func report(suite: String, runIDs: [String]) -> CaseLifecycleReport {
            let cases = counts.keys.sorted().map { id -> CaseStatus in
                let byCandidate = counts[id] ?? [:]
                let rates = byCandidate.mapValues { Double($0.passed) / Double(max(1, $0.trials)) }
                let values = Array(rates.values)
                let everyCandidate = candidates.allSatisfy { byCandidate[$0] != nil }
                return CaseStatus(
                    id: id,
                    passRate: rates,
                    trials: byCandidate.mapValues(\.trials),
                    discriminates: ((values.max() ?? 0) - (values.min() ?? 0)) >= 0.5,
                    saturated: everyCandidate && byCandidate.values.allSatisfy { $0.passed == $0.trials },
                    neverPassed: byCandidate.values.allSatisfy { $0.passed == 0 }
                )
            }
            return CaseLifecycleReport(suite: suite, runIDs: runIDs, cases: cases)
        }
    }
}
