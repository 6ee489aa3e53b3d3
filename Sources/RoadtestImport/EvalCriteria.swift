import Foundation
import RoadtestCore

/// An OpenAI eval's `testing_criteria` as Roadtest checks (the same for every item) and judge candidates.
struct EvalCriteria {
    let file: String
    var checks: [ImportedCheck] = []
    var findings: [ImportFinding] = []
    var judgeCandidates: [[YAMLEntry]] = []
    var judges: [String: String] = [:]
    var needsEmbeddings = false

    init(file: String) { self.file = file }

    mutating func skip(_ type: String, _ node: SourceNode, _ reason: String) {
        findings.append(ImportFinding(.notCarried, type: type, at: SourceLocation(file: file, line: node.line), reason))
    }

    mutating func approximate(_ type: String, _ node: SourceNode, _ note: String) {
        findings.append(ImportFinding(.approximated, type: type, at: SourceLocation(file: file, line: node.line), note))
    }

    mutating func convert(_ criterion: SourceNode) {
        let type = criterion["type"]?.string ?? ""
        let name = criterion["name"]?.string.map { " '\($0)'" } ?? ""
        switch type {
        case "string_check":
            let operation = criterion["operation"]?.string ?? ""
            let input = criterion["input"]?.string
            let reference = criterion["reference"]?.string
            let expected: String?
            if EvalTemplate.isSample(input) {
                expected = reference
            } else if EvalTemplate.isSample(reference), ["eq", "ne"].contains(operation) {
                expected = input
            } else {
                skip(type, criterion, "string_check\(name) does not compare {{sample.output_text}} with an item value")
                return
            }
            let converted = EvalTemplate.convert(expected ?? "")
            guard expected != nil, !converted.usesSample, converted.unsupported.isEmpty else {
                skip(type, criterion, "string_check\(name) compares with something other than item fields")
                return
            }
            let checkName: String
            switch operation {
            case "eq": checkName = "equals"
            case "ne": checkName = "not-equals"
            case "like": checkName = "contains"
            case "ilike": checkName = "icontains"
            default:
                skip(type, criterion, "string_check\(name): unknown operation '\(operation)'")
                return
            }
            checks.append(ImportedCheck(checkName, .string(converted.text)))
        case "text_similarity":
            let metric = criterion["evaluation_metric"]?.string ?? ""
            guard metric == "cosine" else {
                skip(
                    "text_similarity (\(metric))",
                    criterion,
                    "text_similarity\(name): Roadtest has no \(metric) score; 'similar' compares embeddings (cosine)"
                )
                return
            }
            let converted = EvalTemplate.convert(criterion["reference"]?.string ?? "")
            guard EvalTemplate.isSample(criterion["input"]?.string), criterion["reference"]?.string != nil,
                !converted.usesSample, converted.unsupported.isEmpty
            else {
                skip(
                    type,
                    criterion,
                    "text_similarity\(name) does not compare {{sample.output_text}} with an item value"
                )
                return
            }
            needsEmbeddings = true
            let threshold = criterion["pass_threshold"]?.double ?? 0.85
            approximate(
                "text_similarity (cosine)",
                criterion,
                "cosine similarity of OpenAI text-embedding-3-large embeddings, as the 'embeddings' candidate computes it"
            )
            checks.append(
                ImportedCheck("similar", .string(converted.text), options: [YAMLEntry("threshold", .number(threshold))])
            )
        case "label_model", "score_model":
            guard let model = criterion["model"]?.string, let input = criterion["input"]?.items else {
                skip(type, criterion, "\(type)\(name) names no model or input")
                return
            }
            var instructions: [String] = []
            for message in input {
                let text = message["content"]?.string ?? message["content"]?["text"]?.string ?? ""
                let converted = EvalTemplate.convert(text)
                if !converted.unsupported.isEmpty {
                    skip(type, criterion, "\(type)\(name) uses \(converted.unsupported.joined(separator: ", "))")
                    return
                }
                instructions.append("\(message["role"]?.string ?? "user"): \(converted.text)")
            }
            var rubric: String
            if type == "label_model" {
                let labels = criterion["labels"]?.items?.compactMap(\.string) ?? []
                let passing = criterion["passing_labels"]?.items?.compactMap(\.string) ?? []
                rubric =
                    "Label the answer with one of: \(labels.joined(separator: ", ")). It passes when the label is one "
                    + "of: \(passing.joined(separator: ", "))."
            } else {
                let range = criterion["range"]?.items?.compactMap(\.double) ?? [0, 1]
                let threshold = criterion["pass_threshold"]?.double
                rubric =
                    "Score the answer from \(SuiteWriter.format(range.first ?? 0)) to \(SuiteWriter.format(range.last ?? 1))."
                    + (threshold.map { " It passes with a score of at least \(SuiteWriter.format($0))." } ?? "")
            }
            rubric += " Grader instructions:\n" + instructions.joined(separator: "\n")
            let judge = judgeID(model: model)
            approximate(
                type,
                criterion,
                "\(type)\(name) carried as a judge check with its instructions; the judge answers pass/fail and a "
                    + "score in Roadtest's format"
            )
            let argument: YAMLValue =
                judge == "judge"
                ? .string(rubric) : .map([YAMLEntry("rubric", .string(rubric)), YAMLEntry("judge", .string(judge))])
            checks.append(ImportedCheck("judge", argument))
        case "python", "multi", "endpoint":
            skip(type, criterion, "\(type)\(name): a grader Roadtest cannot run (a 'command' check can run a program)")
        default:
            skip(type.isEmpty ? "grader" : type, criterion, "unknown grader type\(name)")
        }
    }

    /// The judge candidate grading with `model`, added the first time.
    mutating func judgeID(model: String) -> String {
        if let id = judges[model] { return id }
        let id = judges.isEmpty ? "judge" : "judge-\(Identifier.slug(model, fallback: "\(judges.count + 1)"))"
        judges[model] = id
        judgeCandidates.append([
            YAMLEntry("id", .string(id)), YAMLEntry("provider", .string("openai")), YAMLEntry("model", .string(model)),
            YAMLEntry("api_key_env", .string("OPENAI_API_KEY")), YAMLEntry("judge", .bool(true)),
        ])
        return id
    }
}
