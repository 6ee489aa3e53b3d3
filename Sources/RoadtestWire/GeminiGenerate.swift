import Foundation
import RoadtestCore

/// Google's Gemini API (`POST /v1beta/models/{model}:generateContent`, `:streamGenerateContent?alt=sse`) and its
/// Vertex AI form (`/v1/projects/{project}/locations/{location}/publishers/google/models/{model}:...`): the same
/// bodies. Field names are the wire's (camelCase, as the REST API and the official SDK send them).
public enum GeminiGenerate {
    /// A request body. Parameters Roadtest does not model pass through `extra` (for example `safetySettings`).
    public struct Request: Codable, Sendable, Hashable {
        public var contents: [Content]
        public var systemInstruction: Content?
        public var generationConfig: GenerationConfig?
        public var tools: [Tool]?
        public var toolConfig: JSONValue?
        public var extra: [String: JSONValue] = [:]

        public init(
            contents: [Content],
            systemInstruction: Content? = nil,
            generationConfig: GenerationConfig? = nil,
            tools: [Tool]? = nil,
            toolConfig: JSONValue? = nil,
            extra: [String: JSONValue] = [:]
        ) {
            self.contents = contents
            self.systemInstruction = systemInstruction
            self.generationConfig = generationConfig
            self.tools = tools
            self.toolConfig = toolConfig
            self.extra = extra
        }

        enum Field: String, CaseIterable {
            case contents, systemInstruction, generationConfig, tools, toolConfig
        }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: AnyKey.self)
            contents = try container.decodeIfPresent([Content].self, forKey: AnyKey("contents")) ?? []
            systemInstruction = try container.decodeIfPresent(Content.self, forKey: AnyKey("systemInstruction"))
            generationConfig = try container.decodeIfPresent(GenerationConfig.self, forKey: AnyKey("generationConfig"))
            tools = try container.decodeIfPresent([Tool].self, forKey: AnyKey("tools"))
            toolConfig = try container.decodeIfPresent(JSONValue.self, forKey: AnyKey("toolConfig"))
            extra = try container.extraMembers(known: Set(Field.allCases.map(\.rawValue)))
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: AnyKey.self)
            try container.encodeExtra(extra) { Field(rawValue: $0) != nil }
            try container.encode(contents, forKey: AnyKey("contents"))
            try container.encodeIfPresent(systemInstruction, forKey: AnyKey("systemInstruction"))
            try container.encodeIfPresent(generationConfig, forKey: AnyKey("generationConfig"))
            try container.encodeIfPresent(tools, forKey: AnyKey("tools"))
            try container.encodeIfPresent(toolConfig, forKey: AnyKey("toolConfig"))
        }
    }

    /// A turn: `role` `user` or `model`, and its parts.
    public struct Content: Codable, Sendable, Hashable {
        public var role: String?
        public var parts: [Part]?

        public init(role: String?, parts: [Part]) {
            self.role = role
            self.parts = parts
        }
    }

    /// A part: text (a `thought` when the model marks it so), a function call, or a function's response.
    public struct Part: Codable, Sendable, Hashable {
        public var text: String?
        public var thought: Bool?
        public var functionCall: FunctionCall?
        public var functionResponse: FunctionResponse?
        /// Bytes sent inline: `{"mimeType", "data"}` (base64).
        public var inlineData: JSONValue?

        public init(
            text: String? = nil,
            thought: Bool? = nil,
            functionCall: FunctionCall? = nil,
            functionResponse: FunctionResponse? = nil,
            inlineData: JSONValue? = nil
        ) {
            self.text = text
            self.thought = thought
            self.functionCall = functionCall
            self.functionResponse = functionResponse
            self.inlineData = inlineData
        }

        /// An attached image or PDF as inline data.
        public static func attachment(_ attachment: Attachment) -> Part {
            Part(inlineData: .object(["mimeType": .string(attachment.mediaType), "data": .string(attachment.base64)]))
        }
    }

    public struct FunctionCall: Codable, Sendable, Hashable {
        public var id: String?
        public var name: String?
        public var args: JSONValue?

        public init(id: String? = nil, name: String?, args: JSONValue?) {
            self.id = id
            self.name = name
            self.args = args
        }
    }

    public struct FunctionResponse: Codable, Sendable, Hashable {
        public var id: String?
        public var name: String?
        public var response: JSONValue?

        public init(id: String? = nil, name: String?, response: JSONValue?) {
            self.id = id
            self.name = name
            self.response = response
        }
    }

    public struct GenerationConfig: Codable, Sendable, Hashable {
        public var temperature: Double?
        public var maxOutputTokens: Int?
        public var topP: Double?
        public var topK: Double?
        public var stopSequences: [String]?
        public var seed: Int?

        public init(
            temperature: Double? = nil,
            maxOutputTokens: Int? = nil,
            topP: Double? = nil,
            topK: Double? = nil,
            stopSequences: [String]? = nil,
            seed: Int? = nil
        ) {
            self.temperature = temperature
            self.maxOutputTokens = maxOutputTokens
            self.topP = topP
            self.topK = topK
            self.stopSequences = stopSequences
            self.seed = seed
        }
    }

    public struct Tool: Codable, Sendable, Hashable {
        public var functionDeclarations: [FunctionDeclaration]?

        public init(functionDeclarations: [FunctionDeclaration]) {
            self.functionDeclarations = functionDeclarations
        }
    }

    public struct FunctionDeclaration: Codable, Sendable, Hashable {
        public var name: String
        public var description: String?
        public var parameters: JSONValue?

        public init(name: String, description: String?, parameters: JSONValue?) {
            self.name = name
            self.description = description
            self.parameters = parameters
        }
    }

    /// A response, or one streamed chunk of it (the same shape).
    public struct Response: Codable, Sendable, Hashable {
        public var candidates: [Candidate]?
        public var promptFeedback: PromptFeedback?
        public var usageMetadata: UsageMetadata?
        public var modelVersion: String?
        public var responseId: String?
        /// A failure reported in place of a response (in a stream: `{"error": {"code", "message", "status"}}`).
        public var error: JSONValue?

        public init(
            candidates: [Candidate]?,
            promptFeedback: PromptFeedback? = nil,
            usageMetadata: UsageMetadata? = nil,
            modelVersion: String? = nil,
            responseId: String? = nil
        ) {
            self.candidates = candidates
            self.promptFeedback = promptFeedback
            self.usageMetadata = usageMetadata
            self.modelVersion = modelVersion
            self.responseId = responseId
        }
    }

    public struct Candidate: Codable, Sendable, Hashable {
        public var content: Content?
        public var finishReason: String?
        public var index: Int?

        public init(content: Content?, finishReason: String?, index: Int? = 0) {
            self.content = content
            self.finishReason = finishReason
            self.index = index
        }
    }

    /// Why a prompt was blocked (`blockReason`: `SAFETY`, `BLOCKLIST`, `PROHIBITED_CONTENT`, `OTHER`...).
    public struct PromptFeedback: Codable, Sendable, Hashable {
        public var blockReason: String?

        public init(blockReason: String?) {
            self.blockReason = blockReason
        }
    }

    /// Token counts. `promptTokenCount` includes the cached tokens; the thoughts are counted apart from the
    /// candidates and billed as output.
    public struct UsageMetadata: Codable, Sendable, Hashable {
        public var promptTokenCount: TokenCount?
        public var candidatesTokenCount: TokenCount?
        public var totalTokenCount: TokenCount?
        public var cachedContentTokenCount: TokenCount?
        public var thoughtsTokenCount: TokenCount?

        public init(prompt: Int, candidates: Int, cached: Int?, thoughts: Int?) {
            promptTokenCount = TokenCount(prompt)
            candidatesTokenCount = TokenCount(candidates)
            totalTokenCount = TokenCount(prompt + candidates + (thoughts ?? 0))
            cachedContentTokenCount = cached.map { TokenCount($0) }
            thoughtsTokenCount = thoughts.map { TokenCount($0) }
        }
    }
}
