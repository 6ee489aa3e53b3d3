import Synchronization

/// Whether traces may carry prompts, outputs and judges' explanations (`--otel-content`, or a gateway policy's
/// `otel: {content: true}`). Off unless asked: a trace backend is often read by more people than the store.
public enum TelemetryContent {
    private static let enabled = Atomic<Bool>(false)

    public static var isEnabled: Bool { enabled.load(ordering: .relaxed) }

    public static func enable(_ on: Bool = true) { enabled.store(on, ordering: .relaxed) }
}

/// Whether a tracer is exporting spans (`Telemetry.with` found an OTLP endpoint). Spans are built only then: without
/// it a trial, an attempt or a stream pays nothing for tracing (not even a no-op span and its attributes).
public enum TelemetryTracing {
    private static let enabled = Atomic<Bool>(false)

    public static var isEnabled: Bool { enabled.load(ordering: .relaxed) }

    public static func enable() { enabled.store(true, ordering: .relaxed) }
}
