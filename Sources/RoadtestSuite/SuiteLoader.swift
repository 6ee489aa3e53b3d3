import Foundation
import RoadtestCore
import Yams

/// Reads a suite file (YAML) and the JSONL/CSV case files it names into a `Suite`.
///
/// ```swift
/// let suite = try SuiteLoader().load(path: "suite.yaml")
/// ```
/// Every problem is reported with file:line and what to do; all problems found are reported at once.
public struct SuiteLoader: Sendable {
    public init() {}

    /// Loads the suite at `path`; case files are resolved relative to it.
    public func load(path: String) throws -> Suite {
        let url = URL(fileURLWithPath: path)
        let text: String
        do {
            text = try String(contentsOf: url, encoding: .utf8)
        } catch {
            throw RoadtestError.invalidSuite([
                SuiteDiagnostic(nil, "cannot read suite file \(path)", hint: "check the path exists and is readable")
            ])
        }
        return try load(yaml: text, path: path)
    }

    /// Loads a suite from YAML text; `path` names it in errors and anchors relative case files.
    public func load(yaml text: String, path: String) throws -> Suite {
        var context = Context(file: path, directory: URL(fileURLWithPath: path).deletingLastPathComponent())
        let root = try Self.compose(
            text,
            path: path,
            empty: "the suite file is empty",
            hint: "start from examples/quickstart.yaml"
        )
        let suite = context.suite(from: root)
        if !context.diagnostics.isEmpty { throw RoadtestError.invalidSuite(context.diagnostics) }
        return suite!
    }

    /// The YAML document of a file, with line numbers; an empty file or a YAML error is a diagnostic.
    static func compose(_ text: String, path: String, empty: String, hint: String?) throws -> Node {
        do {
            guard let node = try Yams.compose(yaml: text) else {
                throw RoadtestError.invalidSuite([
                    SuiteDiagnostic(SourceLocation(file: path, line: 1), empty, hint: hint)
                ])
            }
            return Node(yaml: node)
        } catch let error as RoadtestError {
            throw error
        } catch {
            throw RoadtestError.invalidSuite([yamlDiagnostic(error, file: path)])
        }
    }

    static func yamlDiagnostic(_ error: any Error, file: String) -> SuiteDiagnostic {
        if let yamlError = error as? YamlError {
            switch yamlError {
            case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _):
                let what = [context?.description, problem].compactMap { $0 }.filter { !$0.isEmpty }.joined(
                    separator: " "
                )
                return SuiteDiagnostic(
                    SourceLocation(file: file, line: mark.line),
                    "invalid YAML: \(what) at column \(mark.column)",
                    hint: "check indentation and quoting on this line or the one before"
                )
            default:
                break
            }
        }
        return SuiteDiagnostic(
            SourceLocation(file: file, line: 1),
            "invalid YAML: \(error)",
            hint: "check the file is valid YAML"
        )
    }
}

// MARK: - Keys

enum Keys {
    static let suite = [
        "name", "description", "candidates", "defaults", "cases", "bars", "samples", "robustness", "prompts",
        "matrix", "attacks",
    ]
    static let settings = [
        "system", "temperature", "max_tokens", "timeout", "retries", "concurrency", "stream", "retry_backoff", "params",
        "tools", "tool_results", "max_turns", "tool_choice",
    ]
    /// Common request parameters accepted directly and passed through unchanged.
    static let passThrough = [
        "top_p", "top_k", "min_p", "seed", "stop", "presence_penalty", "frequency_penalty", "repeat_penalty",
        "response_format", "logit_bias", "reasoning_effort", "stop_sequences",
    ]
    static let candidate =
        [
            "id", "provider", "base_url", "model", "api_key_env", "command", "local", "gguf", "llama_server",
            "server_args", "headers", "price", "judge", "fallback", "cooldown", "fallback_only", "strategy",
            "embeddings",
        ] + settings + passThrough
    static let testCase =
        [
            "id", "prompt", "messages", "vars", "tags", "kind", "checks", "threshold", "samples", "description",
            "private", "forbidden_tools", "session_user",
        ]
        + settings
        + passThrough
    static let fileEntry = ["file"] + testCase
    static let checkModifiers = ["weight", "constraint"]
    static let price = ["input", "output", "cached_input", "cache_write"]
    static let cooldown = ["after", "for"]
    static let strategy = ["samples", "select", "verifier", "similar", "threshold", "embeddings"]
    /// What a `matrix:` may vary, and how a configuration's name abbreviates it.
    static let matrix = [
        ("model", "model"), ("temperature", "t"), ("max_tokens", "max_tokens"), ("top_p", "top_p"),
        ("system", "system"), ("strategy.samples", "k"), ("strategy.select", "select"),
    ]
}

// MARK: - Context

struct Context {
    let file: String
    let directory: URL
    var diagnostics: [SuiteDiagnostic] = []

    init(file: String, directory: URL) {
        self.file = file
        self.directory = directory
    }

    func location(_ node: Node) -> SourceLocation { SourceLocation(file: file, line: node.line) }

    mutating func error(_ node: Node, _ message: String, hint: String? = nil) {
        diagnostics.append(SuiteDiagnostic(location(node), message, hint: hint))
    }

    /// Reports keys not in `valid`, with the closest valid key.
    mutating func checkKeys(_ pairs: [Node.Pair], valid: [String], in what: String) {
        for pair in pairs where !valid.contains(pair.key) {
            diagnostics.append(
                SuiteDiagnostic(
                    SourceLocation(file: file, line: pair.keyLine),
                    "unknown key '\(pair.key)' in \(what)",
                    hint: Suggest.hint(for: pair.key, in: valid)
                )
            )
        }
    }

    // MARK: Suite

    mutating func suite(from root: Node) -> Suite? {
        guard case .mapping(let pairs, _) = root else {
            error(
                root,
                "the suite must be a mapping with 'name', 'candidates' and 'cases'",
                hint: "see the suite format in the README"
            )
            return nil
        }
        checkKeys(pairs, valid: Keys.suite, in: "the suite")
        let fields = Dictionary(pairs.map { ($0.key, $0.value) }, uniquingKeysWith: { first, _ in first })
        let name =
            fields["name"].flatMap { string($0, "name") }
            ?? URL(fileURLWithPath: file).deletingPathExtension().lastPathComponent
        let description = fields["description"].flatMap { string($0, "description") }
        let defaults =
            fields["defaults"].map { settings(from: $0, in: "defaults", valid: Keys.settings + Keys.passThrough) }
            ?? Settings()
        let samples = fields["samples"].flatMap { positiveInt($0, "samples") } ?? 1

        var candidates: [Candidate] = []
        if let node = fields["candidates"] {
            if case .sequence(let items, _) = node {
                for item in items { if let candidate = candidate(from: item) { candidates.append(candidate) } }
                if items.isEmpty { error(node, "'candidates' is empty", hint: "add at least one candidate to compare") }
            } else {
                error(node, "'candidates' must be a list", hint: "write each candidate as '- id: ...'")
            }
        } else {
            error(root, "the suite has no 'candidates'", hint: "add a 'candidates:' list naming the models to compare")
        }
        var seenCandidates: [String: Int] = [:]
        for candidate in candidates {
            if seenCandidates[candidate.id] != nil {
                diagnostics.append(
                    SuiteDiagnostic(
                        SourceLocation(file: file, line: root.line),
                        "candidate id '\(candidate.id)' is used twice",
                        hint: "give each candidate a unique id"
                    )
                )
            }
            seenCandidates[candidate.id] = 1
        }
        if let node = fields["matrix"] { candidates = expandMatrix(node, candidates: candidates) }
        if let node = fields["candidates"] { checkFallbacks(candidates, node: node) }
        if !candidates.isEmpty, candidates.allSatisfy({ !$0.isScored }), let node = fields["candidates"] {
            error(
                node,
                "every candidate is a judge",
                hint: "a judge grades other candidates; add a candidate to evaluate"
            )
        }

        var cases: [Case] = []
        if let node = fields["cases"] {
            if case .sequence(let items, _) = node {
                for (index, item) in items.enumerated() {
                    cases += caseEntries(from: item, index: index + 1)
                }
            } else {
                error(node, "'cases' must be a list", hint: "write each case as '- id: ...' or '- file: cases.jsonl'")
            }
        } else {
            error(root, "the suite has no 'cases'", hint: "add a 'cases:' list, inline or '- file: cases.jsonl'")
        }
        if let node = fields["cases"], case .sequence = node, cases.isEmpty, diagnostics.isEmpty {
            error(
                node,
                "the suite has no cases to run ('cases' is empty, or its files have no rows)",
                hint: "add at least one case: '- id: ..., prompt: ..., checks: [...]' or '- file: cases.jsonl'"
            )
        }
        var seenCases: [String: SourceLocation?] = [:]
        for testCase in cases {
            if let first = seenCases[testCase.id] {
                diagnostics.append(
                    SuiteDiagnostic(
                        testCase.location,
                        "case id '\(testCase.id)' is used twice (first at \(first.map(\.description) ?? "?"))",
                        hint: "give each case a unique id"
                    )
                )
            } else {
                seenCases[testCase.id] = testCase.location
            }
        }

        let bars = fields["bars"].map { self.bars(from: $0) } ?? []
        let robustness = fields["robustness"].flatMap { self.robustness(from: $0) }
        var prompts: [String] = []
        if let node = fields["prompts"] {
            prompts = stringList(node, "prompts") ?? []
            if prompts.isEmpty {
                error(node, "'prompts' is empty", hint: "list alternative system prompts, or remove the key")
            }
        }

        // `similar` checks and votes by meaning need an embeddings candidate.
        let embedders = Set(candidates.filter(\.isEmbeddings).map(\.id))
        func checkEmbeddings(_ named: String?, at location: SourceLocation?, what: String) {
            if let named, !embedders.contains(named) {
                diagnostics.append(
                    SuiteDiagnostic(
                        location,
                        "\(what) names '\(named)', which is not an embeddings candidate",
                        hint: "add 'embeddings: true' to candidate '\(named)'"
                    )
                )
            } else if named == nil, embedders.isEmpty {
                diagnostics.append(
                    SuiteDiagnostic(
                        location,
                        "\(what) needs an embeddings candidate",
                        hint: "add a candidate with 'embeddings: true' (e.g. local: smollm2-135m-instruct)"
                    )
                )
            }
        }
        for testCase in cases {
            for check in testCase.checks {
                if case .similar(_, _, let named) = check.kind {
                    checkEmbeddings(named, at: testCase.location, what: "case '\(testCase.id)': check 'similar'")
                }
            }
        }
        for candidate in candidates {
            guard let strategy = candidate.strategy else { continue }
            if strategy.similar {
                checkEmbeddings(
                    strategy.embeddings,
                    at: SourceLocation(file: file, line: root.line),
                    what: "candidate '\(candidate.id)': 'similar: true'"
                )
            }
            if let verifier = strategy.verifier, case .similar(_, _, let named) = verifier.kind {
                checkEmbeddings(
                    named,
                    at: SourceLocation(file: file, line: root.line),
                    what: "candidate '\(candidate.id)': verifier"
                )
            }
        }

        // Judge checks need a judge.
        let judgeIDs = Set(candidates.filter(\.isJudge).map(\.id))
        for testCase in cases {
            for check in testCase.checks {
                guard case .judge(_, let named) = check.kind else { continue }
                if let named, !candidates.contains(where: { $0.id == named }) {
                    diagnostics.append(
                        SuiteDiagnostic(
                            testCase.location,
                            "judge '\(named)' is not a candidate",
                            hint: "add a candidate with 'judge: true' and id '\(named)'"
                        )
                    )
                } else if named == nil, judgeIDs.isEmpty {
                    diagnostics.append(
                        SuiteDiagnostic(
                            testCase.location,
                            "case '\(testCase.id)' has a judge check but the suite has no judge",
                            hint: "mark a candidate 'judge: true' or pass --judge ID"
                        )
                    )
                }
            }
        }

        // Recovery checks confirmed by a judge need one.
        for testCase in cases {
            for check in testCase.checks {
                switch check.kind {
                case .clarifies(let confirm?), .refuses(let confirm?), .abstains(let confirm?):
                    if confirm != "", !candidates.contains(where: { $0.id == confirm }) {
                        diagnostics.append(
                            SuiteDiagnostic(
                                testCase.location,
                                "judge '\(confirm)' is not a candidate",
                                hint: "add a candidate with 'judge: true' and id '\(confirm)'"
                            )
                        )
                    } else if confirm == "", judgeIDs.isEmpty {
                        diagnostics.append(
                            SuiteDiagnostic(
                                testCase.location,
                                "case '\(testCase.id)' asks a judge to confirm but the suite has no judge",
                                hint: "mark a candidate 'judge: true'"
                            )
                        )
                    }
                default: break
                }
            }
        }

        checkToolReferences(cases, defaults: defaults, candidates: candidates)
        for candidate in candidates where candidate.strategy != nil {
            let usesTools =
                !(defaults.overlaid(with: candidate.settings).tools ?? []).isEmpty
                || cases.contains { !($0.settings.tools ?? []).isEmpty }
            if usesTools {
                diagnostics.append(
                    SuiteDiagnostic(
                        SourceLocation(file: file, line: root.line),
                        "candidate '\(candidate.id)' has a sampling strategy, and the suite has tool-calling cases",
                        hint: "sampling strategies do not drive tool conversations yet; remove 'strategy' or the tools"
                    )
                )
            }
        }
        var suite = Suite(
            name: name,
            description: description,
            path: file,
            candidates: candidates,
            defaults: defaults,
            cases: cases,
            bars: bars,
            samples: samples,
            robustness: robustness,
            prompts: prompts
        )
        if let node = fields["attacks"], let config = attacks(from: node) {
            for (pack, reason) in suite.addAttacks(config).sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
                error(node, "attack pack '\(pack.rawValue)' has nothing to attack: \(reason)")
            }
        }
        return suite
    }

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
