import Foundation
import RoadtestCore

/// Converts an exported OpenAI eval (the Evals API object: `data_source_config`, `testing_criteria`) and its
/// data-source items into a Roadtest suite: one case per item, `string_check` and cosine `text_similarity` graders
/// as checks, `label_model` and `score_model` graders as judge checks.
///
/// ```swift
/// let suite = try OpenAIEvalsImporter(dataPath: "items.jsonl").convert(evalAt: "eval.json")
/// ```
///
/// Templates: `{{item.field}}` becomes the case var `{{field}}` (nested fields as `a.b`), and
/// `{{sample.output_text}}` is the model's answer, which Roadtest's checks grade. The prompt comes from a run's
/// `data_source.input_messages` template when the file has one (an eval exported with its run), else `prompt`.
public struct OpenAIEvalsImporter: Sendable {
    /// A JSONL file of items (`{"item": {...}}` lines, or plain objects); else the run's `file_content` source.
    public var dataPath: String?
    /// The user prompt template when the file has no run template (`"Classify: {{item.text}}"`).
    public var prompt: String?
    /// The candidate's model when the file names none.
    public var model: String?

    public init(dataPath: String? = nil, prompt: String? = nil, model: String? = nil) {
        self.dataPath = dataPath
        self.prompt = prompt
        self.model = model
    }

    /// Reads the eval at `path` and its items.
    public func convert(evalAt path: String) throws -> ImportedSuite {
        let root = try SourceReader.document(path)
        guard root.pairs != nil, let criteria = root["testing_criteria"]?.items else {
            throw RoadtestError(
                .invalidArgument,
                "an OpenAI eval must be an object with 'testing_criteria'",
                hint: "export the eval object (GET /v1/evals/{eval_id})",
                location: SourceLocation(file: path, line: root.line)
            )
        }
        var suite = ImportedSuite(
            source: "OpenAI eval \(path)",
            name: Identifier.slug(root["name"]?.string ?? "openai-eval", fallback: "openai-eval")
        )
        if let id = root["id"]?.string { suite.description = "OpenAI eval \(id)" }
        let dataSource = root["data_source"] ?? root["run"]?["data_source"]

        // The candidate: the run's model and sampling parameters, else --model.
        var candidate: [YAMLEntry] = [YAMLEntry("id", .string("model")), YAMLEntry("provider", .string("openai"))]
        let runModel = dataSource?["model"]?.string
        candidate.append(YAMLEntry("model", .string(runModel ?? model ?? "gpt-4o-mini")))
        candidate.append(YAMLEntry("api_key_env", .string("OPENAI_API_KEY")))
        let parameters: [(String, String)] = [
            ("temperature", "temperature"), ("max_completions_tokens", "max_tokens"), ("max_tokens", "max_tokens"),
            ("top_p", "top_p"), ("seed", "seed"),
        ]
        for (key, name) in parameters {
            if let value = dataSource?["sampling_params"]?[key] {
                candidate.append(YAMLEntry(name, YAMLValue(json: value.json)))
            }
        }
        if runModel == nil, model == nil {
            suite.candidateNotes.append("The eval names no model: 'model' is a placeholder (gpt-4o-mini); edit it.")
        }
        suite.candidates.append(candidate)

        // The prompt.
        var messages: [(role: String, content: String)] = []
        for message in dataSource?["input_messages"]?["template"]?.items ?? [] {
            let content = message["content"]?.string ?? message["content"]?["text"]?.string
            guard let role = message["role"]?.string, let content else {
                suite.findings.append(
                    ImportFinding(
                        .notCarried,
                        type: "input message",
                        at: SourceLocation(file: path, line: message.line),
                        "a template message without text content"
                    )
                )
                continue
            }
            messages.append((role == "developer" ? "system" : role, EvalTemplate.convert(content).text))
        }
        if messages.isEmpty, let prompt {
            messages = [("user", EvalTemplate.convert(prompt).text)]
        }
        if messages.isEmpty, let reference = dataSource?["input_messages"]?["item_reference"]?.string {
            messages = [("user", "{{\(EvalTemplate.itemPath(reference))}}")]
        }

        if !messages.isEmpty, !messages.contains(where: { $0.role == "user" }) {
            throw RoadtestError(
                .invalidArgument,
                "the run's input_messages template has no user message",
                hint: "a Roadtest case sends a user turn; add one to the template or pass --prompt",
                location: SourceLocation(file: path, line: dataSource?["input_messages"]?.line ?? root.line)
            )
        }

        // The graders.
        var converter = EvalCriteria(file: path)
        for criterion in criteria {
            converter.convert(criterion)
        }
        suite.findings += converter.findings
        suite.candidates += converter.judgeCandidates
        if converter.needsEmbeddings {
            suite.candidates.append([
                YAMLEntry("id", .string("embeddings")), YAMLEntry("provider", .string("openai")),
                YAMLEntry("model", .string("text-embedding-3-large")),
                YAMLEntry("api_key_env", .string("OPENAI_API_KEY")),
                YAMLEntry("embeddings", .bool(true)),
            ])
        }

        // The items.
        let items: [SourceNode]
        let itemsFile: String
        if let dataPath {
            items = try SourceReader.jsonLines(dataPath)
            itemsFile = dataPath
        } else if let content = dataSource?["source"]?["content"]?.items {
            items = content
            itemsFile = path
        } else {
            throw RoadtestError(
                .invalidArgument,
                "the eval has no items",
                hint: "pass its data source items with --data items.jsonl",
                location: SourceLocation(file: path, line: root.line)
            )
        }
        var caseIDs: Set<String> = []
        for (index, line) in items.enumerated() {
            let item = line["item"] ?? line
            guard item.pairs != nil else {
                throw RoadtestError(
                    .invalidArgument,
                    "an item must be a JSON object",
                    location: SourceLocation(file: itemsFile, line: line.line)
                )
            }
            var vars: [String: String] = [:]
            EvalTemplate.flatten(item, prefix: "", into: &vars)
            let written = item["id"].map(\.varText).map { Identifier.slug($0, fallback: "item-\(index + 1)") }
            var testCase = ImportedCase(id: Identifier.unique(written ?? "item-\(index + 1)", in: &caseIDs))
            testCase.vars = vars
            if messages.isEmpty {
                throw RoadtestError(
                    .invalidArgument,
                    "the eval has no prompt: its file has no run template (data_source.input_messages)",
                    hint: "pass the user prompt with --prompt 'Answer: {{item.question}}'",
                    location: SourceLocation(file: path, line: root.line)
                )
            } else if messages.count == 1, messages[0].role == "user" {
                testCase.prompt = messages[0].content
            } else {
                testCase.messages = messages
            }
            testCase.checks = converter.checks
            let referenced =
                ([testCase.prompt ?? ""] + (testCase.messages ?? []).map(\.content)).flatMap(Templates.references)
                + testCase.checks.flatMap(\.argument.templateReferences)
            let missing = Set(referenced.filter { testCase.vars[$0] == nil }).sorted()
            for name in missing { testCase.vars[name] = "" }
            if !missing.isEmpty {
                testCase.notes.append("not in this item (written empty): " + missing.joined(separator: ", "))
            }
            suite.cases.append(testCase)
        }
        if suite.cases.isEmpty {
            throw RoadtestError(
                .invalidArgument,
                "the eval's data source has no items",
                location: SourceLocation(file: itemsFile, line: 1)
            )
        }
        return suite
    }
}

/// OpenAI eval templates in Roadtest's terms.
enum EvalTemplate {
    /// `{{item.a.b}}` -> `{{a.b}}`; `{{sample.output_text}}` is the answer (`usesSample`); any other namespace is
    /// `unsupported`.
    static func convert(_ text: String) -> (text: String, usesSample: Bool, unsupported: [String]) {
        var result = ""
        var usesSample = false
        var unsupported: [String] = []
        var rest = Substring(text)
        while let open = rest.range(of: "{{") {
            result += rest[..<open.lowerBound]
            guard let close = rest[open.upperBound...].range(of: "}}") else { break }
            let name = rest[open.upperBound..<close.lowerBound].trimmingCharacters(in: .whitespaces)
            if name.hasPrefix("item.") {
                result += "{{\(itemPath(name))}}"
            } else if name == "sample.output_text" {
                usesSample = true
                result += "[the answer]"
            } else {
                unsupported.append(name)
                result += "{{\(name)}}"
            }
            rest = rest[close.upperBound...]
        }
        result += rest
        return (result, usesSample, unsupported)
    }

    /// `item.a.b` -> `a.b`.
    static func itemPath(_ reference: String) -> String {
        reference.hasPrefix("item.") ? String(reference.dropFirst(5)) : reference
    }

    /// True when the template is exactly the answer: `{{sample.output_text}}`.
    static func isSample(_ text: String?) -> Bool {
        guard let text else { return false }
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard trimmed.hasPrefix("{{"), trimmed.hasSuffix("}}") else { return false }
        return trimmed.dropFirst(2).dropLast(2).trimmingCharacters(in: .whitespaces) == "sample.output_text"
    }

    /// An item's fields as vars: text as is, other values as JSON; nested objects also as `a.b`.
    static func flatten(_ node: SourceNode, prefix: String, into vars: inout [String: String]) {
        for (key, value) in node.pairs ?? [] {
            let name = prefix.isEmpty ? key : "\(prefix).\(key)"
            vars[name] = value.varText
            if value.pairs != nil { flatten(value, prefix: name, into: &vars) }
        }
    }
}
