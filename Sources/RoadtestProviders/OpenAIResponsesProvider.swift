import Foundation
import RoadtestCore
import RoadtestWire

/// OpenAI's Responses API, `POST {base_url}/responses` (default base `https://api.openai.com/v1`), streaming by
/// default. The system prompt goes as `instructions`, the conversation as `input` items, tools as flat function
/// tools; `reasoning_effort` becomes `reasoning: {effort}`.
public struct OpenAIResponsesProvider: HTTPWireProvider {
    typealias Decoder = OpenAIResponsesStreamDecoder

    public let url: String
    public let apiKey: String?
    public let headers: [String: String]
    let transport: HTTPTransport

    public init(baseURL: String, apiKey: String?, headers: [String: String] = [:], transport: HTTPTransport) {
        var base = baseURL
        while base.hasSuffix("/") { base.removeLast() }
        self.url = base.hasSuffix("/responses") ? base : base + "/responses"
        self.apiKey = apiKey
        self.headers = headers
        self.transport = transport
    }

    /// The wire request for a chat request.
    public static func wireRequest(for request: ChatRequest) -> OpenAIResponses.Request {
        var input: [OpenAIResponses.InputItem] = []
        for message in request.messages {
            switch message.role {
            case "tool":
                input.append(.functionCallOutput(callID: message.toolCallID ?? "", output: message.content))
            default:
                if let attachments = message.attachments, !attachments.isEmpty {
                    input.append(.init(role: message.role, content: .array(Self.parts(message.content, attachments))))
                } else if !message.content.isEmpty || message.toolCalls == nil {
                    input.append(.message(role: message.role, text: message.content))
                }
                for call in message.toolCalls ?? [] {
                    input.append(.functionCall(callID: call.id, name: call.name, arguments: call.arguments))
                }
            }
        }
        let tools = request.tools.compactMap { tool -> OpenAIResponses.Tool? in
            let function = tool["function"] ?? tool
            guard let name = function["name"]?.stringValue else { return nil }
            return OpenAIResponses.Tool(
                name: name,
                description: function["description"]?.stringValue,
                parameters: function["parameters"]
            )
        }
        var toolChoice = request.toolChoice
        // Chat completions name a forced function under `function`; the Responses API names it flat.
        if case .object(let choice)? = toolChoice, let name = choice["function"]?["name"]?.stringValue {
            toolChoice = .object(["type": .string("function"), "name": .string(name)])
        }
        var extra = request.extra
        if let effort = extra.removeValue(forKey: "reasoning_effort"), extra["reasoning"] == nil {
            extra["reasoning"] = .object(["effort": effort])
        }
        let system = request.system.flatMap { $0.isEmpty ? nil : $0 }
        return OpenAIResponses.Request(
            model: request.model,
            instructions: system,
            input: input,
            max_output_tokens: request.maxTokens,
            temperature: request.temperature,
            tools: tools.isEmpty ? nil : tools,
            tool_choice: toolChoice,
            stream: request.stream,
            extra: extra
        )
    }

    /// A message's text and files as `input_text`, `input_image` and `input_file` parts.
    static func parts(_ text: String, _ attachments: [Attachment]) -> [JSONValue] {
        var parts: [JSONValue] = text.isEmpty ? [] : [.object(["type": .string("input_text"), "text": .string(text)])]
        for attachment in attachments {
            switch attachment.kind {
            case .image:
                parts.append(.object(["type": .string("input_image"), "image_url": .string(attachment.dataURL)]))
            case .document:
                parts.append(
                    .object([
                        "type": .string("input_file"), "filename": .string(attachment.name),
                        "file_data": .string(attachment.dataURL),
                    ])
                )
            }
        }
        return parts
    }

    public static func body(for request: ChatRequest) -> Data {
        WireJSON.data(wireRequest(for: request))
    }

    var requestHeaders: [(String, String)] {
        var headers = self.headers.map { ($0.key, $0.value) }
        if let apiKey { headers.append(("Authorization", "Bearer \(apiKey)")) }
        return headers
    }
}

/// Responses API stream events: output text and reasoning deltas, function calls (opened by
/// `response.output_item.added`, filled by `response.function_call_arguments.delta`), and the end
/// (`response.completed`, `response.incomplete`) with usage; `response.failed` and `error` fail the attempt.
/// A tool call's index is its `output_index`.
public struct OpenAIResponsesStreamDecoder: WireStreamDecoder {
    public init() {}

    /// Calls opened so far, by output index: their arguments are sent as deltas, so a `.done` repeats nothing.
    private var sawCall = false

    public mutating func decode(_ event: ServerSentEvent) -> [StreamItem] {
        if event.data.isEmpty { return [] }
        let decoded: OpenAIResponses.StreamEvent
        switch WireJSON.decode(OpenAIResponses.StreamEvent.self, from: event.data) {
        case .failure(let error):
            return [.malformed("unusable stream event (\(error.reason)): " + event.data.clipped(200))]
        case .success(let value): decoded = value
        }
        switch decoded.type {
        case "response.output_text.delta":
            return decoded.delta.map { $0.isEmpty ? [] : [.text($0)] } ?? []
        case "response.refusal.delta":
            return decoded.delta.map { $0.isEmpty ? [] : [.text($0)] } ?? []
        case "response.reasoning_text.delta", "response.reasoning_summary_text.delta":
            return decoded.delta.map { $0.isEmpty ? [] : [.reasoning($0)] } ?? []
        case "response.output_item.added":
            guard let item = decoded.item, item.type == "function_call" else { return [] }
            sawCall = true
            return [
                .toolCall(
                    ToolCallDelta(
                        index: decoded.output_index ?? 0,
                        id: item.call_id,
                        name: item.name,
                        arguments: item.arguments ?? ""
                    )
                )
            ]
        case "response.function_call_arguments.delta":
            return [.toolCall(ToolCallDelta(index: decoded.output_index ?? 0, arguments: decoded.delta ?? ""))]
        case "response.completed", "response.incomplete":
            guard let response = decoded.response else {
                return [.malformed("\(decoded.type) without its response: " + event.data.clipped(200))]
            }
            return Self.ending(response, sawCall: sawCall) + [.end]
        case "response.failed":
            let error = decoded.response?.error
            return [.malformed("response.failed: \(Self.describe(error))")]
        case "error":
            return [.malformed("error event: \(Self.describe(.init(code: decoded.code, message: decoded.message)))")]
        default:
            return []
        }
    }

    static func describe(_ error: OpenAIResponses.ErrorDetail?) -> String {
        guard let error else { return "no error given" }
        return [error.code, error.message].compactMap { $0 }.joined(separator: ": ").clipped(300)
    }

    /// Usage and why the response stopped.
    static func ending(_ response: OpenAIResponses.Response, sawCall: Bool) -> [StreamItem] {
        var items: [StreamItem] = []
        if let usage = response.usage { items.append(.usage(Self.usage(usage))) }
        let hasCall = sawCall || (response.output ?? []).contains { $0.type == "function_call" }
        switch response.incomplete_details?.reason {
        case "max_output_tokens"?: items.append(.finish(.length))
        case "content_filter"?: items.append(.finish(.contentFilter))
        default: items.append(.finish(hasCall ? .toolCalls : .stop))
        }
        return items
    }

    static func usage(_ usage: OpenAIResponses.Usage) -> TokenUsage {
        TokenUsage(
            input: usage.input_tokens?.value,
            output: usage.output_tokens?.value,
            cacheRead: usage.input_tokens_details?.cached_tokens?.value,
            reasoning: usage.output_tokens_details?.reasoning_tokens?.value
        )
    }

    public static func decodeBody(_ data: Data) -> [StreamItem] {
        switch WireJSON.decode(OpenAIResponses.Response.self, from: data) {
        case .failure(let error):
            return [
                .malformed(
                    "unusable response body (\(error.reason)): " + String(decoding: data.prefix(200), as: UTF8.self)
                )
            ]
        case .success(let response):
            if response.status == "failed" { return [.malformed("response failed: \(describe(response.error))")] }
            guard let output = response.output else {
                return [.malformed("response body has no output: " + String(decoding: data.prefix(200), as: UTF8.self))]
            }
            var items: [StreamItem] = []
            for (index, item) in output.enumerated() {
                switch item.type {
                case "reasoning":
                    let text = ((item.content ?? []) + (item.summary ?? [])).compactMap(\.text).joined()
                    if !text.isEmpty { items.append(.reasoning(text)) }
                case "message":
                    let text = (item.content ?? []).compactMap { $0.text ?? $0.refusal }.joined()
                    if !text.isEmpty { items.append(.text(text)) }
                case "function_call":
                    items.append(
                        .toolCall(
                            ToolCallDelta(
                                index: index,
                                id: item.call_id,
                                name: item.name,
                                arguments: item.arguments ?? ""
                            )
                        )
                    )
                default: break
                }
            }
            return items + ending(response, sawCall: false) + [.end]
        }
    }
}
