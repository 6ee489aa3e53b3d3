import RoadtestCore
import Tracing

/// One attempt at a model as an OpenTelemetry client span, named and attributed as the GenAI semantic conventions
/// (1.37 and later) have it: `chat {model}`, `gen_ai.operation.name`, `gen_ai.provider.name`, the request's model,
/// `max_tokens` and temperature, the usage (cache reads and writes in their own attributes), the finish reason,
/// time to first chunk, and `error.type` with an error status when the attempt failed. Roadtest's own facts are under
/// `roadtest.*`: the candidate, the attempt's role, number and class, HTTP status and end-to-end seconds. No prompt or
/// output is written here. A child of whatever span is current (a trial, or a gateway request); with no tracer
/// bootstrapped the span is the no-op one.
public enum GenAISpan {
    public static func attempt(
        _ link: ChainLink,
        role: Attempt.Role,
        number: Int,
        _ send: () async -> ProviderResponse
    ) async -> ProviderResponse {
        guard TelemetryTracing.isEnabled else { return await send() }
        let model = link.request.model ?? link.id
        return await withSpan("chat \(model)", ofKind: .client) { span in
            request(link, span: span)
            span.attributes["roadtest.attempt.role"] = role.rawValue
            span.attributes["roadtest.attempt.number"] = number
            let response = await send()
            self.response(response, span: span)
            return response
        }
    }

    /// The request's attributes, known before it is sent.
    public static func request(_ link: ChainLink, span: any Span) {
        span.attributes["gen_ai.operation.name"] = "chat"
        span.attributes["gen_ai.provider.name"] = link.providerName
        if let model = link.request.model { span.attributes["gen_ai.request.model"] = model }
        if let maxTokens = link.request.maxTokens { span.attributes["gen_ai.request.max_tokens"] = maxTokens }
        if let temperature = link.request.temperature { span.attributes["gen_ai.request.temperature"] = temperature }
        span.attributes["gen_ai.request.stream"] = link.request.stream
        if !link.id.isEmpty { span.attributes["roadtest.candidate"] = link.id }
        if TelemetryContent.isEnabled {
            if let system = link.request.system {
                span.attributes["gen_ai.system_instructions"] = GenAIContent.system(system)
            }
            span.attributes["gen_ai.input.messages"] = GenAIContent.input(link.request.messages)
        }
    }

    /// What the attempt came to.
    public static func response(_ response: ProviderResponse, span: any Span) {
        span.attributes["roadtest.attempt.class"] = response.attemptClass.rawValue
        if let status = response.httpStatus { span.attributes["http.response.status_code"] = status }
        if response.attemptClass == .ok || response.inputTokens > 0 || response.outputTokens > 0 {
            span.attributes["gen_ai.usage.input_tokens"] = response.inputTokens
            span.attributes["gen_ai.usage.output_tokens"] = response.outputTokens
            if response.cachedInputTokens > 0 {
                span.attributes["gen_ai.usage.cache_read.input_tokens"] = response.cachedInputTokens
            }
            if response.cacheWriteInputTokens > 0 {
                span.attributes["gen_ai.usage.cache_creation.input_tokens"] = response.cacheWriteInputTokens
            }
            if response.isTokenCountEstimated { span.attributes["roadtest.usage.estimated"] = true }
        }
        if let reason = response.finishReason { span.attributes["gen_ai.response.finish_reasons"] = [reason.rawValue] }
        if TelemetryContent.isEnabled, response.attemptClass == .ok {
            span.attributes["gen_ai.output.messages"] = GenAIContent.output(
                response.output,
                finishReason: response.finishReason?.rawValue
            )
        }
        if let ttft = response.timeToFirstToken { span.attributes["gen_ai.response.time_to_first_chunk"] = ttft }
        if let e2e = response.endToEnd { span.attributes["roadtest.e2e_seconds"] = e2e }
        if response.attemptClass != .ok {
            span.attributes["error.type"] = response.attemptClass.rawValue
            span.setStatus(SpanStatus(code: .error, message: response.message))
        }
    }
}

/// The client span of a streamed attempt (the gateway's streaming path): started when the request goes out, fed
/// every event as it is read into the same `ResponseAccumulator` a buffered attempt folds its events with, and ended
/// once, when the stream ends or is dropped, with `GenAISpan.response` of what it came to. Read by one task at a
/// time, as its cursor is. Made only while tracing (`TelemetryTracing`).
public final class StreamedAttemptSpan: @unchecked Sendable {
    let span: any Span
    var accumulator = ResponseAccumulator()
    var ended = false

    init?(_ link: ChainLink, number: Int) {
        guard TelemetryTracing.isEnabled else { return nil }
        span = startSpan("chat \(link.request.model ?? link.id)", ofKind: .client)
        GenAISpan.request(link, span: span)
        span.attributes["roadtest.attempt.role"] = Attempt.Role.task.rawValue
        span.attributes["roadtest.attempt.number"] = number
    }

    func observe(_ event: ProviderEvent) {
        accumulator.add(event)
        switch event {
        case .end, .failed: end()
        default: break
        }
    }

    func end() {
        guard !ended else { return }
        ended = true
        GenAISpan.response(accumulator.response(), span: span)
        span.end()
    }
}
