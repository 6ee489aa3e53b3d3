import Foundation
import RoadtestCore

/// Converts an Inspect AI dataset (JSONL or CSV samples with `input`, `target`, `choices`, `id`, `metadata`) into a
/// Roadtest suite, one case per sample.
///
/// ```swift
/// let suite = try InspectImporter().convert(datasetAt: "dataset.jsonl")
/// ```
///
/// A dataset names no scorer (that is the task's Python code), so the checks follow Inspect's usual pairing: a
/// sample with `choices` is asked as Inspect's `multiple_choice()` solver asks it (lettered options, `ANSWER: $LETTER`)
/// and checked for the target letter; any other target is checked with `icontains` (Inspect's `includes()` scorer),
/// any of several targets with `icontains-any`.
public struct InspectImporter: Sendable {
    /// The candidate's model (the dataset names none).
    public var model: String?

    public init(model: String? = nil) { self.model = model }

    public func convert(datasetAt path: String) throws -> ImportedSuite {
        let samples: [SourceNode]
        switch (path as NSString).pathExtension.lowercased() {
        case "csv": samples = try SourceReader.csvRows(path)
        case "jsonl": samples = try SourceReader.jsonLines(path)
        case "json":
            let document = try SourceReader.document(path)
            samples = document.items ?? [document]
        default:
            throw RoadtestError(
                .invalidArgument,
                "cannot read an Inspect dataset from \(path)",
                hint: "Inspect datasets are .jsonl, .json or .csv files",
                location: SourceLocation(file: path, line: 1)
            )
        }
        let stem = ((path as NSString).lastPathComponent as NSString).deletingPathExtension
        var suite = ImportedSuite(source: "Inspect dataset \(path)", name: Identifier.slug(stem, fallback: "inspect"))
        suite.candidates = [
            [
                YAMLEntry("id", .string("model")), YAMLEntry("provider", .string("openai")),
                YAMLEntry("model", .string(model ?? "gpt-4o-mini")),
                YAMLEntry("api_key_env", .string("OPENAI_API_KEY")),
            ]
        ]
        if model == nil {
            suite.candidateNotes.append("The dataset names no model: 'model' is a placeholder (gpt-4o-mini); edit it.")
        }
        var taken: Set<String> = []
        for (index, sample) in samples.enumerated() {
            let here = SourceLocation(file: path, line: sample.line)
            guard let input = sample["input"] else {
                throw RoadtestError(.invalidArgument, "a sample needs an 'input'", location: here)
            }
            let id = sample["id"].map(\.varText).map { Identifier.slug($0, fallback: "sample-\(index + 1)") }
            var testCase = ImportedCase(id: Identifier.unique(id ?? "sample-\(index + 1)", in: &taken))
            func skip(_ type: String, _ detail: String) {
                suite.findings.append(ImportFinding(.notCarried, type: type, at: here, "\(testCase.id): \(detail)"))
                testCase.notes.append("not carried: \(type): \(detail)")
            }
            // The input: text, or chat messages (text parts only).
            var messages: [(role: String, content: String)] = []
            if let items = input.items {
                for message in items {
                    let role = message["role"]?.string ?? "user"
                    guard ["system", "user", "assistant"].contains(role) else {
                        skip(
                            "message \(role)",
                            "a \(role) message (Roadtest cases hold system, user and assistant turns)"
                        )
                        continue
                    }
                    var text = message["content"]?.string
                    if let parts = message["content"]?.items {
                        let texts = parts.compactMap { $0["type"]?.string == "text" ? $0["text"]?.string : nil }
                        if texts.count < parts.count { skip("content", "non-text content parts (images, audio...)") }
                        text = texts.joined(separator: "\n")
                    }
                    messages.append((role, text ?? ""))
                }
            } else if let text = input.string, text.hasPrefix("["),
                let parsed = try? SourceReader.parse(text, file: path),
                let list = parsed.items, list.allSatisfy({ $0["role"] != nil })
            {
                messages = list.map { ($0["role"]?.string ?? "user", $0["content"]?.varText ?? "") }
            } else {
                messages = [("user", input.varText)]
            }
            // The choices, as Inspect's multiple_choice() template asks them.
            let choices = Self.list(sample["choices"])
            let targets = Self.list(sample["target"])
            if !choices.isEmpty, let last = messages.lastIndex(where: { $0.role == "user" }) {
                let letters = choices.indices.map { String(Character(UnicodeScalar(UInt8(65 + $0 % 26)))) }
                let options = zip(letters, choices).map { "\($0)) \($1)" }.joined(separator: "\n")
                messages[last].content =
                    "Answer the following multiple choice question. The entire content of your response should be "
                    + "of the following format: 'ANSWER: $LETTER' (without quotes) where LETTER is one of "
                    + letters.joined(separator: ",") + ".\n\n" + messages[last].content + "\n\n" + options
                for target in targets {
                    let letter: String? =
                        letters.contains(target.uppercased()) && target.count == 1
                        ? target.uppercased() : choices.firstIndex(of: target).map { letters[$0] }
                    guard let letter else {
                        skip("target", "target '\(target)' is neither a choice letter nor a choice")
                        continue
                    }
                    testCase.checks.append(ImportedCheck("regex", .string("(?i)ANSWER\\s*:\\s*\\(?\(letter)\\b")))
                }
            } else if targets.count == 1 {
                testCase.checks.append(ImportedCheck("icontains", .string(targets[0])))
            } else if targets.count > 1 {
                testCase.checks.append(ImportedCheck("icontains-any", .list(targets.map(YAMLValue.string))))
            }
            guard messages.contains(where: { $0.role == "user" }) else {
                skip("input", "no user message to send; the sample is left out")
                continue
            }
            if messages.count == 1, messages[0].role == "user" {
                testCase.prompt = messages[0].content
            } else {
                testCase.messages = messages
            }
            // Metadata: every field a var, short text values also tags.
            var metadata: [(key: String, value: SourceNode)] = sample["metadata"]?.pairs ?? []
            if sample["metadata"]?.pairs == nil, let text = sample["metadata"]?.string,
                let parsed = try? SourceReader.parse(text, file: path)
            {
                metadata = parsed.pairs ?? []
            }
            let standard = ["input", "target", "choices", "id", "metadata", "sandbox", "files", "setup"]
            for (key, value) in sample.pairs ?? [] where !standard.contains(key) { metadata.append((key, value)) }
            for (key, value) in metadata {
                testCase.vars[key] = value.varText
                if value.string != nil, value.varText.count <= 40, !value.varText.isEmpty {
                    testCase.tags.append("\(key):\(value.varText)")
                }
            }
            for key in ["sandbox", "files", "setup"] where sample[key] != nil {
                skip("field \(key)", "Inspect's '\(key)' (a sandbox for tools) has no counterpart in a case")
            }
            if testCase.checks.isEmpty, targets.isEmpty {
                testCase.notes.append("no target: the case has no checks")
            }
            // A template-like input is sent as written: vars would fill {{name}} in it.
            let referenced =
                ([testCase.prompt ?? ""] + (testCase.messages ?? []).map(\.content)).flatMap(Templates.references)
                + testCase.checks.flatMap(\.argument.templateReferences)
            if !referenced.isEmpty {
                suite.findings.append(
                    ImportFinding(
                        .approximated,
                        type: "braces",
                        at: here,
                        "\(testCase.id): the input contains {{...}}, which Roadtest reads as a template variable"
                    )
                )
                for name in referenced where testCase.vars[name] == nil { testCase.vars[name] = "{{\(name)}}" }
            }
            suite.cases.append(testCase)
        }
        if suite.cases.isEmpty {
            throw RoadtestError(
                .invalidArgument,
                "the dataset has no samples",
                location: SourceLocation(file: path, line: 1)
            )
        }
        return suite
    }

    /// A target or choices value: a list, one text, or (in a CSV cell) a JSON list.
    static func list(_ node: SourceNode?) -> [String] {
        guard let node else { return [] }
        if let items = node.items { return items.map(\.varText) }
        guard let text = node.string, !text.isEmpty else { return [] }
        if text.hasPrefix("["), let parsed = try? SourceReader.parse(text, file: "cell"), let items = parsed.items {
            return items.map(\.varText)
        }
        return [text]
    }
}
