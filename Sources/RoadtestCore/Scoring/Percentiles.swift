import Foundation

/// p50/p90/p95/p99/max of a latency, in milliseconds, with the count they were computed over.
public struct Percentiles: Sendable, Hashable, Codable {
    public var count: Int
    public var p50: Double?
    public var p90: Double?
    public var p95: Double?
    public var p99: Double?
    public var max: Double?

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
