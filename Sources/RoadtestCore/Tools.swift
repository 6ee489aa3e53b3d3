import Foundation

/// A scripted result for one tool in a tool-calling case: what the runner answers when the model calls it.
public enum ToolScript: Sendable, Hashable, Codable {
    /// The same result for every call (text, or JSON sent as its text).
    case value(String)
    /// Results keyed by arguments: the first row whose `args` are all present with equal values in the call's
    /// arguments answers; `otherwise` when none does (nil: an error result saying no row matched).
    case table(rows: [TableRow], otherwise: String?)
    /// A program that gets the call as JSON on stdin (`{"name", "arguments", "case", "turn", "session_user"}`)
    /// and prints the result.
    case command([String])

    public struct TableRow: Sendable, Hashable, Codable {
        public var args: [String: JSONValue]
        public var result: String

        public init(args: [String: JSONValue], result: String) {
            self.args = args
            self.result = result
        }
    }

    /// The result of a table lookup for `arguments` (the call's arguments as the model wrote them).
    public static func lookup(rows: [TableRow], otherwise: String?, arguments: String) -> String {
        let parsed = JSONValue.parse(Data(arguments.utf8))?.objectValue ?? [:]
        for row in rows where row.args.allSatisfy({ key, value in ToolCalls.same(parsed[key], value) }) {
            return row.result
        }
        return otherwise ?? #"{"error": "no result for these arguments"}"#
    }
}

/// Tool-call helpers shared by the checks, the runner and the attack detectors.
public enum ToolCalls {
    /// The name of a tool definition (`{"type": "function", "function": {"name": ...}}`).
    public static func name(of tool: JSONValue) -> String? {
        tool["function"]?["name"]?.stringValue ?? tool["name"]?.stringValue
    }

    /// Parsed arguments of a call (empty when they are not a JSON object).
    public static func arguments(_ call: ToolCall) -> [String: JSONValue] {
        JSONValue.parse(Data(call.arguments.utf8))?.objectValue ?? [:]
    }

    /// Equal as values: numbers and their text compare equal (`"42"` and `42`), strings exactly.
    public static func same(_ actual: JSONValue?, _ expected: JSONValue) -> Bool {
        guard let actual else { return false }
        if actual == expected { return true }
        switch (actual, expected) {
        case (.string(let text), .number(let number)), (.number(let number), .string(let text)):
            return Double(text) == number
        case (.object(let a), .object(let e)):
            return e.allSatisfy { same(a[$0.key], $0.value) }
        default:
            return false
        }
    }

    /// Whether `names` occur in `calls` in this order (other calls may come between).
    public static func containsSequence(_ calls: [String], _ names: [String]) -> Bool {
        var index = 0
        for call in calls where index < names.count && call == names[index] { index += 1 }
        return index == names.count
    }
}

/// What a tool-calling trial did: every call in order and the conversation's turns.
public struct ToolTrace: Sendable, Hashable, Codable {
    public var calls: [ToolCall]
    /// Model turns (requests answered by the model), the final answer's included.
    public var turns: Int
    /// The conversation stopped at `max_turns` while the model still called tools.
    public var maxTurnsReached: Bool

    public init(calls: [ToolCall] = [], turns: Int = 0, maxTurnsReached: Bool = false) {
        self.calls = calls
        self.turns = turns
        self.maxTurnsReached = maxTurnsReached
    }
}
