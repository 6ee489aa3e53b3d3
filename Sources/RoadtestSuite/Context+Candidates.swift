import Foundation
import RoadtestCore

extension Context {
    // MARK: Candidates

    mutating func candidate(from node: Node) -> Candidate? {
        guard case .mapping(let pairs, _) = node else {
            error(
                node,
                "a candidate must be a mapping with at least 'id'",
                hint: "for example '- id: mini' with 'provider', 'base_url' and 'model'"
            )
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
                error(
                    value,
                    "unknown provider '\(value.string ?? "")' for candidate '\(id)'",
                    hint: Suggest.hint(for: value.string ?? "", in: ProviderKind.allCases.map(\.rawValue))
                )
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
        candidate.baseURL = (fields["base_url"] ?? fields["endpoint"]).flatMap { string($0, "base_url") }
        if fields["base_url"] != nil, let endpoint = fields["endpoint"] {
            error(endpoint, "candidate '\(id)' has both 'base_url' and 'endpoint'", hint: "keep one of them")
        }
        candidate.deployment = fields["deployment"].flatMap { string($0, "deployment") }
        candidate.apiVersion = fields["api_version"].flatMap { string($0, "api_version") }
        candidate.tokenEnvironmentVariable = fields["token_env"].flatMap { string($0, "token_env") }
        candidate.region = fields["region"].flatMap { string($0, "region") }
        candidate.project = fields["project"].flatMap { string($0, "project") }
        candidate.location = fields["location"].flatMap { string($0, "location") }
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
                for header in headerPairs {
                    candidate.headers[header.key] = header.value.string ?? header.value.json.displayText
                }
            } else {
                error(headers, "'headers' must be a mapping of header names to values")
            }
        }
        if let price = fields["price"] { candidate.price = self.price(from: price) }
        candidate.isJudge = fields["judge"].flatMap { bool($0, "judge") } ?? false
        candidate.fallback = fields["fallback"].flatMap { stringList($0, "fallback") } ?? []
        candidate.isFallbackOnly = fields["fallback_only"].flatMap { bool($0, "fallback_only") } ?? false
        if let node = fields["cooldown"] { candidate.cooldown = cooldown(from: node, id: id) }
        if let node = fields["strategy"] { candidate.strategy = strategy(from: node, id: id) }
        candidate.isEmbeddings = fields["embeddings"].flatMap { bool($0, "embeddings") } ?? false
        candidate.settings = settings(fromPairs: pairs)

        switch provider {
        case .openai, .openaiResponses:
            // Without a base_url: OPENAI_BASE_URL, else api.openai.com, as the official SDK does.
            break
        case .anthropic, .bedrock, .gemini:
            if candidate.model == nil {
                error(node, "candidate '\(id)' needs a 'model'", hint: "name the model the endpoint should run")
            }
        case .azure:
            if candidate.deployment == nil && candidate.model == nil {
                error(
                    node,
                    "candidate '\(id)' needs a 'deployment' (with api_version) or a 'model' (the v1 form)",
                    hint: "for example deployment: gpt-4o-mini and api_version: 2024-10-21"
                )
            }
            if candidate.apiVersion != nil, candidate.deployment == nil {
                candidate.deployment = candidate.model
            }
            if candidate.model == nil { candidate.model = candidate.deployment }
        case .command:
            if candidate.command == nil {
                error(
                    node,
                    "candidate '\(id)' uses the command provider but has no 'command'",
                    hint: "for example command: [python3, app.py]"
                )
            }
        case .local:
            if candidate.local == nil && candidate.gguf == nil {
                error(
                    node,
                    "candidate '\(id)' is local but names no model",
                    hint: "add 'local: smollm2-135m-instruct' or 'gguf: /path/model.gguf'"
                )
            }
        }
        for key in ["api_key_env", "token_env"] {
            guard let value = fields[key], let env = value.string,
                env.contains(where: { $0 == " " || $0 == "-" || $0 == "." }) || env.hasPrefix("sk-")
            else { continue }
            error(
                value,
                "'\(key)' must name an environment variable, not hold a secret",
                hint: "put the secret in an environment variable and write its name here"
            )
        }
        return candidate
    }

    mutating func cooldown(from node: Node, id: String) -> Cooldown? {
        guard case .mapping(let pairs, _) = node else {
            error(node, "'cooldown' must be a mapping", hint: "for example cooldown: {after: 3, for: 30s}")
            return nil
        }
        checkKeys(pairs, valid: Keys.cooldown, in: "cooldown")
        let fields = Dictionary(pairs.map { ($0.key, $0.value) }, uniquingKeysWith: { first, _ in first })
        guard let afterNode = fields["after"], let forNode = fields["for"] else {
            error(
                node,
                "candidate '\(id)': 'cooldown' needs 'after' (failures in a row) and 'for' (how long to skip)",
                hint: "for example cooldown: {after: 3, for: 30s}"
            )
            return nil
        }
        let after = positiveInt(afterNode, "cooldown.after")
        let duration = duration(forNode, "cooldown.for")
        guard let after, let duration else { return nil }
        return Cooldown(after: after, duration: duration)
    }

    mutating func strategy(from node: Node, id: String) -> Strategy? {
        guard case .mapping(let pairs, _) = node else {
            error(node, "'strategy' must be a mapping", hint: "for example strategy: {samples: 5, select: majority}")
            return nil
        }
        checkKeys(pairs, valid: Keys.strategy, in: "strategy")
        let fields = Dictionary(pairs.map { ($0.key, $0.value) }, uniquingKeysWith: { first, _ in first })
        guard let samplesNode = fields["samples"], let samples = positiveInt(samplesNode, "strategy.samples") else {
            if fields["samples"] == nil {
                error(node, "candidate '\(id)': 'strategy' needs 'samples'", hint: "for example strategy: {samples: 5}")
            }
            return nil
        }
        var strategy = Strategy(samples: samples)
        if let selectNode = fields["select"] {
            let names = Strategy.Selection.allCases.map(\.rawValue)
            guard let text = selectNode.string, let select = Strategy.Selection(rawValue: text) else {
                error(
                    selectNode,
                    "unknown selection '\(selectNode.string ?? selectNode.typeName)'",
                    hint: Suggest.closest(to: selectNode.string ?? "", in: names).map { "did you mean '\($0)'?" }
                        ?? "selections: " + names.joined(separator: ", ")
                )
                return nil
            }
            strategy.select = select
        }
        if let verifierNode = fields["verifier"] { strategy.verifier = check(from: verifierNode) }
        if let node = fields["similar"] { strategy.similar = bool(node, "strategy.similar") ?? false }
        if let node = fields["threshold"], let value = number(node, "strategy.threshold") { strategy.threshold = value }
        if let node = fields["embeddings"] { strategy.embeddings = string(node, "strategy.embeddings") }
        if strategy.similar && strategy.select != .majority {
            error(fields["similar"]!, "'similar' groups a majority vote; it goes with select: majority")
        }
        if strategy.select != .majority && strategy.verifier == nil {
            error(
                node,
                "candidate '\(id)': '\(strategy.select.rawValue)' needs a 'verifier'",
                hint: strategy.select == .firstValid
                    ? "name the check a sample must pass, e.g. verifier: is-json"
                    : "a judge rubric or a command scores each sample, e.g. verifier: {judge: \"Is it correct?\"}"
            )
        }
        return strategy
    }

    /// Expands `matrix:` (candidate id -> key -> values) into one configuration per combination, named
    /// `id@k=5,t=0.7` by the keys that take more than one value. The matrixed candidate itself is replaced.
    mutating func expandMatrix(_ node: Node, candidates: [Candidate]) -> [Candidate] {
        guard case .mapping(let entries, _) = node else {
            error(
                node,
                "'matrix' must be a mapping of candidate ids to values",
                hint: "matrix: {smol: {strategy.samples: [1, 3, 5]}}"
            )
            return candidates
        }
        var result = candidates
        let keys = Keys.matrix.map(\.0)
        for (id, axesNode, keyLine) in entries {
            guard let index = result.firstIndex(where: { $0.id == id }) else {
                diagnostics.append(
                    SuiteDiagnostic(
                        SourceLocation(file: file, line: keyLine),
                        "matrix names '\(id)', which is not a candidate",
                        hint: Suggest.closest(to: id, in: candidates.map(\.id)).map { "did you mean '\($0)'?" }
                            ?? "candidates: " + candidates.map(\.id).joined(separator: ", ")
                    )
                )
                continue
            }
            guard case .mapping(let axisPairs, _) = axesNode else {
                error(
                    axesNode,
                    "matrix '\(id)' must map keys to lists of values",
                    hint: "for example {temperature: [0, 0.7]}"
                )
                continue
            }
            checkKeys(axisPairs, valid: keys, in: "matrix '\(id)'")
            var axes: [(key: String, values: [Node])] = []
            for (key, valuesNode, _) in axisPairs where keys.contains(key) {
                if case .sequence(let items, _) = valuesNode, !items.isEmpty {
                    axes.append((key, items))
                } else if case .sequence = valuesNode {
                    error(valuesNode, "matrix '\(id)'.\(key) has no values")
                } else {
                    axes.append((key, [valuesNode]))
                }
            }
            var configurations: [Candidate] = [result[index]]
            var names: [[String]] = [[]]
            for axis in axes {
                let short = Keys.matrix.first { $0.0 == axis.key }!.1
                var nextConfigurations: [Candidate] = []
                var nextNames: [[String]] = []
                for (base, name) in zip(configurations, names) {
                    for (valueIndex, value) in axis.values.enumerated() {
                        var configuration = base
                        guard let label = apply(axis.key, value: value, to: &configuration) else { continue }
                        nextConfigurations.append(configuration)
                        let shown = axis.key == "system" ? "\(valueIndex + 1)" : label
                        nextNames.append(axis.values.count > 1 ? name + ["\(short)=\(shown)"] : name)
                    }
                }
                configurations = nextConfigurations
                names = nextNames
            }
            for (offset, name) in names.enumerated() where !name.isEmpty {
                configurations[offset].id = id + "@" + name.joined(separator: ",")
            }
            result.replaceSubrange(index...index, with: configurations)
        }
        return result
    }

    /// Sets one matrix value on a configuration; the value as its name shows it, nil when it is invalid.
    mutating func apply(_ key: String, value: Node, to candidate: inout Candidate) -> String? {
        switch key {
        case "model":
            guard let text = string(value, "matrix model") else { return nil }
            candidate.model = text
            return text
        case "temperature", "top_p":
            guard let number = number(value, "matrix " + key) else { return nil }
            if key == "temperature" {
                candidate.settings.temperature = number
            } else {
                candidate.settings.extra["top_p"] = .number(number)
            }
            return DurationText.trimmed(number)
        case "max_tokens":
            guard let count = positiveInt(value, "matrix max_tokens") else { return nil }
            candidate.settings.maxTokens = count
            return String(count)
        case "system":
            guard let text = string(value, "matrix system") else { return nil }
            candidate.settings.system = text
            return text
        case "strategy.samples":
            guard let count = positiveInt(value, "matrix strategy.samples") else { return nil }
            var strategy = candidate.strategy ?? Strategy(samples: count)
            strategy.samples = count
            candidate.strategy = strategy
            return String(count)
        case "strategy.select":
            guard let text = string(value, "matrix strategy.select"), let select = Strategy.Selection(rawValue: text)
            else {
                error(value, "unknown selection in matrix", hint: "majority, best-of or first-valid")
                return nil
            }
            var strategy = candidate.strategy ?? Strategy(samples: 1)
            strategy.select = select
            candidate.strategy = strategy
            return text
        default:
            return nil
        }
    }

    /// Fallback chains name other candidates, never themselves or a judge; a `fallback_only` candidate is some
    /// candidate's fallback.
    mutating func checkFallbacks(_ candidates: [Candidate], node: Node) {
        let byID = Dictionary(candidates.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        let items: [Node]
        if case .sequence(let nodes, _) = node { items = nodes } else { items = [] }
        for (index, candidate) in candidates.enumerated() {
            let place = index < items.count ? items[index] : node
            for id in candidate.fallback {
                if id == candidate.id {
                    error(place, "candidate '\(id)' names itself as its fallback", hint: "name other candidates")
                } else if let target = byID[id] {
                    if target.isJudge {
                        error(
                            place,
                            "candidate '\(candidate.id)' falls back on '\(id)', a judge",
                            hint: "fall back on a candidate that answers tasks"
                        )
                    }
                } else {
                    error(
                        place,
                        "candidate '\(candidate.id)' falls back on '\(id)', which is not a candidate",
                        hint: Suggest.closest(to: id, in: candidates.map(\.id)).map { "did you mean '\($0)'?" }
                            ?? "candidates: " + candidates.map(\.id).joined(separator: ", ")
                    )
                }
            }
            if candidate.fallback.count != Set(candidate.fallback).count {
                error(
                    place,
                    "candidate '\(candidate.id)' names a fallback twice",
                    hint: "each candidate is tried at most once per request"
                )
            }
            if candidate.isFallbackOnly {
                if candidate.isJudge {
                    error(place, "candidate '\(candidate.id)' is both a judge and fallback_only")
                } else if !candidates.contains(where: { $0.fallback.contains(candidate.id) }) {
                    error(
                        place,
                        "candidate '\(candidate.id)' is fallback_only but no candidate falls back on it",
                        hint: "add 'fallback: [\(candidate.id)]' to a candidate, or remove fallback_only"
                    )
                }
            }
        }
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
            error(
                node,
                "'price' must be a mapping",
                hint: "for example price: {input: 0.15, output: 0.60} in USD per million tokens"
            )
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
            case "cache_write": price.cacheWrite = amount
            default: break
            }
        }
        return price
    }
}
