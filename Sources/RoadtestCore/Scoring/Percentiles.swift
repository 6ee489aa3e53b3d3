import Foundation

/// p50/p90/p95/p99/max of a latency, in milliseconds, with the count they were computed over.
public struct Percentiles: Sendable, Hashable, Codable {
    public var count: Int
    public var p50: Double?
    public var p90: Double?
    public var p95: Double?
    public var p99: Double?
    public var max: Double?
    /// Distribution-free 95% intervals of the percentiles (ms), where the values were kept to compute them.
    public var ci95: PercentileIntervals?

    public init(
        count: Int = 0,
        p50: Double? = nil,
        p90: Double? = nil,
        p95: Double? = nil,
        p99: Double? = nil,
        max: Double? = nil
    ) {
        self.count = count
        self.p50 = p50
        self.p90 = p90
        self.p95 = p95
        self.p99 = p99
        self.max = max
    }

    /// Nearest-rank percentiles of values in milliseconds.
    public init(milliseconds values: [Double]) {
        let sorted = values.sorted()
        self.init(
            count: sorted.count,
            p50: Statistics.percentile(sorted: sorted, 0.50),
            p90: Statistics.percentile(sorted: sorted, 0.90),
            p95: Statistics.percentile(sorted: sorted, 0.95),
            p99: Statistics.percentile(sorted: sorted, 0.99),
            max: sorted.last
        )
    }

    public func value(at p: Double) -> Double? {
        switch p {
        case 0.5: return p50
        case 0.9: return p90
        case 0.95: return p95
        case 0.99: return p99
        default: return max
        }
    }
}

/// 95% confidence intervals [lower, upper] of each percentile from order statistics
/// (`Statistics.quantileIntervalRanks`). A percentile with too few values to bound it has none: its point value is
/// then only the largest (or smallest) value seen, not an estimate (JSON `null`).
public struct PercentileIntervals: Sendable, Hashable, Codable {
    public var p50: [Double]?
    public var p90: [Double]?
    public var p95: [Double]?
    public var p99: [Double]?

    public init(p50: [Double]? = nil, p90: [Double]? = nil, p95: [Double]? = nil, p99: [Double]? = nil) {
        self.p50 = p50
        self.p90 = p90
        self.p95 = p95
        self.p99 = p99
    }

    /// The intervals of `count` values, reading the value of a 1-based rank with `valueAtRank`.
    public init(count: Int, valueAtRank: (Int) -> Double) {
        func interval(_ p: Double) -> [Double]? {
            guard let ranks = Statistics.quantileIntervalRanks(count: count, p: p) else { return nil }
            return [valueAtRank(ranks.lower), valueAtRank(ranks.upper)]
        }
        self.init(p50: interval(0.5), p90: interval(0.9), p95: interval(0.95), p99: interval(0.99))
    }

    public func interval(at p: Double) -> [Double]? {
        switch p {
        case 0.5: return p50
        case 0.9: return p90
        case 0.95: return p95
        case 0.99: return p99
        default: return nil
        }
    }

    /// Every percentile is written, `null` where there were too few values.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(p50, forKey: .p50)
        try container.encode(p90, forKey: .p90)
        try container.encode(p95, forKey: .p95)
        try container.encode(p99, forKey: .p99)
    }
}
