import Foundation
import RoadtestCore
import Yams

extension Context {
    // MARK: Scalars

    mutating func string(_ node: Node, _ key: String) -> String? {
        if let text = node.string { return text }
        error(node, "'\(key)' must be text, found \(node.typeName)")
        return nil
    }

    mutating func number(_ node: Node, _ key: String) -> Double? {
        if let value = node.double { return value }
        error(node, "'\(key)' must be a number, found \(node.string.map { "'\($0)'" } ?? node.typeName)")
        return nil
    }

    mutating func positiveInt(_ node: Node, _ key: String, allowZero: Bool = false) -> Int? {
        if let value = node.int, value > 0 || (allowZero && value == 0) { return value }
        error(
            node,
            "'\(key)' must be a whole number \(allowZero ? "of 0 or more" : "above 0"), found \(node.string.map { "'\($0)'" } ?? node.typeName)"
        )
        return nil
    }

    mutating func bool(_ node: Node, _ key: String) -> Bool? {
        if let value = node.bool { return value }
        error(node, "'\(key)' must be true or false, found \(node.string.map { "'\($0)'" } ?? node.typeName)")
        return nil
    }

    mutating func duration(_ node: Node, _ key: String) -> Double? {
        if let text = node.string, let seconds = DurationText.seconds(text) { return seconds }
        error(
            node,
            "'\(key)' must be a duration, found \(node.string.map { "'\($0)'" } ?? node.typeName)",
            hint: "write it like 500ms, 30s or 2m"
        )
        return nil
    }

    mutating func stringList(_ node: Node, _ key: String) -> [String]? {
        switch node {
        case .scalar(let text, _, _): return [text]
        case .sequence(let items, _):
            var result: [String] = []
            for item in items {
                guard let text = item.string else {
                    error(item, "'\(key)' must be a list of text, found \(item.typeName)")
                    return nil
                }
                result.append(text)
            }
            return result
        default:
            error(node, "'\(key)' must be a list of text, found \(node.typeName)")
            return nil
        }
    }

    // MARK: Settings

    /// Reads settings keys from a mapping's pairs (ignoring other keys, which the caller checks).
    mutating func settings(fromPairs pairs: [Node.Pair]) -> Settings {
        var settings = Settings()
        for (key, value, _) in pairs {
            switch key {
            case "system": settings.system = string(value, key)
            case "temperature": settings.temperature = number(value, key)
            case "max_tokens": settings.maxTokens = positiveInt(value, key)
            case "timeout": settings.timeout = duration(value, key)
            case "retries": settings.retries = positiveInt(value, key, allowZero: true)
            case "concurrency": settings.concurrency = positiveInt(value, key)
            case "stream": settings.stream = bool(value, key)
            case "retry_backoff": settings.retryBackoff = duration(value, key)
            case "tools": settings.tools = tools(from: value)
            case "tool_results": settings.toolResults = toolResults(from: value)
            case "max_turns": settings.maxTurns = positiveInt(value, key)
            case "tool_choice":
                switch value.json {
                case .string(let choice) where ["auto", "none", "required"].contains(choice):
                    settings.toolChoice = .string(choice)
                case .object(let object) where object["name"]?.stringValue != nil:
                    settings.toolChoice = .object([
                        "type": .string("function"), "function": .object(["name": object["name"]!]),
                    ])
                default:
                    error(value, "'tool_choice' is auto, none, required or {name: TOOL}")
                }
            case "params":
                if case .mapping(let params, _) = value {
                    for param in params { settings.extra[param.key] = param.value.json }
                } else {
                    error(
                        value,
                        "'params' must be a mapping of request parameters",
                        hint: "for example params: {top_p: 0.9}"
                    )
                }
            default:
                if Keys.passThrough.contains(key) { settings.extra[key] = value.json }
            }
        }
        return settings
    }

    mutating func settings(from node: Node, in what: String, valid: [String]) -> Settings {
        guard case .mapping(let pairs, _) = node else {
            error(node, "'\(what)' must be a mapping")
            return Settings()
        }
        checkKeys(pairs, valid: valid, in: what)
        return settings(fromPairs: pairs)
    }
}
