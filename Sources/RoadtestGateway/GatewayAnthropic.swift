import Foundation
import RoadtestCore
import RoadtestProviders
import RoadtestWire

/// The wire format a client spoke: OpenAI chat completions or Anthropic Messages.
public enum ClientFormat: Sendable, Hashable {
    case openAI
    case anthropic
}

/// A client's request, whatever its wire format: what the gateway routes and sends upstream.
struct Incoming: Sendable {
    var model: String?
    var stream: Bool
    var includeUsage: Bool
    var system: [String]
    var messages: [Message]
    /// OpenAI function definitions (the providers translate them for Anthropic upstreams).
    var tools: [JSONValue]
    /// OpenAI's form.
    var toolChoice: JSONValue?
    var temperature: Double?
    var maxTokens: Int?
    var extra: [String: JSONValue]

    init(openAI wire: OpenAIChat.Request) {
        model = wire.model
        stream = wire.stream == true
        includeUsage = wire.stream_options?.include_usage == true
        system = []
        messages = []
        for message in wire.messages {
            let text = message.content?.text ?? ""
            if message.role == "system" || message.role == "developer" {
                system.append(text)
                continue
            }
            messages.append(
                Message(
                    role: message.role,
                    content: text,
                    toolCalls: message.tool_calls?.map {
                        ToolCall(
                            id: $0.id ?? "",
                            name: $0.function?.name ?? "",
                            arguments: $0.function?.arguments ?? ""
                        )
                    },
                    toolCallID: message.tool_call_id
                )
            )
        }
        tools = (wire.tools ?? []).compactMap { JSONValue.parse(WireJSON.data($0)) }
        toolChoice = wire.tool_choice
        temperature = wire.temperature
        maxTokens = wire.max_tokens
        extra = wire.extra
    }

    init(anthropic wire: AnthropicMessages.Request) {
        model = wire.model
        stream = wire.stream == true
        includeUsage = true
        system = wire.system.map { [$0] } ?? []
        messages = []
        for message in wire.messages {
            // Tool results come back as blocks of a user turn: each is a `tool` message.
            for block in message.content where block.type == "tool_result" {
                let content: String
                switch block.content {
                case .string(let text)?: content = text
                case .array(let parts)?: content = parts.compactMap { $0["text"]?.stringValue }.joined()
                default: content = ""
                }
                messages.append(Message(role: "tool", content: content, toolCallID: block.tool_use_id))
            }
            let calls = message.content.filter { $0.type == "tool_use" }.map {
                ToolCall(id: $0.id ?? "", name: $0.name ?? "", arguments: ($0.input ?? .object([:])).jsonText)
            }
            let text = message.text
            if !text.isEmpty || !calls.isEmpty || !message.content.contains(where: { $0.type == "tool_result" }) {
                messages.append(Message(role: message.role, content: text, toolCalls: calls.isEmpty ? nil : calls))
            }
        }
        tools = (wire.tools ?? []).map { tool in
            var function: [String: JSONValue] = ["name": .string(tool.name), "parameters": tool.input_schema]
            if let description = tool.description { function["description"] = .string(description) }
            return .object(["type": .string("function"), "function": .object(function)])
        }
        switch wire.tool_choice?["type"]?.stringValue {
        case "auto": toolChoice = .string("auto")
        case "any": toolChoice = .string("required")
        case "none": toolChoice = .string("none")
        case "tool":
            toolChoice = wire.tool_choice?["name"].map {
                .object(["type": .string("function"), "function": .object(["name": $0])])
            }
        default: toolChoice = nil
        }
        temperature = wire.temperature
        maxTokens = wire.max_tokens
        extra = wire.extra
    }
}

/// Re-encodes provider events for the client, as they arrive.
protocol EventRelay {
    /// The text to send for one event (nil: nothing).
    mutating func encode(_ event: ProviderEvent) -> String?
    /// The stream's last event after a failure once content was sent.
    func error(_ message: String) -> String
}

/// Provider events as Anthropic Messages stream events (`message_start`, content blocks, `message_delta`,
/// `message_stop`).
struct AnthropicRelay: EventRelay {
    let id: String
    let model: String
    var started = false
    /// The open content block: its index and whether it is a tool call.
    var open: (index: Int, tool: Bool)?
    var next = 0
    var calledTools = false
    var finishReason: FinishReason?
    var usage: TokenUsage?

    init(id: String, model: String) {
        self.id = id
        self.model = model
    }

    static func event<Value: Encodable>(_ value: Value, _ name: String) -> String {
        ServerSentEventEncoder.event(value, name: name)
    }

    mutating func start() -> String {
        guard !started else { return "" }
        started = true
        let message = AnthropicMessages.Response(
            id: id,
            model: model,
            content: [],
            stop_reason: nil,
            usage: .init(input_tokens: 0, output_tokens: 0)
        )
        return Self.event(AnthropicMessages.StreamEvent.messageStart(message), "message_start")
    }

    mutating func close() -> String {
        guard let block = open else { return "" }
        open = nil
        return Self.event(AnthropicMessages.StreamEvent.blockStop(block.index), "content_block_stop")
    }

    mutating func encode(_ event: ProviderEvent) -> String? {
        switch event {
        case .text(let text, _):
            var out = start()
            if open == nil || open?.tool == true {
                out += close()
                open = (next, false)
                out += Self.event(AnthropicMessages.StreamEvent.blockStart(next, .text("")), "content_block_start")
                next += 1
            }
            var delta = AnthropicMessages.StreamEvent.Delta(type: "text_delta")
            delta.text = text
            return out + Self.event(AnthropicMessages.StreamEvent.blockDelta(open!.index, delta), "content_block_delta")
        case .toolCall(let call, _):
            calledTools = true
            var out = start()
            if call.id != nil || open?.tool != true {
                out += close()
                open = (next, true)
                let block = AnthropicMessages.ContentBlock.toolUse(
                    id: call.id ?? "toolu_\(next)",
                    name: call.name ?? "",
                    input: .object([:])
                )
                out += Self.event(AnthropicMessages.StreamEvent.blockStart(next, block), "content_block_start")
                next += 1
            }
            guard !call.arguments.isEmpty else { return out }
            var delta = AnthropicMessages.StreamEvent.Delta(type: "input_json_delta")
            delta.partial_json = call.arguments
            return out + Self.event(AnthropicMessages.StreamEvent.blockDelta(open!.index, delta), "content_block_delta")
        case .usage(let reported):
            usage = reported
            return nil
        case .finish(let reason):
            finishReason = reason
            return nil
        case .end:
            var out = start() + close()
            let usage = AnthropicMessages.Usage(
                input_tokens: (self.usage?.input).map { TokenCount($0) },
                output_tokens: TokenCount(self.usage?.output ?? 0)
            )
            out += Self.event(
                AnthropicMessages.StreamEvent.messageDelta(
                    stopReason: (finishReason ?? (calledTools ? .toolCalls : .stop)).anthropic,
                    usage: usage
                ),
                "message_delta"
            )
            return out + Self.event(AnthropicMessages.StreamEvent(type: "message_stop"), "message_stop")
        case .failed(let attemptClass, _, let message, _):
            return error("upstream failed mid-stream: \(attemptClass.rawValue) (\(message.prefix(200)))")
        case .reasoning, .sent, .head, .flush:
            return nil
        }
    }

    func error(_ message: String) -> String {
        Self.event(AnthropicMessages.ErrorBody(type: "api_error", message: message), "error")
    }
}

extension Gateway {
    /// A non-streaming answer as an Anthropic Messages response.
    static func anthropicResponse(id: String, model: String, response: ProviderResponse) -> AnthropicMessages.Response {
        var blocks: [AnthropicMessages.ContentBlock] = []
        if !response.output.isEmpty || response.toolCalls.isEmpty { blocks.append(.text(response.output)) }
        for call in response.toolCalls {
            blocks.append(
                .toolUse(id: call.id, name: call.name, input: JSONValue.parse(call.arguments) ?? .object([:]))
            )
        }
        return AnthropicMessages.Response(
            id: id,
            model: model,
            content: blocks,
            stop_reason: (response.finishReason ?? (response.toolCalls.isEmpty ? .stop : .toolCalls)).anthropic,
            usage: .init(
                input_tokens: TokenCount(response.inputTokens),
                output_tokens: TokenCount(response.outputTokens)
            )
        )
    }

    /// The Anthropic error type for an HTTP status.
    static func anthropicErrorType(_ status: Int) -> String {
        switch status {
        case 400: return "invalid_request_error"
        case 401: return "authentication_error"
        case 403: return "permission_error"
        case 404: return "not_found_error"
        case 413: return "request_too_large"
        case 429: return "rate_limit_error"
        case 503: return "overloaded_error"
        default: return "api_error"
        }
    }
}
