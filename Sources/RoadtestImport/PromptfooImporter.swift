import Foundation
import RoadtestCore

/// Converts a promptfoo config (`promptfooconfig.yaml`) into a Roadtest suite: prompts x tests x vars become cases,
/// providers become candidates, assertions become checks, and everything that cannot be carried is a finding with
/// file:line.
///
/// ```swift
/// let suite = try PromptfooImporter().convert(configAt: "promptfooconfig.yaml")
/// print(SuiteWriter().yaml(for: suite))
/// ```
///
/// Several prompts become separate cases (one per prompt and test, tagged `prompt:LABEL`), not Roadtest's
/// `prompts:` variants. Roadtest's variants are alternative *system* prompts run in addition to each case as
/// written, so one prompt would have to be the "original" and the others would be sent as system prompts beside
/// an unchanged user message: a different request from the one promptfoo sends. A promptfoo prompt is the user
/// turn itself (or a whole chat); a case per prompt sends exactly that, and the tag still gives a pass rate per
/// prompt in the scorecard.
public struct PromptfooImporter: Sendable {
    public init() {}

    /// Reads the config at `path` (and the prompt, test and var files it names, relative to it).
    public func convert(configAt path: String) throws -> ImportedSuite {
        let root = try SourceReader.document(path)
        guard root.pairs != nil else {
            throw RoadtestError(
                .invalidArgument,
                "a promptfoo config must be a mapping with 'prompts', 'providers' and 'tests'",
                location: SourceLocation(file: path, line: root.line)
            )
        }
        var conversion = PromptfooConversion(file: path)
        return try conversion.run(root)
    }
}

/// A prompt: user text (a template), or a whole chat.
struct PromptfooPrompt {
    var label: String
    var text: String?
    var messages: [(role: String, content: String)]?
    var location: SourceLocation
}

/// One promptfoo test, with `defaultTest` merged in.
struct PromptfooTest {
    var description: String?
    var vars: [(key: String, value: SourceNode)] = []
    var asserts: [SourceNode] = []
    var threshold: Double?
    var tags: [String] = []
    var location: SourceLocation
    var prefix = ""
    var suffix = ""
}

struct PromptfooConversion {
    let file: String
    var suite: ImportedSuite
    /// Judge candidates by the promptfoo provider that grades (`""` for promptfoo's default grader).
    var judges: [String: String] = [:]
    var judgeCandidates: [[YAMLEntry]] = []
    var needsEmbeddings = false
    var takenCandidateIDs: Set<String> = []
    var takenCaseIDs: Set<String> = []
    /// `defaultTest.options.provider`: the grader for model-graded assertions without their own.
    var defaultGrader: SourceNode?

    init(file: String) {
        self.file = file
        suite = ImportedSuite(
            source: "promptfoo config \(file)",
            name: Identifier.slug(
                ((file as NSString).lastPathComponent as NSString).deletingPathExtension,
                fallback: "imported"
            )
        )
    }

    func location(_ node: SourceNode, in file: String? = nil) -> SourceLocation {
        SourceLocation(file: file ?? self.file, line: node.line)
    }

    mutating func notCarried(_ type: String, _ node: SourceNode, in file: String? = nil, _ detail: String) {
        suite.findings.append(ImportFinding(.notCarried, type: type, at: location(node, in: file), detail))
    }

    mutating func run(_ root: SourceNode) throws -> ImportedSuite {
        // The suite's name keys its history in the store: every promptfoo project's file is promptfooconfig.yaml,
        // so the config's description names it, else its folder.
        let folder = ((file as NSString).deletingLastPathComponent as NSString).lastPathComponent
        if let description = root["description"]?.string {
            suite.description = description
            suite.name = Identifier.slug(description, fallback: suite.name)
        } else if !folder.isEmpty, folder != ".", folder != "/" {
            suite.name = Identifier.slug(folder, fallback: suite.name)
        }
        let known = [
            "description", "prompts", "providers", "targets", "tests", "defaultTest", "scenarios", "outputPath",
            "sharing", "evaluateOptions", "commandLineOptions", "env", "nunjucksFilters", "derivedMetrics",
            "extensions", "tags", "metadata", "writeLatestResults",
        ]
        for (key, value) in root.pairs ?? [] where !known.contains(key) {
            notCarried("key \(key)", value, "unknown top-level key, ignored")
        }
        for key in ["scenarios", "nunjucksFilters", "extensions", "derivedMetrics"] {
            if let value = root[key] { notCarried(key, value, "'\(key)' has no counterpart in a Roadtest suite") }
        }
        let prompts = try self.prompts(root["prompts"], root: root)
        for node in (root["providers"] ?? root["targets"])?.items ?? (root["providers"] ?? root["targets"]).map({ [$0] }
        )
            ?? []
        {
            if let candidate = candidate(from: node, isJudge: false) { suite.candidates.append(candidate) }
        }
        var defaultTest = PromptfooTest(location: SourceLocation(file: file, line: root.line))
        if let node = root["defaultTest"] {
            if let text = node.string, text.hasPrefix("file://") {
                let path = SourceReader.resolve(String(text.dropFirst(7)), from: file)
                defaultTest = try test(from: try SourceReader.document(path, referencedAt: location(node)), in: path)
            } else {
                defaultTest = try test(from: node, in: file)
            }
            defaultGrader = node["options"]?["provider"]
        }
        let tests = try self.tests(root["tests"])
        for (index, (test, testFile)) in tests.enumerated() {
            try addCases(for: test, in: testFile, defaults: defaultTest, prompts: prompts, number: index + 1)
        }
        if suite.cases.isEmpty {
            throw RoadtestError(
                .invalidArgument,
                "the config has no tests to import",
                hint: "add 'tests:' with vars and assertions",
                location: SourceLocation(file: file, line: root.line)
            )
        }
        if suite.candidates.isEmpty {
            suite.candidateNotes.append(
                "No provider could be carried: 'model' is a placeholder OpenAI candidate; edit it."
            )
            suite.candidates.append(Self.placeholderCandidate(&takenCandidateIDs))
        }
        var seen: Set<String> = []
        suite.findings = suite.findings.filter { seen.insert($0.description).inserted }
        suite.candidates += judgeCandidates
        if needsEmbeddings {
            suite.candidateNotes.append(
                "'embeddings' grades 'similar' checks: promptfoo's default embedding model."
            )
            suite.candidates.append([
                YAMLEntry("id", .string(Identifier.unique("embeddings", in: &takenCandidateIDs))),
                YAMLEntry("provider", .string("openai")), YAMLEntry("model", .string("text-embedding-3-large")),
                YAMLEntry("api_key_env", .string("OPENAI_API_KEY")), YAMLEntry("embeddings", .bool(true)),
            ])
        }
        return suite
    }

    static func placeholderCandidate(_ taken: inout Set<String>) -> [YAMLEntry] {
        [
            YAMLEntry("id", .string(Identifier.unique("model", in: &taken))), YAMLEntry("provider", .string("openai")),
            YAMLEntry("model", .string("gpt-4o-mini")), YAMLEntry("api_key_env", .string("OPENAI_API_KEY")),
        ]
    }

    // MARK: - Prompts

    mutating func prompts(_ node: SourceNode?, root: SourceNode) throws -> [PromptfooPrompt] {
        guard let node else {
            throw RoadtestError(
                .invalidArgument,
                "the config has no 'prompts'",
                hint: "promptfoo configs list prompts as text or file:// paths",
                location: SourceLocation(file: file, line: root.line)
            )
        }
        var result: [PromptfooPrompt] = []
        var entries: [(text: String, label: String?, node: SourceNode)] = []
        switch node {
        case .sequence(let items, _):
            for item in items {
                if let text = item.string {
                    entries.append((text, nil, item))
                } else if let raw = (item["raw"] ?? item["id"])?.string {
                    entries.append((raw, item["label"]?.string, item))
                } else {
                    notCarried("prompt", item, "a prompt must be text, a file:// path, or {raw|id, label}")
                }
            }
        case .mapping(let pairs, _):
            for pair in pairs { entries.append((pair.key, pair.value.string, pair.value)) }
        default:
            if let text = node.string { entries.append((text, nil, node)) }
        }
        for entry in entries {
            let loaded = try promptTexts(entry.text, at: entry.node).filter { prompt in
                // A Roadtest case needs a user turn to send.
                guard let messages = prompt.messages, !messages.contains(where: { $0.role == "user" }) else {
                    return true
                }
                notCarried("prompt", entry.node, "a chat prompt without a user message")
                return false
            }
            for (index, prompt) in loaded.enumerated() {
                var prompt = prompt
                prompt.label = entry.label.map { loaded.count > 1 ? "\($0)-\(index + 1)" : $0 } ?? prompt.label
                result.append(prompt)
            }
        }
        if result.isEmpty {
            throw RoadtestError(
                .invalidArgument,
                "no prompt in the config could be imported",
                location: location(node)
            )
        }
        var taken: Set<String> = []
        for index in result.indices {
            let label = result[index].label.isEmpty ? "prompt-\(index + 1)" : result[index].label
            result[index].label = Identifier.unique(Identifier.slug(label, fallback: "prompt-\(index + 1)"), in: &taken)
        }
        return result
    }

    /// One written prompt: inline text or chat JSON, or the prompts of a `file://` file (`---` separates several
    /// prompts in a text file).
    mutating func promptTexts(_ text: String, at node: SourceNode) throws -> [PromptfooPrompt] {
        let here = location(node)
        guard text.hasPrefix("file://") else {
            return [PromptfooPrompt(label: "", text: text, messages: Self.chat(text), location: here)]
        }
        var path = String(text.dropFirst(7))
        if let colon = path.lastIndex(of: ":"), path[colon...].count > 1, !path[colon...].contains("/") {
            path = String(path[..<colon])  // file://prompts.py:function_name
        }
        if path.contains("*") {
            let matches = SourceReader.glob(path, from: file)
            guard !matches.isEmpty else {
                throw RoadtestError(.notFound, "no file matches \(path)", hint: "check the pattern", location: here)
            }
            var prompts: [PromptfooPrompt] = []
            for match in matches { prompts += try promptTexts("file://" + match, at: node) }
            return prompts
        }
        let resolved = SourceReader.resolve(path, from: file)
        let ext = (path as NSString).pathExtension.lowercased()
        let stem = ((path as NSString).lastPathComponent as NSString).deletingPathExtension
        switch ext {
        case "txt", "md", "j2", "nunjucks", "":
            let content = try SourceReader.text(resolved, referencedAt: here)
            let parts = content.components(separatedBy: "\n---\n").map {
                $0.trimmingCharacters(in: .whitespacesAndNewlines)
            }.filter { !$0.isEmpty }
            return parts.enumerated().map { index, part in
                PromptfooPrompt(
                    label: parts.count > 1 ? "\(stem)-\(index + 1)" : stem,
                    text: part,
                    messages: Self.chat(part),
                    location: here
                )
            }
        case "json", "yaml", "yml":
            let document = try SourceReader.document(resolved, referencedAt: here)
            if let messages = Self.messages(from: document) {
                return [PromptfooPrompt(label: stem, text: nil, messages: messages, location: here)]
            }
            notCarried("prompt file", node, "\(path) is not a list of {role, content} messages")
            return []
        default:
            notCarried("prompt function", node, "\(path): prompt functions (.\(ext)) are code Roadtest does not run")
            return []
        }
    }

    /// Chat messages written as JSON text (`[{"role": "system", ...}, ...]`), else nil.
    static func chat(_ text: String) -> [(role: String, content: String)]? {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard trimmed.hasPrefix("["), trimmed.hasSuffix("]"),
            let node = try? SourceReader.parse(trimmed, file: "prompt")
        else { return nil }
        return messages(from: node)
    }

    static func messages(from node: SourceNode) -> [(role: String, content: String)]? {
        guard let items = node.items, !items.isEmpty else { return nil }
        var result: [(role: String, content: String)] = []
        for item in items {
            guard let role = item["role"]?.string, ["system", "user", "assistant"].contains(role),
                let content = item["content"]?.string
            else { return nil }
            result.append((role, content))
        }
        return result
    }
}
