import Foundation
import RoadtestCore

/// Folds an attempt's events into the buffered `ProviderResponse`. Pure: the same events always give the same
/// response.
///
/// - TTFT = the first text or tool-call event − sent; E2E = the last one − sent. Empty text never counts.
/// - Reasoning is kept apart (`reasoning`, `timeToFirstReasoningToken`) and never counts as content.
/// - Tool-call fragments are joined by index into complete calls.
/// - Without an end marker a stream is `stream_cut`; without usage, output tokens are estimated (and marked so).
public struct ResponseAccumulator: Sendable {
    private var sentAt: UInt64?
    private var status: Int?
    private var output = ""
    private var reasoning = ""
    private var first: UInt64?
    private var last: UInt64?
    private var firstReasoning: UInt64?
    private var contentEvents = 0
    private var gaps: [Double] = []
    private var calls: [Int: (id: String, name: String, arguments: String)] = [:]
    private var callOrder: [Int] = []
    private var usage = TokenUsage()
    private var ended: UInt64?
    private var finishReason: FinishReason?
    private var failure: (AttemptClass, Int?, String, Double?)?

    public init() {}

    public mutating func add(_ event: ProviderEvent) {
        guard failure == nil else { return }
        switch event {
        case .sent(let at): sentAt = at
        case .head(let status): self.status = status
        case .text(let text, let at):
            guard !text.isEmpty else { return }
            output += text
            content(at: at)
        case .reasoning(let text, let at):
            guard !text.isEmpty else { return }
            reasoning += text
            if firstReasoning == nil { firstReasoning = at }
        case .toolCall(let delta, let at):
            if calls[delta.index] == nil {
                calls[delta.index] = ("", "", "")
                callOrder.append(delta.index)
            }
            if let id = delta.id, !id.isEmpty { calls[delta.index]?.id = id }
            if let name = delta.name, !name.isEmpty { calls[delta.index]?.name += name }
            calls[delta.index]?.arguments += delta.arguments
            content(at: at)
        case .usage(let reported):
            usage.input = reported.input ?? usage.input
            usage.output = reported.output ?? usage.output
            usage.cacheRead = reported.cacheRead ?? usage.cacheRead
            usage.cacheWrite = reported.cacheWrite ?? usage.cacheWrite
            usage.reasoning = reported.reasoning ?? usage.reasoning
        case .finish(let reason): finishReason = reason
        case .flush: break
        case .end(let at): ended = at
        case .failed(let attemptClass, let status, let message, let retryAfter):
            failure = (attemptClass, status ?? self.status, message, retryAfter)
        }
    }

    private mutating func content(at: UInt64) {
        if first == nil { first = at }
        if let previous = last { gaps.append(Monotonic.seconds(from: previous, to: at)) }
        last = at
        contentEvents += 1
    }

    /// The response so far; `now` closes an answer that had no content at all.
    public func response(now: UInt64 = Monotonic.now()) -> ProviderResponse {
        if let (attemptClass, status, message, retryAfter) = failure, first == nil || attemptClass != .ok {
            var response = ProviderResponse(
                attemptClass: attemptClass,
                httpStatus: status,
                output: output,
                retryAfter: retryAfter,
                message: message,
                contentEvents: contentEvents
            )
            fill(&response, now: now, isOK: false)
            return response
        }
        let ok = ended != nil
        // An answer the provider's filter withheld (in part) is its own class: complete as a response, not usable
        // as an answer.
        let filtered = ok && finishReason == .contentFilter
        var response = ProviderResponse(
            attemptClass: filtered ? .contentFilter : ok ? .ok : .streamCut,
            httpStatus: status,
            output: output,
            message: filtered
                ? "the provider's content filter withheld the answer (finish reason content_filter)"
                : ok ? nil : "stream ended before its end marker",
            contentEvents: contentEvents
        )
        fill(&response, now: now, isOK: ok)
        return response
    }

    private func fill(_ response: inout ProviderResponse, now: UInt64, isOK: Bool) {
        let sent = sentAt ?? now
        response.sentAt = sentAt
        response.inputTokens = usage.input ?? 0
        response.cachedInputTokens = usage.cacheRead ?? 0
        response.cacheWriteInputTokens = usage.cacheWrite ?? 0
        response.outputTokens =
            usage.output
            ?? ProviderResponse.estimateTokens(output)
            + callOrder.reduce(0) { $0 + ProviderResponse.estimateTokens(calls[$1]?.arguments ?? "") }
        response.isTokenCountEstimated = usage.output == nil
        response.timeToFirstToken = first.map { Monotonic.seconds(from: sent, to: $0) }
        response.endToEnd = last.map { Monotonic.seconds(from: sent, to: $0) }
        response.timeToFirstReasoningToken = firstReasoning.map { Monotonic.seconds(from: sent, to: $0) }
        response.reasoning = reasoning
        response.finishReason = finishReason
        response.interChunkGaps = gaps
        response.toolCalls = callOrder.compactMap { index in
            calls[index].map {
                ToolCall(id: $0.id.isEmpty ? "call_\(index)" : $0.id, name: $0.name, arguments: $0.arguments)
            }
        }
        if isOK && first == nil {
            // An answer with no content at all: the model said nothing; E2E is when that was known.
            response.endToEnd = Monotonic.seconds(from: sent, to: ended ?? now)
        }
    }
}
