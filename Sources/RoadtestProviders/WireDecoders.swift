import Foundation
import RoadtestCore
import RoadtestWire

/// What one wire event or body meant, before it is stamped with its arrival time.
public enum StreamItem: Sendable, Hashable {
    case text(String)
    case reasoning(String)
    case toolCall(ToolCallDelta)
    case usage(TokenUsage)
    case finish(FinishReason)
    case end
    /// Unusable input from the server: the attempt is `malformed`, with this reason.
    case malformed(String)
    /// The provider's safety system refused the prompt or withheld the answer: the attempt is `content_filter`,
    /// with this reason.
    case refused(String)
}

/// How a format's stream is cut into events: server-sent events (text), or AWS's binary event-stream messages.
public enum StreamFraming: Sendable {
    case serverSentEvents
    case eventStream
}

/// Turns a wire format's stream events (and whole bodies) into stream items. A pure state machine: no I/O.
public protocol WireStreamDecoder: Sendable {
    init()
    /// How the stream is framed (server-sent events unless the format says otherwise).
    static var framing: StreamFraming { get }
    /// The items one stream event carries.
    mutating func decode(_ event: ServerSentEvent) -> [StreamItem]
    /// The items one event-stream message carries (formats framed as `.eventStream`).
    mutating func decode(_ message: EventStreamMessage) -> [StreamItem]
    /// The items of a complete (non-streaming) response body.
    static func decodeBody(_ data: Data) -> [StreamItem]
}

extension WireStreamDecoder {
    public static var framing: StreamFraming { .serverSentEvents }

    public mutating func decode(_ message: EventStreamMessage) -> [StreamItem] {
        [.malformed("a binary event-stream message where server-sent events were expected")]
    }
}

extension String {
    /// At most `count` characters, for messages that quote a server.
    func clipped(_ count: Int) -> String { count < self.count ? String(prefix(count)) + "…" : self }
}

/// OpenAI chat-completion chunks.
public struct OpenAIStreamDecoder: WireStreamDecoder {
    public init() {}

    public mutating func decode(_ event: ServerSentEvent) -> [StreamItem] {
        if event.event == "error" { return [.malformed("event: error: " + event.data.clipped(300))] }
        let data = event.data
        if data == "[DONE]" || (data.utf8.count < 16 && data.trimmingCharacters(in: .whitespaces) == "[DONE]") {
            return [.end]
        }
        if data.utf8.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { return [] }
        guard let chunk = JSONValue.parse(data).flatMap(OpenAIChat.Chunk.init(fastJSON:)) else {
            return Self.codableItems(data)
        }
        return Self.items(chunk)
    }

    /// A chunk's items read with the one-pass parser, or nil when the chunk is unusual and `codableItems` decides.
    public static func fastItems(_ data: String) -> [StreamItem]? {
        JSONValue.parse(data).flatMap(OpenAIChat.Chunk.init(fastJSON:)).map(items)
    }

    /// A chunk's items through the Codable `OpenAIChat.Chunk`: the reference the fast path agrees with, and the
    /// decoder of every chunk the fast path leaves alone (with the error message a malformed chunk gets).
    public static func codableItems(_ data: String) -> [StreamItem] {
        switch WireJSON.codableDecode(OpenAIChat.Chunk.self, from: Data(data.utf8)) {
        case .failure(let error):
            return [.malformed("unusable stream chunk (\(error.reason)): " + data.clipped(200))]
        case .success(let chunk):
            return items(chunk)
        }
    }

    /// What a decoded chunk says: a failure inside the stream, or its usage and its first choice's content.
    static func items(_ chunk: OpenAIChat.Chunk) -> [StreamItem] {
        if let error = chunk.error { return [.malformed("error in stream: " + error.jsonText.clipped(300))] }
        var items: [StreamItem] = []
        if let usage = chunk.usage { items.append(.usage(Self.usage(usage))) }
        if let choice = chunk.choices?.first {
            if let reasoning = choice.delta?.reasoning_content, !reasoning.isEmpty {
                items.append(.reasoning(reasoning))
            }
            if let text = choice.delta?.content, !text.isEmpty { items.append(.text(text)) }
            if let text = choice.text, !text.isEmpty { items.append(.text(text)) }
            for (position, call) in (choice.delta?.tool_calls ?? []).enumerated() {
                items.append(
                    .toolCall(
                        ToolCallDelta(
                            index: call.index ?? position,
                            id: call.id,
                            name: call.function?.name,
                            arguments: call.function?.arguments ?? ""
                        )
                    )
                )
            }
            if let reason = FinishReason(openAI: choice.finish_reason) { items.append(.finish(reason)) }
        }
        return items
    }

    static func usage(_ usage: OpenAIChat.Usage) -> TokenUsage {
        TokenUsage(
            input: usage.prompt_tokens?.value,
            output: usage.completion_tokens?.value,
            cacheRead: usage.prompt_tokens_details?.cached_tokens?.value,
            reasoning: usage.completion_tokens_details?.reasoning_tokens?.value
        )
    }

    public static func decodeBody(_ data: Data) -> [StreamItem] {
        switch WireJSON.decode(OpenAIChat.Completion.self, from: data) {
        case .failure(let error):
            return [
                .malformed(
                    "unusable response body (\(error.reason)): " + String(decoding: data.prefix(200), as: UTF8.self)
                )
            ]
        case .success(let completion):
            var items: [StreamItem] = []
            if let choice = completion.choices.first {
                if let reasoning = choice.message?.reasoning_content, !reasoning.isEmpty {
                    items.append(.reasoning(reasoning))
                }
                let text = choice.message?.content?.text ?? choice.text ?? ""
                if !text.isEmpty { items.append(.text(text)) }
                for (position, call) in (choice.message?.tool_calls ?? []).enumerated() {
                    items.append(
                        .toolCall(
                            ToolCallDelta(
                                index: position,
                                id: call.id,
                                name: call.function?.name,
                                arguments: call.function?.arguments ?? ""
                            )
                        )
                    )
                }
                if let reason = FinishReason(openAI: choice.finish_reason) { items.append(.finish(reason)) }
            }
            if let usage = completion.usage { items.append(.usage(Self.usage(usage))) }
            return items + [.end]
        }
    }
}

/// Anthropic Messages stream events. The prompt is `input_tokens` + `cache_read_input_tokens` +
/// `cache_creation_input_tokens` (Anthropic's `input_tokens` excludes the cached parts).
public struct AnthropicStreamDecoder: WireStreamDecoder {
    public init() {}

    private var input: Int?
    private var cacheRead: Int?
    private var cacheWrite: Int?

    public mutating func decode(_ event: ServerSentEvent) -> [StreamItem] {
        if event.event == "error" { return [.malformed("event: error: " + event.data.clipped(300))] }
        if event.data.isEmpty { return [] }
        let decoded: AnthropicMessages.StreamEvent
        switch WireJSON.decode(AnthropicMessages.StreamEvent.self, from: event.data) {
        case .failure(let error):
            return [.malformed("unusable stream event (\(error.reason)): " + event.data.clipped(200))]
        case .success(let value): decoded = value
        }
        switch decoded.type {
        case "message_start":
            return decoded.message?.usage.map { [.usage(absorb($0))] } ?? []
        case "content_block_start":
            guard let block = decoded.content_block else { return [] }
            let index = decoded.index ?? 0
            switch block.type {
            case "tool_use":
                var arguments = ""
                if let input = block.input, input != .object([:]) { arguments = input.jsonText }
                return [.toolCall(ToolCallDelta(index: index, id: block.id, name: block.name, arguments: arguments))]
            case "text": return block.text.map { $0.isEmpty ? [] : [.text($0)] } ?? []
            case "thinking": return block.thinking.map { $0.isEmpty ? [] : [.reasoning($0)] } ?? []
            default: return []
            }
        case "content_block_delta":
            let index = decoded.index ?? 0
            switch decoded.delta?.type {
            case "text_delta": return decoded.delta?.text.map { $0.isEmpty ? [] : [.text($0)] } ?? []
            case "thinking_delta": return decoded.delta?.thinking.map { $0.isEmpty ? [] : [.reasoning($0)] } ?? []
            case "input_json_delta":
                return [.toolCall(ToolCallDelta(index: index, arguments: decoded.delta?.partial_json ?? ""))]
            default: return []
            }
        case "message_delta":
            var items: [StreamItem] = decoded.usage.map { [.usage(absorb($0))] } ?? []
            if let reason = FinishReason(anthropic: decoded.delta?.stop_reason) { items.append(.finish(reason)) }
            return items
        case "message_stop":
            return [.end]
        case "error":
            return [.malformed("error event: " + (decoded.error?.jsonText ?? "").clipped(300))]
        default:
            return []
        }
    }

    private mutating func absorb(_ usage: AnthropicMessages.Usage) -> TokenUsage {
        input = usage.input_tokens?.value ?? input
        cacheRead = usage.cache_read_input_tokens?.value ?? cacheRead
        cacheWrite = usage.cache_creation_input_tokens?.value ?? cacheWrite
        let prompt = input.map { $0 + (cacheRead ?? 0) + (cacheWrite ?? 0) }
        return TokenUsage(
            input: prompt,
            output: usage.output_tokens?.value,
            cacheRead: cacheRead,
            cacheWrite: cacheWrite
        )
    }

    public static func decodeBody(_ data: Data) -> [StreamItem] {
        switch WireJSON.decode(AnthropicMessages.Response.self, from: data) {
        case .failure(let error):
            return [
                .malformed(
                    "unusable response body (\(error.reason)): " + String(decoding: data.prefix(200), as: UTF8.self)
                )
            ]
        case .success(let response):
            guard let blocks = response.content else {
                return [
                    .malformed("response body has no content: " + String(decoding: data.prefix(200), as: UTF8.self))
                ]
            }
            var items: [StreamItem] = []
            for (index, block) in blocks.enumerated() {
                switch block.type {
                case "text": if let text = block.text, !text.isEmpty { items.append(.text(text)) }
                case "thinking": if let text = block.thinking, !text.isEmpty { items.append(.reasoning(text)) }
                case "tool_use":
                    items.append(
                        .toolCall(
                            ToolCallDelta(
                                index: index,
                                id: block.id,
                                name: block.name,
                                arguments: block.input?.jsonText ?? "{}"
                            )
                        )
                    )
                default: break
                }
            }
            if let usage = response.usage {
                var decoder = AnthropicStreamDecoder()
                items.append(.usage(decoder.absorb(usage)))
            }
            if let reason = FinishReason(anthropic: response.stop_reason) { items.append(.finish(reason)) }
            return items + [.end]
        }
    }
}
