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
