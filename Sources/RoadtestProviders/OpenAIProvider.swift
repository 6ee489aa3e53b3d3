import Foundation
import RoadtestCore
import RoadtestWire

/// Any OpenAI-compatible `/v1/chat/completions` endpoint (llama-server, vLLM, OpenAI, gateways).
/// Streams with `stream_options.include_usage` by default.
public struct OpenAIProvider: HTTPWireProvider {
    typealias Decoder = OpenAIStreamDecoder

    public let url: String
    public let headers: [String: String]
    /// The credential's header: `Authorization: Bearer KEY`, or Azure's `api-key: KEY`.
    let credential: (name: String, value: String)?
    let transport: HTTPTransport

    public init(baseURL: String, apiKey: String?, headers: [String: String] = [:], transport: HTTPTransport) {
        var base = baseURL
        while base.hasSuffix("/") { base.removeLast() }
        self.init(
            url: base.hasSuffix("/chat/completions") ? base : base + "/chat/completions",
            credential: apiKey.map { ("Authorization", "Bearer \($0)") },
            headers: headers,
            transport: transport
        )
    }

    /// A chat-completions endpoint at exactly `url` (Azure's deployment URLs carry a query), with the credential in
    /// the named header.
    public init(
        url: String,
        credential: (name: String, value: String)?,
        headers: [String: String] = [:],
        transport: HTTPTransport
    ) {
        self.url = url
        self.credential = credential
        self.headers = headers
        self.transport = transport
    }

    /// The wire request for a chat request.
    public static func wireRequest(for request: ChatRequest) -> OpenAIChat.Request {
        let messages = request.messagesWithSystem.map { message in
            var content: OpenAIChat.Content? =
                message.toolCalls != nil && message.content.isEmpty ? nil : .text(message.content)
            if let attachments = message.attachments, !attachments.isEmpty {
                // The text first, then each file as an `image_url` or `file` part.
                content = .parts(
                    (message.content.isEmpty ? [] : [OpenAIChat.ContentPart(text: message.content)])
                        + attachments.map(OpenAIChat.ContentPart.attachment)
                )
            }
            return OpenAIChat.Message(
                role: message.role,
                content: content,
                tool_calls: message.toolCalls?.map {
                    OpenAIChat.ToolCall(id: $0.id, function: .init(name: $0.name, arguments: $0.arguments))
                },
                tool_call_id: message.toolCallID
            )
        }
        let tools = request.tools.compactMap { tool -> OpenAIChat.Tool? in
            let function = tool["function"] ?? tool
            guard let name = function["name"]?.stringValue else { return nil }
            return OpenAIChat.Tool(
                function: .init(
                    name: name,
                    description: function["description"]?.stringValue,
                    parameters: function["parameters"]
                )
            )
        }
        return OpenAIChat.Request(
            model: request.model,
            messages: messages,
            temperature: request.temperature,
            max_tokens: request.maxTokens,
            stream: request.stream,
            stream_options: request.stream ? .init(include_usage: true) : nil,
            tools: tools.isEmpty ? nil : tools,
            tool_choice: request.toolChoice,
            extra: request.extra
        )
    }

    /// The request body for a chat request.
    public static func body(for request: ChatRequest) -> Data {
        WireJSON.data(wireRequest(for: request))
    }

    var requestHeaders: [(String, String)] {
        var headers = self.headers.map { ($0.key, $0.value) }
        if let credential { headers.append((credential.name, credential.value)) }
        return headers
    }

}

/// Anthropic Messages `/v1/messages`, streaming by default.
public struct AnthropicProvider: HTTPWireProvider {
    typealias Decoder = AnthropicStreamDecoder

    public let url: String
    public let apiKey: String?
    public let headers: [String: String]
    let transport: HTTPTransport

    public init(baseURL: String, apiKey: String?, headers: [String: String] = [:], transport: HTTPTransport) {
        var base = baseURL
        while base.hasSuffix("/") { base.removeLast() }
        if base.hasSuffix("/v1/messages") {
            self.url = base
        } else if base.hasSuffix("/v1") {
            self.url = base + "/messages"
        } else {
            self.url = base + "/v1/messages"
        }
        self.apiKey = apiKey
        self.headers = headers
        self.transport = transport
    }

    /// The wire request: the system prompt apart, tool calls as `tool_use` blocks, tool results as `tool_result`
    /// blocks in a user turn, OpenAI-style tool definitions as `input_schema` tools.
    public static func wireRequest(for request: ChatRequest) -> AnthropicMessages.Request {
        var messages: [AnthropicMessages.Message] = []
        for message in request.messages where message.role != "system" {
            if message.role == "tool" {
                let block = AnthropicMessages.ContentBlock.toolResult(
                    id: message.toolCallID ?? "",
                    content: message.content
                )
                if let lastIndex = messages.indices.last, messages[lastIndex].role == "user",
                    messages[lastIndex].content.allSatisfy({ $0.type == "tool_result" })
                {
                    messages[lastIndex].content.append(block)
                } else {
                    messages.append(.init(role: "user", content: [block]))
                }
                continue
            }
            // Attached files first, then the text, as Anthropic recommends.
            var blocks: [AnthropicMessages.ContentBlock] = (message.attachments ?? []).map { .attachment($0) }
            if !message.content.isEmpty { blocks.append(.text(message.content)) }
            for call in message.toolCalls ?? [] {
                blocks.append(
                    .toolUse(id: call.id, name: call.name, input: JSONValue.parse(call.arguments) ?? .object([:]))
                )
            }
            messages.append(.init(role: message.role, content: blocks.isEmpty ? [.text("")] : blocks))
        }
        let tools = request.tools.compactMap { tool -> AnthropicMessages.Tool? in
            let function = tool["function"] ?? tool
            guard let name = function["name"]?.stringValue else { return nil }
            return AnthropicMessages.Tool(
                name: name,
                description: function["description"]?.stringValue,
                input_schema: function["parameters"] ?? function["input_schema"] ?? .object(["type": .string("object")])
            )
        }
        var toolChoice: JSONValue?
        switch request.toolChoice {
        case .string("auto")?: toolChoice = .object(["type": .string("auto")])
        case .string("required")?: toolChoice = .object(["type": .string("any")])
        case .string("none")?: toolChoice = .object(["type": .string("none")])
        case .object(let choice)?:
            if let name = choice["function"]?["name"]?.stringValue {
                toolChoice = .object(["type": .string("tool"), "name": .string(name)])
            } else {
                toolChoice = .object(choice)
            }
        default: toolChoice = nil
        }
        let system = request.system.flatMap { $0.isEmpty ? nil : $0 }
        return AnthropicMessages.Request(
            model: request.model ?? "",
            system: system,
            messages: messages,
            max_tokens: request.maxTokens ?? 1024,
            temperature: request.temperature,
            stream: request.stream,
            tools: tools.isEmpty ? nil : tools,
            tool_choice: toolChoice,
            extra: request.extra
        )
    }

    public static func body(for request: ChatRequest) -> Data {
        WireJSON.data(wireRequest(for: request))
    }

    var requestHeaders: [(String, String)] {
        var headers = self.headers.map { ($0.key, $0.value) }
        headers.append(("anthropic-version", "2023-06-01"))
        if let apiKey { headers.append(("x-api-key", apiKey)) }
        return headers
    }

}

/// An HTTP provider is a wire format (its request encoding and stream decoder) over the shared transport; running
/// and sending an attempt is the same for every format.
protocol HTTPWireProvider: ModelProvider {
    associatedtype Decoder: WireStreamDecoder
    var url: String { get }
    var transport: HTTPTransport { get }
    var requestHeaders: [(String, String)] { get }
    static func body(for request: ChatRequest) -> Data
}

extension HTTPWireProvider {
    /// The attempt as the transport sends it.
    func outgoing(_ request: ChatRequest) -> HTTPTransport.Outgoing {
        .init(
            url: url,
            headers: requestHeaders,
            body: Self.body(for: request),
            stream: request.stream,
            timeout: request.timeout
        )
    }

    public func run(_ request: ChatRequest, onEvent: (ProviderEvent) -> Void) async {
        await transport.run(Decoder.self, outgoing(request), onEvent: onEvent)
    }

    public func eventBatches(for request: ChatRequest) -> AsyncStream<[ProviderEvent]> {
        transport.batches(Decoder.self, outgoing(request))
    }

    public func send(_ request: ChatRequest) async -> ProviderResponse {
        await transport.send(Decoder.self, outgoing(request))
    }

    public func prepared(_ request: ChatRequest) -> PreparedRequest {
        let outgoing = outgoing(request)
        let transport = transport
        return PreparedRequest { await transport.send(Decoder.self, outgoing) }
    }
}
