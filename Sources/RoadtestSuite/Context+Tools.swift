import Foundation
import RoadtestCore

extension Context {
    // MARK: Tools

    /// `tools:` — OpenAI function definitions, or the short form `{name, description, parameters}`.
    mutating func tools(from node: Node) -> [JSONValue]? {
        guard case .sequence(let items, _) = node else {
            error(node, "'tools' must be a list of functions", hint: "- {name: lookup_order, parameters: {...}}")
            return nil
        }
        var tools: [JSONValue] = []
        for item in items {
            guard case .object(var object) = item.json else {
                error(item, "a tool must be a mapping with a 'name'")
                continue
            }
            if object["function"] == nil {
                // The short form: wrap it as an OpenAI function.
                guard case .mapping(let pairs, _) = item else { continue }
                checkKeys(pairs, valid: ["name", "description", "parameters", "type"], in: "a tool")
                object.removeValue(forKey: "type")
                object = ["type": .string("function"), "function": .object(object)]
            }
            let tool = JSONValue.object(object)
            guard let name = ToolCalls.name(of: tool), !name.isEmpty else {
                error(item, "a tool needs a 'name'", hint: "for example name: lookup_order")
                continue
            }
            if name.range(of: "^[A-Za-z0-9_-]{1,64}$", options: .regularExpression) == nil {
                error(item, "tool name '\(name)' must be 1-64 letters, digits, '_' or '-'")
            }
            if let parameters = tool["function"]?["parameters"], parameters.objectValue == nil {
                error(item, "'parameters' of tool '\(name)' must be a JSON Schema mapping")
            }
            tools.append(tool)
        }
        return tools
    }

    /// `tool_results:` — per tool: text or JSON (a fixed result), `{table: [{args, result}], otherwise}`, or
    /// `{command: [program, args...]}`.
    mutating func toolResults(from node: Node) -> [String: ToolScript]? {
        guard case .mapping(let pairs, _) = node else {
            error(node, "'tool_results' must be a mapping of tool names to results", hint: "lookup_order: {table: ...}")
            return nil
        }
        var scripts: [String: ToolScript] = [:]
        for (name, value, _) in pairs {
            if case .mapping(let fields, _) = value {
                checkKeys(fields, valid: ["table", "otherwise", "command", "value"], in: "the results of '\(name)'")
                let map = Dictionary(fields.map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a })
                if let command = map["command"] {
                    guard let arguments = stringList(command, "command"), !arguments.isEmpty else {
                        error(
                            command,
                            "'command' needs a program and its arguments",
                            hint: "command: [python3, tool.py]"
                        )
                        continue
                    }
                    scripts[name] = .command(arguments)
                } else if let table = map["table"] {
                    guard case .sequence(let rows, _) = table else {
                        error(table, "'table' must be a list of {args, result}")
                        continue
                    }
                    var parsed: [ToolScript.TableRow] = []
                    for row in rows {
                        guard case .mapping(let rowPairs, _) = row else {
                            error(row, "a table row must be a mapping with 'args' and 'result'")
                            continue
                        }
                        checkKeys(rowPairs, valid: ["args", "result"], in: "a table row")
                        let rowMap = Dictionary(rowPairs.map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a })
                        guard case .object(let args)? = rowMap["args"]?.json, let result = rowMap["result"] else {
                            error(row, "a table row needs 'args' (a mapping) and 'result'")
                            continue
                        }
                        parsed.append(.init(args: args, result: Self.resultText(result)))
                    }
                    scripts[name] = .table(rows: parsed, otherwise: map["otherwise"].map(Self.resultText))
                } else if let fixed = map["value"] {
                    scripts[name] = .value(Self.resultText(fixed))
                } else {
                    error(
                        value,
                        "the results of '\(name)' need 'table', 'command' or 'value'",
                        hint: "a fixed JSON result goes under value: {value: {status: shipped}}"
                    )
                }
            } else {
                scripts[name] = .value(Self.resultText(value))
            }
        }
        return scripts
    }

    /// A result as the model will read it: text as written, anything else as JSON.
    static func resultText(_ node: Node) -> String {
        if case .scalar = node, let text = node.string { return text }
        return node.json.jsonText
    }

    // MARK: Attacks

    mutating func attacks(from node: Node) -> AttackConfig? {
        guard case .mapping(let pairs, _) = node else {
            error(node, "'attacks' must be a mapping", hint: "attacks: {packs: [prompt-injection], per_case: 2}")
            return nil
        }
        checkKeys(pairs, valid: ["packs", "per_case", "seed"], in: "attacks")
        let map = Dictionary(pairs.map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a })
        var config = AttackConfig()
        if let packs = map["packs"] {
            config.packs = []
            for name in stringList(packs, "packs") ?? [] {
                if let pack = AttackPack(rawValue: name) {
                    config.packs.append(pack)
                } else {
                    error(
                        packs,
                        "unknown attack pack '\(name)'",
                        hint: Suggest.hint(for: name, in: AttackPack.allCases.map(\.rawValue))
                    )
                }
            }
        }
        if let perCase = map["per_case"] { config.perCase = positiveInt(perCase, "per_case") ?? 1 }
        if let seed = map["seed"] {
            if let value = seed.int, value >= 0 {
                config.seed = UInt64(value)
            } else {
                error(seed, "'seed' must be 0 or more")
            }
        }
        return config
    }

    /// Tool names a case refers to (results, checks, forbidden tools) must be among its tools.
    mutating func checkToolReferences(_ cases: CaseList, defaults: Settings, candidates: [Candidate]) {
        for testCase in cases {
            let settings = defaults.overlaid(with: testCase.settings)
            var names = Set((settings.tools ?? []).compactMap(ToolCalls.name(of:)))
            for candidate in candidates {
                names.formUnion((candidate.settings.tools ?? []).compactMap(ToolCalls.name(of:)))
            }
            func report(_ what: String, _ name: String) {
                diagnostics.append(
                    SuiteDiagnostic(
                        testCase.location,
                        "case '\(testCase.id)': \(what) '\(name)' is not one of its tools",
                        hint: names.isEmpty
                            ? "add a 'tools:' list (to the case or to 'defaults')"
                            : Suggest.hint(for: name, in: names.sorted())
                    )
                )
            }
            for name in (settings.toolResults ?? [:]).keys.sorted() where !names.contains(name) {
                report("tool_results names", name)
            }
            for name in testCase.forbiddenTools where !names.contains(name) { report("forbidden_tools names", name) }
            for check in testCase.checks {
                switch check.kind {
                case .callsTool(let name, _, _) where !names.contains(name): report("calls-tool names", name)
                case .toolSequence(let sequence):
                    for name in sequence where !names.contains(name) { report("tool-sequence names", name) }
                default: break
                }
            }
        }
    }
}
