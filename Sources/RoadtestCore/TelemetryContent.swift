import Synchronization

/// Whether traces may carry prompts, outputs and judges' explanations (`--otel-content`, or a gateway policy's
/// `otel: {content: true}`). Off unless asked: a trace backend is often read by more people than the store.
public enum TelemetryContent {
    private static let enabled = Atomic<Bool>(false)

    public static var isEnabled: Bool { enabled.load(ordering: .relaxed) }

    public static func enable(_ on: Bool = true) { enabled.store(on, ordering: .relaxed) }
}
