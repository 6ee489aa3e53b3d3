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
        }
    }

    public var schemaVersion = 1
    public var comparisons: [Comparison]

    enum CodingKeys: String, CodingKey {
        case schemaVersion = "schema_version"
        case comparisons
    }

    public init(pairs: [ShadowPair]) {
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
                shadowCostUSD: group.reduce(0) { $0 + $1.shadowCostUSD }
            )
        }
    }
}
