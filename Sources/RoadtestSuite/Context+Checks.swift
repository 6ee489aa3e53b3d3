import Foundation
import RoadtestCore

extension Context {
    /// Parses one check: `- contains: text` with optional `weight`, `constraint` and the check's own options,
    /// or a bare name for checks without an argument (`- is-json`).
    mutating func check(from node: Node) -> Check? {
        var pairs: [Node.Pair]
        switch node {
        case .scalar(let name, _, let line):
            pairs = [(name, .scalar("true", isQuoted: false, line: line), line)]
        case .mapping(let written, _):
            pairs = written
        default:
            error(node, "a check must be a mapping like '- contains: text'")
            return nil
        }
        let checkNames = CheckKind.names
        let typed = pairs.filter { pair in
            let bare = pair.key.hasPrefix("not-") ? String(pair.key.dropFirst(4)) : pair.key
            return checkNames.contains(bare)
        }
        guard typed.count == 1, let (name, argument, _) = typed.first else {
            if typed.count > 1 {
                error(
                    node,
                    "one check per list item, found \(typed.map { "'\($0.key)'" }.joined(separator: " and "))",
                    hint: "start a new '- ' item for each check"
                )
            } else {
                let key = pairs.first?.key ?? ""
                error(node, "unknown check '\(key)'", hint: Suggest.hint(for: key, in: checkNames))
            }
            return nil
        }
        let isNegated = name.hasPrefix("not-")
        let bare = isNegated ? String(name.dropFirst(4)) : name
        let options = Dictionary(
            pairs.filter { $0.key != name }.map { ($0.key, $0.value) },
            uniquingKeysWith: { first, _ in first }
        )
        let allowedOptions = Keys.checkModifiers + Self.checkOptions(bare)
        for (key, value, _) in pairs where key != name && !allowedOptions.contains(key) {
            error(
                value,
                "unknown option '\(key)' for check '\(name)'",
                hint: Suggest.hint(for: key, in: allowedOptions)
            )
        }
        var check = Check(kind: .equals(""), isNegated: isNegated)
        if let weight = options["weight"] {
            if let value = number(weight, "weight"), value >= 0 {
                check.weight = value
            } else {
                error(weight, "'weight' must be 0 or more")
            }
        }
        if let constraint = options["constraint"] { check.isConstraint = bool(constraint, "constraint") ?? false }
        guard let kind = checkKind(bare, argument: argument, options: options) else { return nil }
        check.kind = kind
        return check
    }

    static func checkOptions(_ name: String) -> [String] {
        switch name {
        case "number": return ["tolerance"]
        case "json-path": return ["value", "equals"]
        case "is-json": return ["schema"]
        case "judge": return ["judge", "rubric"]
        case "similar": return ["threshold", "embeddings"]
        case "word-count": return ["min", "max"]
        case "clarifies", "refuses", "abstains": return ["confirm"]
        case "calls-tool": return ["args", "schema"]
        default: return []
        }
    }

    mutating func text(_ node: Node, _ name: String) -> String? {
        if let text = node.string { return text }
        error(node, "check '\(name)' needs text, found \(node.typeName)")
        return nil
    }

    mutating func checkKind(_ name: String, argument: Node, options: [String: Node]) -> CheckKind? {
        switch name {
        case "calls-tool":
            guard let tool = text(argument, name) else { return nil }
            var args: [String: JSONValue]?
            if let node = options["args"] {
                guard case .object(let object) = node.json else {
                    error(node, "'args' must be a mapping of argument names to values", hint: "args: {order_id: A1}")
                    return nil
                }
                args = object
            }
            var schema: JSONValue?
            if let node = options["schema"] {
                guard case .object = node.json else {
                    error(
                        node,
                        "'schema' must be a JSON Schema mapping",
                        hint: "schema: {type: object, required: [id]}"
                    )
                    return nil
                }
                schema = node.json
            }
            return .callsTool(name: tool, args: args, schema: schema)
        case "tool-sequence":
            guard let names = stringList(argument, name), !names.isEmpty else {
                error(
                    argument,
                    "'tool-sequence' needs a list of tool names",
                    hint: "tool-sequence: [lookup_order, refund]"
                )
                return nil
            }
            return .toolSequence(names)
        case "max-tool-calls":
            guard let limit = positiveInt(argument, name, allowZero: true) else { return nil }
            return .maxToolCalls(limit)
        case "similar":
            guard let expected = text(argument, name) else { return nil }
            var threshold = 0.85
            if let node = options["threshold"] {
                guard let value = number(node, "threshold"), (-1...1).contains(value) else {
                    error(node, "'threshold' must be a cosine similarity from -1 to 1", hint: "for example 0.85")
                    return nil
                }
                threshold = value
            }
            return .similar(
                expected: expected,
                threshold: threshold,
                embeddings: options["embeddings"].flatMap { string($0, "embeddings") }
            )
        case "equals": return text(argument, name).map(CheckKind.equals)
        case "contains": return text(argument, name).map(CheckKind.contains)
        case "icontains": return text(argument, name).map(CheckKind.icontains)
        case "contains-any", "icontains-any", "contains-all", "icontains-all":
            guard let items = stringList(argument, name), !items.isEmpty else {
                error(argument, "check '\(name)' needs a list of text", hint: "for example \(name): [refund, billing]")
                return nil
            }
            let caseInsensitive = name.hasPrefix("i")
            return name.hasSuffix("any")
                ? .containsAny(items, caseInsensitive: caseInsensitive)
                : .containsAll(items, caseInsensitive: caseInsensitive)
        case "starts-with": return text(argument, name).map(CheckKind.startsWith)
        case "regex":
            guard let pattern = text(argument, name) else { return nil }
            if (try? NSRegularExpression(pattern: pattern)) == nil {
                error(
                    argument,
                    "invalid regular expression '\(pattern)'",
                    hint: "in YAML, single-quote patterns with backslashes: regex: '\\d+'"
                )
                return nil
            }
            return .regex(pattern)
        case "is-json":
            if let schema = options["schema"] { return .isJSON(schema: schema.json) }
            switch argument {
            case .mapping: return .isJSON(schema: argument.json)
            case .null: return .isJSON(schema: nil)
            default:
                if argument.bool == true { return .isJSON(schema: nil) }
                error(argument, "'is-json' takes true or a JSON Schema mapping")
                return nil
            }
        case "json-path":
            if case .mapping(let pairs, _) = argument {
                checkKeys(pairs, valid: ["path", "equals", "value"], in: "json-path")
                let fields = Dictionary(pairs.map { ($0.key, $0.value) }, uniquingKeysWith: { first, _ in first })
                guard let path = fields["path"].flatMap({ text($0, "json-path.path") }) else {
                    error(
                        argument,
                        "'json-path' needs a 'path'",
                        hint: "for example json-path: {path: $.priority, equals: high}"
                    )
                    return nil
                }
                return jsonPath(path, expected: (fields["equals"] ?? fields["value"])?.json, at: argument)
            }
            guard let path = text(argument, name) else { return nil }
            return jsonPath(path, expected: (options["equals"] ?? options["value"])?.json, at: argument)
        case "number":
            var value: Double?
            var tolerance = options["tolerance"].flatMap { number($0, "tolerance") } ?? 0
            if case .mapping(let pairs, _) = argument {
                checkKeys(pairs, valid: ["value", "tolerance"], in: "number")
                let fields = Dictionary(pairs.map { ($0.key, $0.value) }, uniquingKeysWith: { first, _ in first })
                value = fields["value"].flatMap { number($0, "number.value") }
                if let written = fields["tolerance"] { tolerance = number(written, "tolerance") ?? 0 }
            } else {
                value = number(argument, name)
            }
            guard let value else { return nil }
            return .number(value: value, tolerance: abs(tolerance))
        case "max-length":
            return positiveInt(argument, name, allowZero: true).map(CheckKind.maxLength)
        case "word-count":
            if case .mapping(let pairs, _) = argument {
                checkKeys(pairs, valid: ["min", "max"], in: "word-count")
                let fields = Dictionary(pairs.map { ($0.key, $0.value) }, uniquingKeysWith: { first, _ in first })
                let minimum = fields["min"].flatMap { positiveInt($0, "min", allowZero: true) }
                let maximum = fields["max"].flatMap { positiveInt($0, "max", allowZero: true) }
                if minimum == nil && maximum == nil { error(argument, "'word-count' needs 'min', 'max' or both") }
                return .wordCount(min: minimum, max: maximum)
            }
            if case .null = argument {
                let minimum = options["min"].flatMap { positiveInt($0, "min", allowZero: true) }
                let maximum = options["max"].flatMap { positiveInt($0, "max", allowZero: true) }
                return .wordCount(min: minimum, max: maximum)
            }
            guard let count = positiveInt(argument, name, allowZero: true) else { return nil }
            return .wordCount(min: count, max: count)
        case "latency": return duration(argument, name).map { CheckKind.latency(maxSeconds: $0) }
        case "cost": return number(argument, name).map { CheckKind.cost(maxUSD: $0) }
        case "judge":
            if case .mapping(let pairs, _) = argument {
                checkKeys(pairs, valid: ["rubric", "judge"], in: "judge")
                let fields = Dictionary(pairs.map { ($0.key, $0.value) }, uniquingKeysWith: { first, _ in first })
                guard let rubric = fields["rubric"].flatMap({ text($0, "rubric") }) else {
                    error(
                        argument,
                        "'judge' needs a 'rubric'",
                        hint: "for example judge: {rubric: 'Apologises and offers a refund'}"
                    )
                    return nil
                }
                return .judge(rubric: rubric, judge: fields["judge"].flatMap { text($0, "judge") })
            }
            guard let rubric = text(argument, name) else { return nil }
            return .judge(rubric: rubric, judge: options["judge"].flatMap { text($0, "judge") })
        case "command":
            return commandLine(argument).map(CheckKind.command)
        case "clarifies", "refuses", "abstains":
            // `true`, or {confirm: JUDGE} / {confirm: true} to have a judge confirm what the detector found.
            var confirm: String?
            var settingNode: Node? = options["confirm"]
            if case .mapping(let pairs, _) = argument {
                checkKeys(pairs, valid: ["confirm"], in: name)
                settingNode = pairs.first { $0.key == "confirm" }?.value
            } else if argument.bool != true, case .scalar = argument {
                error(argument, "'\(name)' takes true, or {confirm: JUDGE}")
                return nil
            }
            if let settingNode {
                if let flag = settingNode.bool {
                    confirm = flag ? "" : nil
                } else {
                    confirm = text(settingNode, "confirm")
                }
            }
            switch name {
            case "clarifies": return .clarifies(confirm: confirm)
            case "refuses": return .refuses(confirm: confirm)
            default: return .abstains(confirm: confirm)
            }
        default:
            return nil
        }
    }

    mutating func jsonPath(_ path: String, expected: JSONValue?, at node: Node) -> CheckKind? {
        guard JSONPath(path) != nil else {
            error(node, "invalid JSON path '\(path)'", hint: "write paths like $.a.b, $.items[0].name or $['key']")
            return nil
        }
        return .jsonPath(path: path, expected: expected)
    }
}
