import Foundation
import RoadtestCore

/// A wire type the gateway reads and writes on every request, with a one-pass path beside its Codable one: read
/// from the one-pass parser's tree (`JSONValue.parse`) field by field with exactly the types its Codable decoder
/// declares, and written through `JSONWriter` byte for byte as the Codable encoder writes it. Anything unusual (a
/// field of another type, a count that is not a whole number) makes `init(fastJSON:)` return nil, and the Codable
/// decoder decides, with its error message: the fast path never accepts what the Codable path would refuse, and a
/// test holds both paths to the same values and the same bytes.
public protocol FastWireValue: Codable {
    init?(fastJSON: JSONValue)
    /// The value as the Codable encoder writes it (absent optionals left out).
    var jsonValue: JSONValue { get }
}

/// Readers of one field for `FastWireValue`: absent or null is nil (as `decodeIfPresent` has it), a value of the
/// declared type is read, anything else throws `Unusual`.
enum FastField {
    struct Unusual: Error {}

    static func string(_ value: JSONValue?) throws -> String? {
        switch value {
        case nil, .null?: return nil
        case .string(let text)?: return text
        default: throw Unusual()
        }
    }

    static func required(_ value: JSONValue?) throws -> String {
        guard let text = try string(value) else { throw Unusual() }
        return text
    }

    static func integer(_ value: JSONValue?) throws -> Int? {
        switch value {
        case nil, .null?: return nil
        case .number(let number)?:
            guard number == number.rounded(), abs(number) < 9.0e15 else { throw Unusual() }
            return Int(number)
        default: throw Unusual()
        }
    }

    static func double(_ value: JSONValue?) throws -> Double? {
        switch value {
        case nil, .null?: return nil
        case .number(let number)? where number.isFinite: return number
        default: throw Unusual()
        }
    }

    static func bool(_ value: JSONValue?) throws -> Bool? {
        switch value {
        case nil, .null?: return nil
        case .bool(let flag)?: return flag
        default: throw Unusual()
        }
    }

    static func count(_ value: JSONValue?) throws -> TokenCount? {
        switch value {
        case nil, .null?: return nil
        case .number(let number)?:
            guard let count = TokenCount.validated(number) else { throw Unusual() }
            return TokenCount(count)
        default: throw Unusual()
        }
    }

    static func object(_ value: JSONValue?) throws -> [String: JSONValue]? {
        switch value {
        case nil, .null?: return nil
        case .object(let members)?: return members
        default: throw Unusual()
        }
    }

    /// The elements of an array, each read by `element` (which throws on an unusual one).
    static func array<T>(_ value: JSONValue?, _ element: ([String: JSONValue]) throws -> T) throws -> [T]? {
        switch value {
        case nil, .null?: return nil
        case .array(let elements)?:
            return try elements.map { element in
                guard case .object(let members) = element else { throw Unusual() }
                return members
            }.map(element)
        default: throw Unusual()
        }
    }

    /// A JSON value as `decodeIfPresent(JSONValue.self)` has it: null is absent.
    static func any(_ value: JSONValue?) -> JSONValue? {
        value == .null ? nil : value
    }
}

/// Builds the members of a written object, leaving out absent optionals.
struct FastObject {
    var members: [String: JSONValue] = [:]

    subscript(key: String) -> JSONValue? {
        get { members[key] }
        set { if let newValue { members[key] = newValue } }
    }

    var value: JSONValue { .object(members) }

    /// The members a completion and a stream chunk open with.
    static func answer(id: String?, object: String?, created: Int?, model: String?) -> FastObject {
        var written = FastObject()
        written["id"] = id.json
        written["object"] = object.json
        written["created"] = created.json
        written["model"] = model.json
        return written
    }
}

extension Optional where Wrapped == String {
    var json: JSONValue? { map(JSONValue.string) }
}

extension Optional where Wrapped == Int {
    var json: JSONValue? { map { .number(Double($0)) } }
}

extension Optional where Wrapped == TokenCount {
    var json: JSONValue? { map { .number(Double($0.value)) } }
}

extension OpenAIChat.Message {
    init(fastMembers members: [String: JSONValue]) throws {
        let content: OpenAIChat.Content?
        switch members["content"] {
        case nil, .null?: content = nil
        case .string(let text)?: content = .text(text)
        case .array?:
            content = .parts(
                try FastField.array(members["content"]) {
                    OpenAIChat.ContentPart(
                        type: try FastField.required($0["type"]),
                        text: try FastField.string($0["text"]),
                        image_url: $0["image_url"].flatMap { $0 == .null ? nil : $0 },
                        file: $0["file"].flatMap { $0 == .null ? nil : $0 }
                    )
                } ?? []
            )
        default: throw FastField.Unusual()
        }
        self.init(
            role: try FastField.required(members["role"]),
            content: content,
            tool_calls: try FastField.array(members["tool_calls"], OpenAIChat.ToolCall.init(fastMembers:)),
            tool_call_id: try FastField.string(members["tool_call_id"]),
            name: try FastField.string(members["name"]),
            reasoning_content: try FastField.string(members["reasoning_content"])
        )
    }

    var jsonValue: JSONValue {
        var object = FastObject()
        object["role"] = .string(role)
        switch content {
        case .text(let text)?: object["content"] = .string(text)
        case .parts(let parts)?:
            object["content"] = .array(
                parts.map { part in
                    var written = FastObject()
                    written["type"] = .string(part.type)
                    written["text"] = part.text.json
                    written["image_url"] = part.image_url
                    written["file"] = part.file
                    return written.value
                }
            )
        case nil: break
        }
        object["tool_calls"] = tool_calls.map { .array($0.map(\.jsonValue)) }
        object["tool_call_id"] = tool_call_id.json
        object["name"] = name.json
        object["reasoning_content"] = reasoning_content.json
        return object.value
    }
}

extension OpenAIChat.ToolCall {
    init(fastMembers members: [String: JSONValue]) throws {
        var call = OpenAIChat.ToolCall(
            index: try FastField.integer(members["index"]),
            id: try FastField.string(members["id"]),
            function: try FastField.object(members["function"]).map {
                .init(name: try FastField.string($0["name"]), arguments: try FastField.string($0["arguments"]))
            }
        )
        call.type = try FastField.string(members["type"])
        self = call
    }

    var jsonValue: JSONValue {
        var object = FastObject()
        object["index"] = index.json
        object["id"] = id.json
        object["type"] = type.json
        object["function"] = function.map { function in
            var written = FastObject()
            written["name"] = function.name.json
            written["arguments"] = function.arguments.json
            return written.value
        }
        return object.value
    }
}

extension OpenAIChat.Usage {
    init(fastMembers usage: [String: JSONValue]) throws {
        self.init(
            prompt_tokens: try FastField.count(usage["prompt_tokens"]),
            completion_tokens: try FastField.count(usage["completion_tokens"])
        )
        total_tokens = try FastField.count(usage["total_tokens"])
        prompt_tokens_details = try FastField.object(usage["prompt_tokens_details"]).map {
            .init(cached_tokens: try FastField.count($0["cached_tokens"]))
        }
        completion_tokens_details = try FastField.object(usage["completion_tokens_details"]).map {
            .init(reasoning_tokens: try FastField.count($0["reasoning_tokens"]))
        }
    }

    var jsonValue: JSONValue {
        var object = FastObject()
        object["prompt_tokens"] = prompt_tokens.json
        object["completion_tokens"] = completion_tokens.json
        object["total_tokens"] = total_tokens.json
        object["prompt_tokens_details"] = prompt_tokens_details.map {
            var written = FastObject()
            written["cached_tokens"] = $0.cached_tokens.json
            return written.value
        }
        object["completion_tokens_details"] = completion_tokens_details.map {
            var written = FastObject()
            written["reasoning_tokens"] = $0.reasoning_tokens.json
            return written.value
        }
        return object.value
    }
}

extension OpenAIChat.Request: FastWireValue {
    public init?(fastJSON: JSONValue) {
        guard case .object(let members) = fastJSON else { return nil }
        do {
            self.init(
                model: try FastField.string(members["model"]),
                messages: try FastField.array(members["messages"], OpenAIChat.Message.init(fastMembers:)) ?? [],
                temperature: try FastField.double(members["temperature"]),
                max_tokens: try FastField.integer(members["max_tokens"]),
                n: try FastField.integer(members["n"]),
                stream: try FastField.bool(members["stream"]),
                stream_options: try FastField.object(members["stream_options"]).map {
                    .init(include_usage: try FastField.bool($0["include_usage"]))
                },
                tools: try FastField.array(members["tools"]) { tool in
                    guard let function = try FastField.object(tool["function"]) else { throw FastField.Unusual() }
                    var decoded = OpenAIChat.Tool(
                        function: .init(
                            name: try FastField.required(function["name"]),
                            description: try FastField.string(function["description"]),
                            parameters: FastField.any(function["parameters"])
                        )
                    )
                    decoded.type = try FastField.required(tool["type"])
                    return decoded
                },
                tool_choice: FastField.any(members["tool_choice"])
            )
            for (key, value) in members where Field(rawValue: key) == nil { extra[key] = value }
        } catch {
            return nil
        }
    }

    public var jsonValue: JSONValue {
        var object = FastObject()
        for (key, value) in extra where Field(rawValue: key) == nil { object[key] = value }
        object["model"] = model.json
        object["messages"] = .array(messages.map(\.jsonValue))
        object["temperature"] = temperature.map(JSONValue.number)
        object["max_tokens"] = max_tokens.json
        object["n"] = n.json
        object["stream"] = stream.map(JSONValue.bool)
        object["stream_options"] = stream_options.map {
            var written = FastObject()
            written["include_usage"] = $0.include_usage.map(JSONValue.bool)
            return written.value
        }
        object["tools"] = tools.map { tools in
            .array(
                tools.map { tool in
                    var function = FastObject()
                    function["name"] = .string(tool.function.name)
                    function["description"] = tool.function.description.json
                    function["parameters"] = tool.function.parameters
                    return .object(["type": .string(tool.type), "function": function.value])
                }
            )
        }
        object["tool_choice"] = tool_choice
        return object.value
    }
}

extension OpenAIChat.Completion: FastWireValue {
    public init?(fastJSON: JSONValue) {
        guard case .object(let members) = fastJSON else { return nil }
        do {
            let choices = try FastField.array(members["choices"]) { choice in
                var decoded = OpenAIChat.Completion.Choice(
                    index: try FastField.integer(choice["index"]),
                    message: try FastField.object(choice["message"]).map(OpenAIChat.Message.init(fastMembers:)),
                    finish_reason: try FastField.string(choice["finish_reason"])
                )
                decoded.text = try FastField.string(choice["text"])
                return decoded
            }
            guard let choices else { return nil }
            self.init(
                id: try FastField.string(members["id"]),
                model: try FastField.string(members["model"]),
                choices: choices,
                usage: try FastField.object(members["usage"]).map(OpenAIChat.Usage.init(fastMembers:))
            )
            object = try FastField.string(members["object"])
            created = try FastField.integer(members["created"])
        } catch {
            return nil
        }
    }

    public var jsonValue: JSONValue {
        var written = FastObject.answer(id: id, object: object, created: created, model: model)
        written["choices"] = .array(
            choices.map { choice in
                var object = FastObject()
                object["index"] = choice.index.json
                object["message"] = choice.message?.jsonValue
                object["text"] = choice.text.json
                object["finish_reason"] = choice.finish_reason.json
                return object.value
            }
        )
        written["usage"] = usage?.jsonValue
        return written.value
    }
}

extension OpenAIChat.Chunk: FastWireValue {
    public init?(fastJSON: JSONValue) {
        guard case .object(let members) = fastJSON else { return nil }
        do {
            self.init(
                id: try FastField.string(members["id"]),
                model: try FastField.string(members["model"]),
                choices: try FastField.array(members["choices"]) { choice in
                    var decoded = OpenAIChat.Chunk.Choice(
                        index: try FastField.integer(choice["index"]),
                        delta: try FastField.object(choice["delta"]).map { delta in
                            OpenAIChat.Chunk.Delta(
                                role: try FastField.string(delta["role"]),
                                content: try FastField.string(delta["content"]),
                                reasoning_content: try FastField.string(delta["reasoning_content"]),
                                tool_calls: try FastField.array(
                                    delta["tool_calls"],
                                    OpenAIChat.ToolCall.init(fastMembers:)
                                )
                            )
                        },
                        finish_reason: try FastField.string(choice["finish_reason"])
                    )
                    decoded.text = try FastField.string(choice["text"])
                    return decoded
                },
                usage: try FastField.object(members["usage"]).map(OpenAIChat.Usage.init(fastMembers:))
            )
            object = try FastField.string(members["object"])
            created = try FastField.integer(members["created"])
            error = FastField.any(members["error"])
        } catch {
            return nil
        }
    }

    public var jsonValue: JSONValue {
        var written = FastObject.answer(id: id, object: object, created: created, model: model)
        written["choices"] = choices.map { choices in
            .array(
                choices.map { choice in
                    var object = FastObject()
                    object["index"] = choice.index.json
                    object["delta"] = choice.delta.map { delta in
                        var written = FastObject()
                        written["role"] = delta.role.json
                        written["content"] = delta.content.json
                        written["reasoning_content"] = delta.reasoning_content.json
                        written["tool_calls"] = delta.tool_calls.map { .array($0.map(\.jsonValue)) }
                        return written.value
                    }
                    object["text"] = choice.text.json
                    object["finish_reason"] = choice.finish_reason.json
                    return object.value
                }
            )
        }
        written["usage"] = usage?.jsonValue
        written["error"] = error
        return written.value
    }
}
