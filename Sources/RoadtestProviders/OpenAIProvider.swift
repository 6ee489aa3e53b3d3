import Foundation
import RoadtestCore

/// Any OpenAI-compatible `/v1/chat/completions` endpoint (llama-server, vLLM, OpenAI, gateways).
/// Streams with `stream_options.include_usage` by default.
public struct OpenAIProvider: ModelProvider {
    public let url: String
    public let apiKey: String?
    public let headers: [String: String]
    let transport: HTTPTransport

    public init(baseURL: String, apiKey: String?, headers: [String: String] = [:], transport: HTTPTransport) {
        var base = baseURL
        while base.hasSuffix("/") { base.removeLast() }
        self.url = base.hasSuffix("/chat/completions") ? base : base + "/chat/completions"
        self.apiKey = apiKey
        self.headers = headers
        self.transport = transport
    }

    /// The request body for a chat request.
    public static func body(for request: ChatRequest) -> Data {
        var object: [String: JSONValue] = request.extra
        if let model = request.model { object["model"] = .string(model) }
        object["messages"] = .array(
            request.messagesWithSystem.map { .object(["role": .string($0.role), "content": .string($0.content)]) })
        if let temperature = request.temperature { object["temperature"] = .number(temperature) }
        if let maxTokens = request.maxTokens { object["max_tokens"] = .number(Double(maxTokens)) }
        object["stream"] = .bool(request.stream)
        if request.stream { object["stream_options"] = .object(["include_usage": .bool(true)]) }
        return Data(JSONValue.object(object).jsonText.utf8)
    }

    public func send(_ request: ChatRequest) async -> ProviderResponse {
        var headers = self.headers.map { ($0.key, $0.value) }
        if let apiKey { headers.append(("Authorization", "Bearer \(apiKey)")) }
        return await transport.post(
            url: url, headers: headers, body: Self.body(for: request), stream: request.stream, timeout: request.timeout,
            interpret: { state, event in state.openAI.step(event) },
            finish: { state in (state.openAI.inputTokens, state.openAI.outputTokens, state.openAI.cachedInputTokens) },
            parseBody: { data in OpenAIStreamInterpreter.parseBody(data) })
    }
}

/// Anthropic Messages `/v1/messages`, streaming by default.
public struct AnthropicProvider: ModelProvider {
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

    public static func body(for request: ChatRequest) -> Data {
        var object: [String: JSONValue] = request.extra
        object["model"] = .string(request.model ?? "")
        if let system = request.system, !system.isEmpty { object["system"] = .string(system) }
        object["messages"] = .array(
            request.messages.filter { $0.role != "system" }.map { .object(["role": .string($0.role), "content": .string($0.content)]) })
        if let temperature = request.temperature { object["temperature"] = .number(temperature) }
        object["max_tokens"] = .number(Double(request.maxTokens ?? 1024))
        object["stream"] = .bool(request.stream)
        return Data(JSONValue.object(object).jsonText.utf8)
    }

    public func send(_ request: ChatRequest) async -> ProviderResponse {
        var headers = self.headers.map { ($0.key, $0.value) }
        headers.append(("anthropic-version", "2023-06-01"))
        if let apiKey { headers.append(("x-api-key", apiKey)) }
        return await transport.post(
            url: url, headers: headers, body: Self.body(for: request), stream: request.stream, timeout: request.timeout,
            interpret: { state, event in state.anthropic.step(event) },
            finish: { state in (state.anthropic.inputTokens, state.anthropic.outputTokens, state.anthropic.cachedInputTokens) },
            parseBody: { data in AnthropicStreamInterpreter.parseBody(data).map { ($0.content, $0.input, $0.output, nil) } })
    }
}
