import Foundation

/// The statistics every report uses; each function names its definition.
public enum Statistics {
    /// Wilson score interval for `successes` out of `trials` (95% by default). Returns (0, 1) for no trials.
    public static func wilsonInterval(
        successes: Double,
        trials: Double,
        z: Double = 1.959964
    ) -> (lower: Double, upper: Double) {
        guard trials > 0 else { return (0, 1) }
        let p = successes / trials
        let z2 = z * z
        let denominator = 1 + z2 / trials
        let centre = (p + z2 / (2 * trials)) / denominator
        let half = z * ((p * (1 - p) / trials + z2 / (4 * trials * trials)).squareRoot()) / denominator
        let lower = successes <= 0 ? 0 : max(0, centre - half)
        let upper = successes >= trials ? 1 : min(1, centre + half)
        return (lower, upper)
    }

    /// Nearest-rank percentile of sorted values: the smallest value with at least `p` of the data at or below it.
    public static func percentile(sorted values: [Double], _ p: Double) -> Double? {
        guard !values.isEmpty else { return nil }
        return values[rank(count: values.count, p) - 1]
    }

    /// A distribution-free confidence interval for the `p`-quantile of `count` values (Conover, *Practical
    /// Nonparametric Statistics*, 3.2): the 1-based ranks (lower, upper) of the order statistics X(lower) ≤ ξp ≤
    /// X(upper), each side missing with probability at most (1 − level) / 2, so the interval covers with at least
    /// `level`. With B ~ Binomial(count, p): lower is the largest rank with P(B ≤ lower − 1) ≤ α/2, upper the
    /// smallest with P(B ≤ upper − 1) ≥ 1 − α/2. Exact binomial sums up to 20,000 values, the normal approximation
    /// (with continuity correction) above. Nil when there are too few values for either bound to exist (the p99 of
    /// fewer than 368 values, the p95 of fewer than 72, the p50 of fewer than 6).
    public static func quantileIntervalRanks(
        count n: Int,
        p: Double,
        level: Double = 0.95
    ) -> (lower: Int, upper: Int)? {
        guard n > 0, p > 0, p < 1 else { return nil }
        let tail = (1 - level) / 2
        if n > 20_000 {
            let z = normalQuantile(1 - tail)
            let mean = Double(n) * p
            let spread = z * (mean * (1 - p)).squareRoot()
            let lower = Int((mean - spread + 0.5).rounded(.down))
            let upper = Int((mean + spread + 0.5).rounded(.up))
            guard lower >= 1, upper <= n else { return nil }
            return (lower, upper)
        }
        // cdf[k] = P(B ≤ k), summed in log space so that no term underflows on the way.
        let logP = Foundation.log(p)
        let logQ = Foundation.log1p(-p)
        // log P(B = k), from log P(B = 0) = n·log(1 − p) by the ratio of consecutive terms.
        var logTerm = Double(n) * logQ
        var lower: Int?
        var upper: Int?
        var cumulative = 0.0
        for k in 0..<n {
            if k > 0 { logTerm += Foundation.log(Double(n - k + 1) / Double(k)) + logP - logQ }
            cumulative += Foundation.exp(logTerm)
            // cumulative = P(B ≤ k): rank k + 1 is a valid lower bound while it stays ≤ α/2.
            if cumulative <= tail { lower = k + 1 }
            if cumulative >= 1 - tail {
                upper = k + 1
                break
            }
        }
        guard let lower, let upper else { return nil }
        return (lower, upper)
    }

    /// The standard normal quantile (Acklam's rational approximation, relative error below 1.2e-9).
    public static func normalQuantile(_ probability: Double) -> Double {
        let a = [
            -39.69683028665376, 220.9460984245205, -275.9285104469687, 138.3577518672690, -30.66479806614716,
            2.506628277459239,
        ]
        let b = [-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572]
        let c = [
            -0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734,
            4.374664141464968, 2.938163982698783,
        ]
        let d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416]
        let p = min(max(probability, 1e-300), 1 - 1e-16)
        if p < 0.02425 {
            let q = (-2 * Foundation.log(p)).squareRoot()
            return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5])
                / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1)
        }
        if p > 1 - 0.02425 { return -normalQuantile(1 - p) }
        let q = p - 0.5
        let r = q * q
        return (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q
            / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1)
    }

    /// 1-based nearest rank for `p` in a set of `count` values.
    public static func rank(count: Int, _ p: Double) -> Int {
        min(count, max(1, Int((p * Double(count)).rounded(.up))))
    }

    /// Unbiased pass@k estimator (Chen et al. 2021): 1 - C(n-c, k) / C(n, k).
    public static func passAtK(n: Int, c: Int, k: Int) -> Double {
        guard n > 0, k > 0, k <= n else { return c > 0 ? 1 : 0 }
        if c <= 0 { return 0 }
        if n - c < k { return 1 }
        var product = 1.0
        for i in (n - c + 1)...n {
            product *= 1 - Double(k) / Double(i)
        }
        return 1 - product
    }

    /// Unbiased pass^k estimator (tau-bench): C(c, k) / C(n, k), the chance that k samples all pass.
    public static func passHatK(n: Int, c: Int, k: Int) -> Double {
        guard n > 0, k > 0, k <= n, c >= k else { return 0 }
        var result = 1.0
        for i in 0..<k {
            result *= Double(c - i) / Double(n - i)
        }
        return result
    }

    /// majority@k for one case: over every subset of k of its n samples (`votes`: each sample's answer key, nil when
    /// it failed, and whether it passed), the share whose majority answer passed. The majority is the most frequent
    /// key, ties to the earliest sample; a subset with no answer fails. Exact up to 20,000 subsets, else the mean
    /// over 20,000 subsets drawn with a fixed seed.
    public static func majorityAtK(votes: [(key: String?, passed: Bool)], k: Int) -> Double {
        let n = votes.count
        guard k >= 1, k <= n else { return 0 }
        func wins(_ subset: [Int]) -> Bool {
            guard let chosen = AnswerSelection.majority(subset.map { votes[$0].key }) else { return false }
            return votes[subset[chosen]].passed
        }
        var total = 1.0
        for index in 0..<k { total = total * Double(n - index) / Double(index + 1) }
        if total <= 20_000 {
            var subset = Array(0..<k)
            var passed = 0
            var count = 0
            while true {
                count += 1
                if wins(subset) { passed += 1 }
                var position = k - 1
                while position >= 0 && subset[position] == n - k + position { position -= 1 }
                if position < 0 { break }
                subset[position] += 1
                for next in (position + 1)..<k { subset[next] = subset[next - 1] + 1 }
            }
            return Double(passed) / Double(count)
        }
        var state: UInt64 = 0x5EED
        var passed = 0
        for _ in 0..<20_000 {
            var pool = Array(0..<n)
            for index in 0..<k {
                state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                let pick = index + Int((state >> 33) % UInt64(n - index))
                pool.swapAt(index, pick)
            }
            if wins(Array(pool[0..<k]).sorted()) { passed += 1 }
        }
        return Double(passed) / 20_000
    }
}
