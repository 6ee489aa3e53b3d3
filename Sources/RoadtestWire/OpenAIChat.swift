import Foundation
import RoadtestCore

/// The OpenAI chat-completions wire format (`POST /v1/chat/completions`), as OpenAI-compatible servers speak it
/// (OpenAI, vLLM, llama-server, gateways). Field names are the wire's.
public enum OpenAIChat {
    /// A request body. Parameters Roadtest does not model (`top_p`, `seed`, `response_format`...) pass through
    /// `extra` unchanged.
    public struct Request: Codable, Sendable, Hashable {
        public var model: String?
        public var messages: [Message]
        public var temperature: Double?
        public var max_tokens: Int?
        public var n: Int?
        public var stream: Bool?
        public var stream_options: StreamOptions?
        public var tools: [Tool]?
        public var tool_choice: JSONValue?
        /// Everything else, written at the top level of the body.
        public var extra: [String: JSONValue] = [:]

        public init(
            model: String?,
            messages: [Message],
            temperature: Double? = nil,
            max_tokens: Int? = nil,
            n: Int? = nil,
            stream: Bool? = nil,
            stream_options: StreamOptions? = nil,
            tools: [Tool]? = nil,
            tool_choice: JSONValue? = nil,
            extra: [String: JSONValue] = [:]
        ) {
            self.model = model
            self.messages = messages
            self.temperature = temperature
            self.max_tokens = max_tokens
            self.n = n
            self.stream = stream
            self.stream_options = stream_options
            self.tools = tools
            self.tool_choice = tool_choice
            self.extra = extra
        }

        enum Field: String, CaseIterable {
            case model, messages, temperature, max_tokens, n, stream, stream_options, tools, tool_choice
        }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: AnyKey.self)
            model = try container.decodeIfPresent(String.self, forKey: AnyKey("model"))
            messages = try container.decodeIfPresent([Message].self, forKey: AnyKey("messages")) ?? []
            temperature = try container.decodeIfPresent(Double.self, forKey: AnyKey("temperature"))
            max_tokens = try container.decodeIfPresent(Int.self, forKey: AnyKey("max_tokens"))
            n = try container.decodeIfPresent(Int.self, forKey: AnyKey("n"))
            stream = try container.decodeIfPresent(Bool.self, forKey: AnyKey("stream"))
            stream_options = try container.decodeIfPresent(StreamOptions.self, forKey: AnyKey("stream_options"))
            tools = try container.decodeIfPresent([Tool].self, forKey: AnyKey("tools"))
            tool_choice = try container.decodeIfPresent(JSONValue.self, forKey: AnyKey("tool_choice"))
            extra = try container.extraMembers(known: Set(Field.allCases.map(\.rawValue)))
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: AnyKey.self)
            try container.encodeExtra(extra) { Field(rawValue: $0) != nil }
            try container.encodeIfPresent(model, forKey: AnyKey("model"))
            try container.encode(messages, forKey: AnyKey("messages"))
            try container.encodeIfPresent(temperature, forKey: AnyKey("temperature"))
            try container.encodeIfPresent(max_tokens, forKey: AnyKey("max_tokens"))
            try container.encodeIfPresent(n, forKey: AnyKey("n"))
            try container.encodeIfPresent(stream, forKey: AnyKey("stream"))
            try container.encodeIfPresent(stream_options, forKey: AnyKey("stream_options"))
            try container.encodeIfPresent(tools, forKey: AnyKey("tools"))
            try container.encodeIfPresent(tool_choice, forKey: AnyKey("tool_choice"))
        }
    }

    public struct StreamOptions: Codable, Sendable, Hashable {
        public var include_usage: Bool?

        public init(include_usage: Bool?) {
            self.include_usage = include_usage
        }
    }

    /// A conversation message: text (a string or content parts), an assistant's tool calls, or a tool's result.
    public struct Message: Codable, Sendable, Hashable {
        public var role: String
        public var content: Content?
        public var tool_calls: [ToolCall]?
        public var tool_call_id: String?
        public var name: String?
        /// Reasoning text, as llama-server, vLLM and DeepSeek return it.
        public var reasoning_content: String?

        public init(
            role: String,
            content: Content?,
            tool_calls: [ToolCall]? = nil,
            tool_call_id: String? = nil,
            name: String? = nil,
            reasoning_content: String? = nil
        ) {
            self.role = role
            self.content = content
            self.tool_calls = tool_calls
            self.tool_call_id = tool_call_id
            self.name = name
            self.reasoning_content = reasoning_content
        }
    }

    /// Message content: a string, or a list of parts (only text parts carry text Roadtest reads).
    public enum Content: Codable, Sendable, Hashable {
        case text(String)
        case parts([ContentPart])

        public var text: String {
            switch self {
            case .text(let text): return text
            case .parts(let parts): return parts.compactMap(\.text).joined()
            }
        }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let text = try? container.decode(String.self) {
                self = .text(text)
            } else {
                self = .parts(try container.decode([ContentPart].self))
            }
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.singleValueContainer()
            switch self {
            case .text(let text): try container.encode(text)
            case .parts(let parts): try container.encode(parts)
            }
        }
    }

    public struct ContentPart: Codable, Sendable, Hashable {
        public var type: String
        public var text: String?
        /// An `image_url` part's `{"url": ...}` (a `data:` URL for an attached image).
        public var image_url: JSONValue?
        /// A `file` part's `{"filename", "file_data"}` (a PDF as a `data:` URL).
        public var file: JSONValue?

        public init(type: String = "text", text: String?, image_url: JSONValue? = nil, file: JSONValue? = nil) {
            self.type = type
            self.text = text
            self.image_url = image_url
            self.file = file
        }

        /// An attached image or document as chat completions take it.
        public static func attachment(_ attachment: Attachment) -> ContentPart {
            switch attachment.kind {
            case .image:
                return ContentPart(
                    type: "image_url",
                    text: nil,
                    image_url: .object(["url": .string(attachment.dataURL)])
                )
            case .document:
                return ContentPart(
                    type: "file",
                    text: nil,
                    file: .object(["filename": .string(attachment.name), "file_data": .string(attachment.dataURL)])
                )
            }
        }
    }

    /// A function the model may call.
    public struct Tool: Codable, Sendable, Hashable {
        public var type: String
        public var function: Function

        public struct Function: Codable, Sendable, Hashable {
            public var name: String
            public var description: String?
            /// A JSON Schema for the arguments.
            public var parameters: JSONValue?

            public init(name: String, description: String? = nil, parameters: JSONValue? = nil) {
                self.name = name
                self.description = description
                self.parameters = parameters
            }
        }

        public init(function: Function) {
            self.type = "function"
            self.function = function
        }
    }

    /// A tool call: whole in a message, or a fragment in a stream delta (`index` says which call it continues;
    /// `arguments` arrive in pieces).
    public struct ToolCall: Codable, Sendable, Hashable {
        public var index: Int?
        public var id: String?
        public var type: String?
        public var function: FunctionCall?

        public struct FunctionCall: Codable, Sendable, Hashable {
            public var name: String?
            public var arguments: String?

            public init(name: String?, arguments: String?) {
                self.name = name
                self.arguments = arguments
            }
        }

        public init(index: Int? = nil, id: String?, type: String? = "function", function: FunctionCall?) {
            self.index = index
            self.id = id
            self.type = type
            self.function = function
        }
    }

    /// Token usage. Counts are validated (`TokenCount`): a server's nonsense never reaches a total or a price.
    public struct Usage: Codable, Sendable, Hashable {
        public var prompt_tokens: TokenCount?
        public var completion_tokens: TokenCount?
        public var total_tokens: TokenCount?
        public var prompt_tokens_details: PromptDetails?
        public var completion_tokens_details: CompletionDetails?

        public struct PromptDetails: Codable, Sendable, Hashable {
            /// Already included in `prompt_tokens`.
            public var cached_tokens: TokenCount?

            public init(cached_tokens: TokenCount?) {
                self.cached_tokens = cached_tokens
            }
        }

        public struct CompletionDetails: Codable, Sendable, Hashable {
            /// Already included in `completion_tokens`.
            public var reasoning_tokens: TokenCount?

            public init(reasoning_tokens: TokenCount?) {
                self.reasoning_tokens = reasoning_tokens
            }
        }

        public init(
            prompt_tokens: TokenCount?,
            completion_tokens: TokenCount?,
            cached_tokens: TokenCount? = nil,
            reasoning_tokens: TokenCount? = nil
        ) {
            self.prompt_tokens = prompt_tokens
            self.completion_tokens = completion_tokens
            if let prompt = prompt_tokens?.value, let completion = completion_tokens?.value {
                total_tokens = TokenCount(prompt + completion)
            }
            prompt_tokens_details = cached_tokens.map { PromptDetails(cached_tokens: $0) }
            completion_tokens_details = reasoning_tokens.map { CompletionDetails(reasoning_tokens: $0) }
        }
    }

    /// A non-streaming response.
    public struct Completion: Codable, Sendable, Hashable {
        public var id: String?
        public var object: String?
        /// Seconds since 1970.
        public var created: Int?
        public var model: String?
        public var choices: [Choice]
        public var usage: Usage?

        public struct Choice: Codable, Sendable, Hashable {
            public var index: Int?
            public var message: Message?
            /// Legacy completions put the text here.
            public var text: String?
            public var finish_reason: String?

            public init(index: Int?, message: Message?, finish_reason: String?) {
                self.index = index
                self.message = message
                self.finish_reason = finish_reason
            }
        }

        public init(id: String?, model: String?, choices: [Choice], usage: Usage?) {
            self.id = id
            self.object = "chat.completion"
            self.model = model
            self.choices = choices
            self.usage = usage
        }
    }

    /// One streamed chunk (`data:` of an SSE event).
    public struct Chunk: Codable, Sendable, Hashable {
        public var id: String?
        public var object: String?
        /// Seconds since 1970.
        public var created: Int?
        public var model: String?
        public var choices: [Choice]?
        public var usage: Usage?
        /// Some servers report a failure inside the stream.
        public var error: JSONValue?

        public struct Choice: Codable, Sendable, Hashable {
            public var index: Int?
            public var delta: Delta?
            public var text: String?
            public var finish_reason: String?

            public init(index: Int?, delta: Delta?, finish_reason: String?) {
                self.index = index
                self.delta = delta
                self.finish_reason = finish_reason
            }
        }

        public struct Delta: Codable, Sendable, Hashable {
            public var role: String?
            public var content: String?
            public var reasoning_content: String?
            public var tool_calls: [ToolCall]?

            public init(
                role: String? = nil,
                content: String? = nil,
                reasoning_content: String? = nil,
                tool_calls: [ToolCall]? = nil
            ) {
                self.role = role
                self.content = content
                self.reasoning_content = reasoning_content
                self.tool_calls = tool_calls
            }
        }

        public init(id: String?, model: String?, choices: [Choice]?, usage: Usage? = nil) {
            self.id = id
            self.object = "chat.completion.chunk"
            self.model = model
            self.choices = choices
            self.usage = usage
        }
    }
}

/// A coding key for any name (pass-through parameters).
/// Wire bodies pass parameters Roadtest does not model through unchanged: every member but the known ones is read
/// into `extra`, and `extra` is written back beside them (never over them).
extension KeyedDecodingContainer where Key == AnyKey {
    func extraMembers(known: Set<String>) throws -> [String: JSONValue] {
        var extra: [String: JSONValue] = [:]
        for key in allKeys where !known.contains(key.stringValue) {
            extra[key.stringValue] = try decode(JSONValue.self, forKey: key)
        }
        return extra
    }
}

extension KeyedEncodingContainer where Key == AnyKey {
    mutating func encodeExtra(_ extra: [String: JSONValue], known: (String) -> Bool) throws {
        for (key, value) in extra where !known(key) { try encode(value, forKey: AnyKey(key)) }
    }
}

struct AnyKey: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }

    init(_ string: String) {
        stringValue = string
    }

    init?(stringValue: String) {
        self.stringValue = stringValue
    }

    init?(intValue: Int) {
        return nil
    }
}

extension OpenAIChat {
    /// An error response body: `{"error": {"message", "type", "code"}}`, also sent as a stream event.
    public struct ErrorBody: Codable, Sendable, Hashable {
        public struct Detail: Codable, Sendable, Hashable {
            public var message: String
            public var type: String
            public var code: String?

            public init(message: String, type: String, code: String? = nil) {
                self.message = message
                self.type = type
                self.code = code
            }
        }

        public var error: Detail

        public init(message: String, type: String, code: String? = nil) {
            error = Detail(message: message, type: type, code: code)
        }
    }
}
