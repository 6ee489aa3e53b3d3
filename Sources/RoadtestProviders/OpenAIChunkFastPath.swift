import Foundation
import RoadtestCore
import RoadtestWire

/// The gateway's hottest decode: one OpenAI stream chunk per token. The chunk is read with the one-pass
/// `JSONParser` into the same `OpenAIChat.Chunk` the Codable decoder makes, field by field with the types it declares.
/// Anything unusual (a field of another type, a count that is not a whole number) returns nil, and the Codable
/// decoder decides, with its error message: the fast path never accepts what the Codable path would refuse.
enum OpenAIChunkFastPath {
    /// A field that may be absent or null, else of one type: `.ok(nil)`, `.ok(value)` or `.wrong`.
    enum Field<T> {
        case ok(T?)
        case wrong
    }

    static func string(_ value: JSONValue?) -> Field<String> {
        switch value {
        case nil, .null?: .ok(nil)
        case .string(let text)?: .ok(text)
        default: .wrong
        }
    }

    static func integer(_ value: JSONValue?) -> Field<Int> {
        switch value {
        case nil, .null?: return .ok(nil)
        case .number(let number)?:
            guard number == number.rounded(), abs(number) < 9.0e15 else { return .wrong }
            return .ok(Int(number))
        default: return .wrong
        }
    }

    static func count(_ value: JSONValue?) -> Field<Int> {
        switch value {
        case nil, .null?: return .ok(nil)
        case .number(let number)?: return TokenCount.validated(number).map { .ok($0) } ?? .wrong
        default: return .wrong
        }
    }

    static func object(_ value: JSONValue?) -> Field<[String: JSONValue]> {
        switch value {
        case nil, .null?: .ok(nil)
        case .object(let members)?: .ok(members)
        default: .wrong
        }
    }

    static func array(_ value: JSONValue?) -> Field<[JSONValue]> {
        switch value {
        case nil, .null?: .ok(nil)
        case .array(let elements)?: .ok(elements)
        default: .wrong
        }
    }

    struct Unusual: Error {}

    static func take<T>(_ field: Field<T>) throws -> T? {
        switch field {
        case .ok(let value): return value
        case .wrong: throw Unusual()
        }
    }

    /// The chunk `data` holds, read from the one-pass parser's tree with the types `OpenAIChat.Chunk` declares; nil
    /// when anything is unusual, to leave it to the Codable decoder.
    static func chunk(_ data: String) -> OpenAIChat.Chunk? {
        guard case .object(let members)? = JSONValue.parse(data) else { return nil }
        func tokens(_ value: JSONValue?) throws -> TokenCount? { try take(count(value)).map { TokenCount($0) } }
        do {
            var chunk = OpenAIChat.Chunk(
                id: try take(string(members["id"])),
                model: try take(string(members["model"])),
                choices: nil
            )
            chunk.object = try take(string(members["object"]))
            chunk.created = try take(integer(members["created"]))
            if let error = members["error"], error != .null { chunk.error = error }
            if let usage = try take(object(members["usage"])) {
                var reported = OpenAIChat.Usage(
                    prompt_tokens: try tokens(usage["prompt_tokens"]),
                    completion_tokens: try tokens(usage["completion_tokens"])
                )
                reported.total_tokens = try tokens(usage["total_tokens"])
                reported.prompt_tokens_details = try take(object(usage["prompt_tokens_details"])).map {
                    .init(cached_tokens: try tokens($0["cached_tokens"]))
                }
                reported.completion_tokens_details = try take(object(usage["completion_tokens_details"])).map {
                    .init(reasoning_tokens: try tokens($0["reasoning_tokens"]))
                }
                chunk.usage = reported
            }
            chunk.choices = try take(array(members["choices"])).map { elements in
                try elements.map { element in
                    guard case .object(let choice) = element else { throw Unusual() }
                    var decoded = OpenAIChat.Chunk.Choice(
                        index: try take(integer(choice["index"])),
                        delta: try take(object(choice["delta"])).map { delta in
                            OpenAIChat.Chunk.Delta(
                                role: try take(string(delta["role"])),
                                content: try take(string(delta["content"])),
                                reasoning_content: try take(string(delta["reasoning_content"])),
                                tool_calls: try take(array(delta["tool_calls"])).map { calls in
                                    try calls.map { element in
                                        guard case .object(let call) = element else { throw Unusual() }
                                        return OpenAIChat.ToolCall(
                                            index: try take(integer(call["index"])),
                                            id: try take(string(call["id"])),
                                            type: try take(string(call["type"])),
                                            function: try take(object(call["function"])).map { function in
                                                .init(
                                                    name: try take(string(function["name"])),
                                                    arguments: try take(string(function["arguments"]))
                                                )
                                            }
                                        )
                                    }
                                }
                            )
                        },
                        finish_reason: try take(string(choice["finish_reason"]))
                    )
                    decoded.text = try take(string(choice["text"]))
                    return decoded
                }
            }
            return chunk
        } catch {
            return nil
        }
    }
}
