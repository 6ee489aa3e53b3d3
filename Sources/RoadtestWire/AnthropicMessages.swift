import Foundation
import RoadtestCore

/// The Anthropic Messages wire format (`POST /v1/messages`), as Anthropic and llama-server speak it.
public enum AnthropicMessages {
    /// A request body; unmodelled parameters pass through `extra`.
    public struct Request: Codable, Sendable, Hashable {
        public var model: String
        public var system: String?
        public var messages: [Message]
        public var max_tokens: Int
        public var temperature: Double?
        public var stream: Bool?
        public var tools: [Tool]?
        public var tool_choice: JSONValue?
        public var extra: [String: JSONValue] = [:]

        static let fields: Set<String> = [
            "model", "system", "messages", "max_tokens", "temperature", "stream", "tools", "tool_choice",
        ]

        public init(
            model: String,
            system: String?,
            messages: [Message],
            max_tokens: Int,
            temperature: Double? = nil,
            stream: Bool? = nil,
            tools: [Tool]? = nil,
            tool_choice: JSONValue? = nil,
            extra: [String: JSONValue] = [:]
        ) {
            self.model = model
            self.system = system
            self.messages = messages
            self.max_tokens = max_tokens
            self.temperature = temperature
            self.stream = stream
            self.tools = tools
            self.tool_choice = tool_choice
            self.extra = extra
        }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: AnyKey.self)
            model = try container.decodeIfPresent(String.self, forKey: AnyKey("model")) ?? ""
            // `system` is a string or a list of text blocks.
            if let text = try? container.decodeIfPresent(String.self, forKey: AnyKey("system")) {
                system = text
            } else if let blocks = try? container.decodeIfPresent([ContentBlock].self, forKey: AnyKey("system")) {
                system = blocks.compactMap(\.text).joined()
            }
            messages = try container.decodeIfPresent([Message].self, forKey: AnyKey("messages")) ?? []
            max_tokens = try container.decodeIfPresent(Int.self, forKey: AnyKey("max_tokens")) ?? 1024
            temperature = try container.decodeIfPresent(Double.self, forKey: AnyKey("temperature"))
            stream = try container.decodeIfPresent(Bool.self, forKey: AnyKey("stream"))
            tools = try container.decodeIfPresent([Tool].self, forKey: AnyKey("tools"))
            tool_choice = try container.decodeIfPresent(JSONValue.self, forKey: AnyKey("tool_choice"))
            extra = try container.extraMembers(known: Self.fields)
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: AnyKey.self)
            try container.encodeExtra(extra) { Self.fields.contains($0) }
            try container.encode(model, forKey: AnyKey("model"))
            try container.encodeIfPresent(system, forKey: AnyKey("system"))
            try container.encode(messages, forKey: AnyKey("messages"))
            try container.encode(max_tokens, forKey: AnyKey("max_tokens"))
            try container.encodeIfPresent(temperature, forKey: AnyKey("temperature"))
            try container.encodeIfPresent(stream, forKey: AnyKey("stream"))
            try container.encodeIfPresent(tools, forKey: AnyKey("tools"))
            try container.encodeIfPresent(tool_choice, forKey: AnyKey("tool_choice"))
        }
    }

    /// A message: its content is a string or a list of blocks.
    public struct Message: Codable, Sendable, Hashable {
        public var role: String
        public var content: [ContentBlock]

        public init(role: String, content: [ContentBlock]) {
            self.role = role
            self.content = content
        }

        enum CodingKeys: String, CodingKey { case role, content }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            role = try container.decode(String.self, forKey: .role)
            if let text = try? container.decode(String.self, forKey: .content) {
                content = [.text(text)]
            } else {
                content = try container.decode([ContentBlock].self, forKey: .content)
            }
        }

        /// The text of every text block.
        public var text: String { content.compactMap(\.text).joined() }
    }

    /// A content block: `text`, `tool_use` (the model calls a tool), `tool_result` (the caller answers it),
    /// `thinking`; other types are kept by name.
    public struct ContentBlock: Codable, Sendable, Hashable {
        public var type: String
        public var text: String?
        public var thinking: String?
        public var id: String?
        public var name: String?
        public var input: JSONValue?
        public var tool_use_id: String?
        /// A tool result's content (a string or blocks).
        public var content: JSONValue?
        public var is_error: Bool?
        /// An `image` or `document` block's `{"type": "base64", "media_type", "data"}`.
        public var source: JSONValue?

        public init(type: String) {
            self.type = type
        }

        /// An attached image or PDF as a base64 `image` or `document` block.
        public static func attachment(_ attachment: Attachment) -> ContentBlock {
            var block = ContentBlock(type: attachment.kind == .image ? "image" : "document")
            block.source = .object([
                "type": .string("base64"), "media_type": .string(attachment.mediaType),
                "data": .string(attachment.base64),
            ])
            return block
        }

        public static func text(_ text: String) -> ContentBlock {
            var block = ContentBlock(type: "text")
            block.text = text
            return block
        }

        public static func toolUse(id: String, name: String, input: JSONValue) -> ContentBlock {
            var block = ContentBlock(type: "tool_use")
            block.id = id
            block.name = name
            block.input = input
            return block
        }

        public static func toolResult(id: String, content: String) -> ContentBlock {
            var block = ContentBlock(type: "tool_result")
            block.tool_use_id = id
            block.content = .string(content)
            return block
        }
    }

    /// A tool the model may call.
    public struct Tool: Codable, Sendable, Hashable {
        public var name: String
        public var description: String?
        public var input_schema: JSONValue

        public init(name: String, description: String?, input_schema: JSONValue) {
            self.name = name
            self.description = description
            self.input_schema = input_schema
        }
    }

    /// Token usage. `input_tokens` excludes the prompt tokens read from or written to the cache: the prompt is
    /// all three. Counts are validated (`TokenCount`).
    public struct Usage: Codable, Sendable, Hashable {
        public var input_tokens: TokenCount?
        public var output_tokens: TokenCount?
        public var cache_read_input_tokens: TokenCount?
        public var cache_creation_input_tokens: TokenCount?

        public init(
            input_tokens: TokenCount?,
            output_tokens: TokenCount?,
            cache_read_input_tokens: TokenCount? = nil,
            cache_creation_input_tokens: TokenCount? = nil
        ) {
            self.input_tokens = input_tokens
            self.output_tokens = output_tokens
            self.cache_read_input_tokens = cache_read_input_tokens
            self.cache_creation_input_tokens = cache_creation_input_tokens
        }
    }

    /// A non-streaming response (also `message` in `message_start`).
    public struct Response: Codable, Sendable, Hashable {
        public var id: String?
        public var type: String?
        public var role: String?
        public var model: String?
        public var content: [ContentBlock]?
        public var stop_reason: String?
        public var usage: Usage?

        public init(id: String?, model: String?, content: [ContentBlock], stop_reason: String?, usage: Usage?) {
            self.id = id
            self.type = "message"
            self.role = "assistant"
            self.model = model
            self.content = content
            self.stop_reason = stop_reason
            self.usage = usage
        }
    }

    /// One stream event's data. `type` says which fields are set.
    public struct StreamEvent: Codable, Sendable, Hashable {
        public var type: String
        public var message: Response?
        public var index: Int?
        public var content_block: ContentBlock?
        public var delta: Delta?
        public var usage: Usage?
        public var error: JSONValue?

        /// `text_delta`, `input_json_delta`, `thinking_delta` in `content_block_delta`; `stop_reason` in
        /// `message_delta`.
        public struct Delta: Codable, Sendable, Hashable {
            public var type: String?
            public var text: String?
            public var partial_json: String?
            public var thinking: String?
            public var stop_reason: String?

            public init(type: String?) {
                self.type = type
            }
        }

        public init(type: String) {
            self.type = type
        }

        public static func messageStart(_ message: Response) -> StreamEvent {
            var event = StreamEvent(type: "message_start")
            event.message = message
            return event
        }

        public static func blockStart(_ index: Int, _ block: ContentBlock) -> StreamEvent {
            var event = StreamEvent(type: "content_block_start")
            event.index = index
            event.content_block = block
            return event
        }

        public static func blockDelta(_ index: Int, _ delta: Delta) -> StreamEvent {
            var event = StreamEvent(type: "content_block_delta")
            event.index = index
            event.delta = delta
            return event
        }

        public static func blockStop(_ index: Int) -> StreamEvent {
            var event = StreamEvent(type: "content_block_stop")
            event.index = index
            return event
        }

        public static func messageDelta(stopReason: String, usage: Usage?) -> StreamEvent {
            var event = StreamEvent(type: "message_delta")
            var delta = Delta(type: nil)
            delta.stop_reason = stopReason
            event.delta = delta
            event.usage = usage
            return event
        }
    }
}

extension AnthropicMessages {
    /// An error response body and stream event: `{"type": "error", "error": {"type", "message"}}`.
    public struct ErrorBody: Codable, Sendable, Hashable {
        public struct Detail: Codable, Sendable, Hashable {
            public var type: String
            public var message: String

            public init(type: String, message: String) {
                self.type = type
                self.message = message
            }
        }

        public var type: String
        public var error: Detail

        public init(type: String, message: String) {
            self.type = "error"
            error = Detail(type: type, message: message)
        }
    }
}
