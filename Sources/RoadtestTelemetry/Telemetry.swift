import Logging
import OTel
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

    /// Runs `body` with traces exported when the environment asks for them: the process's tracer is bootstrapped
    /// once, the exporter runs beside `body`, and every span ended by then is exported before this returns
    /// (a graceful shutdown of the exporter flushes its queue).
    public static func with<Result>(
        environment: [String: String],
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
        let (tracer, service) = try OTel.makeTracingBackend(configuration: configuration)
        bootstrap(tracer)
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(services: [service], logger: Logger(label: "roadtest.otel"))
        )
        return try await withThrowingTaskGroup(of: Void.self, returning: Result.self) { tasks in
            tasks.addTask { try await group.run() }
            let result: Swift.Result<Result, any Error>
            do { result = .success(try await body()) } catch { result = .failure(error) }
            await group.triggerGracefulShutdown()
            try? await tasks.waitForAll()
            return try result.get()
        }
    }

    /// The process bootstraps its instrumentation once; a second `with` (a test running two commands in one
    /// process) keeps the first tracer.
    private static func bootstrap(_ tracer: some Tracer) {
        bootstrapped.withLock { done in
            guard !done else { return }
            InstrumentationSystem.bootstrap(tracer)
            done = true
        }
    }
}

private let bootstrapped = Mutex(false)
