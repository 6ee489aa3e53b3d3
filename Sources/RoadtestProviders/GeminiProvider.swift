import Foundation
import RoadtestCore
import RoadtestWire

/// Google's Gemini API (`{base_url}/models/{model}:generateContent`, `:streamGenerateContent?alt=sse`; default base
/// `https://generativelanguage.googleapis.com/v1beta`, the key in `x-goog-api-key`), or Vertex AI
/// (`{base_url}/projects/{project}/locations/{location}/publishers/google/models/{model}:...`, default base
/// `https://{location}-aiplatform.googleapis.com/v1`, a bearer token). Streaming by default.
public struct GeminiProvider: ModelProvider {
    /// Where the model lives: the Gemini API, or a Vertex AI project and location.
    public enum Surface: Sendable, Hashable {
        case gemini
        case vertex(project: String, location: String)
    }

    public let baseURL: String
    public let surface: Surface
    public let headers: [String: String]
    /// `x-goog-api-key: KEY` (Gemini API) or `Authorization: Bearer TOKEN` (Vertex AI, or an OAuth token).
    let credential: (name: String, value: String)?
    let transport: HTTPTransport

    public init(
        baseURL: String,
        surface: Surface,
        credential: (name: String, value: String)?,
        headers: [String: String] = [:],
        transport: HTTPTransport
    ) {
        var base = baseURL
        while base.hasSuffix("/") { base.removeLast() }
        self.baseURL = base
        self.surface = surface
        self.credential = credential
        self.headers = headers
        self.transport = transport
    }

    /// The default base URL of a surface.
    public static func defaultBaseURL(_ surface: Surface) -> String {
        switch surface {
        case .gemini: return "https://generativelanguage.googleapis.com/v1beta"
        case .vertex(_, let location):
            return location == "global"
                ? "https://aiplatform.googleapis.com/v1" : "https://\(location)-aiplatform.googleapis.com/v1"
        }
    }

    /// The model's method URL.
    public func url(model: String?, stream: Bool) -> String {
        var name = model ?? ""
        if name.hasPrefix("models/") { name.removeFirst("models/".count) }
        let segment = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
        let id = name.addingPercentEncoding(withAllowedCharacters: segment) ?? name
        let method = stream ? ":streamGenerateContent?alt=sse" : ":generateContent"
        switch surface {
        case .gemini:
            return baseURL + "/models/" + id + method
        case .vertex(let project, let location):
            return baseURL + "/projects/\(project)/locations/\(location)/publishers/google/models/" + id + method
        }
    }

    /// The wire request: the system prompt as `systemInstruction`, turns as `user`/`model` contents, tool calls as
    /// `functionCall` parts and results as `functionResponse` parts (named by the call they answer), tools as
    /// `functionDeclarations`, `tool_choice` as `toolConfig.functionCallingConfig`.
    public static func wireRequest(for request: ChatRequest) -> GeminiGenerate.Request {
        var contents: [GeminiGenerate.Content] = []
        var callNames: [String: String] = [:]
        for message in request.messages where message.role != "system" {
            if message.role == "tool" {
                let value = JSONValue.parse(message.content)
                let response: JSONValue =
                    if case .object? = value { value! } else { .object(["result": .string(message.content)]) }
                let part = GeminiGenerate.Part(
                    functionResponse: .init(name: callNames[message.toolCallID ?? ""] ?? "", response: response)
                )
                if let last = contents.indices.last, contents[last].role == "user",
                    contents[last].parts?.allSatisfy({ $0.functionResponse != nil }) == true
                {
                    contents[last].parts?.append(part)
                } else {
                    contents.append(.init(role: "user", parts: [part]))
                }
                continue
            }
            var parts: [GeminiGenerate.Part] = (message.attachments ?? []).map { .attachment($0) }
            if !message.content.isEmpty { parts.append(.init(text: message.content)) }
            for call in message.toolCalls ?? [] {
                callNames[call.id] = call.name
                parts.append(
                    .init(functionCall: .init(name: call.name, args: JSONValue.parse(call.arguments) ?? .object([:])))
                )
            }
            let role = message.role == "assistant" ? "model" : "user"
            contents.append(.init(role: role, parts: parts.isEmpty ? [.init(text: "")] : parts))
        }
        var extra = request.extra
        var config = GeminiGenerate.GenerationConfig(
            temperature: request.temperature,
            maxOutputTokens: request.maxTokens
        )
        config.topP = extra.removeValue(forKey: "top_p")?.doubleValue
        config.topK = extra.removeValue(forKey: "top_k")?.doubleValue
        config.seed = extra.removeValue(forKey: "seed")?.doubleValue.map { Int($0) }
        switch extra.removeValue(forKey: "stop") {
        case .string(let text)?: config.stopSequences = [text]
        case .array(let list)?: config.stopSequences = list.compactMap(\.stringValue)
        default: break
        }
        let declarations = request.tools.compactMap { tool -> GeminiGenerate.FunctionDeclaration? in
            let function = tool["function"] ?? tool
            guard let name = function["name"]?.stringValue else { return nil }
            return .init(
                name: name,
                description: function["description"]?.stringValue,
                parameters: function["parameters"]
            )
        }
        var toolConfig: JSONValue?
        switch request.toolChoice {
        case .string("auto")?: toolConfig = .object(["functionCallingConfig": .object(["mode": .string("AUTO")])])
        case .string("required")?: toolConfig = .object(["functionCallingConfig": .object(["mode": .string("ANY")])])
        case .string("none")?: toolConfig = .object(["functionCallingConfig": .object(["mode": .string("NONE")])])
        case .object(let named)?:
            if let name = named["function"]?["name"]?.stringValue ?? named["name"]?.stringValue {
                toolConfig = .object([
                    "functionCallingConfig": .object([
                        "mode": .string("ANY"), "allowedFunctionNames": .array([.string(name)]),
                    ])
                ])
            }
        default: toolConfig = nil
        }
        let empty = GeminiGenerate.GenerationConfig()
        let system = request.system.flatMap {
            $0.isEmpty ? nil : GeminiGenerate.Content(role: "user", parts: [.init(text: $0)])
        }
        return GeminiGenerate.Request(
            contents: contents,
            systemInstruction: system,
            generationConfig: config == empty ? nil : config,
            tools: declarations.isEmpty ? nil : [.init(functionDeclarations: declarations)],
            toolConfig: toolConfig,
            extra: extra
        )
    }

    func outgoing(_ request: ChatRequest) -> HTTPTransport.Outgoing {
        var headers = self.headers.map { ($0.key, $0.value) }
        if let credential { headers.append((credential.name, credential.value)) }
        return .init(
            url: url(model: request.model, stream: request.stream),
            headers: headers,
            body: WireJSON.data(Self.wireRequest(for: request)),
            stream: request.stream,
            timeout: request.timeout
        )
    }

    public func run(_ request: ChatRequest, onEvent: (ProviderEvent) -> Void) async {
        await transport.run(GeminiStreamDecoder.self, outgoing(request), onEvent: onEvent)
    }

    public func eventBatches(for request: ChatRequest) -> AsyncStream<[ProviderEvent]> {
        transport.batches(GeminiStreamDecoder.self, outgoing(request))
    }

    public func send(_ request: ChatRequest) async -> ProviderResponse {
        await transport.send(GeminiStreamDecoder.self, outgoing(request))
    }

    public func prepared(_ request: ChatRequest) -> PreparedRequest {
        let outgoing = outgoing(request)
        let transport = transport
        return PreparedRequest { await transport.send(GeminiStreamDecoder.self, outgoing) }
    }
}

/// Gemini's streamed chunks (each a whole `GenerateContentResponse`): thought parts as reasoning, text, function
/// calls (each complete in one part), usage, and the finish reason, which ends the stream (Gemini sends no other end
/// marker). A blocked prompt or a `SAFETY`-class finish is `content_filter`.
public struct GeminiStreamDecoder: WireStreamDecoder {
    public init() {}

    private var calls = 0

    public mutating func decode(_ event: ServerSentEvent) -> [StreamItem] {
        if event.data.isEmpty { return [] }
        switch WireJSON.decode(GeminiGenerate.Response.self, from: event.data) {
        case .failure(let error):
            return [.malformed("unusable stream chunk (\(error.reason)): " + event.data.clipped(200))]
        case .success(let response):
            return items(response)
        }
    }

    /// Finish reasons that mean the provider's safety system withheld the answer.
    static let blocked: Set<String> = [
        "SAFETY", "RECITATION", "BLOCKLIST", "PROHIBITED_CONTENT", "SPII", "IMAGE_SAFETY", "LANGUAGE",
    ]

    mutating func items(_ response: GeminiGenerate.Response) -> [StreamItem] {
        if let error = response.error { return [.malformed("error in stream: " + error.jsonText.clipped(300))] }
        if let reason = response.promptFeedback?.blockReason {
            return [.refused("the prompt was blocked (\(reason))")]
        }
        var items: [StreamItem] = []
        let candidate = response.candidates?.first
        for part in candidate?.content?.parts ?? [] {
            if let text = part.text, !text.isEmpty {
                items.append(part.thought == true ? .reasoning(text) : .text(text))
            }
            if let call = part.functionCall {
                items.append(
                    .toolCall(
                        ToolCallDelta(
                            index: calls,
                            id: call.id,
                            name: call.name,
                            arguments: call.args?.jsonText ?? "{}"
                        )
                    )
                )
                calls += 1
            }
        }
        if let usage = response.usageMetadata { items.append(.usage(Self.usage(usage))) }
        guard let reason = candidate?.finishReason, reason != "FINISH_REASON_UNSPECIFIED" else { return items }
        if Self.blocked.contains(reason) {
            return items + [.refused("the answer was blocked (finish reason \(reason))")]
        }
        switch reason {
        case "MAX_TOKENS": items.append(.finish(.length))
        case "MALFORMED_FUNCTION_CALL": return items + [.malformed("the model wrote a malformed function call")]
        default: items.append(.finish(calls > 0 ? .toolCalls : .stop))
        }
        return items + [.end]
    }

    static func usage(_ usage: GeminiGenerate.UsageMetadata) -> TokenUsage {
        let thoughts = usage.thoughtsTokenCount?.value
        return TokenUsage(
            input: usage.promptTokenCount?.value,
            output: usage.candidatesTokenCount.map { $0.value + (thoughts ?? 0) },
            cacheRead: usage.cachedContentTokenCount?.value,
            reasoning: thoughts
        )
    }

    public static func decodeBody(_ data: Data) -> [StreamItem] {
        switch WireJSON.decode(GeminiGenerate.Response.self, from: data) {
        case .failure(let error):
            return [
                .malformed(
                    "unusable response body (\(error.reason)): " + String(decoding: data.prefix(200), as: UTF8.self)
                )
            ]
        case .success(let response):
            var decoder = GeminiStreamDecoder()
            let items = decoder.items(response)
            if items.contains(where: { if case .end = $0 { true } else { false } }) { return items }
            if items.contains(where: {
                if case .refused = $0 { true } else if case .malformed = $0 { true } else { false }
            }) {
                return items
            }
            return items + [.end]
        }
    }
}
