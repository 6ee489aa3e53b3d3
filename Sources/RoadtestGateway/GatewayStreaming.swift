import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import RoadtestCore
import RoadtestProviders
import RoadtestWire

extension Gateway {
    /// A streaming request: waits for the first content (falling back before it), then relays every event as it
    /// arrives, re-encoded as OpenAI chunks. A failure after content was sent ends the stream with an error event.
    func stream(
        links: [ChainLink],
        route: GatewayPolicy.Route,
        includeUsage: Bool,
        record: GatewayRecord,
        arrival: UInt64,
        reservation: Reservation,
        shadow shadowLinks: [ChainLink] = [],
        format: ClientFormat = .openAI
    ) async -> Response {
        var record = record
        switch await FallbackChain(links: links, breakers: breakers).open() {
        case .failed(let attemptClass, let message, let retryAfter, let attempts, let cost):
            record.attempts = attempts
            record.costUSD = cost
            record.endToEnd = Monotonic.seconds(from: arrival, to: Monotonic.now())
            reservation.settle(cost: cost)
            return chainFailed(
                record,
                route: route,
                attemptClass: attemptClass,
                message: message,
                retryAfter: retryAfter,
                format: format
            )
        case .ready(let cursor, let buffered, let link, let attempts, let cost):
            record.servedBy = link.id
            record.fellBack = link.id != route.candidate
            record.attempts = attempts
            // Charged even if the body never runs (the client left before it began).
            reservation.charge(cost)
            var headers = Self.headers(servedBy: link.id, contentType: "text/event-stream")
            headers[.cacheControl] = "no-cache"
            let start = record
            return Response(
                status: .ok,
                headers: headers,
                body: ResponseBody { writer in
                    var record = start
                    var relay: any EventRelay =
                        format == .anthropic
                        ? AnthropicRelay(id: record.id, model: route.name)
                        : ChunkRelay(id: record.id, model: route.name, includeUsage: includeUsage)
                    var cost = cost
                    var outcome = GatewayOutcome.failed(.streamCut)
                    var output = ""
                    func handle(_ event: ProviderEvent) -> String? {
                        if case .text(let text, _) = event { output += text }
                        switch event {
                        case .usage(let usage):
                            record.inputTokens = usage.input ?? record.inputTokens
                            record.outputTokens = usage.output ?? record.outputTokens
                        case .text, .toolCall:
                            if record.timeToFirstToken == nil {
                                record.timeToFirstToken = Monotonic.seconds(from: arrival, to: Monotonic.now())
                            }
                        case .end: outcome = .answered
                        case .failed(let attemptClass, _, _, _): outcome = .failed(attemptClass)
                        default: break
                        }
                        return relay.encode(event)
                    }
                    // Events that arrived together leave together: what the relay encodes is held until the
                    // upstream has nothing more for now (`flush`), the stream ends or fails, then written at once.
                    var pending = ""
                    func send() async throws {
                        guard !pending.isEmpty else { return }
                        let text = pending
                        pending = ""
                        try await writer.write(ByteBuffer(string: text))
                    }
                    do {
                        for event in buffered {
                            if let text = handle(event) { pending += text }
                        }
                        try await send()
                        while outcome == .failed(.streamCut), let event = await cursor.next() {
                            if let text = handle(event) { pending += text }
                            if case .failed = event { break }
                            if case .end = event { break }
                            if case .flush = event { try await send() }
                        }
                        if outcome == .failed(.streamCut) {
                            pending += relay.error("the upstream stream ended early")
                        }
                        try await send()
                        try await writer.finish(nil)
                    } catch {
                        outcome = Task.isCancelled ? .cancelled : .clientGone
                    }
                    cost += link.price.cost(
                        inputTokens: record.inputTokens,
                        outputTokens: record.outputTokens,
                        cachedInputTokens: 0,
                        cacheWriteTokens: 0
                    )
                    record.costUSD = cost
                    record.outcome = outcome
                    record.endToEnd = Monotonic.seconds(from: arrival, to: Monotonic.now())
                    reservation.settle(cost: cost)
                    self.finish(record)
                    self.shadow(shadowLinks, record: record, output: output)
                    self.keepBody(links, record: record, output: output)
                }
            )
        }
    }
}

/// Re-encodes provider events as OpenAI stream chunks.
struct ChunkRelay: EventRelay {
    let id: String
    let created = Int(Date().timeIntervalSince1970)
    let model: String
    let includeUsage: Bool
    var sentRole = false
    var calledTools = false
    var usage: TokenUsage?
    /// The upstream's reason, passed on as it was (a truncated or filtered answer says so).
    var finishReason: FinishReason?

    let quotedID: String
    let quotedModel: String

    init(id: String, model: String, includeUsage: Bool) {
        self.id = id
        self.model = model
        self.includeUsage = includeUsage
        quotedID = JSONValue.quote(id)
        quotedModel = JSONValue.quote(model)
    }

    mutating func encode(_ event: ProviderEvent) -> String? {
        switch event {
        case .text(let text, _):
            guard sentRole else { return chunk(.init(content: text)) }
            // The hot path, one per token: written directly (the same JSON the Codable chunk encodes, keys sorted).
            return "data: {\"choices\":[{\"delta\":{\"content\":" + JSONValue.quote(text)
                + "},\"index\":0}],\"created\":\(created),\"id\":" + quotedID + ",\"model\":" + quotedModel
                + ",\"object\":\"chat.completion.chunk\"}\n\n"
        case .reasoning(let text, _):
            return chunk(.init(reasoning_content: text))
        case .toolCall(let delta, _):
            calledTools = true
            let call = OpenAIChat.ToolCall(
                index: delta.index,
                id: delta.id,
                type: delta.id == nil ? nil : "function",
                function: .init(name: delta.name, arguments: delta.arguments)
            )
            return chunk(.init(tool_calls: [call]))
        case .usage(let reported):
            usage = reported
            return nil
        case .finish(let reason):
            finishReason = reason
            return nil
        case .end:
            var text = sentRole ? "" : chunk(OpenAIChat.Chunk.Delta(content: ""))
            text += finishChunk()
            if includeUsage, let usage {
                let prompt: TokenCount? = usage.input.map { TokenCount($0) }
                let completion: TokenCount? = usage.output.map { TokenCount($0) }
                let reported = OpenAIChat.Usage(prompt_tokens: prompt, completion_tokens: completion)
                var last = OpenAIChat.Chunk(id: id, model: model, choices: [], usage: reported)
                last.created = created
                text += ServerSentEventEncoder.event(last)
            }
            return text + ServerSentEventEncoder.done
        case .failed(let attemptClass, _, let message, _):
            return error("upstream failed mid-stream: \(attemptClass.rawValue) (\(message.prefix(200)))")
        case .sent, .head, .flush:
            return nil
        }
    }

    mutating func chunk(_ delta: OpenAIChat.Chunk.Delta) -> String {
        var delta = delta
        if !sentRole {
            delta.role = "assistant"
            sentRole = true
        }
        var chunk = OpenAIChat.Chunk(id: id, model: model, choices: [.init(index: 0, delta: delta, finish_reason: nil)])
        chunk.created = created
        return ServerSentEventEncoder.event(chunk)
    }

    func finishChunk() -> String {
        var chunk = OpenAIChat.Chunk(
            id: id,
            model: model,
            choices: [
                .init(
                    index: 0,
                    delta: .init(),
                    finish_reason: (finishReason ?? (calledTools ? .toolCalls : .stop)).rawValue
                )
            ]
        )
        chunk.created = created
        return ServerSentEventEncoder.event(chunk)
    }

    /// An error event (the stream's end after a failure once content was sent).
    func error(_ message: String) -> String {
        ServerSentEventEncoder.event(OpenAIChat.ErrorBody(message: message, type: "api_error"))
    }
}
