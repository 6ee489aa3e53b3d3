import Foundation
import Metrics
import Prometheus
import RoadtestCore

/// The gateway's metrics through the swift-metrics API, kept in the gateway's own Prometheus registry (not the
/// process-wide `MetricsSystem`, so several gateways in one process keep apart). Labels are bounded: routes and
/// candidates come from the policy, outcomes from a fixed set.
public final class GatewayMetrics: Sendable {
    public let registry = PrometheusCollectorRegistry()
    let factory: PrometheusMetricsFactory

    public init() {
        var factory = PrometheusMetricsFactory(registry: registry)
        let latency: [Duration] = [
            .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100),
            .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2.5), .seconds(5), .seconds(10),
            .seconds(30), .seconds(60),
        ]
        factory.defaultDurationHistogramBuckets = latency
        self.factory = factory
    }

    /// Counts a finished request.
    func record(_ record: GatewayRecord) {
        let route = record.route ?? "none"
        let candidate = record.servedBy ?? "none"
        let labels = [("route", route), ("candidate", candidate), ("outcome", record.outcome.rawValue)]
        Counter(label: "roadtest_gateway_requests_total", dimensions: labels, factory: factory).increment()
        guard record.route != nil else { return }
        let served = [("route", route), ("candidate", candidate)]
        if let ttft = record.timeToFirstToken, record.outcome.isAnswered {
            Timer(label: "roadtest_gateway_ttft_seconds", dimensions: served, factory: factory)
                .recordNanoseconds(Int64(ttft * 1e9))
        }
        if let e2e = record.endToEnd {
            Timer(label: "roadtest_gateway_e2e_seconds", dimensions: served, factory: factory)
                .recordNanoseconds(Int64(e2e * 1e9))
        }
        if record.inputTokens > 0 {
            Counter(label: "roadtest_gateway_input_tokens_total", dimensions: served, factory: factory)
                .increment(by: record.inputTokens)
        }
        if record.outputTokens > 0 {
            Counter(label: "roadtest_gateway_output_tokens_total", dimensions: served, factory: factory)
                .increment(by: record.outputTokens)
        }
        if record.costUSD > 0 {
            FloatingPointCounter(label: "roadtest_gateway_cost_usd_total", dimensions: served, factory: factory)
                .increment(by: record.costUSD)
        }
        if record.fellBack {
            Counter(label: "roadtest_gateway_fallbacks_total", dimensions: served, factory: factory).increment()
        }
    }

    /// Records the recorder could not queue (the store fell behind).
    func recordDropped() {
        Counter(label: "roadtest_gateway_records_dropped_total", dimensions: [], factory: factory).increment()
    }

    /// Shadow copies dropped because the shadow queue was full.
    func recordShadowDropped(route: String) {
        Counter(label: "roadtest_gateway_shadow_dropped_total", dimensions: [("route", route)], factory: factory)
            .increment()
    }

    /// A route switched to its rollback candidate.
    func recordRollback(route: String) {
        Counter(label: "roadtest_gateway_rollbacks_total", dimensions: [("route", route)], factory: factory).increment()
    }

    /// The Prometheus text exposition.
    public func exposition() -> String { registry.emitToString() }
}
