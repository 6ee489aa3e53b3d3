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
            throw RoadtestError.invalidSuite([SuiteDiagnostic(nil, "cannot read suite file \(path)", hint: "check the path exists and is readable")])
        }
        return try load(yaml: text, path: path)
    }

    /// Loads a suite from YAML text; `path` names it in errors and anchors relative case files.
    public func load(yaml text: String, path: String) throws -> Suite {
        var context = Context(file: path, directory: URL(fileURLWithPath: path).deletingLastPathComponent())
        let root: Node
        do {
            guard let node = try Yams.compose(yaml: text) else {
                throw RoadtestError.invalidSuite([SuiteDiagnostic(SourceLocation(file: path, line: 1), "the suite file is empty", hint: "start from examples/quickstart.yaml")])
            }
            root = Node(yaml: node)
        } catch let error as RoadtestError {
            throw error
        } catch {
            throw RoadtestError.invalidSuite([Self.yamlDiagnostic(error, file: path)])
        }
        let suite = context.suite(from: root)
        if !context.diagnostics.isEmpty { throw RoadtestError.invalidSuite(context.diagnostics) }
        return suite!
    }

    static func yamlDiagnostic(_ error: any Error, file: String) -> SuiteDiagnostic {
        if let yamlError = error as? YamlError {
            switch yamlError {
            case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _):
                let what = [context?.description, problem].compactMap { $0 }.filter { !$0.isEmpty }.joined(separator: " ")
                return SuiteDiagnostic(
                    SourceLocation(file: file, line: mark.line), "invalid YAML: \(what) at column \(mark.column)",
                    hint: "check indentation and quoting on this line or the one before")
            default:
                break
            }
        }
        return SuiteDiagnostic(SourceLocation(file: file, line: 1), "invalid YAML: \(error)", hint: "check the file is valid YAML")
    }
}

// MARK: - Keys

enum Keys {
    static let suite = ["name", "description", "candidates", "defaults", "cases", "bars", "samples", "robustness", "prompts"]
    static let settings = ["system", "temperature", "max_tokens", "timeout", "retries", "concurrency", "stream", "retry_backoff", "params"]
    /// Common request parameters accepted directly and passed through unchanged.
    static let passThrough = [
        "top_p", "top_k", "min_p", "seed", "stop", "presence_penalty", "frequency_penalty", "repeat_penalty",
        "response_format", "logit_bias", "reasoning_effort", "stop_sequences",
    ]
    static let candidate =
        [
            "id", "provider", "base_url", "model", "api_key_env", "command", "local", "gguf", "llama_server",
            "server_args", "headers", "price", "judge",
        ] + settings + passThrough
    static let testCase = ["id", "prompt", "messages", "vars", "tags", "kind", "checks", "threshold", "samples", "description"] + settings + passThrough
    static let fileEntry = ["file"] + testCase
    static let checkModifiers = ["weight", "constraint"]
    static let price = ["input", "output", "cached_input"]
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
                    SourceLocation(file: file, line: pair.keyLine), "unknown key '\(pair.key)' in \(what)",
                    hint: Suggest.hint(for: pair.key, in: valid)))
        }
    }

    // MARK: Suite

    mutating func suite(from root: Node) -> Suite? {
        guard case .mapping(let pairs, _) = root else {
            error(root, "the suite must be a mapping with 'name', 'candidates' and 'cases'", hint: "see the suite format in the README")
            return nil
        }
        checkKeys(pairs, valid: Keys.suite, in: "the suite")
        let fields = Dictionary(pairs.map { ($0.key, $0.value) }, uniquingKeysWith: { first, _ in first })
        let name = fields["name"].flatMap { string($0, "name") } ?? URL(fileURLWithPath: file).deletingPathExtension().lastPathComponent
        let description = fields["description"].flatMap { string($0, "description") }
        let defaults = fields["defaults"].map { settings(from: $0, in: "defaults", valid: Keys.settings + Keys.passThrough) } ?? Settings()
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
                diagnostics.append(SuiteDiagnostic(SourceLocation(file: file, line: root.line), "candidate id '\(candidate.id)' is used twice", hint: "give each candidate a unique id"))
            }
            seenCandidates[candidate.id] = 1
        }
        if !candidates.isEmpty, candidates.allSatisfy(\.isJudge), let node = fields["candidates"] {
            error(node, "every candidate is a judge", hint: "a judge grades other candidates; add a candidate to evaluate")
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
                node, "the suite has no cases to run ('cases' is empty, or its files have no rows)",
                hint: "add at least one case: '- id: ..., prompt: ..., checks: [...]' or '- file: cases.jsonl'")
        }
        var seenCases: [String: SourceLocation?] = [:]
        for testCase in cases {
            if let first = seenCases[testCase.id] {
                diagnostics.append(SuiteDiagnostic(testCase.location, "case id '\(testCase.id)' is used twice (first at \(first.map(\.description) ?? "?"))", hint: "give each case a unique id"))
            } else {
                seenCases[testCase.id] = testCase.location
            }
        }

        let bars = fields["bars"].map { self.bars(from: $0) } ?? []
        let robustness = fields["robustness"].flatMap { self.robustness(from: $0) }
        var prompts: [String] = []
        if let node = fields["prompts"] {
            prompts = stringList(node, "prompts") ?? []
            if prompts.isEmpty { error(node, "'prompts' is empty", hint: "list alternative system prompts, or remove the key") }
        }

        // Judge checks need a judge.
        let judgeIDs = Set(candidates.filter(\.isJudge).map(\.id))
        for testCase in cases {
            for check in testCase.checks {
                guard case .judge(_, let named) = check.kind else { continue }
                if let named, !candidates.contains(where: { $0.id == named }) {
                    diagnostics.append(SuiteDiagnostic(testCase.location, "judge '\(named)' is not a candidate", hint: "add a candidate with 'judge: true' and id '\(named)'"))
                } else if named == nil, judgeIDs.isEmpty {
                    diagnostics.append(SuiteDiagnostic(testCase.location, "case '\(testCase.id)' has a judge check but the suite has no judge", hint: "mark a candidate 'judge: true' or pass --judge ID"))
                }
            }
        }

        // Recovery checks confirmed by a judge need one.
        for testCase in cases {
            for check in testCase.checks {
                switch check.kind {
                case .clarifies(let confirm?), .refuses(let confirm?), .abstains(let confirm?):
                    if confirm != "", !candidates.contains(where: { $0.id == confirm }) {
                        diagnostics.append(SuiteDiagnostic(testCase.location, "judge '\(confirm)' is not a candidate", hint: "add a candidate with 'judge: true' and id '\(confirm)'"))
                    } else if confirm == "", judgeIDs.isEmpty {
                        diagnostics.append(SuiteDiagnostic(testCase.location, "case '\(testCase.id)' asks a judge to confirm but the suite has no judge", hint: "mark a candidate 'judge: true'"))
                    }
                default: break
                }
            }
        }

        return Suite(
            name: name, description: description, path: file, candidates: candidates, defaults: defaults, cases: cases, bars: bars,
            samples: samples, robustness: robustness, prompts: prompts)
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
        error(node, "'\(key)' must be a whole number \(allowZero ? "of 0 or more" : "above 0"), found \(node.string.map { "'\($0)'" } ?? node.typeName)")
        return nil
    }

    mutating func bool(_ node: Node, _ key: String) -> Bool? {
        if let value = node.bool { return value }
        error(node, "'\(key)' must be true or false, found \(node.string.map { "'\($0)'" } ?? node.typeName)")
        return nil
    }

    mutating func duration(_ node: Node, _ key: String) -> Double? {
        if let text = node.string, let seconds = DurationText.seconds(text) { return seconds }
        error(node, "'\(key)' must be a duration, found \(node.string.map { "'\($0)'" } ?? node.typeName)", hint: "write it like 500ms, 30s or 2m")
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
            case "params":
                if case .mapping(let params, _) = value {
                    for param in params { settings.extra[param.key] = param.value.json }
                } else {
                    error(value, "'params' must be a mapping of request parameters", hint: "for example params: {top_p: 0.9}")
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

    // MARK: Candidates

    mutating func candidate(from node: Node) -> Candidate? {
        guard case .mapping(let pairs, _) = node else {
            error(node, "a candidate must be a mapping with at least 'id'", hint: "for example '- id: mini' with 'provider', 'base_url' and 'model'")
            return nil
        }
        checkKeys(pairs, valid: Keys.candidate, in: "a candidate")
        let fields = Dictionary(pairs.map { ($0.key, $0.value) }, uniquingKeysWith: { first, _ in first })
        guard let id = fields["id"].flatMap({ string($0, "id") }), !id.isEmpty else {
            error(node, "a candidate needs an 'id'", hint: "add 'id: NAME' to name it in reports")
            return nil
        }
        var provider: ProviderKind
        if let value = fields["provider"] {
            guard let text = string(value, "provider"), let kind = ProviderKind(rawValue: text.lowercased()) else {
                error(value, "unknown provider '\(value.string ?? "")' for candidate '\(id)'", hint: Suggest.hint(for: value.string ?? "", in: ProviderKind.allCases.map(\.rawValue)))
                return nil
            }
            provider = kind
        } else if fields["local"] != nil || fields["gguf"] != nil {
            provider = .local
        } else if fields["command"] != nil {
            provider = .command
        } else {
            provider = .openai
        }
        var candidate = Candidate(id: id, provider: provider)
        candidate.baseURL = fields["base_url"].flatMap { string($0, "base_url") }
        candidate.model = fields["model"].flatMap { string($0, "model") }
        candidate.apiKeyEnvironmentVariable = fields["api_key_env"].flatMap { string($0, "api_key_env") }
        if let command = fields["command"] {
            candidate.command = commandLine(command)
        }
        candidate.local = fields["local"].flatMap { string($0, "local") }
        candidate.gguf = fields["gguf"].flatMap { string($0, "gguf") }.map(resolvePath)
        candidate.llamaServer = fields["llama_server"].flatMap { string($0, "llama_server") }.map(resolvePath)
        candidate.serverArguments = fields["server_args"].flatMap { stringList($0, "server_args") } ?? []
        if let headers = fields["headers"] {
            if case .mapping(let headerPairs, _) = headers {
                for header in headerPairs { candidate.headers[header.key] = header.value.string ?? header.value.json.displayText }
            } else {
                error(headers, "'headers' must be a mapping of header names to values")
            }
        }
        if let price = fields["price"] { candidate.price = self.price(from: price) }
        candidate.isJudge = fields["judge"].flatMap { bool($0, "judge") } ?? false
        candidate.settings = settings(fromPairs: pairs)

        switch provider {
        case .openai, .anthropic:
            if candidate.baseURL == nil {
                if provider == .anthropic {
                    candidate.baseURL = "https://api.anthropic.com"
                } else {
                    error(node, "candidate '\(id)' needs a 'base_url'", hint: "for example base_url: http://127.0.0.1:8080/v1")
                }
            }
            if candidate.model == nil, provider == .anthropic {
                error(node, "candidate '\(id)' needs a 'model'", hint: "name the model the endpoint should run")
            }
        case .command:
            if candidate.command == nil {
                error(node, "candidate '\(id)' uses the command provider but has no 'command'", hint: "for example command: [python3, app.py]")
            }
        case .local:
            if candidate.local == nil && candidate.gguf == nil {
                error(node, "candidate '\(id)' is local but names no model", hint: "add 'local: smollm2-135m-instruct' or 'gguf: /path/model.gguf'")
            }
        }
        if let env = candidate.apiKeyEnvironmentVariable, env.contains(where: { $0 == " " || $0 == "-" }) || env.hasPrefix("sk-") {
            error(fields["api_key_env"]!, "'api_key_env' must name an environment variable, not hold a key", hint: "put the key in an environment variable and write its name here")
        }
        return candidate
    }

    mutating func commandLine(_ node: Node) -> [String]? {
        switch node {
        case .scalar(let text, _, _): return ["/bin/sh", "-c", text]
        case .sequence:
            guard let parts = stringList(node, "command"), !parts.isEmpty else {
                error(node, "'command' must not be empty")
                return nil
            }
            return parts
        default:
            error(node, "'command' must be a command line or a list of arguments")
            return nil
        }
    }

    func resolvePath(_ path: String) -> String {
        let expanded = (path as NSString).expandingTildeInPath
        if expanded.hasPrefix("/") { return expanded }
        return directory.appendingPathComponent(expanded).standardizedFileURL.path
    }

    mutating func price(from node: Node) -> Price? {
        guard case .mapping(let pairs, _) = node else {
            error(node, "'price' must be a mapping", hint: "for example price: {input: 0.15, output: 0.60} in USD per million tokens")
            return nil
        }
        checkKeys(pairs, valid: Keys.price, in: "price")
        var price = Price()
        for (key, value, _) in pairs {
            guard let amount = number(value, "price." + key) else { continue }
            if amount < 0 { error(value, "'price.\(key)' must not be negative") }
            switch key {
            case "input": price.input = amount
            case "output": price.output = amount
            case "cached_input": price.cachedInput = amount
            default: break
            }
        }
        return price
    }

    // MARK: Robustness

    mutating func robustness(from node: Node) -> RobustnessConfig? {
        guard case .mapping(let pairs, _) = node else {
            error(node, "'robustness' must be a mapping", hint: "for example robustness: {perturbations: [typos, case], variants: 2, seed: 1}")
            return nil
        }
        checkKeys(pairs, valid: ["perturbations", "variants", "seed"], in: "robustness")
        let fields = Dictionary(pairs.map { ($0.key, $0.value) }, uniquingKeysWith: { first, _ in first })
        let names = Perturbation.allCases.map(\.rawValue)
        var perturbations: [Perturbation] = []
        if let list = fields["perturbations"] {
            for name in stringList(list, "perturbations") ?? [] {
                if let perturbation = Perturbation(rawValue: name) {
                    perturbations.append(perturbation)
                } else {
                    error(list, "unknown perturbation '\(name)'", hint: Suggest.hint(for: name, in: names).replacingOccurrences(of: "valid keys", with: "perturbations"))
                }
            }
        } else {
            perturbations = Perturbation.allCases
        }
        let variants = fields["variants"].flatMap { positiveInt($0, "variants") } ?? 1
        let seed = fields["seed"].flatMap { positiveInt($0, "seed", allowZero: true) } ?? 0
        return RobustnessConfig(perturbations: perturbations, variants: variants, seed: UInt64(seed))
    }

    // MARK: Bars

    mutating func bars(from node: Node) -> [Bar] {
        guard case .mapping(let pairs, _) = node else {
            error(node, "'bars' must be a mapping", hint: "for example bars: {pass_rate: 0.9, p95_latency: 2s}")
            return []
        }
        let valid = BarMetric.allCases.map(\.rawValue)
        checkKeys(pairs, valid: valid, in: "bars")
        var bars: [Bar] = []
        for (key, value, _) in pairs {
            guard let metric = BarMetric(rawValue: key) else { continue }
            let target: Double?
            if metric.isDuration {
                target = duration(value, key)
            } else {
                target = number(value, key)
                if let target, metric == .passRate || metric == .errorRate, !(0...1).contains(target) {
                    error(value, "'\(key)' must be between 0 and 1", hint: "write 90% as 0.9")
                }
            }
            if let target { bars.append(Bar(metric: metric, target: target)) }
        }
        return bars
    }
}
