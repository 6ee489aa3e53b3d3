import Foundation

/// What a comparison concluded about a pass rate.
public enum Verdict: String, Sendable, Hashable, Codable {
    case regression
    case improvement
    case noSignificantChange = "no_significant_change"
}

/// A figure in both runs: base, head, head − base, and a 95% interval of the difference when one could be made.
public struct Delta: Sendable, Hashable, Codable {
    public var base: Double?
    public var head: Double?
    public var delta: Double?
    public var ci95: [Double]?

    public init(base: Double?, head: Double?, delta: Double?, ci95: [Double]?) {
        self.base = base
        self.head = head
        self.delta = delta
        self.ci95 = ci95
    }

    /// The whole interval lies above zero: the head is larger, beyond noise.
    public var isSignificantIncrease: Bool { (ci95?.first ?? 0) > 0 }

    enum CodingKeys: String, CodingKey { case base, head, delta, ci95 }

    /// A figure that could not be computed is `null`, as everywhere in Roadtest's JSON.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(base, forKey: .base)
        try container.encode(head, forKey: .head)
        try container.encode(delta, forKey: .delta)
        try container.encode(ci95, forKey: .ci95)
    }
}

/// A pair whose outcome changed.
public struct Flip: Sendable, Hashable, Codable {
    public var caseID: String
    public var sample: Int
    /// The variant's name; nil for the case as written.
    public var variant: String?
    public var base: Bool
    public var head: Bool

    enum CodingKeys: String, CodingKey {
        case caseID = "case"
        case sample, variant, base, head
    }

    public init(caseID: String, sample: Int, variant: String?, base: Bool, head: Bool) {
        self.caseID = caseID
        self.sample = sample
        self.variant = variant
        self.base = base
        self.head = head
    }
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(caseID, forKey: .caseID)
        try container.encode(sample, forKey: .sample)
        try container.encode(variant, forKey: .variant)  // null for the case as written
        try container.encode(base, forKey: .base)
        try container.encode(head, forKey: .head)
    }
}

public struct LatencyComparison: Sendable, Hashable, Codable {
    public var e2eP50: Delta
    public var e2eP95: Delta
    public var ttftP50: Delta
    public var ttftP95: Delta

    enum CodingKeys: String, CodingKey {
        case e2eP50 = "e2e_p50"
        case e2eP95 = "e2e_p95"
        case ttftP50 = "ttft_p50"
        case ttftP95 = "ttft_p95"
    }
}

public struct TagComparison: Sendable, Hashable, Codable {
    public var pairs: Int
    public var regressions: Int
    public var fixes: Int
    public var passRate: Delta
    public var mcnemarP: Double
    public var verdict: Verdict
    public var latencyMilliseconds: LatencyComparison
    public var costPerSuccess: Delta

    enum CodingKeys: String, CodingKey {
        case pairs, regressions, fixes
        case passRate = "pass_rate"
        case mcnemarP = "mcnemar_p"
        case verdict
        case latencyMilliseconds = "latency_ms"
        case costPerSuccess = "cost_per_success"
    }
}

/// One candidate compared across two runs (or two candidates of one run). Names are the JSON contract.
public struct CandidateComparison: Sendable, Hashable, Codable {
    public var id: String
    public var baseID: String
    public var headID: String
    public var pairs: Int
    public var unpaired: Int
    public var bothPass: Int
    public var bothFail: Int
    public var regressions: Int
    public var fixes: Int
    public var passRate: Delta
    public var mcnemarP: Double
    public var verdict: Verdict
    public var latencyMilliseconds: LatencyComparison
    public var costPerSuccess: Delta
    public var flipped: [Flip]
    public var byTag: [String: TagComparison]
    /// The smallest pass-rate difference this many cases can detect (80% power, alpha 0.05, paired).
    public var minimumDetectableDifference: Double?

    enum CodingKeys: String, CodingKey {
        case id
        case baseID = "base_id"
        case headID = "head_id"
        case pairs, unpaired
        case bothPass = "both_pass"
        case bothFail = "both_fail"
        case regressions, fixes
        case passRate = "pass_rate"
        case mcnemarP = "mcnemar_p"
        case verdict
        case latencyMilliseconds = "latency_ms"
        case costPerSuccess = "cost_per_success"
        case flipped
        case byTag = "by_tag"
        case minimumDetectableDifference = "minimum_detectable_difference"
    }
}

/// A whole comparison: what `roadtest compare` renders.
public struct ComparisonReport: Sendable, Hashable, Codable {
    public struct Side: Sendable, Hashable, Codable {
        public var runID: String
        public var suite: String

        enum CodingKeys: String, CodingKey {
            case runID = "run_id"
            case suite
        }

        public init(runID: String, suite: String) {
            self.runID = runID
            self.suite = suite
        }
    }

    /// Kinds of regression `--fail-on` can gate on.
    public enum Gate: String, Sendable, Hashable, Codable, CaseIterable {
        case regression
        case latency
        case cost
    }

    public var schemaVersion = 1
    public var base: Side
    public var head: Side
    /// Some candidate's pass rate regressed significantly.
    public var regressed: Bool
    public var candidates: [CandidateComparison]
    public var alpha: Double
    public var minimumEffect: Double
    public var warnings: [String]

    enum CodingKeys: String, CodingKey {
        case schemaVersion = "schema_version"
        case base, head, regressed, candidates, alpha
        case minimumEffect = "min_effect"
        case warnings
    }

    public init(
        base: Side,
        head: Side,
        candidates: [CandidateComparison],
        alpha: Double,
        minimumEffect: Double,
        warnings: [String] = []
    ) {
        self.base = base
        self.head = head
        self.candidates = candidates
        self.alpha = alpha
        self.minimumEffect = minimumEffect
        self.warnings = warnings
        self.regressed = candidates.contains { $0.verdict == .regression }
    }

    /// The gates among `gates` that this comparison trips.
    public func tripped(_ gates: Set<Gate>) -> [Gate] {
        Gate.allCases.filter { gate in
            gates.contains(gate)
                && candidates.contains { candidate in
                    switch gate {
                    case .regression: return candidate.verdict == .regression
                    case .latency: return candidate.latencyMilliseconds.e2eP95.isSignificantIncrease
                    case .cost: return candidate.costPerSuccess.isSignificantIncrease
                    }
                }
        }
    }
}
