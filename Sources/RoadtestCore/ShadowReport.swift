import Foundation

/// Live answers against shadow candidates' answers to the same requests, per route and shadow candidate. Pure.
public struct ShadowReport: Sendable, Hashable, Codable {
    public struct Comparison: Sendable, Hashable, Codable {
        public var route: String
        public var live: [String]
        public var shadow: String
        public var pairs: Int
        /// Pairs where the shadow answered too.
        public var answered: Int
        /// Answered pairs whose answers agree after normalisation (case, spacing, punctuation).
        public var agreed: Int
        public var agreementRate: Double?
        public var agreementCI95: [Double]
        /// Shadow failures by attempt class.
        public var shadowErrors: [String: Int]
        /// Median over answered pairs of (shadow E2E − live E2E), in milliseconds; positive: the shadow is slower.
        public var e2eDeltaP50Ms: Double?
        public var liveE2EP95Ms: Double?
        public var shadowE2EP95Ms: Double?
        public var liveCostUSD: Double
        public var shadowCostUSD: Double
        /// With a suite: pairs whose input is one of its cases, graded by that case's deterministic checks.
        public var graded: Graded?

        enum CodingKeys: String, CodingKey {
            case route, live, shadow, pairs, answered, agreed
            case agreementRate = "agreement_rate"
            case agreementCI95 = "agreement_ci95"
            case shadowErrors = "shadow_errors"
            case e2eDeltaP50Ms = "e2e_delta_p50_ms"
            case liveE2EP95Ms = "live_e2e_p95_ms"
            case shadowE2EP95Ms = "shadow_e2e_p95_ms"
            case liveCostUSD = "live_cost_usd"
            case shadowCostUSD = "shadow_cost_usd"
            case graded
        }
    }

    /// Pass rates of live and shadow answers on the same inputs, paired: McNemar's exact test on the pairs where
    /// exactly one side passed.
    public struct Graded: Sendable, Hashable, Codable {
        public var pairs: Int
        public var livePassRate: Double
        public var shadowPassRate: Double
        /// Live passed, shadow failed.
        public var shadowWorse: Int
        /// Live failed, shadow passed.
        public var shadowBetter: Int
        public var mcnemarP: Double
        /// Checks that need I/O (judge, command, similar) are not graded here.
        public var checksSkipped: Int

        enum CodingKeys: String, CodingKey {
            case pairs
            case livePassRate = "live_pass_rate"
            case shadowPassRate = "shadow_pass_rate"
            case shadowWorse = "shadow_worse"
            case shadowBetter = "shadow_better"
            case mcnemarP = "mcnemar_p"
            case checksSkipped = "checks_skipped"
        }
    }

    /// Grades an output with a case's deterministic checks: the verdict, and how many checks could not be run.
    public static func grade(_ output: String, by testCase: Case) -> (passed: Bool, skipped: Int) {
        var results: [CheckResult] = []
        var skipped = 0
        for check in testCase.checks {
            let context = CheckEvaluator.Context(endToEnd: nil, costUSD: 0, input: testCase.input)
            guard let raw = CheckEvaluator.evaluate(check.kind, output: output, context: context) else {
                skipped += 1
                continue
            }
            results.append(CheckEvaluator.result(for: check, passed: raw.passed, score: raw.score, reason: raw.reason))
        }
        return (CheckEvaluator.verdict(of: results, threshold: testCase.threshold).passed, skipped)
    }

    public var schemaVersion = 1
    public var comparisons: [Comparison]

    enum CodingKeys: String, CodingKey {
        case schemaVersion = "schema_version"
        case comparisons
    }

    /// The comparisons; with `cases`, pairs whose input equals a case's input are also graded by its checks.
    public init(pairs: [ShadowPair], cases: [Case] = []) {
        var byInput: [String: Case] = [:]
        for testCase in cases where testCase.attack == nil {
            byInput[testCase.input] = byInput[testCase.input] ?? testCase
        }
        let groups = Dictionary(grouping: pairs) { "\($0.route)\u{1F}\($0.shadowCandidate)" }
        comparisons = groups.keys.sorted().map { key in
            let group = groups[key]!
            let answered = group.filter { $0.shadowOutcome == "ok" }
            let agreed = answered.filter {
                AnswerSelection.normalised($0.liveOutput) == AnswerSelection.normalised($0.shadowOutput)
            }.count
            let interval = Statistics.wilsonInterval(successes: Double(agreed), trials: Double(answered.count))
            let deltas = answered.compactMap { pair -> Double? in
                guard let live = pair.liveEndToEnd, let shadow = pair.shadowEndToEnd else { return nil }
                return (shadow - live) * 1000
            }.sorted()
            var errors: [String: Int] = [:]
            for pair in group where pair.shadowOutcome != "ok" { errors[pair.shadowOutcome, default: 0] += 1 }
            return Comparison(
                route: group[0].route,
                live: Array(Set(group.map(\.liveCandidate))).sorted(),
                shadow: group[0].shadowCandidate,
                pairs: group.count,
                answered: answered.count,
                agreed: agreed,
                agreementRate: answered.isEmpty ? nil : Double(agreed) / Double(answered.count),
                agreementCI95: [interval.lower, interval.upper],
                shadowErrors: errors,
                e2eDeltaP50Ms: Statistics.percentile(sorted: deltas, 0.5),
                liveE2EP95Ms: Statistics.percentile(sorted: group.compactMap(\.liveEndToEnd).sorted(), 0.95).map {
                    $0 * 1000
                },
                shadowE2EP95Ms: Statistics.percentile(sorted: answered.compactMap(\.shadowEndToEnd).sorted(), 0.95).map
                {
                    $0 * 1000
                },
                liveCostUSD: group.reduce(0) { $0 + $1.liveCostUSD },
                shadowCostUSD: group.reduce(0) { $0 + $1.shadowCostUSD },
                graded: byInput.isEmpty ? nil : Self.graded(answered, byInput)
            )
        }
    }

    static func graded(_ pairs: [ShadowPair], _ byInput: [String: Case]) -> Graded {
        var count = 0
        var live = 0
        var shadow = 0
        var worse = 0
        var better = 0
        var skipped = 0
        for pair in pairs {
            guard let testCase = byInput[pair.input] else { continue }
            let l = grade(pair.liveOutput, by: testCase)
            let s = grade(pair.shadowOutput, by: testCase)
            count += 1
            skipped += l.skipped
            if l.passed { live += 1 }
            if s.passed { shadow += 1 }
            if l.passed && !s.passed { worse += 1 }
            if !l.passed && s.passed { better += 1 }
        }
        return Graded(
            pairs: count,
            livePassRate: count > 0 ? Double(live) / Double(count) : 0,
            shadowPassRate: count > 0 ? Double(shadow) / Double(count) : 0,
            shadowWorse: worse,
            shadowBetter: better,
            mcnemarP: Statistics.mcnemarExactP(worse, better),
            checksSkipped: skipped
        )
    }
}
