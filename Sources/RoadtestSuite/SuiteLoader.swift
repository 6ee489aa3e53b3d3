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
            "embeddings", "endpoint", "deployment", "api_version", "token_env", "region", "project", "location",
        ] + settings + passThrough
    static let testCase =
        [
            "id", "prompt", "messages", "vars", "tags", "kind", "checks", "threshold", "samples", "description",
            "private", "forbidden_tools", "session_user", "attachments",
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
