import Foundation

extension Statistics {
    /// McNemar's exact test: the two-sided binomial p-value of `b` discordant pairs one way and `c` the other,
    /// under p = 0.5. 1 when there are no discordant pairs.
    public static func mcnemarExactP(_ b: Int, _ c: Int) -> Double {
        let n = b + c
        guard n > 0 else { return 1 }
        let k = min(b, c)
        // Σ_{i≤k} C(n, i) / 2^n, in log space so large n neither overflows nor underflows.
        var terms: [Double] = []
        for i in 0...k { terms.append(logChoose(n, i) - Double(n) * log(2.0)) }
        let largest = terms.max() ?? 0
        let tail = exp(largest) * terms.reduce(0) { $0 + exp($1 - largest) }
        return min(1, 2 * tail)
    }

    /// ln C(n, k).
    static func logChoose(_ n: Int, _ k: Int) -> Double {
        lgamma(Double(n + 1)) - lgamma(Double(k + 1)) - lgamma(Double(n - k + 1))
    }

    /// A percentile bootstrap 95% interval of `statistic` over `clusters` resampled with replacement (seeded, so
    /// the same data always gives the same interval). Clusters keep a case's samples together.
    public static func bootstrapInterval<Cluster>(
        _ clusters: [Cluster],
        resamples: Int = 2000,
        seed: UInt64 = 0x5EED_CAFE,
        statistic: ([Cluster]) -> Double?
    ) -> (lower: Double, upper: Double)? {
        guard !clusters.isEmpty else { return nil }
        var random = SplitMix64(seed: seed)
        var values: [Double] = []
        values.reserveCapacity(resamples)
        var sample: [Cluster] = []
        sample.reserveCapacity(clusters.count)
        for _ in 0..<resamples {
            sample.removeAll(keepingCapacity: true)
            for _ in clusters.indices { sample.append(clusters[Int(random.next() % UInt64(clusters.count))]) }
            if let value = statistic(sample), value.isFinite { values.append(value) }
        }
        guard values.count >= resamples / 2 else { return nil }
        values.sort()
        let lower = values[max(0, Int((Double(values.count) * 0.025).rounded(.down)))]
        let upper = values[min(values.count - 1, Int((Double(values.count) * 0.975).rounded(.up)) - 1)]
        return (lower, upper)
    }

    /// The smallest pass-rate difference a paired comparison over `cases` can detect with 80% power at a two-sided
    /// alpha of 0.05, for a discordance rate of `discordance` (the share of pairs that flip; 0.2 when unknown):
    /// δ = (z₀.₉₇₅ + z₀.₈) · √(discordance / n) (the normal approximation of McNemar's test).
    public static func minimumDetectableDifference(cases: Int, discordance: Double = 0.2) -> Double? {
        guard cases > 0 else { return nil }
        return (1.959964 + 0.841621) * (max(discordance, 1e-9) / Double(cases)).squareRoot()
    }
}
