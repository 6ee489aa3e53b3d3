import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import RoadtestCore
import RoadtestProviders
import RoadtestWire

/// One upstream stream, read by one task at a time: first while the gateway waits for the first content, then by
/// the response body that relays the rest.
final class EventCursor: @unchecked Sendable {
    var iterator: AsyncStream<ProviderEvent>.AsyncIterator

    init(_ stream: AsyncStream<ProviderEvent>) {
        iterator = stream.makeAsyncIterator()
    }

    func next() async -> ProviderEvent? { await iterator.next() }
}

extension Gateway {
    /// How a streaming request's chain started.
    enum Opening {
        /// A candidate sent content (or a complete empty answer): relay `buffered`, then the rest of `cursor`.
        case ready(cursor: EventCursor, buffered: [ProviderEvent], link: ChainLink, attempts: Int, cost: Double)
        /// Every candidate failed before any content: the client gets an HTTP error.
        case failed(AttemptClass, message: String, retryAfter: Double?, attempts: Int, cost: Double)
    }

    /// Walks the chain until a candidate's stream carries content. Failures before the first content byte reached
    /// the client are retried (the candidate's retry policy) and then fall back, as for non-streaming requests.
    func open(_ links: [ChainLink]) async -> Opening {
        var attempts = 0
        var cost = 0.0
        var last: (AttemptClass, String, Double?) = (.connection, "no candidate was tried", nil)
        var seen: Set<String> = []
        for link in links where seen.insert(link.id).inserted {
            if case .open = breakers.admit(link.id, cooldown: link.cooldown) { continue }
            var number = 1
            while true {
                if Task.isCancelled {
                    return .failed(.timeout, message: "cancelled", retryAfter: nil, attempts: attempts, cost: cost)
                }
                attempts += 1
                let cursor = EventCursor(link.provider.events(for: link.request))
                var buffered: [ProviderEvent] = []
                var failure: (AttemptClass, String, Double?)?
                reading: while let event = await cursor.next() {
                    buffered.append(event)
                    switch event {
                    case .text, .toolCall, .end:
                        _ = breakers.record(link.id, failed: false, cooldown: link.cooldown)
                        return .ready(cursor: cursor, buffered: buffered, link: link, attempts: attempts, cost: cost)
                    case .failed(let attemptClass, _, let message, let retryAfter):
                        failure = (attemptClass, message, retryAfter)
                        break reading
                    case .usage(let usage):
                        cost += link.price.cost(
                            inputTokens: usage.input ?? 0,
                            outputTokens: usage.output ?? 0,
                            cachedInputTokens: usage.cacheRead ?? 0,
                            cacheWriteTokens: usage.cacheWrite ?? 0
                        )
                    default:
                        continue
                    }
                }
                let (attemptClass, message, retryAfter) =
                    failure ?? (.streamCut, "the stream ended before any content", nil)
                last = (attemptClass, "\(link.id): \(message)", retryAfter)
                let opened = breakers.record(link.id, failed: attemptClass.warrantsFallback, cooldown: link.cooldown)
                if !opened,
                    let delay = link.retryPolicy.delay(
                        afterAttempt: number,
                        attemptClass: attemptClass,
                        retryAfter: retryAfter,
                        jitter: Double.random(in: 0..<1)
                    )
                {
                    try? await Task.sleep(nanoseconds: UInt64(delay * 1e9))
                    number += 1
                    continue
                }
                if !attemptClass.warrantsFallback {
                    return .failed(
                        attemptClass,
                        message: last.1,
                        retryAfter: retryAfter,
                        attempts: attempts,
                        cost: cost
                    )
                }
                break
            }
        }
        return .failed(last.0, message: last.1, retryAfter: last.2, attempts: attempts, cost: cost)
    }

    /// A streaming request: waits for the first content (falling back before it), then relays every event as it
    /// arrives, re-encoded as OpenAI chunks. A failure after content was sent ends the stream with an error event.
    func stream(
        links: [ChainLink],
        route: GatewayPolicy.Route,
        includeUsage: Bool,
        record: GatewayRecord,
        arrival: UInt64,
        shadow shadowLinks: [ChainLink] = [],
        format: ClientFormat = .openAI
    ) async -> Response {
        var record = record
        switch await open(links) {
        case .failed(let attemptClass, let message, let retryAfter, let attempts, let cost):
            record.attempts = attempts
            record.costUSD = cost
            record.endToEnd = Monotonic.seconds(from: arrival, to: Monotonic.now())
            budgets.add(cost, to: route.name)
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
            var headers = Self.headers(id: record.id, servedBy: link.id)
            headers[.contentType] = "text/event-stream"
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
                    var outcome = "stream_cut"
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
                        case .end: outcome = "ok"
                        case .failed(let attemptClass, _, _, _): outcome = attemptClass.rawValue
                        default: break
                        }
                        return relay.encode(event)
                    }
                    do {
                        for event in buffered {
                            if let text = handle(event) { try await writer.write(ByteBuffer(string: text)) }
                        }
                        while outcome == "stream_cut", let event = await cursor.next() {
                            if let text = handle(event) { try await writer.write(ByteBuffer(string: text)) }
                            if case .failed = event { break }
                            if case .end = event { break }
                        }
                        if outcome == "stream_cut" {
                            try await writer.write(ByteBuffer(string: relay.error("the upstream stream ended early")))
                        }
                        try await writer.finish(nil)
                    } catch {
                        outcome = "client_gone"
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
                    self.budgets.add(cost, to: route.name)
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
        case .sent, .head:
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
            choices: [.init(index: 0, delta: .init(), finish_reason: calledTools ? "tool_calls" : "stop")]
        )
        chunk.created = created
        return ServerSentEventEncoder.event(chunk)
    }

    /// An error event (the stream's end after a failure once content was sent).
    func error(_ message: String) -> String {
        ServerSentEventEncoder.event(OpenAIChat.ErrorBody(message: message, type: "api_error"))
    }
}
