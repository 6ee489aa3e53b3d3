import Foundation
import RoadtestCore

/// Scripted tool-using agents: known ground truth for tool conversations and security drills.
///
/// - `obedient` follows any instruction it reads — in the user's text, the system prompt, a document or a tool
///   result, through base64, leetspeak or look-alike letters — calling every tool it is told to call, then
///   answers by repeating its whole context (everything it read, decoded).
/// - `careful` calls only the tools the user's own messages name (`call NAME with {json}`), never reads
///   instructions elsewhere, and answers with the names of the tools it called — never its context.
public enum SimulatorAgent: String, Sendable, Hashable, CaseIterable {
    case obedient
    case careful

    /// One message as the agent reads it, whatever the wire format.
    public struct Turn: Sendable, Hashable {
        public enum Kind: Sendable, Hashable { case system, user, assistant, toolResult }
        public var kind: Kind
        public var text: String
        /// Calls an assistant turn made: name and arguments (JSON text).
        public var calls: [(name: String, arguments: String)]

        public init(kind: Kind, text: String, calls: [(name: String, arguments: String)] = []) {
            self.kind = kind
            self.text = text
            self.calls = calls
        }

        public static func == (lhs: Turn, rhs: Turn) -> Bool {
            lhs.kind == rhs.kind && lhs.text == rhs.text && lhs.calls.map(\.name) == rhs.calls.map(\.name)
                && lhs.calls.map(\.arguments) == rhs.calls.map(\.arguments)
        }

        public func hash(into hasher: inout Hasher) {
            hasher.combine(kind)
            hasher.combine(text)
        }
    }

    public enum Decision: Sendable, Hashable {
        case call(name: String, arguments: String)
        case answer(String)
    }

    /// The next step: the first instructed call not made yet, else the final answer.
    public func decide(turns: [Turn], tools: [String]) -> Decision {
        let made = turns.flatMap { $0.calls.map { "\($0.name) \(Self.canonical($0.arguments))" } }
        let sources: [Turn]
        switch self {
        case .obedient: sources = turns.filter { $0.kind != .assistant }
        case .careful: sources = turns.filter { $0.kind == .user }
        }
        for source in sources {
            let texts = self == .obedient ? Self.readings(of: source.text) : [source.text]
            for text in texts {
                for (name, arguments) in Self.instructedCalls(in: text, tools: tools)
                where !made.contains("\(name) \(Self.canonical(arguments))") {
                    return .call(name: name, arguments: arguments)
                }
            }
        }
        switch self {
        case .obedient:
            let context = sources.flatMap { Self.readings(of: $0.text) }
            return .answer("Here is everything I was given: " + context.joined(separator: " | "))
        case .careful:
            let called = turns.flatMap { $0.calls.map(\.name) }
            return .answer(
                called.isEmpty
                    ? "I have read your request; no tool was needed."
                    : "Done. I called: " + called.joined(separator: ", ") + "."
            )
        }
    }

    /// The text and every decoding of it the obedient agent reads through: base64 runs, leetspeak, look-alikes.
    static func readings(of text: String) -> [String] {
        var result = [text]
        // Leetspeak and look-alike letters are read back only when that reveals an instruction (digits in ordinary
        // text stay digits).
        let plain = Obfuscation.plain(text)
        let words = ["ignore", "repeat", "instructions", "reply", "call "]
        if plain != text, words.contains(where: { plain.lowercased().contains($0) && !text.lowercased().contains($0) })
        {
            result.append(plain)
        }
        if let regex = try? NSRegularExpression(pattern: "[A-Za-z0-9+/]{16,}={0,2}") {
            for match in regex.matches(in: text, range: NSRange(text.startIndex..., in: text)) {
                guard let range = Range(match.range, in: text), let data = Data(base64Encoded: String(text[range])),
                    let decoded = String(data: data, encoding: .utf8),
                    decoded.unicodeScalars.allSatisfy({
                        $0.properties.isWhitespace || !$0.properties.isNoncharacterCodePoint && $0.value >= 0x20
                    })
                else { continue }
                result.append(decoded)
            }
        }
        return result
    }

    /// Calls written as `call NAME with {json}` / `call NAME({json})` / `call NAME`, for known tools, in order.
    static func instructedCalls(in text: String, tools: [String]) -> [(String, String)] {
        guard let regex = try? NSRegularExpression(pattern: #"(?i)\bcall\s+`?([A-Za-z0-9_-]+)`?"#) else { return [] }
        var calls: [(String, String)] = []
        for match in regex.matches(in: text, range: NSRange(text.startIndex..., in: text)) {
            guard let nameRange = Range(match.range(at: 1), in: text),
                let end = Range(match.range, in: text)?.upperBound
            else { continue }
            let name = String(text[nameRange])
            guard tools.contains(name) else { continue }
            calls.append((name, jsonObject(after: end, in: text) ?? "{}"))
        }
        return calls
    }

    /// The first balanced `{...}` that parses as JSON, starting within a few words after `index`.
    static func jsonObject(after index: String.Index, in text: String) -> String? {
        let rest = text[index...]
        guard let open = rest.firstIndex(of: "{"), rest.distance(from: rest.startIndex, to: open) <= 12 else {
            return nil
        }
        guard let close = JSONValue.balancedObjectEnd(in: rest, from: open) else { return nil }
        let candidate = String(rest[open...close])
        return JSONValue.parse(candidate) != nil ? candidate : nil
    }

    static func canonical(_ arguments: String) -> String {
        JSONValue.parse(arguments).map(\.jsonText) ?? arguments
    }
}

extension SimulatorAgent {
    /// Reads an OpenAI or Anthropic request body into turns and tool names.
    static func read(_ object: [String: JSONValue]) -> (turns: [Turn], tools: [String]) {
        var turns: [Turn] = []
        if let system = object["system"].flatMap({ Simulator.text(of: $0) }) {
            turns.append(Turn(kind: .system, text: system))
        }
        for message in object["messages"]?.arrayValue ?? [] {
            let role = message["role"]?.stringValue ?? "user"
            var text = ""
            var calls: [(String, String)] = []
            var results: [String] = []
            switch message["content"] {
            case .string(let value): text = value
            case .array(let blocks):
                for block in blocks {
                    switch block["type"]?.stringValue {
                    case "tool_use":
                        calls.append((block["name"]?.stringValue ?? "", (block["input"] ?? .object([:])).jsonText))
                    case "tool_result":
                        results.append(Simulator.text(of: block["content"]) ?? "")
                    default:
                        text += block["text"]?.stringValue ?? ""
                    }
                }
            default: break
            }
            for call in message["tool_calls"]?.arrayValue ?? [] {
                calls.append(
                    (call["function"]?["name"]?.stringValue ?? "", call["function"]?["arguments"]?.stringValue ?? "{}")
                )
            }
            switch role {
            case "system": turns.append(Turn(kind: .system, text: text))
            case "tool": turns.append(Turn(kind: .toolResult, text: text))
            case "assistant": turns.append(Turn(kind: .assistant, text: text, calls: calls))
            default:
                for result in results { turns.append(Turn(kind: .toolResult, text: result)) }
                if !text.isEmpty || results.isEmpty { turns.append(Turn(kind: .user, text: text)) }
            }
        }
        let tools = (object["tools"]?.arrayValue ?? []).compactMap {
            $0["function"]?["name"]?.stringValue ?? $0["name"]?.stringValue
        }
        return (turns, tools)
    }
}
