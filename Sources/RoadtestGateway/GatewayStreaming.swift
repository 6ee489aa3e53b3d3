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
            // What already arrived leaves together with the first content.
            let early = buffered + cursor.drainBuffered()
            let session = RelaySession(
                gateway: self,
                record: record,
                arrival: arrival,
                relay: format == .anthropic
                    ? AnthropicRelay(id: record.id, model: route.name)
                    : ChunkRelay(id: record.id, model: route.name, includeUsage: includeUsage),
                link: link,
                cost: cost,
                reservation: reservation,
                links: links,
                shadowLinks: shadowLinks
            )
            if early.contains(where: \.endsStream) {
                // The upstream finished in what already arrived: the whole stream is one body, written at once.
                var session = session
                for event in early { session.handle(event) }
                let text = session.closingText()
                session.close(outcome: nil)
                return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: text)))
            }
            return Response(
                status: .ok,
                headers: headers,
                body: ResponseBody { writer in
                    var session = session
                    // Events that arrived together leave together: what the relay encodes is held until the
                    // upstream has nothing more for now (`flush`), the stream ends or fails, then written at once.
                    func send() async throws {
                        let text = session.takePending()
                        guard !text.isEmpty else { return }
                        try await writer.write(ByteBuffer(string: text))
                    }
                    var outcome: GatewayOutcome?
                    do {
                        for event in early { session.handle(event) }
                        try await send()
                        while !session.ended, let event = await cursor.next() {
                            session.handle(event)
                            if case .flush = event { try await send() }
                        }
                        let text = session.closingText()
                        if !text.isEmpty { try await writer.write(ByteBuffer(string: text)) }
                        try await writer.finish(nil)
                    } catch {
                        outcome = Task.isCancelled ? .cancelled : .clientGone
                    }
                    session.close(outcome: outcome)
                }
            )
        }
    }
}

extension ProviderEvent {
    /// The event ends an attempt's stream (its end, or a failure).
    var endsStream: Bool {
        switch self {
        case .end, .failed: true
        default: false
        }
    }
}

/// One relayed stream: the events re-encoded for the client (held until they are written), the record of the
/// request and, at its close, the cost settled and the request recorded.
struct RelaySession: @unchecked Sendable {
    let gateway: Gateway
    var record: GatewayRecord
    let arrival: UInt64
    var relay: any EventRelay
    let link: ChainLink
    var cost: Double
    let reservation: Reservation
    let links: [ChainLink]
    let shadowLinks: [ChainLink]
    var outcome = GatewayOutcome.failed(.streamCut)
    var output = ""
    var pending = ""
    /// The upstream's stream ended (its end, or a failure).
    var ended = false

    mutating func handle(_ event: ProviderEvent) {
        guard !ended else { return }
        switch event {
        case .text(let text, _):
            output += text
            if record.timeToFirstToken == nil {
                record.timeToFirstToken = Monotonic.seconds(from: arrival, to: Monotonic.now())
            }
        case .toolCall:
            if record.timeToFirstToken == nil {
                record.timeToFirstToken = Monotonic.seconds(from: arrival, to: Monotonic.now())
            }
        case .usage(let usage):
            record.inputTokens = usage.input ?? record.inputTokens
            record.outputTokens = usage.output ?? record.outputTokens
        case .end:
            outcome = .answered
            ended = true
        case .failed(let attemptClass, _, _, _):
            outcome = .failed(attemptClass)
            ended = true
        default: break
        }
        if let text = relay.encode(event) { pending += text }
    }

    mutating func takePending() -> String {
        defer { pending = "" }
        return pending
    }

    /// What is left to write: the pending text, and an error event when the upstream stopped without an end.
    mutating func closingText() -> String {
        if outcome == .failed(.streamCut) { pending += relay.error("the upstream stream ended early") }
        return takePending()
    }

    /// Settles the cost and records the request; `outcome` overrides the stream's (the client left).
    func close(outcome override: GatewayOutcome?) {
        var record = record
        let cost =
            cost
            + link.price.cost(
                inputTokens: record.inputTokens,
                outputTokens: record.outputTokens,
                cachedInputTokens: 0,
                cacheWriteTokens: 0
            )
        record.costUSD = cost
        record.outcome = override ?? outcome
        record.endToEnd = Monotonic.seconds(from: arrival, to: Monotonic.now())
        reservation.settle(cost: cost)
        gateway.finish(record)
        gateway.shadow(shadowLinks, record: record, output: output)
        gateway.keepBody(links, record: record, output: output)
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

    /// What follows a token's text in its chunk: the same for every token of the stream, made once.
    let textSuffix: String

    init(id: String, model: String, includeUsage: Bool) {
        self.id = id
        self.model = model
        self.includeUsage = includeUsage
        textSuffix =
            "},\"index\":0}],\"created\":\(created),\"id\":" + JSONValue.quote(id) + ",\"model\":"
            + JSONValue.quote(model) + ",\"object\":\"chat.completion.chunk\"}\n\n"
    }

    mutating func encode(_ event: ProviderEvent) -> String? {
        switch event {
        case .text(let text, _):
            guard sentRole else { return chunk(.init(content: text)) }
            // The hot path, one per token: written directly (the same JSON the Codable chunk encodes, keys sorted).
            var line = "data: {\"choices\":[{\"delta\":{\"content\":"
            line.reserveCapacity(line.utf8.count + text.utf8.count + textSuffix.utf8.count + 8)
            line += JSONValue.quote(text)
            line += textSuffix
            return line
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
