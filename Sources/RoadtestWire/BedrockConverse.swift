import Foundation
import RoadtestCore

/// AWS Bedrock's Converse API (`POST /model/{modelId}/converse`, and `/converse-stream`, whose events arrive in the
/// `application/vnd.amazon.eventstream` framing, one event per message named by its `:event-type` header). Field
/// names are the wire's.
public enum BedrockConverse {
    /// A request body. Parameters Roadtest does not model pass through `extra` (for example
    /// `additionalModelRequestFields`).
    public struct Request: Codable, Sendable, Hashable {
        public var messages: [Message]
        public var system: [ContentBlock]?
        public var inferenceConfig: InferenceConfig?
        public var toolConfig: ToolConfig?
        public var extra: [String: JSONValue] = [:]

        public init(
            messages: [Message],
            system: [ContentBlock]? = nil,
            inferenceConfig: InferenceConfig? = nil,
            toolConfig: ToolConfig? = nil,
            extra: [String: JSONValue] = [:]
        ) {
            self.messages = messages
            self.system = system
            self.inferenceConfig = inferenceConfig
            self.toolConfig = toolConfig
            self.extra = extra
        }

        enum Field: String, CaseIterable {
            case messages, system, inferenceConfig, toolConfig
        }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: AnyKey.self)
            messages = try container.decodeIfPresent([Message].self, forKey: AnyKey("messages")) ?? []
            system = try container.decodeIfPresent([ContentBlock].self, forKey: AnyKey("system"))
            inferenceConfig = try container.decodeIfPresent(InferenceConfig.self, forKey: AnyKey("inferenceConfig"))
            toolConfig = try container.decodeIfPresent(ToolConfig.self, forKey: AnyKey("toolConfig"))
            extra = try container.extraMembers(known: Set(Field.allCases.map(\.rawValue)))
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: AnyKey.self)
            try container.encodeExtra(extra) { Field(rawValue: $0) != nil }
            try container.encode(messages, forKey: AnyKey("messages"))
            try container.encodeIfPresent(system, forKey: AnyKey("system"))
            try container.encodeIfPresent(inferenceConfig, forKey: AnyKey("inferenceConfig"))
            try container.encodeIfPresent(toolConfig, forKey: AnyKey("toolConfig"))
        }
    }

    public struct InferenceConfig: Codable, Sendable, Hashable {
        public var maxTokens: Int?
        public var temperature: Double?
        public var topP: Double?
        public var stopSequences: [String]?

        public init(maxTokens: Int?, temperature: Double?, topP: Double? = nil, stopSequences: [String]? = nil) {
            self.maxTokens = maxTokens
            self.temperature = temperature
            self.topP = topP
            self.stopSequences = stopSequences
        }
    }

    public struct Message: Codable, Sendable, Hashable {
        public var role: String
        public var content: [ContentBlock]

        public init(role: String, content: [ContentBlock]) {
            self.role = role
            self.content = content
        }

        /// A response's message may leave out its role (it is the assistant's).
        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: AnyKey.self)
            role = try container.decodeIfPresent(String.self, forKey: AnyKey("role")) ?? "assistant"
            content = try container.decodeIfPresent([ContentBlock].self, forKey: AnyKey("content")) ?? []
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: AnyKey.self)
            try container.encode(role, forKey: AnyKey("role"))
            try container.encode(content, forKey: AnyKey("content"))
        }
    }

    /// A content block: exactly one of `text`, `toolUse`, `toolResult` or `reasoningContent` is set.
    public struct ContentBlock: Codable, Sendable, Hashable {
        public var text: String?
        public var toolUse: ToolUse?
        public var toolResult: ToolResult?
        public var reasoningContent: ReasoningContent?
        /// `{"format": "png", "source": {"bytes": BASE64}}`.
        public var image: JSONValue?
        /// `{"format": "pdf", "name", "source": {"bytes": BASE64}}`.
        public var document: JSONValue?

        public init(
            text: String? = nil,
            toolUse: ToolUse? = nil,
            toolResult: ToolResult? = nil,
            reasoningContent: ReasoningContent? = nil,
            image: JSONValue? = nil,
            document: JSONValue? = nil
        ) {
            self.text = text
            self.toolUse = toolUse
            self.toolResult = toolResult
            self.reasoningContent = reasoningContent
            self.image = image
            self.document = document
        }

        /// An attached image or document as an `image` or `document` block (a document's name may hold only
        /// letters, digits, spaces, hyphens, parentheses and brackets, so the file's name is cleaned).
        public static func attachment(_ attachment: Attachment) -> ContentBlock {
            let source = JSONValue.object(["bytes": .string(attachment.base64)])
            switch attachment.kind {
            case .image:
                return ContentBlock(image: .object(["format": .string(attachment.format), "source": source]))
            case .document:
                let stem = (attachment.name as NSString).deletingPathExtension
                let name = String(
                    stem.map { $0.isLetter || $0.isNumber || " -()[]".contains($0) ? $0 : "-" }
                )
                return ContentBlock(
                    document: .object([
                        "format": .string(attachment.format), "name": .string(name.isEmpty ? "document" : name),
                        "source": source,
                    ])
                )
            }
        }
    }

    public struct ToolUse: Codable, Sendable, Hashable {
        public var toolUseId: String?
        public var name: String?
        public var input: JSONValue?

        public init(toolUseId: String?, name: String?, input: JSONValue?) {
            self.toolUseId = toolUseId
            self.name = name
            self.input = input
        }
    }

    public struct ToolResult: Codable, Sendable, Hashable {
        public var toolUseId: String
        public var content: [ContentBlock]

        public init(toolUseId: String, content: [ContentBlock]) {
            self.toolUseId = toolUseId
            self.content = content
        }
    }

    public struct ReasoningContent: Codable, Sendable, Hashable {
        public var reasoningText: ReasoningText?

        public init(text: String) {
            reasoningText = ReasoningText(text: text)
        }

        public struct ReasoningText: Codable, Sendable, Hashable {
            public var text: String?
        }
    }

    public struct ToolConfig: Codable, Sendable, Hashable {
        public var tools: [Tool]
        public var toolChoice: JSONValue?

        public init(tools: [Tool], toolChoice: JSONValue?) {
            self.tools = tools
            self.toolChoice = toolChoice
        }
    }

    public struct Tool: Codable, Sendable, Hashable {
        public var toolSpec: ToolSpec

        public init(name: String, description: String?, schema: JSONValue) {
            toolSpec = ToolSpec(name: name, description: description, inputSchema: .init(json: schema))
        }

        public struct ToolSpec: Codable, Sendable, Hashable {
            public var name: String
            public var description: String?
            public var inputSchema: InputSchema
        }

        public struct InputSchema: Codable, Sendable, Hashable {
            public var json: JSONValue
        }
    }

    /// A whole (non-streaming) response.
    public struct Response: Codable, Sendable, Hashable {
        public var output: Output?
        public var stopReason: String?
        public var usage: Usage?
        public var metrics: Metrics?

        public init(output: Output?, stopReason: String?, usage: Usage?, metrics: Metrics? = nil) {
            self.output = output
            self.stopReason = stopReason
            self.usage = usage
            self.metrics = metrics
        }

        public struct Output: Codable, Sendable, Hashable {
            public var message: Message?

            public init(message: Message?) {
                self.message = message
            }
        }
    }

    public struct Metrics: Codable, Sendable, Hashable {
        public var latencyMs: Int?

        public init(latencyMs: Int?) {
            self.latencyMs = latencyMs
        }
    }

    /// Token usage. `inputTokens` excludes the cache reads and writes, which are reported apart.
    public struct Usage: Codable, Sendable, Hashable {
        public var inputTokens: TokenCount?
        public var outputTokens: TokenCount?
        public var totalTokens: TokenCount?
        public var cacheReadInputTokens: TokenCount?
        public var cacheWriteInputTokens: TokenCount?

        public init(input: Int, output: Int, cacheRead: Int?, cacheWrite: Int?) {
            inputTokens = TokenCount(input)
            outputTokens = TokenCount(output)
            totalTokens = TokenCount(input + output + (cacheRead ?? 0) + (cacheWrite ?? 0))
            cacheReadInputTokens = cacheRead.map { TokenCount($0) }
            cacheWriteInputTokens = cacheWrite.map { TokenCount($0) }
        }
    }

    /// The payload of one stream event; which members it has depends on its `:event-type` (`messageStart`,
    /// `contentBlockStart`, `contentBlockDelta`, `contentBlockStop`, `messageStop`, `metadata`).
    public struct StreamEvent: Codable, Sendable, Hashable {
        public var role: String?
        public var contentBlockIndex: Int?
        public var start: Start?
        public var delta: Delta?
        public var stopReason: String?
        public var usage: Usage?
        public var metrics: Metrics?
        /// An exception's message.
        public var message: String?

        public init() {}

        public struct Start: Codable, Sendable, Hashable {
            public var toolUse: ToolUse?

            public init(toolUse: ToolUse?) {
                self.toolUse = toolUse
            }
        }

        public struct Delta: Codable, Sendable, Hashable {
            public var text: String?
            public var toolUse: ToolUseDelta?
            public var reasoningContent: ReasoningDelta?

            public init(text: String? = nil, toolUse: ToolUseDelta? = nil, reasoningContent: ReasoningDelta? = nil) {
                self.text = text
                self.toolUse = toolUse
                self.reasoningContent = reasoningContent
            }
        }

        public struct ToolUseDelta: Codable, Sendable, Hashable {
            public var input: String?

            public init(input: String?) {
                self.input = input
            }
        }

        public struct ReasoningDelta: Codable, Sendable, Hashable {
            public var text: String?

            public init(text: String?) {
                self.text = text
            }
        }
    }
}
