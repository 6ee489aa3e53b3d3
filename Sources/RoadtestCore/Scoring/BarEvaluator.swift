import Foundation

/// Evaluates a suite's bars against a scorecard.
public enum BarEvaluator {
    /// The value of a metric on a scorecard, in the unit bars are written in (seconds for latencies).
    public static func value(of metric: BarMetric, in card: Scorecard) -> Double? {
        let latency = card.latencyMilliseconds
        let seconds: (Double?) -> Double? = { $0.map { $0 / 1000 } }
        switch metric {
        case .passRate: return card.trials > 0 ? card.passRate : nil
        case .p50Latency: return seconds(latency.e2e.p50)
        case .p90Latency: return seconds(latency.e2e.p90)
        case .p95Latency: return seconds(latency.e2e.p95)
        case .p99Latency: return seconds(latency.e2e.p99)
        case .p50TTFT: return seconds(latency.ttft.p50)
        case .p95TTFT: return seconds(latency.ttft.p95)
        case .p99TTFT: return seconds(latency.ttft.p99)
        case .costPerSuccess: return card.costUSD.perSuccess
        case .totalCost: return card.costUSD.total
        case .errorRate: return card.errorRate
        case .attackSuccessRate: return card.security.flatMap { $0.attacks > 0 ? $0.attackSuccessRate : nil }
        }
    }

    /// Every bar's verdict; a bar whose value could not be measured is not met.
    public static func evaluate(_ bars: [Bar], on card: Scorecard) -> BarsSummary {
        let results = bars.map { bar -> BarResult in
            guard let value = value(of: bar.metric, in: card) else {
                return BarResult(bar: bar.metric.rawValue, target: bar.target, value: nil, met: false, margin: nil)
            }
            let margin = bar.metric.isMinimum ? value - bar.target : bar.target - value
            return BarResult(
                bar: bar.metric.rawValue,
                target: bar.target,
                value: value,
                met: margin >= -1e-12,
                margin: margin
            )
        }
        return BarsSummary(met: results.allSatisfy(\.met), results: results)
    }
}
