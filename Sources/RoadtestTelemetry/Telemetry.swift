import CoreMetrics
import Dispatch
import Foundation
import Logging
import OTel
import RoadtestCore
import ServiceLifecycle
import Synchronization
import Tracing

/// OpenTelemetry traces over OTLP/HTTP (protobuf), configured the standard way: exported only when
/// `OTEL_EXPORTER_OTLP_ENDPOINT` (or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) is set, never when
/// `OTEL_SDK_DISABLED=true`; `OTEL_EXPORTER_OTLP_HEADERS`, `OTEL_SERVICE_NAME` (default `roadtest`),
/// `OTEL_RESOURCE_ATTRIBUTES` and the other `OTEL_*` variables as swift-otel reads them.
///
/// Spans are written where the work happens, through swift-distributed-tracing's task-local context: the run
/// (`RunSession`), each trial (`Runner`), each attempt at a model (`FallbackChain`, a client span), and each gateway
/// request (a server span). Without an endpoint the tracer is the no-op one and nothing is exported.
public enum Telemetry {
    /// Whether the environment asks for traces: an OTLP endpoint is set and the SDK is not disabled.
    public static func isRequested(environment: [String: String]) -> Bool {
        if environment["OTEL_SDK_DISABLED"]?.lowercased() == "true" { return false }
        if environment["OTEL_TRACES_EXPORTER"]?.lowercased() == "none" { return false }
        let endpoint = environment["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"] ?? environment["OTEL_EXPORTER_OTLP_ENDPOINT"]
        return !(endpoint ?? "").isEmpty
    }

    /// Whether metrics are wanted too: traces are, and `OTEL_METRICS_EXPORTER` is not `none`.
    public static func metricsRequested(environment: [String: String]) -> Bool {
        guard isRequested(environment: environment) else { return false }
        return environment["OTEL_METRICS_EXPORTER"]?.lowercased() != "none"
    }

    /// The OTLP metrics factory of the running `with(metrics: true)` scope (the gateway mirrors its Prometheus
    /// families into it); nil when metrics are not exported.
    public static var metricsFactory: (any MetricsFactory)? { factory.withLock { $0 } }

    /// Runs `body` with traces exported when the environment asks for them (and, with `metrics`, metrics through
    /// `metricsFactory`): the process's tracer is bootstrapped once, the exporters run beside `body`, and every span
    /// ended and every metric recorded by then is exported before this returns (a graceful shutdown of the
    /// exporters flushes their queues).
    public static func with<Result>(
        environment: [String: String],
        metrics: Bool = false,
        _ body: () async throws -> Result
    ) async throws -> Result {
        guard isRequested(environment: environment) else { return try await body() }
        var configuration = OTel.Configuration.default
        configuration.serviceName = "roadtest"
        configuration.metrics.enabled = false
        configuration.logs.enabled = false
        configuration.traces.exporter = .otlp
        // A run records a span per trial and per attempt as fast as the model answers: a deep queue exported often,
        // so that a large run loses no spans (the default 2,048 would drop them while an export is under way).
        configuration.traces.batchSpanProcessor.maxQueueSize = 1 << 16
        configuration.traces.batchSpanProcessor.maxExportBatchSize = 2_048
        configuration.traces.batchSpanProcessor.scheduleDelay = .milliseconds(500)
        var diagnostics = Logger(label: "roadtest.otel")
        diagnostics.logLevel = .warning
        configuration.diagnosticLogger = .custom(diagnostics)
        configuration.diagnosticLogLevel = .warning
        // The exporters run, end and are let go on threads of their own: their HTTP client shuts down synchronously
        // when they deinit, which must not happen on a NIO event loop (the gateway runs Swift Concurrency on NIO's
        // event loops, where AsyncHTTPClient's `syncShutdown` traps).
        let held = Held()
        held.services.append(try tracing(configuration))
        if metrics, metricsRequested(environment: environment) {
            var metricsConfiguration = configuration
            metricsConfiguration.traces.enabled = false
            metricsConfiguration.metrics.enabled = true
            metricsConfiguration.metrics.exporter = .otlp
            for name in durationHistograms {
                metricsConfiguration.metrics.durationHistogramBuckets[name] = latencyBuckets
            }
            held.services.append(try metricsService(metricsConfiguration))
        }
        held.group = ServiceGroup(
            configuration: ServiceGroupConfiguration(services: held.services, logger: Logger(label: "roadtest.otel"))
        )
        let result = await withTaskGroup(of: Void.self, returning: Swift.Result<Result, any Error>.self) { tasks in
            tasks.addTask(executorPreference: exporterExecutor) { [group = held.group] in try? await group?.run() }
            let result: Swift.Result<Result, any Error>
            do { result = .success(try await body()) } catch { result = .failure(error) }
            await held.group?.triggerGracefulShutdown()
            await tasks.waitForAll()
            return result
        }
        factory.withLock { $0 = nil }
        await held.release()
        return try result.get()
    }

    /// The tracing backend's service; its tracer bootstrapped. (Functions of their own, so that no local of `with`
    /// holds an exporter.)
    static func tracing(_ configuration: OTel.Configuration) throws -> any Service {
        let (tracer, service) = try OTel.makeTracingBackend(configuration: configuration)
        bootstrap(tracer)
        return service
    }

    /// The metrics backend's service; its factory published as `metricsFactory`.
    static func metricsService(_ configuration: OTel.Configuration) throws -> any Service {
        let (metricsFactory, service) = try OTel.makeMetricsBackend(configuration: configuration)
        factory.withLock { $0 = metricsFactory }
        return service
    }

    /// Where the exporters' services run: a dispatch queue, never a NIO event loop.
    static let exporterExecutor = DispatchTaskExecutor(label: "roadtest.otel")

    /// The exporters' services, released off the event loops.
    final class Held: @unchecked Sendable {
        var services: [any Service] = []
        var group: ServiceGroup?

        func release() async {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                Thread {
                    self.group = nil
                    self.services = []
                    continuation.resume()
                }
                .start()
            }
        }
    }

    /// The gateway's latency histograms, with the buckets its Prometheus families have.
    public static let durationHistograms = ["roadtest_gateway_ttft_seconds", "roadtest_gateway_e2e_seconds"]
    public static let latencyBuckets: [Duration] = [
        .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100),
        .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2.5), .seconds(5), .seconds(10),
        .seconds(30), .seconds(60),
    ]

    /// The process bootstraps its instrumentation once; a second `with` (a test running two commands in one
    /// process) keeps the first tracer.
    private static func bootstrap(_ tracer: some Tracer) {
        bootstrapped.withLock { done in
            guard !done else { return }
            InstrumentationSystem.bootstrap(tracer)
            TelemetryTracing.enable()
            done = true
        }
    }
}

private let bootstrapped = Mutex(false)
private let factory = Mutex<(any MetricsFactory)?>(nil)

/// A task executor on a concurrent dispatch queue: jobs run on Dispatch's threads, whatever the process's global
/// executor is.
final class DispatchTaskExecutor: TaskExecutor, @unchecked Sendable {
    let queue: DispatchQueue

    init(label: String) {
        queue = DispatchQueue(label: label, attributes: .concurrent)
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        queue.async { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }
}
