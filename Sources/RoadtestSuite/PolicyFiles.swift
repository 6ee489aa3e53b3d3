import Foundation
import RoadtestCore
import Yams

/// Bars given apart from a suite (`roadtest pick --bars FILE`): a YAML mapping of bars, or one with `bars:`.
public struct BarsLoader: Sendable {
    public init() {}

    public func load(path: String) throws -> [Bar] {
        guard let text = try? String(contentsOf: URL(fileURLWithPath: path), encoding: .utf8) else {
            throw RoadtestError.invalidSuite([
                SuiteDiagnostic(nil, "cannot read bars file \(path)", hint: "check the path exists and is readable")
            ])
        }
        var context = Context(file: path, directory: URL(fileURLWithPath: path).deletingLastPathComponent())
        let root: Node
        do {
            guard let node = try Yams.compose(yaml: text) else {
                throw RoadtestError.invalidSuite([
                    SuiteDiagnostic(
                        SourceLocation(file: path, line: 1),
                        "the bars file is empty",
                        hint: "write bars: {pass_rate: 0.9}"
                    )
                ])
            }
            root = Node(yaml: node)
        } catch let error as RoadtestError {
            throw error
        } catch {
            throw RoadtestError.invalidSuite([SuiteLoader.yamlDiagnostic(error, file: path)])
        }
        var node = root
        if case .mapping(let pairs, _) = root, let inner = pairs.first(where: { $0.key == "bars" })?.value {
            node = inner
        }
        let bars = context.bars(from: node)
        if !context.diagnostics.isEmpty { throw RoadtestError.invalidSuite(context.diagnostics) }
        return bars
    }
}

/// Writes the routing policy the gateway reads: `candidates:` with the same keys as a suite's (no secrets: API
/// keys only by the name of their environment variable; header values are left out) and `routes:`.
public enum PolicyWriter {
    public static func yaml(_ report: PickReport, suite: Suite) -> String {
        var used: [String] = []
        func use(_ id: String?) { if let id, !used.contains(id) { used.append(id) } }
        for pick in report.picks {
            use(pick.candidate)
            use(pick.fallback)
        }
        var text = """
            # Routing policy written by `roadtest pick` from run \(report.runID) (suite \(scalar(report.suite))).
            # Rule: \(report.rule.rawValue). No secrets: API keys are read from the environment variables named by
            # api_key_env, and header values are left out (add them from the environment where you serve this).

            """
        text += "candidates:\n"
        for id in used {
            guard let candidate = suite.candidates.first(where: { $0.id == id }) else { continue }
            text += candidateYAML(candidate)
            // A fallback's own chain is served too.
            for next in candidate.fallback where !used.contains(next) {
                used.append(next)
                if let chained = suite.candidates.first(where: { $0.id == next }) { text += candidateYAML(chained) }
            }
        }
        text += "routes:\n"
        for pick in report.picks {
            guard let candidate = pick.candidate else {
                text +=
                    "  # \(pick.scope): no candidate clears every bar"
                    + (pick.closest.map { " (closest: \($0))" } ?? "") + "\n"
                continue
            }
            if pick.scope == "overall" {
                text += "  - name: default\n"
            } else {
                let tag = String(pick.scope.dropFirst("tag:".count))
                text += "  - name: \(scalar(tag))\n    match: {tag: \(scalar(tag))}\n"
            }
            text += "    candidate: \(scalar(candidate))\n"
            if let fallback = pick.fallback { text += "    fallback: [\(scalar(fallback))]\n" }
        }
        return text
    }

    static func candidateYAML(_ candidate: Candidate) -> String {
        var lines = ["  - id: \(scalar(candidate.id))", "    provider: \(candidate.provider.rawValue)"]
        func add(_ key: String, _ value: String?) { if let value { lines.append("    \(key): \(scalar(value))") } }
        add("base_url", candidate.baseURL)
        add("model", candidate.model)
        add("api_key_env", candidate.apiKeyEnvironmentVariable)
        add("token_env", candidate.tokenEnvironmentVariable)
        add("deployment", candidate.deployment)
        add("api_version", candidate.apiVersion)
        add("region", candidate.region)
        add("project", candidate.project)
        add("location", candidate.location)
        add("local", candidate.local)
        add("gguf", candidate.gguf)
        add("llama_server", candidate.llamaServer)
        if let command = candidate.command {
            lines.append("    command: [\(command.map(scalar).joined(separator: ", "))]")
        }
        if !candidate.serverArguments.isEmpty {
            lines.append("    server_args: [\(candidate.serverArguments.map(scalar).joined(separator: ", "))]")
        }
        if !candidate.headers.isEmpty {
            lines.append("    # headers to set: \(candidate.headers.keys.sorted().joined(separator: ", "))")
        }
        let settings = candidate.settings
        add("system", settings.system)
        if let value = settings.temperature { lines.append("    temperature: \(DurationText.trimmed(value))") }
        if let value = settings.maxTokens { lines.append("    max_tokens: \(value)") }
        if let value = settings.timeout { lines.append("    timeout: \(DurationText.trimmed(value))s") }
        if let value = settings.retries { lines.append("    retries: \(value)") }
        if let value = settings.concurrency { lines.append("    concurrency: \(value)") }
        if let value = settings.stream { lines.append("    stream: \(value)") }
        if !settings.extra.isEmpty { lines.append("    params: \(JSONValue.object(settings.extra).jsonText)") }
        if let price = candidate.price {
            var parts = ["input: \(price.input)", "output: \(price.output)"]
            if let cached = price.cachedInput { parts.append("cached_input: \(cached)") }
            if let write = price.cacheWrite { parts.append("cache_write: \(write)") }
            lines.append("    price: {\(parts.joined(separator: ", "))}")
        }
        if let strategy = candidate.strategy {
            lines.append("    strategy: {samples: \(strategy.samples), select: \(strategy.select.rawValue)}")
            if let verifier = strategy.verifier {
                lines.append("    # the strategy's verifier (\(verifier.kind.name)) is not carried over: add it here")
            }
        }
        if !candidate.fallback.isEmpty {
            lines.append("    fallback: [\(candidate.fallback.map(scalar).joined(separator: ", "))]")
        }
        if let cooldown = candidate.cooldown {
            lines.append("    cooldown: {after: \(cooldown.after), for: \(DurationText.trimmed(cooldown.duration))s}")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// A YAML scalar that reads back as exactly this text (a JSON string is valid YAML).
    static func scalar(_ text: String) -> String { JSONValue.string(text).jsonText }
}
