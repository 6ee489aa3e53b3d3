import Foundation
import RoadtestCore
import RoadtestWire

/// AWS Bedrock's Converse API: `POST {base_url}/model/{modelId}/converse`, or `/converse-stream` (events in AWS's
/// binary event-stream framing). Each attempt is signed with Signature V4 (service `bedrock`) when it is sent, from
/// the standard credentials (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`), or carries a
/// Bedrock API key as a bearer token (`AWS_BEARER_TOKEN_BEDROCK`), as boto3 does. Credentials are never stored or
/// logged.
public struct BedrockProvider: ModelProvider {
    public enum Credential: Sendable {
        case signed(SigV4Signer)
        case bearer(String)
    }

    public let baseURL: String
    public let headers: [String: String]
    let credential: Credential?
    let transport: HTTPTransport

    public init(baseURL: String, credential: Credential?, headers: [String: String] = [:], transport: HTTPTransport) {
        var base = baseURL
        while base.hasSuffix("/") { base.removeLast() }
        self.baseURL = base
        self.credential = credential
        self.headers = headers
        self.transport = transport
    }

    /// Bedrock Runtime's endpoint in `region`.
    public static func defaultBaseURL(region: String) -> String {
        "https://bedrock-runtime.\(region).amazonaws.com"
    }

    /// The model's URL: the model ID percent-encoded as one path segment (`:` is `%3A`, as botocore sends it).
    public func url(model: String?, stream: Bool) -> String {
        let unreserved = CharacterSet(
            charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~"
        )
        let id = (model ?? "").addingPercentEncoding(withAllowedCharacters: unreserved) ?? ""
        return baseURL + "/model/" + id + (stream ? "/converse-stream" : "/converse")
    }

    /// The wire request: the system prompt as a system block, tool calls as `toolUse` blocks, tool results as
    /// `toolResult` blocks in a user turn, tools as `toolSpec`s; `top_p` and `stop` go into `inferenceConfig`.
    public static func wireRequest(for request: ChatRequest) -> BedrockConverse.Request {
        var messages: [BedrockConverse.Message] = []
        for message in request.messages where message.role != "system" {
            if message.role == "tool" {
                let block = BedrockConverse.ContentBlock(
                    toolResult: .init(toolUseId: message.toolCallID ?? "", content: [.init(text: message.content)])
                )
                if let last = messages.indices.last, messages[last].role == "user",
                    messages[last].content.allSatisfy({ $0.toolResult != nil })
                {
                    messages[last].content.append(block)
                } else {
                    messages.append(.init(role: "user", content: [block]))
                }
                continue
            }
            // Attached files first, then the text.
            var blocks: [BedrockConverse.ContentBlock] = (message.attachments ?? []).map { .attachment($0) }
            if !message.content.isEmpty { blocks.append(.init(text: message.content)) }
            for call in message.toolCalls ?? [] {
                let input = JSONValue.parse(call.arguments) ?? .object([:])
                blocks.append(.init(toolUse: .init(toolUseId: call.id, name: call.name, input: input)))
            }
            messages.append(.init(role: message.role, content: blocks.isEmpty ? [.init(text: "")] : blocks))
        }
        var extra = request.extra
        let topP = extra.removeValue(forKey: "top_p")?.doubleValue
        var stop: [String]?
        switch extra.removeValue(forKey: "stop") {
        case .string(let text)?: stop = [text]
        case .array(let list)?: stop = list.compactMap(\.stringValue)
        default: stop = nil
        }
        var config: BedrockConverse.InferenceConfig?
        if request.maxTokens != nil || request.temperature != nil || topP != nil || stop != nil {
            config = .init(
                maxTokens: request.maxTokens,
                temperature: request.temperature,
                topP: topP,
                stopSequences: stop
            )
        }
        let tools = request.tools.compactMap { tool -> BedrockConverse.Tool? in
            let function = tool["function"] ?? tool
            guard let name = function["name"]?.stringValue else { return nil }
            return .init(
                name: name,
                description: function["description"]?.stringValue,
                schema: function["parameters"] ?? .object(["type": .string("object")])
            )
        }
        var choice: JSONValue?
        switch request.toolChoice {
        case .string("auto")?: choice = .object(["auto": .object([:])])
        case .string("required")?: choice = .object(["any": .object([:])])
        case .object(let named)?:
            if let name = named["function"]?["name"]?.stringValue ?? named["name"]?.stringValue {
                choice = .object(["tool": .object(["name": .string(name)])])
            }
        default: choice = nil
        }
        let system = request.system.flatMap { $0.isEmpty ? nil : [BedrockConverse.ContentBlock(text: $0)] }
        return BedrockConverse.Request(
            messages: messages,
            system: system,
            inferenceConfig: config,
            toolConfig: tools.isEmpty ? nil : .init(tools: tools, toolChoice: choice),
            extra: extra
        )
    }

    /// The attempt, signed now (a signature is valid for about five minutes, so each attempt gets its own).
    func outgoing(_ request: ChatRequest, date: Date = Date()) -> HTTPTransport.Outgoing {
        let url = url(model: request.model, stream: request.stream)
        let body = WireJSON.data(Self.wireRequest(for: request))
        var headers = self.headers.map { ($0.key, $0.value) }
        switch credential {
        case .signed(let signer)?:
            headers += signer.signedHeaders(
                method: "POST",
                url: url,
                headers: [("Content-Type", "application/json")] + headers,
                body: body,
                date: date
            )
        case .bearer(let token)?:
            headers.append(("Authorization", "Bearer \(token)"))
        case nil:
            break
        }
        return .init(
            url: url,
            headers: headers,
            body: body,
            stream: request.stream,
            timeout: request.timeout,
            accepts: false
        )
    }

    public func run(_ request: ChatRequest, onEvent: (ProviderEvent) -> Void) async {
        await transport.run(BedrockStreamDecoder.self, outgoing(request), onEvent: onEvent)
    }

    public func eventBatches(for request: ChatRequest) -> AsyncStream<[ProviderEvent]> {
        transport.batches(BedrockStreamDecoder.self, outgoing(request))
    }

    public func send(_ request: ChatRequest) async -> ProviderResponse {
        await transport.send(BedrockStreamDecoder.self, outgoing(request))
    }

    public func prepared(_ request: ChatRequest) -> PreparedRequest {
        PreparedRequest { await self.send(request) }
    }
}

/// ConverseStream events, one per event-stream message: text, reasoning and tool-use deltas by content block,
/// `messageStop` with the stop reason, and `metadata` with usage, which ends the stream. An exception message fails
/// the attempt as `malformed` with its type and message; a guardrail intervention is `content_filter`.
public struct BedrockStreamDecoder: WireStreamDecoder {
    public init() {}

    public static var framing: StreamFraming { .eventStream }

    public mutating func decode(_ event: ServerSentEvent) -> [StreamItem] {
        [.malformed("a server-sent event where Bedrock's event-stream framing was expected")]
    }

    public mutating func decode(_ message: EventStreamMessage) -> [StreamItem] {
        let text = String(decoding: message.payload, as: UTF8.self)
        switch message.messageType {
        case "event": break
        case "exception":
            let detail = JSONValue.parse(text)?["message"]?.stringValue ?? text
            return [.malformed("\(message.exceptionType ?? "exception"): \(detail.clipped(300))")]
        default:
            let detail = message.errorMessage ?? text
            return [.malformed("\(message.errorCode ?? "error"): \(detail.clipped(300))")]
        }
        let event: BedrockConverse.StreamEvent
        switch WireJSON.decode(BedrockConverse.StreamEvent.self, from: text) {
        case .failure(let error):
            return [.malformed("unusable stream event (\(error.reason)): " + text.clipped(200))]
        case .success(let value): event = value
        }
        let index = event.contentBlockIndex ?? 0
        switch message.eventType {
        case "contentBlockStart":
            guard let use = event.start?.toolUse else { return [] }
            return [.toolCall(ToolCallDelta(index: index, id: use.toolUseId, name: use.name))]
        case "contentBlockDelta":
            var items: [StreamItem] = []
            if let text = event.delta?.text, !text.isEmpty { items.append(.text(text)) }
            if let input = event.delta?.toolUse?.input {
                items.append(.toolCall(ToolCallDelta(index: index, arguments: input)))
            }
            if let text = event.delta?.reasoningContent?.text, !text.isEmpty { items.append(.reasoning(text)) }
            return items
        case "messageStop":
            return Self.finish(event.stopReason)
        case "metadata":
            return (event.usage.map { [.usage(Self.usage($0))] } ?? []) + [.end]
        default:
            return []
        }
    }

    /// Why the model stopped; a guardrail or content filter withholding the answer is `content_filter`.
    static func finish(_ reason: String?) -> [StreamItem] {
        switch reason {
        case "end_turn"?, "stop_sequence"?: return [.finish(.stop)]
        case "max_tokens"?, "model_context_window_exceeded"?: return [.finish(.length)]
        case "tool_use"?: return [.finish(.toolCalls)]
        case "guardrail_intervened"?, "content_filtered"?: return [.finish(.contentFilter)]
        default: return []
        }
    }

    /// The whole prompt is `inputTokens` plus the cache reads and writes (Bedrock reports them apart).
    static func usage(_ usage: BedrockConverse.Usage) -> TokenUsage {
        let cacheRead = usage.cacheReadInputTokens?.value
        let cacheWrite = usage.cacheWriteInputTokens?.value
        return TokenUsage(
            input: usage.inputTokens.map { $0.value + (cacheRead ?? 0) + (cacheWrite ?? 0) },
            output: usage.outputTokens?.value,
            cacheRead: cacheRead,
            cacheWrite: cacheWrite
        )
    }

    public static func decodeBody(_ data: Data) -> [StreamItem] {
        switch WireJSON.decode(BedrockConverse.Response.self, from: data) {
        case .failure(let error):
            return [
                .malformed(
                    "unusable response body (\(error.reason)): " + String(decoding: data.prefix(200), as: UTF8.self)
                )
            ]
        case .success(let response):
            guard let blocks = response.output?.message?.content else {
                return [.malformed("response body has no output: " + String(decoding: data.prefix(200), as: UTF8.self))]
            }
            var items: [StreamItem] = []
            for (index, block) in blocks.enumerated() {
                if let text = block.reasoningContent?.reasoningText?.text, !text.isEmpty {
                    items.append(.reasoning(text))
                }
                if let text = block.text, !text.isEmpty { items.append(.text(text)) }
                if let use = block.toolUse {
                    items.append(
                        .toolCall(
                            ToolCallDelta(
                                index: index,
                                id: use.toolUseId,
                                name: use.name,
                                arguments: use.input?.jsonText ?? "{}"
                            )
                        )
                    )
                }
            }
            if let reported = response.usage { items.append(.usage(Self.usage(reported))) }
            return items + finish(response.stopReason) + [.end]
        }
    }
}
