import Foundation
import RoadtestCore

/// promptfoo's assertion vocabulary, as far as the importer knows it.
enum PromptfooAssertions {
    /// Types whose Roadtest check has the same name and a text or list argument.
    static let sameName: Set<String> = [
        "equals", "contains", "icontains", "contains-any", "contains-all", "icontains-any", "icontains-all",
        "starts-with", "regex",
    ]
    /// Types that take no value.
    static let valueless: Set<String> = ["is-json", "contains-json", "is-xml", "contains-xml", "is-sql", "is-refusal"]
    /// Every type the CSV shorthand recognises (`type: value`).
    static let known: Set<String> =
        sameName.union(valueless).union([
            "similar", "llm-rubric", "model-graded-closedqa", "latency", "cost", "javascript", "python", "webhook",
            "levenshtein", "rouge-n", "bleu", "gleu", "meteor", "classifier", "factuality", "model-graded-factuality",
            "answer-relevance", "context-recall", "context-relevance", "context-faithfulness", "perplexity",
            "perplexity-score", "select-best", "contains-sql", "is-valid-openai-function-call",
            "is-valid-openai-tools-call", "moderation", "g-eval", "finish-reason", "word-count", "trace-span-count",
        ])
}

/// What became of one assertion.
enum AssertionResult {
    /// Written as this check; `note` says how it differs, when it does.
    case carried(ImportedCheck, note: String?)
    case notCarried(type: String, reason: String)
}

extension PromptfooConversion {
    /// Converts one `assert` entry, recording a finding for anything not carried exactly.
    mutating func convertAssertion(_ node: SourceNode, in assertFile: String) -> AssertionResult {
        let here = location(node, in: assertFile)
        func skip(_ type: String, _ reason: String) -> AssertionResult {
            suite.findings.append(ImportFinding(.notCarried, type: type, at: here, reason))
            return .notCarried(type: type, reason: reason)
        }
        func approximate(_ check: ImportedCheck, _ type: String, _ note: String) -> AssertionResult {
            suite.findings.append(ImportFinding(.approximated, type: type, at: here, note))
            return .carried(check, note: "approximated: \(type) (\(here)): \(note)")
        }
        guard let written = node["type"]?.string else {
            return skip("assertion", "an assertion needs a 'type'")
        }
        let isNegated = written.hasPrefix("not-")
        let type = isNegated ? String(written.dropFirst(4)) : written
        let value = node["value"]
        if node["transform"] != nil {
            return skip(written, "its 'transform' is code; the check would grade another text")
        }
        var options: [YAMLEntry] = []
        if let weight = node["weight"]?.double, weight != 1 {
            guard weight >= 0 else { return skip(written, "its weight \(SuiteWriter.format(weight)) is below 0") }
            options.append(YAMLEntry("weight", .number(weight)))
        }
        func check(_ name: String, _ argument: YAMLValue) -> ImportedCheck {
            ImportedCheck((isNegated ? "not-" : "") + name, argument, options: options)
        }
        switch type {
        case "equals", "contains", "icontains", "starts-with":
            guard let value else { return skip(written, "it has no 'value'") }
            if let text = value.string {
                return .carried(check(type, .string(text)), note: nil)
            }
            guard type == "equals" else { return skip(written, "its value is not text") }
            return approximate(
                check("equals", .string(value.json.jsonText)),
                written,
                "an object compared as its compact JSON text, not as parsed JSON"
            )
        case "contains-any", "contains-all", "icontains-any", "icontains-all":
            let items: [String]
            if let list = value?.items {
                items = list.compactMap(\.string)
            } else if let text = value?.string {
                items = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            } else {
                items = []
            }
            guard !items.isEmpty else { return skip(written, "it needs a list of text") }
            return .carried(check(type, .list(items.map(YAMLValue.string))), note: nil)
        case "regex":
            guard let pattern = value?.string else { return skip(written, "it has no pattern") }
            guard (try? NSRegularExpression(pattern: pattern)) != nil else {
                return skip(written, "the pattern is not a regular expression Roadtest can read")
            }
            return .carried(check("regex", .string(pattern)), note: nil)
        case "is-json", "contains-json":
            var schema = YAMLValue.bool(true)
            if let value {
                if let text = value.string {
                    let resolved =
                        text.hasPrefix("file://")
                        ? (try? SourceReader.document(SourceReader.resolve(String(text.dropFirst(7)), from: assertFile)))
                        : (try? SourceReader.parse(text, file: assertFile))
                    guard let parsed = resolved, parsed.pairs != nil else {
                        return skip(written, "its schema could not be read")
                    }
                    schema = YAMLValue(json: parsed.json)
                } else if value.pairs != nil {
                    schema = YAMLValue(json: value.json)
                }
            }
            if type == "contains-json" {
                return approximate(
                    check("is-json", schema),
                    written,
                    "carried as is-json, which is stricter: the whole output must be the JSON"
                )
            }
            return .carried(check("is-json", schema), note: nil)
        case "similar", "similar:cosine":
            guard let expected = value?.string else {
                return skip(written, "it needs one expected text (Roadtest's 'similar' has no any-of list)")
            }
            let threshold = node["threshold"]?.double ?? 0.75
            needsEmbeddings = true
            var similar = check("similar", .string(expected))
            similar.options.insert(YAMLEntry("threshold", .number(threshold)), at: 0)
            return .carried(similar, note: nil)
        case "llm-rubric", "model-graded-closedqa":
            guard var rubric = value?.string else { return skip(written, "it needs a rubric") }
            if rubric.hasPrefix("file://") {
                let path = SourceReader.resolve(String(rubric.dropFirst(7)), from: assertFile)
                guard let text = try? SourceReader.text(path) else { return skip(written, "cannot read \(path)") }
                rubric = text.trimmingCharacters(in: .whitespacesAndNewlines)
            }
            if type == "model-graded-closedqa" { rubric = "The answer meets this criterion: \(rubric)" }
            let judge = judgeID(for: node["provider"] ?? defaultGrader)
            let argument: YAMLValue =
                judge == "judge"
                ? .string(rubric) : .map([YAMLEntry("rubric", .string(rubric)), YAMLEntry("judge", .string(judge))])
            let carried = check("judge", argument)
            if node["threshold"] != nil {
                return approximate(carried, written, "its score threshold is left to the judge's pass/fail")
            }
            return .carried(carried, note: nil)
        case "latency":
            guard let milliseconds = node["threshold"]?.double, milliseconds >= 0 else {
                return skip(written, "it needs a 'threshold' in milliseconds")
            }
            return .carried(check("latency", .string("\(SuiteWriter.format(milliseconds))ms")), note: nil)
        case "cost":
            guard let dollars = node["threshold"]?.double, dollars >= 0 else {
                return skip(written, "it needs a 'threshold' in dollars")
            }
            return .carried(check("cost", .number(dollars)), note: nil)
        case "assert-set":
            return skip(written, "assertion sets (\(node["assert"]?.items?.count ?? 0) assertions) are not carried")
        case "javascript", "python", "webhook":
            return skip(written, "it is code Roadtest does not run (a 'command' check can run a program)")
        default:
            return skip(written, "Roadtest has no check of this type")
        }
    }

    /// The judge candidate for a grader (`provider` on the assertion, else `defaultTest.options.provider`, else
    /// promptfoo's default OpenAI grader), added the first time it is named.
    mutating func judgeID(for grader: SourceNode?) -> String {
        let key = grader.map { ($0.string ?? $0["id"]?.string) ?? $0.json.jsonText } ?? ""
        if let id = judges[key] { return id }
        var entries: [YAMLEntry]
        if let grader, let built = candidate(from: grader, isJudge: true) {
            entries = built
        } else {
            entries = [
                YAMLEntry("id", .string("judge")), YAMLEntry("provider", .string("openai")),
                YAMLEntry("model", .string("gpt-5")), YAMLEntry("api_key_env", .string("OPENAI_API_KEY")),
            ]
            suite.candidateNotes.append(
                "'judge' grades llm-rubric and model-graded-closedqa: promptfoo's default grader with an OpenAI key."
            )
        }
        let base = judges.isEmpty ? "judge" : "judge-\(judges.count + 1)"
        let id = Identifier.unique(base, in: &takenCandidateIDs)
        entries[0] = YAMLEntry("id", .string(id))
        entries.append(YAMLEntry("judge", .bool(true)))
        judges[key] = id
        judgeCandidates.append(entries)
        return id
    }
}
