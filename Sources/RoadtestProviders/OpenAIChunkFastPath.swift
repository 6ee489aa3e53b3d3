import Foundation
import RoadtestCore
import RoadtestWire

/// The gateway's hottest decode: one OpenAI stream chunk per token. The chunk is read with the one-pass
/// `JSONParser` and its fields taken from the tree, with the same types the Codable `OpenAIChat.Chunk` declares.
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

    /// The items of `data` (a chunk's JSON text), or nil to leave it to the Codable decoder.
    static func items(_ data: String) -> [StreamItem]? {
        guard case .object(let chunk)? = JSONValue.parse(data) else { return nil }
        do {
            for key in ["id", "object", "model"] { _ = try take(string(chunk[key])) }
            _ = try take(integer(chunk["created"]))
            var items: [StreamItem] = []
            if let usage = try take(object(chunk["usage"])) {
                let prompt = try take(count(usage["prompt_tokens"]))
                let completion = try take(count(usage["completion_tokens"]))
                _ = try take(count(usage["total_tokens"]))
                let cached = try take(object(usage["prompt_tokens_details"])).map {
                    try take(count($0["cached_tokens"]))
                }
                let reasoning = try take(object(usage["completion_tokens_details"])).map {
                    try take(count($0["reasoning_tokens"]))
                }
                items.append(
                    .usage(
                        TokenUsage(
                            input: prompt,
                            output: completion,
                            cacheRead: cached ?? nil,
                            reasoning: reasoning ?? nil
                        )
                    )
                )
            }
            let choices = try take(array(chunk["choices"])) ?? []
            var first: [StreamItem] = []
            for (position, element) in choices.enumerated() {
                guard case .object(let choice) = element else { throw Unusual() }
                _ = try take(integer(choice["index"]))
                let text = try take(string(choice["text"]))
                let finish = try take(string(choice["finish_reason"]))
                let delta = try take(object(choice["delta"]))
                let role = try take(string(delta?["role"]))
                let content = try take(string(delta?["content"]))
                let reasoning = try take(string(delta?["reasoning_content"]))
                let calls = try take(array(delta?["tool_calls"])) ?? []
                _ = role
                var callItems: [StreamItem] = []
                for (index, element) in calls.enumerated() {
                    guard case .object(let call) = element else { throw Unusual() }
                    let callIndex = try take(integer(call["index"]))
                    let id = try take(string(call["id"]))
                    _ = try take(string(call["type"]))
                    let function = try take(object(call["function"]))
                    let name = try take(string(function?["name"]))
                    let arguments = try take(string(function?["arguments"]))
                    callItems.append(
                        .toolCall(
                            ToolCallDelta(index: callIndex ?? index, id: id, name: name, arguments: arguments ?? "")
                        )
                    )
                }
                // Only the first choice is read, as the Codable path does; the others are only checked.
                guard position == 0 else { continue }
                if let reasoning, !reasoning.isEmpty { first.append(.reasoning(reasoning)) }
                if let content, !content.isEmpty { first.append(.text(content)) }
                if let text, !text.isEmpty { first.append(.text(text)) }
                first += callItems
                if let reason = FinishReason(openAI: finish) { first.append(.finish(reason)) }
            }
            // A failure reported inside the stream, once the chunk is known to be well-typed (as Codable sees it).
            if let error = chunk["error"], error != .null {
                return [.malformed("error in stream: " + error.jsonText.clipped(300))]
            }
            return items + first
        } catch {
            return nil
        }
    }
}
