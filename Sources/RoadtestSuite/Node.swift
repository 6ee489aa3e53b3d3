import Foundation
import RoadtestCore
import Yams

/// A parsed YAML/JSON value that remembers the line it came from, so every error can name file:line.
indirect enum Node: Sendable {
    case scalar(String, isQuoted: Bool, line: Int)
    case null(line: Int)
    case sequence([Node], line: Int)
    case mapping([Pair], line: Int)

    /// A mapping entry with the line its key is written on (a block value starts on a later line).
    typealias Pair = (key: String, value: Node, keyLine: Int)

    var line: Int {
        switch self {
        case .scalar(_, _, let line), .null(let line), .sequence(_, let line), .mapping(_, let line): return line
        }
    }

    var typeName: String {
        switch self {
        case .scalar: return "a value"
        case .null: return "nothing"
        case .sequence: return "a list"
        case .mapping: return "a mapping"
        }
    }

    var string: String? {
        if case .scalar(let text, _, _) = self { return text }
        return nil
    }

    var double: Double? {
        guard case .scalar(let text, let isQuoted, _) = self, !isQuoted else { return nil }
        return Double(text.replacingOccurrences(of: "_", with: ""))
    }

    var int: Int? {
        guard case .scalar(let text, let isQuoted, _) = self, !isQuoted else { return nil }
        return Int(text.replacingOccurrences(of: "_", with: ""))
    }

    var bool: Bool? {
        guard case .scalar(let text, let isQuoted, _) = self, !isQuoted else { return nil }
        switch text.lowercased() {
        case "true", "yes", "on": return true
        case "false", "no", "off": return false
        default: return nil
        }
    }

    /// The node as a JSON value (YAML scalars resolved: numbers, booleans, null).
    var json: JSONValue {
        switch self {
        case .null: return .null
        case .scalar(let text, let isQuoted, _):
            if isQuoted { return .string(text) }
            if let bool { return .bool(bool) }
            if ["null", "~"].contains(text) { return .null }
            if let number = Double(text), !text.isEmpty, text.first != ".", !text.hasSuffix(".") {
                return .number(number)
            }
            return .string(text)
        case .sequence(let items, _): return .array(items.map(\.json))
        case .mapping(let pairs, _):
            var members: [String: JSONValue] = [:]
            for pair in pairs { members[pair.key] = pair.value.json }
            return .object(members)
        }
    }

    /// Builds a node from a JSON value, every part on one line (a JSONL line or a CSV row).
    init(json: JSONValue, line: Int) {
        switch json {
        case .null: self = .null(line: line)
        case .bool(let value): self = .scalar(value ? "true" : "false", isQuoted: false, line: line)
        case .number(let value):
            let text = value.rounded() == value && abs(value) < 1e15 ? String(Int(value)) : String(value)
            self = .scalar(text, isQuoted: false, line: line)
        case .string(let value): self = .scalar(value, isQuoted: true, line: line)
        case .array(let items): self = .sequence(items.map { Node(json: $0, line: line) }, line: line)
        case .object(let members):
            self = .mapping(
                members.keys.sorted().map { (key: $0, value: Node(json: members[$0]!, line: line), keyLine: line) },
                line: line
            )
        }
    }

    /// Converts a Yams node, keeping line numbers.
    init(yaml node: Yams.Node) {
        let line = node.mark?.line ?? 0
        switch node {
        case .scalar(let scalar):
            let isQuoted =
                scalar.style == .singleQuoted || scalar.style == .doubleQuoted || scalar.style == .literal
                || scalar.style == .folded
            if !isQuoted, ["", "~", "null", "Null", "NULL"].contains(scalar.string) {
                self = .null(line: line)
            } else {
                self = .scalar(scalar.string, isQuoted: isQuoted, line: line)
            }
        case .sequence(let sequence):
            self = .sequence(sequence.map { Node(yaml: $0) }, line: line)
        case .mapping(let mapping):
            self = .mapping(
                mapping.map {
                    (key: $0.key.string ?? "", value: Node(yaml: $0.value), keyLine: $0.key.mark?.line ?? line)
                },
                line: line
            )
        case .alias:
            self = .null(line: line)
        }
    }
}
