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
/// every event as it is read (usage, finish reason, the first content's arrival, a failure), ended once, when the
/// stream ends or is dropped. Read by one task at a time, as its cursor is.
public final class StreamedAttemptSpan: @unchecked Sendable {
    let span: any Span
    var firstContent: UInt64?
    var sent: UInt64?
    var status: Int?
    var usage = TokenUsage()
    var finish: FinishReason?
    var failure: (AttemptClass, String)?
    var ended = false
    /// The answer's text, kept only when content goes on spans.
    var text: String?

    init(_ link: ChainLink, number: Int) {
        span = startSpan("chat \(link.request.model ?? link.id)", ofKind: .client)
        GenAISpan.request(link, span: span)
        if TelemetryContent.isEnabled { text = "" }
        span.attributes["roadtest.attempt.role"] = Attempt.Role.task.rawValue
        span.attributes["roadtest.attempt.number"] = number
    }

    func observe(_ event: ProviderEvent) {
        switch event {
        case .sent(let at): sent = at
        case .head(let code): status = code
        case .text(let delta, let at):
            if firstContent == nil { firstContent = at }
            text? += delta
        case .toolCall(_, let at):
            if firstContent == nil { firstContent = at }
        case .usage(let reported):
            usage.input = reported.input ?? usage.input
            usage.output = reported.output ?? usage.output
            usage.cacheRead = reported.cacheRead ?? usage.cacheRead
            usage.cacheWrite = reported.cacheWrite ?? usage.cacheWrite
            usage.reasoning = reported.reasoning ?? usage.reasoning
        case .finish(let reason): finish = reason
        case .failed(let attemptClass, let code, let message, _):
            failure = (attemptClass, message)
            status = code ?? status
            // A failure after content ends the stream; one before it is the chain's to record (`fail`).
            if firstContent != nil { end() }
        case .end:
            end()
        default: break
        }
    }

    func fail(_ attemptClass: AttemptClass, message: String) {
        if failure == nil { failure = (attemptClass, message) }
        end()
    }

    func end() {
        guard !ended else { return }
        ended = true
        let attemptClass = failure?.0 ?? .ok
        span.attributes["roadtest.attempt.class"] = attemptClass.rawValue
        if let status { span.attributes["http.response.status_code"] = status }
        if let input = usage.input { span.attributes["gen_ai.usage.input_tokens"] = input }
        if let output = usage.output { span.attributes["gen_ai.usage.output_tokens"] = output }
        if let cached = usage.cacheRead, cached > 0 {
            span.attributes["gen_ai.usage.cache_read.input_tokens"] = cached
        }
        if let written = usage.cacheWrite, written > 0 {
            span.attributes["gen_ai.usage.cache_creation.input_tokens"] = written
        }
        if let reasoning = usage.reasoning, reasoning > 0 {
            span.attributes["gen_ai.usage.reasoning.output_tokens"] = reasoning
        }
        if let finish { span.attributes["gen_ai.response.finish_reasons"] = [finish.rawValue] }
        if let text, failure == nil {
            span.attributes["gen_ai.output.messages"] = GenAIContent.output(text, finishReason: finish?.rawValue)
        }
        if let sent, let firstContent {
            span.attributes["gen_ai.response.time_to_first_chunk"] = Monotonic.seconds(from: sent, to: firstContent)
        }
        if let (attemptClass, message) = failure {
            span.attributes["error.type"] = attemptClass.rawValue
            span.setStatus(SpanStatus(code: .error, message: message))
        }
        span.end()
    }
}
