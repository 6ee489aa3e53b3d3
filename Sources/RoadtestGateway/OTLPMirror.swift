import CoreMetrics
import RoadtestCore

/// The gateway's Prometheus families, recorded a second time through swift-metrics into OpenTelemetry's factory, so
/// an OTLP pipeline sees the same numbers under the same names. OTLP names carry no `_total` suffix (a collector's
/// Prometheus exporter adds it back to counters), so `roadtest_gateway_requests` arrives in Prometheus as
/// `roadtest_gateway_requests_total`, the name `/metrics` serves; histograms keep their unit
/// (`roadtest_gateway_ttft_seconds`) and the same buckets (`Telemetry.latencyBuckets`).
enum OTLPMirror {
    static func name(_ family: String) -> String { "roadtest_gateway_" + family }

    static func counter(
        _ factory: any MetricsFactory,
        _ family: String,
        _ labels: [(String, String)]
    )
        -> CoreMetrics.Counter
    {
        CoreMetrics.Counter(label: name(family), dimensions: labels, factory: factory)
    }

    /// The handles of one (route, candidate) pair.
    final class Served: Sendable {
        let ttft: CoreMetrics.Timer
        let e2e: CoreMetrics.Timer
        let inputTokens: CoreMetrics.Counter
        let outputTokens: CoreMetrics.Counter
        let cost: CoreMetrics.FloatingPointCounter
        let fallbacks: CoreMetrics.Counter

        init(_ factory: any MetricsFactory, labels: [(String, String)]) {
            ttft = CoreMetrics.Timer(label: OTLPMirror.name("ttft_seconds"), dimensions: labels, factory: factory)
            e2e = CoreMetrics.Timer(label: OTLPMirror.name("e2e_seconds"), dimensions: labels, factory: factory)
            inputTokens = OTLPMirror.counter(factory, "input_tokens", labels)
            outputTokens = OTLPMirror.counter(factory, "output_tokens", labels)
            cost = CoreMetrics.FloatingPointCounter(
                label: OTLPMirror.name("cost_usd"),
                dimensions: labels,
                factory: factory
            )
            fallbacks = OTLPMirror.counter(factory, "fallbacks", labels)
        }

        func record(_ record: GatewayRecord) {
            if let ttft = record.timeToFirstToken, record.outcome.isAnswered {
                self.ttft.recordNanoseconds(Int64(ttft * 1e9))
            }
            if let e2e = record.endToEnd { self.e2e.recordNanoseconds(Int64(e2e * 1e9)) }
            if record.inputTokens > 0 { inputTokens.increment(by: Int64(record.inputTokens)) }
            if record.outputTokens > 0 { outputTokens.increment(by: Int64(record.outputTokens)) }
            if record.costUSD > 0 { cost.increment(by: record.costUSD) }
            if record.fellBack { fallbacks.increment() }
        }
    }
}
