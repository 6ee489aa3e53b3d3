import Foundation
import RoadtestCore

/// OpenAI's Responses API (`POST /v1/responses`): the system prompt as `instructions`, the conversation as `input`
/// items, and a stream of typed events (`response.output_text.delta`, `response.completed`...). Field names are the
/// wire's. Items and events carry many fields Roadtest does not read; they are decoded as far as Roadtest needs and
/// the rest is left alone.
public enum OpenAIResponses {
    /// A request body. Parameters Roadtest does not model (`top_p`, `store`, `text`, `reasoning`...) pass through
    /// `extra` unchanged.
    public struct Request: Codable, Sendable, Hashable {
        public var model: String?
        public var instructions: String?
        public var input: [InputItem]
        public var max_output_tokens: Int?
        public var temperature: Double?
        public var tools: [Tool]?
        public var tool_choice: JSONValue?
        public var stream: Bool?
        /// Everything else, written at the top level of the body.
        public var extra: [String: JSONValue] = [:]

        public init(
            model: String?,
            instructions: String? = nil,
            input: [InputItem],
            max_output_tokens: Int? = nil,
            temperature: Double? = nil,
            tools: [Tool]? = nil,
            tool_choice: JSONValue? = nil,
            stream: Bool? = nil,
            extra: [String: JSONValue] = [:]
        ) {
            self.model = model
            self.instructions = instructions
            self.input = input
            self.max_output_tokens = max_output_tokens
            self.temperature = temperature
            self.tools = tools
            self.tool_choice = tool_choice
            self.stream = stream
            self.extra = extra
        }

        enum Field: String, CaseIterable {
            case model, instructions, input, max_output_tokens, temperature, tools, tool_choice, stream
        }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: AnyKey.self)
            model = try container.decodeIfPresent(String.self, forKey: AnyKey("model"))
            instructions = try container.decodeIfPresent(String.self, forKey: AnyKey("instructions"))
            // `input` may be one string: a single user message.
            if let text = try? container.decode(String.self, forKey: AnyKey("input")) {
                input = [.message(role: "user", text: text)]
            } else {
                input = try container.decodeIfPresent([InputItem].self, forKey: AnyKey("input")) ?? []
            }
            max_output_tokens = try container.decodeIfPresent(Int.self, forKey: AnyKey("max_output_tokens"))
            temperature = try container.decodeIfPresent(Double.self, forKey: AnyKey("temperature"))
            tools = try container.decodeIfPresent([Tool].self, forKey: AnyKey("tools"))
            tool_choice = try container.decodeIfPresent(JSONValue.self, forKey: AnyKey("tool_choice"))
            stream = try container.decodeIfPresent(Bool.self, forKey: AnyKey("stream"))
            extra = try container.extraMembers(known: Set(Field.allCases.map(\.rawValue)))
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: AnyKey.self)
            try container.encodeExtra(extra) { Field(rawValue: $0) != nil }
            try container.encodeIfPresent(model, forKey: AnyKey("model"))
            try container.encodeIfPresent(instructions, forKey: AnyKey("instructions"))
            try container.encode(input, forKey: AnyKey("input"))
            try container.encodeIfPresent(max_output_tokens, forKey: AnyKey("max_output_tokens"))
            try container.encodeIfPresent(temperature, forKey: AnyKey("temperature"))
            try container.encodeIfPresent(tools, forKey: AnyKey("tools"))
            try container.encodeIfPresent(tool_choice, forKey: AnyKey("tool_choice"))
            try container.encodeIfPresent(stream, forKey: AnyKey("stream"))
        }
    }

    /// One `input` item: a message (`role` and `content`, a string or content parts), a function call the model
    /// made earlier (`function_call`), or a function's result (`function_call_output`).
    public struct InputItem: Codable, Sendable, Hashable {
        public var type: String?
        public var role: String?
        public var content: JSONValue?
        public var call_id: String?
        public var name: String?
        public var arguments: String?
        public var output: String?

        public init(
            type: String? = nil,
            role: String? = nil,
            content: JSONValue? = nil,
            call_id: String? = nil,
            name: String? = nil,
            arguments: String? = nil,
            output: String? = nil
        ) {
            self.type = type
            self.role = role
            self.content = content
            self.call_id = call_id
            self.name = name
            self.arguments = arguments
            self.output = output
        }

        /// A text message (the "easy input message" form: no `type`).
        public static func message(role: String, text: String) -> InputItem {
            InputItem(role: role, content: .string(text))
        }

        public static func message(role: String, parts: [JSONValue]) -> InputItem {
            InputItem(type: "message", role: role, content: .array(parts))
        }

        public static func functionCall(callID: String, name: String, arguments: String) -> InputItem {
            InputItem(type: "function_call", call_id: callID, name: name, arguments: arguments)
        }

        public static func functionCallOutput(callID: String, output: String) -> InputItem {
            InputItem(type: "function_call_output", call_id: callID, output: output)
        }

        /// The text of a message item's content (a string, or its `input_text`/`output_text` parts).
        public var text: String? {
            switch content {
            case .string(let text)?: return text
            case .array(let parts)?: return parts.compactMap { $0["text"]?.stringValue }.joined()
            default: return nil
            }
        }
    }

    /// A function tool, flat (not nested under `function` as in chat completions).
    public struct Tool: Codable, Sendable, Hashable {
        public var type: String
        public var name: String?
        public var description: String?
        public var parameters: JSONValue?

        public init(name: String, description: String?, parameters: JSONValue?) {
            self.type = "function"
            self.name = name
            self.description = description
            self.parameters = parameters
        }
    }

    /// A response object: `output` items, `usage`, and why it is incomplete or failed.
    public struct Response: Codable, Sendable, Hashable {
        public var id: String?
        public var object: String?
        public var created_at: Int?
        public var status: String?
        public var model: String?
        public var output: [OutputItem]?
        public var usage: Usage?
        public var incomplete_details: IncompleteDetails?
        public var error: ErrorDetail?

        public init(
            id: String?,
            status: String?,
            model: String?,
            output: [OutputItem]?,
            usage: Usage? = nil,
            incomplete_details: IncompleteDetails? = nil,
            error: ErrorDetail? = nil,
            created_at: Int? = nil
        ) {
            self.id = id
            self.object = "response"
            self.created_at = created_at
            self.status = status
            self.model = model
            self.output = output
            self.usage = usage
            self.incomplete_details = incomplete_details
            self.error = error
        }

        /// Why an incomplete response stopped: `max_output_tokens` or `content_filter`.
        public struct IncompleteDetails: Codable, Sendable, Hashable {
            public var reason: String?

            public init(reason: String?) {
                self.reason = reason
            }
        }
    }

    /// An `error` object, as a failed response or an `error` event carries it.
    public struct ErrorDetail: Codable, Sendable, Hashable {
        public var code: String?
        public var message: String?

        public init(code: String?, message: String?) {
            self.code = code
            self.message = message
        }
    }

    /// One `output` item: a `message` (with `output_text` parts), a `function_call`, or `reasoning` (summary and
    /// reasoning text parts).
    public struct OutputItem: Codable, Sendable, Hashable {
        public var type: String
        public var id: String?
        public var status: String?
        public var role: String?
        public var content: [Part]?
        public var summary: [Part]?
        public var call_id: String?
        public var name: String?
        public var arguments: String?

        public init(
            type: String,
            id: String? = nil,
            status: String? = nil,
            role: String? = nil,
            content: [Part]? = nil,
            summary: [Part]? = nil,
            call_id: String? = nil,
            name: String? = nil,
            arguments: String? = nil
        ) {
            self.type = type
            self.id = id
            self.status = status
            self.role = role
            self.content = content
            self.summary = summary
            self.call_id = call_id
            self.name = name
            self.arguments = arguments
        }
    }

    /// A content part: `output_text` (with its `annotations`), `refusal`, `summary_text` or `reasoning_text`.
    public struct Part: Codable, Sendable, Hashable {
        public var type: String
        public var text: String?
        public var refusal: String?
        public var annotations: [JSONValue]?

        public init(type: String, text: String? = nil, refusal: String? = nil, annotations: [JSONValue]? = nil) {
            self.type = type
            self.text = text
            self.refusal = refusal
            self.annotations = annotations
        }
    }

    /// Token usage. `input_tokens` includes the cached ones, `output_tokens` the reasoning ones.
    public struct Usage: Codable, Sendable, Hashable {
        public var input_tokens: TokenCount?
        public var input_tokens_details: InputDetails?
        public var output_tokens: TokenCount?
        public var output_tokens_details: OutputDetails?
        public var total_tokens: TokenCount?

        public init(input: Int, cached: Int, output: Int, reasoning: Int) {
            input_tokens = TokenCount(input)
            input_tokens_details = InputDetails(cached_tokens: TokenCount(cached))
            output_tokens = TokenCount(output)
            output_tokens_details = OutputDetails(reasoning_tokens: TokenCount(reasoning))
            total_tokens = TokenCount(input + output)
        }

        public struct InputDetails: Codable, Sendable, Hashable {
            public var cached_tokens: TokenCount?
        }

        public struct OutputDetails: Codable, Sendable, Hashable {
            public var reasoning_tokens: TokenCount?
        }
    }

    /// One stream event. Its `type` names it (`response.output_text.delta`...); the members it uses depend on it.
    public struct StreamEvent: Codable, Sendable, Hashable {
        public var type: String
        public var sequence_number: Int?
        public var response: Response?
        public var output_index: Int?
        public var content_index: Int?
        public var summary_index: Int?
        public var item_id: String?
        public var item: OutputItem?
        public var part: Part?
        public var delta: String?
        public var text: String?
        public var arguments: String?
        public var code: String?
        public var message: String?

        public init(type: String, sequence: Int) {
            self.type = type
            self.sequence_number = sequence
        }
    }

    /// An error body (`{"error": {"message", "type", "code"}}`), as OpenAI answers a failed request.
    public struct ErrorBody: Codable, Sendable, Hashable {
        public var error: ErrorDetail

        public init(code: String?, message: String) {
            error = ErrorDetail(code: code, message: message)
        }
    }
}
