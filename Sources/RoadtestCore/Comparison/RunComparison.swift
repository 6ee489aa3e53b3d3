import Foundation

/// What a paired comparison needs of one trial.
public struct PairedTrial: Sendable, Hashable {
    public var passed: Bool
    /// E2E and TTFT of the trial's answer (seconds), when it got one.
    public var endToEnd: Double?
    public var timeToFirstToken: Double?
    /// Every attempt and judge call of the trial.
    public var costUSD: Double
    public var tags: [String]

    public init(passed: Bool, endToEnd: Double?, timeToFirstToken: Double?, costUSD: Double, tags: [String]) {
        self.passed = passed
        self.endToEnd = endToEnd
        self.timeToFirstToken = timeToFirstToken
        self.costUSD = costUSD
        self.tags = tags
    }

    /// The facts of a stored outcome record.
    public init(_ record: OutcomeRecord) {
        let answer = record.outcome.attempts.last { $0.role == .task && $0.attemptClass == .ok }
        self.init(
            passed: record.outcome.passed,
            endToEnd: answer?.endToEnd,
            timeToFirstToken: answer?.timeToFirstToken,
            costUSD: record.outcome.costUSD,
            tags: record.tags
        )
    }
}

/// Where a trial sits within its candidate: trials of two runs pair on this.
public struct PairKey: Sendable, Hashable, Comparable {
    public var caseID: String
    public var sample: Int
    public var variant: Variant

    public init(caseID: String, sample: Int, variant: Variant) {
        self.caseID = caseID
        self.sample = sample
        self.variant = variant
    }

    public init(_ key: TrialKey) {
        self.init(caseID: key.caseID, sample: key.sample, variant: key.variant)
    }

    public static func < (lhs: PairKey, rhs: PairKey) -> Bool {
        (lhs.caseID, lhs.sample, lhs.variant.name) < (rhs.caseID, rhs.sample, rhs.variant.name)
    }
}

/// Paired comparison of two runs (or two candidates of one run) on the trials both have. Pure.
///
/// Pass rates: difference with a 95% paired bootstrap interval (resampling cases, so a case's samples stay
/// together), McNemar's exact p-value on the discordant pairs, and a verdict at `alpha` for differences of at
/// least `minimumEffect`. Latency (p50/p95 of TTFT and E2E over paired answers) and cost per success: differences
/// with bootstrap intervals; a regression of those is an interval entirely above zero.
public struct RunComparison: Sendable {
    public var alpha: Double
    public var minimumEffect: Double
    public var resamples: Int

    public init(alpha: Double = 0.05, minimumEffect: Double = 0, resamples: Int = 2000) {
        self.alpha = alpha
        self.minimumEffect = minimumEffect
        self.resamples = resamples
    }

    /// Compares one candidate's trials in the base run with one candidate's trials in the head run.
    public func compare(
        baseID: String,
        headID: String,
        base: [PairKey: PairedTrial],
        head: [PairKey: PairedTrial]
    ) -> CandidateComparison {
        let keys = base.keys.filter { head[$0] != nil }.sorted()
        let unpaired = base.count + head.count - 2 * keys.count
        let pairs = keys.map { (key: $0, base: base[$0]!, head: head[$0]!) }
        var bothPass = 0
        var bothFail = 0
        var flipped: [Flip] = []
        for pair in pairs {
            switch (pair.base.passed, pair.head.passed) {
            case (true, true): bothPass += 1
            case (false, false): bothFail += 1
            default:
                flipped.append(
                    Flip(
                        caseID: pair.key.caseID,
                        sample: pair.key.sample,
                        variant: pair.key.variant.isOriginal ? nil : pair.key.variant.name,
                        base: pair.base.passed,
                        head: pair.head.passed
                    )
                )
            }
        }
        let regressions = flipped.filter { $0.base && !$0.head }.count
        let fixes = flipped.count - regressions
        // Clusters: every pair of one case together.
        var clusters: [[(base: PairedTrial, head: PairedTrial)]] = []
        var clusterIndex: [String: Int] = [:]
        for pair in pairs {
            if let index = clusterIndex[pair.key.caseID] {
                clusters[index].append((pair.base, pair.head))
            } else {
                clusterIndex[pair.key.caseID] = clusters.count
                clusters.append([(pair.base, pair.head)])
            }
        }
        let p = Statistics.mcnemarExactP(regressions, fixes)
        let overall = figures(clusters, resamples: resamples)
        let outcome = verdict(overall.passRate.delta, p)
        // The same per tag (fewer resamples: there may be many tags).
        var byTag: [String: TagComparison] = [:]
        for tag in Set(pairs.flatMap(\.base.tags)) {
            let tagged = clusters.map { $0.filter { $0.base.tags.contains(tag) } }.filter { !$0.isEmpty }
            let flat = tagged.flatMap { $0 }
            let tagRegressions = flat.filter { $0.base.passed && !$0.head.passed }.count
            let tagFixes = flat.filter { !$0.base.passed && $0.head.passed }.count
            let tagP = Statistics.mcnemarExactP(tagRegressions, tagFixes)
            let tagFigures = self.figures(tagged, resamples: min(resamples, 500))
            byTag[tag] = TagComparison(
                pairs: flat.count,
                regressions: tagRegressions,
                fixes: tagFixes,
                passRate: tagFigures.passRate,
                mcnemarP: tagP,
                verdict: self.verdict(tagFigures.passRate.delta, tagP),
                latencyMilliseconds: tagFigures.latency,
                costPerSuccess: tagFigures.costPerSuccess
            )
        }
        let passRate = overall.passRate
        let latency = overall.latency
        let costPerSuccess = overall.costPerSuccess
        let discordance = pairs.isEmpty ? 0.2 : max(Double(flipped.count) / Double(pairs.count), 0.05)
        return CandidateComparison(
            id: headID == baseID ? headID : "\(baseID) → \(headID)",
            baseID: baseID,
            headID: headID,
            pairs: pairs.count,
            unpaired: unpaired,
            bothPass: bothPass,
            bothFail: bothFail,
            regressions: regressions,
            fixes: fixes,
            passRate: passRate,
            mcnemarP: p,
            verdict: outcome,
            latencyMilliseconds: latency,
            costPerSuccess: costPerSuccess,
            flipped: flipped,
            byTag: byTag,
            minimumDetectableDifference: Statistics.minimumDetectableDifference(
                cases: clusters.count,
                discordance: discordance
            )
        )
    }

    func verdict(_ difference: Double?, _ p: Double) -> Verdict {
        guard let difference, p < alpha, abs(difference) >= minimumEffect, difference != 0 else {
            return .noSignificantChange
        }
        return difference < 0 ? .regression : .improvement
    }

    typealias Clusters = [[(base: PairedTrial, head: PairedTrial)]]

    /// Pass rate, latency percentiles and cost per success of paired clusters, with bootstrap intervals.
    func figures(
        _ clusters: Clusters,
        resamples: Int
    ) -> (
        passRate: Delta, latency: LatencyComparison, costPerSuccess: Delta
    ) {
        let passRate = delta(clusters, resamples: resamples) { side in
            side.isEmpty ? nil : Double(side.filter(\.passed).count) / Double(side.count)
        }
        func percentile(_ p: Double, _ value: @escaping (PairedTrial) -> Double?) -> Delta {
            delta(clusters, resamples: resamples) { side in
                Statistics.percentile(sorted: side.compactMap(value).sorted(), p).map { $0 * 1000 }
            }
        }
        let latency = LatencyComparison(
            e2eP50: percentile(0.5, \.endToEnd),
            e2eP95: percentile(0.95, \.endToEnd),
            ttftP50: percentile(0.5, \.timeToFirstToken),
            ttftP95: percentile(0.95, \.timeToFirstToken)
        )
        let costPerSuccess = delta(clusters, resamples: resamples) { side in
            let passed = side.filter(\.passed).count
            return passed > 0 ? side.reduce(0) { $0 + $1.costUSD } / Double(passed) : nil
        }
        return (passRate, latency, costPerSuccess)
    }

    /// Base value, head value, head − base, and a paired bootstrap interval of the difference.
    func delta(_ clusters: Clusters, resamples: Int, _ statistic: ([PairedTrial]) -> Double?) -> Delta {
        let base = statistic(clusters.flatMap { $0.map(\.base) })
        let head = statistic(clusters.flatMap { $0.map(\.head) })
        let difference = base.flatMap { base in head.map { $0 - base } }
        let interval = Statistics.bootstrapInterval(clusters, resamples: resamples) { sample in
            let pairs = sample.flatMap { $0 }
            guard let base = statistic(pairs.map(\.base)), let head = statistic(pairs.map(\.head)) else { return nil }
            return head - base
        }
        return Delta(base: base, head: head, delta: difference, ci95: interval.map { [$0.lower, $0.upper] })
    }
}
