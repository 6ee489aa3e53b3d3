import Foundation
import RoadtestCore

/// What one stream event meant for the response being assembled.
public struct StreamStep: Sendable, Hashable {
    public var content: String?
    public var isEnd: Bool
    public var error: String?

    public init(content: String? = nil, isEnd: Bool = false, error: String? = nil) {
        self.content = content
        self.isEnd = isEnd
        self.error = error
    }
}

/// Interprets OpenAI chat-completion stream events; pure, no I/O.
public struct OpenAIStreamInterpreter: Sendable {
    public private(set) var inputTokens: Int?
    public private(set) var outputTokens: Int?
    public private(set) var cachedInputTokens: Int?
    public private(set) var finishReason: String?

    public init() {}

    public mutating func step(_ event: ServerSentEvent) -> StreamStep {
        if event.event == "error" { return StreamStep(error: "event: error: " + event.data.prefix(300)) }
        let data = event.data
        if data == "[DONE]" || (data.utf8.count < 16 && data.trimmingCharacters(in: .whitespaces) == "[DONE]") {
            return StreamStep(isEnd: true)
        }
        if data.utf8.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { return StreamStep() }
        guard let json = JSONValue.parse(data), case .object(let object) = json else {
            return StreamStep(error: "unparseable stream chunk: " + data.prefix(200))
        }
        if let error = object["error"] { return StreamStep(error: "error in stream: " + error.jsonText.prefix(300)) }
        if let usage = object["usage"]?.objectValue {
            inputTokens = usage["prompt_tokens"]?.doubleValue.map { Int($0) } ?? inputTokens
            outputTokens = usage["completion_tokens"]?.doubleValue.map { Int($0) } ?? outputTokens
            cachedInputTokens = usage["prompt_tokens_details"]?["cached_tokens"]?.doubleValue.map { Int($0) } ?? cachedInputTokens
        }
        var content: String?
        if let choice = object["choices"]?.arrayValue?.first {
            if let text = choice["delta"]?["content"]?.stringValue, !text.isEmpty { content = text }
            if let text = choice["text"]?.stringValue, !text.isEmpty { content = text }
            if let reason = choice["finish_reason"]?.stringValue { finishReason = reason }
        }
        return StreamStep(content: content)
    }

    /// Parses a non-streaming chat completion body.
    public static func parseBody(_ data: Data) -> (content: String, input: Int?, output: Int?, cached: Int?)? {
        guard let json = JSONValue.parse(data), let choice = json["choices"]?.arrayValue?.first else { return nil }
        let content = choice["message"]?["content"]?.stringValue ?? choice["text"]?.stringValue ?? ""
        let usage = json["usage"]
        return (
            content, usage?["prompt_tokens"]?.doubleValue.map { Int($0) }, usage?["completion_tokens"]?.doubleValue.map { Int($0) },
            usage?["prompt_tokens_details"]?["cached_tokens"]?.doubleValue.map { Int($0) }
        )
    }
}

/// Interprets Anthropic Messages stream events; pure, no I/O.
public struct AnthropicStreamInterpreter: Sendable {
    public private(set) var inputTokens: Int?
    public private(set) var outputTokens: Int?
    public private(set) var cachedInputTokens: Int?

    public init() {}

    public mutating func step(_ event: ServerSentEvent) -> StreamStep {
        if event.event == "error" { return StreamStep(error: "event: error: " + event.data.prefix(300)) }
        if event.data.isEmpty { return StreamStep() }
        guard let json = JSONValue.parse(event.data), case .object(let object) = json else {
            return StreamStep(error: "unparseable stream event: " + event.data.prefix(200))
        }
        let type = object["type"]?.stringValue ?? event.event ?? ""
        switch type {
        case "message_start":
            if let usage = object["message"]?["usage"] { absorb(usage) }
        case "content_block_delta":
            if let text = object["delta"]?["text"]?.stringValue, !text.isEmpty { return StreamStep(content: text) }
        case "message_delta":
            if let usage = object["usage"] { absorb(usage) }
        case "message_stop":
            return StreamStep(isEnd: true)
        case "error":
            return StreamStep(error: "error event: " + (object["error"]?.jsonText ?? "").prefix(300))
        default:
            break
        }
        return StreamStep()
    }

    private mutating func absorb(_ usage: JSONValue) {
        if let value = usage["input_tokens"]?.doubleValue { inputTokens = Int(value) }
        if let value = usage["output_tokens"]?.doubleValue { outputTokens = Int(value) }
        if let value = usage["cache_read_input_tokens"]?.doubleValue { cachedInputTokens = Int(value) }
    }

    /// Parses a non-streaming Messages body.
    public static func parseBody(_ data: Data) -> (content: String, input: Int?, output: Int?)? {
        guard let json = JSONValue.parse(data), let blocks = json["content"]?.arrayValue else { return nil }
        let text = blocks.compactMap { $0["type"]?.stringValue == "text" ? $0["text"]?.stringValue : nil }.joined()
        return (text, json["usage"]?["input_tokens"]?.doubleValue.map { Int($0) }, json["usage"]?["output_tokens"]?.doubleValue.map { Int($0) })
    }
}
