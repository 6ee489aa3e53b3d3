import CoreMetrics
import Foundation
import Prometheus
import RoadtestCore
import Synchronization

/// The gateway's metrics in its own Prometheus registry (not the process-wide `MetricsSystem`, so several gateways
/// in one process keep apart). Every family has `# HELP` text and one label set, so `promtool check metrics`
/// passes. Labels are bounded: routes and candidates come from the policy, outcomes from a fixed set. Handles are
/// made once per label set and kept, so recording a request is a dictionary lookup and a few atomic adds.
public final class GatewayMetrics: Sendable {
    public let registry = PrometheusCollectorRegistry()

    /// The handles of one (route, candidate) pair.
    final class Served: Sendable {
        let ttft: Prometheus.DurationHistogram
        let e2e: Prometheus.DurationHistogram
        let inputTokens: Prometheus.Counter
        let outputTokens: Prometheus.Counter
        let cost: Prometheus.Counter
        let fallbacks: Prometheus.Counter
        let mirror: OTLPMirror.Served?

        init(_ registry: PrometheusCollectorRegistry, route: String, candidate: String, otlp: (any MetricsFactory)?) {
            let labels = [("route", route), ("candidate", candidate)]
            mirror = otlp.map { OTLPMirror.Served($0, labels: labels) }
            ttft = registry.makeDurationHistogram(
                descriptor: GatewayMetrics.family(
                    "ttft",
                    unit: "seconds",
                    "Seconds from a request's arrival to the first content sent to the client, answered requests."
                ),
                labels: labels,
                buckets: GatewayMetrics.latencyBuckets
            )
            e2e = registry.makeDurationHistogram(
                descriptor: GatewayMetrics.family(
                    "e2e",
                    unit: "seconds",
                    "Seconds from a request's arrival to the end of its response, answered or failed."
                ),
                labels: labels,
                buckets: GatewayMetrics.latencyBuckets
            )
            inputTokens = registry.makeCounter(
                descriptor: GatewayMetrics.family(
                    "input_tokens",
                    unit: "total",
                    "Input tokens sent upstream, every attempt included, as the providers reported them."
                ),
                labels: labels
            )
            outputTokens = registry.makeCounter(
                descriptor: GatewayMetrics.family(
                    "output_tokens",
                    unit: "total",
                    "Output tokens received from upstream, every attempt included (estimated when a stream had no usage)."
                ),
                labels: labels
            )
            cost = registry.makeCounter(
                descriptor: GatewayMetrics.family(
                    "cost_usd",
                    unit: "total",
                    "US dollars spent upstream at the policy's prices, failed attempts and retries included."
                ),
                labels: labels
            )
            fallbacks = registry.makeCounter(
                descriptor: GatewayMetrics.family(
                    "fallbacks",
                    unit: "total",
                    "Requests answered by a candidate other than their route's first choice."
                ),
                labels: labels
            )
        }
    }

    struct RequestKey: Hashable {
        var route: String
        var candidate: String
        var outcome: String
    }

    struct Handles {
        var requests: [RequestKey: Prometheus.Counter] = [:]
        var mirroredRequests: [RequestKey: CoreMetrics.Counter] = [:]
        var served: [String: [String: Served]] = [:]
        var shadowDropped: [String: Prometheus.Counter] = [:]
        var rollbacks: [String: Prometheus.Counter] = [:]
    }

    let handles = Mutex(Handles())
    let dropped: Prometheus.Counter
    /// The OTLP metrics factory the families are mirrored into (same names, same labels), when exported.
    let otlp: (any MetricsFactory)?
    let mirroredDropped: CoreMetrics.Counter?

    static let latencyBuckets: [Duration] = [
        .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100),
        .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2.5), .seconds(5), .seconds(10),
        .seconds(30), .seconds(60),
    ]

    static func family(_ name: String, unit: String? = nil, _ help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "roadtest",
            subsystem: "gateway",
            metricName: name,
            unitName: unit,
            helpText: help
        )
    }

    /// `otlp`: also record every family through this factory (OpenTelemetry's, `Telemetry.metricsFactory`).
    public init(otlp: (any MetricsFactory)? = nil) {
        self.otlp = otlp
        mirroredDropped = otlp.map { OTLPMirror.counter($0, "records_dropped", []) }
        dropped = registry.makeCounter(
            descriptor: Self.family(
                "records_dropped",
                unit: "total",
                "Request records not stored because the store fell behind (the recorder's queue was full)."
            )
        )
    }

    /// Counts a finished request.
    func record(_ record: GatewayRecord) {
        let route = record.route ?? "none"
        let candidate = record.servedBy ?? "none"
        let key = RequestKey(route: route, candidate: candidate, outcome: record.outcome.rawValue)
        let (requests, mirrored, served) = handles.withLock {
            handles -> (Prometheus.Counter, CoreMetrics.Counter?, Served?) in
            let mirrored = otlp.map { otlp in
                handles.mirroredRequests[key]
                    ?? {
                        let counter = OTLPMirror.counter(
                            otlp,
                            "requests",
                            [("route", route), ("candidate", candidate), ("outcome", key.outcome)]
                        )
                        handles.mirroredRequests[key] = counter
                        return counter
                    }()
            }
            let requests =
                handles.requests[key]
                ?? {
                    let counter = registry.makeCounter(
                        descriptor: Self.family(
                            "requests",
                            unit: "total",
                            "Requests finished, by route, the candidate that answered (none when none did) and outcome."
                        ),
                        labels: [("route", route), ("candidate", candidate), ("outcome", key.outcome)]
                    )
                    handles.requests[key] = counter
                    return counter
                }()
            guard record.route != nil else { return (requests, mirrored, nil) }
            if let served = handles.served[route]?[candidate] { return (requests, mirrored, served) }
            let served = Served(registry, route: route, candidate: candidate, otlp: otlp)
            handles.served[route, default: [:]][candidate] = served
            return (requests, mirrored, served)
        }
        requests.increment()
        mirrored?.increment()
        guard let served else { return }
        served.mirror?.record(record)
        if let ttft = record.timeToFirstToken, record.outcome.isAnswered {
            served.ttft.recordNanoseconds(Int64(ttft * 1e9))
        }
        if let e2e = record.endToEnd { served.e2e.recordNanoseconds(Int64(e2e * 1e9)) }
        if record.inputTokens > 0 { served.inputTokens.increment(by: Int64(record.inputTokens)) }
        if record.outputTokens > 0 { served.outputTokens.increment(by: Int64(record.outputTokens)) }
        if record.costUSD > 0 { served.cost.increment(by: record.costUSD) }
        if record.fellBack { served.fallbacks.increment() }
    }

    /// Records the recorder could not queue (the store fell behind).
    func recordDropped() {
        dropped.increment()
        mirroredDropped?.increment()
    }

    /// Shadow copies dropped because the shadow queue was full.
    func recordShadowDropped(route: String) {
        counter(
            \.shadowDropped,
            route: route,
            "shadow_dropped",
            "Shadow copies dropped because the shadow queue was full."
        )
        .increment()
        if let otlp { OTLPMirror.counter(otlp, "shadow_dropped", [("route", route)]).increment() }
    }

    /// A route switched to its rollback candidate.
    func recordRollback(route: String) {
        counter(
            \.rollbacks,
            route: route,
            "rollbacks",
            "Times a route switched to its rollback candidate (SLO breached)."
        )
        .increment()
        if let otlp { OTLPMirror.counter(otlp, "rollbacks", [("route", route)]).increment() }
    }

    func counter(
        _ path: WritableKeyPath<Handles, [String: Prometheus.Counter]>,
        route: String,
        _ name: String,
        _ help: String
    ) -> Prometheus.Counter {
        handles.withLock { handles in
            if let counter = handles[keyPath: path][route] { return counter }
            let counter = registry.makeCounter(
                descriptor: Self.family(name, unit: "total", help),
                labels: [("route", route)]
            )
            handles[keyPath: path][route] = counter
            return counter
        }
    }

    /// The Prometheus text exposition.
    public func exposition() -> String { registry.emitToString() }
}
