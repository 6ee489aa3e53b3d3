import Foundation

/// Grades output with the deterministic checks. `judge` and `command` need I/O and are graded by the runner.
public enum CheckEvaluator {
    /// What a check can look at besides the output.
    public struct Context: Sendable {
        public var endToEnd: Double?
        public var costUSD: Double
        /// The user input sent, so the recovery detectors ignore an output that merely repeats it.
        public var input: String?
        /// Every tool call of the conversation, in order (empty when the model called none).
        public var toolCalls: [ToolCall]

        public init(endToEnd: Double?, costUSD: Double, input: String? = nil, toolCalls: [ToolCall] = []) {
            self.endToEnd = endToEnd
            self.costUSD = costUSD
            self.input = input
            self.toolCalls = toolCalls
        }
    }

    /// The raw verdict (before `not-`) and a reason; nil for checks the runner grades (`judge`, `command`).
    public static func evaluate(
        _ kind: CheckKind,
        output: String,
        context: Context
    ) -> (passed: Bool, score: Double, reason: String)? {
        func verdict(_ passed: Bool, _ reason: String) -> (Bool, Double, String) { (passed, passed ? 1 : 0, reason) }
        switch kind {
        case .equals(let expected):
            let actual = output.trimmingCharacters(in: .whitespacesAndNewlines)
            return verdict(
                actual == expected,
                actual == expected ? "output equals \(quoted(expected))" : "output is not \(quoted(expected))"
            )
        case .contains(let needle):
            let found = output.contains(needle)
            return verdict(found, found ? "contains \(quoted(needle))" : "does not contain \(quoted(needle))")
        case .icontains(let needle):
            let found = output.range(of: needle, options: .caseInsensitive) != nil
            return verdict(
                found,
                found ? "contains \(quoted(needle)) (any case)" : "does not contain \(quoted(needle)) (any case)"
            )
        case .containsAny(let needles, let caseInsensitive):
            let hit = needles.first { contains(output, $0, caseInsensitive: caseInsensitive) }
            return verdict(hit != nil, hit.map { "contains \(quoted($0))" } ?? "contains none of \(list(needles))")
        case .containsAll(let needles, let caseInsensitive):
            let missing = needles.filter { !contains(output, $0, caseInsensitive: caseInsensitive) }
            return verdict(
                missing.isEmpty,
                missing.isEmpty ? "contains all of \(list(needles))" : "missing \(list(missing))"
            )
        case .startsWith(let prefix):
            let actual = output.trimmingCharacters(in: .whitespacesAndNewlines)
            return verdict(
                actual.hasPrefix(prefix),
                actual.hasPrefix(prefix) ? "starts with \(quoted(prefix))" : "does not start with \(quoted(prefix))"
            )
        case .regex(let pattern):
            guard let regex = RegexCache.regex(pattern) else {
                return verdict(false, "invalid regular expression \(quoted(pattern))")
            }
            let range = NSRange(output.startIndex..., in: output)
            let matched = regex.firstMatch(in: output, range: range) != nil
            return verdict(matched, matched ? "matches /\(pattern)/" : "does not match /\(pattern)/")
        case .isJSON(let schema):
            guard let value = JSONValue.parse(output.trimmingCharacters(in: .whitespacesAndNewlines)) else {
                return verdict(false, "output is not valid JSON")
            }
            guard let schema else { return verdict(true, "output is valid JSON") }
            let problems = JSONSchemaValidator.validate(value, against: schema)
            return verdict(
                problems.isEmpty,
                problems.isEmpty ? "valid JSON matching the schema" : problems.prefix(3).joined(separator: "; ")
            )
        case .jsonPath(let path, let expected):
            guard let value = JSONValue.parse(output.trimmingCharacters(in: .whitespacesAndNewlines)) else {
                return verdict(false, "output is not valid JSON")
            }
            guard let selector = JSONPath(path) else { return verdict(false, "invalid JSON path \(quoted(path))") }
            let matches = selector.select(in: value)
            guard let expected else {
                return verdict(!matches.isEmpty, matches.isEmpty ? "\(path) not found" : "\(path) exists")
            }
            let hit = matches.contains { loosely($0, equals: expected) }
            let actual = matches.first.map(\.jsonText) ?? "nothing"
            return verdict(
                hit,
                hit ? "\(path) = \(expected.jsonText)" : "\(path) is \(actual), expected \(expected.jsonText)"
            )
        case .number(let expected, let tolerance):
            guard let actual = firstNumber(in: output) else { return verdict(false, "no number in the output") }
            let ok = abs(actual - expected) <= tolerance + 1e-12
            return verdict(ok, "found \(format(actual)), expected \(format(expected)) ± \(format(tolerance))")
        case .maxLength(let limit):
            let length = output.count
            return verdict(length <= limit, "\(length) characters (limit \(limit))")
        case .wordCount(let minimum, let maximum):
            let words = output.split(whereSeparator: { $0.isWhitespace }).count
            let ok = words >= (minimum ?? 0) && words <= (maximum ?? Int.max)
            let range =
                minimum == maximum
                ? "\(minimum ?? 0)" : "\(minimum.map(String.init) ?? "0")–\(maximum.map(String.init) ?? "∞")"
            return verdict(ok, "\(words) words (expected \(range))")
        case .latency(let maxSeconds):
            guard let e2e = context.endToEnd else { return verdict(false, "no successful response to time") }
            return verdict(
                e2e <= maxSeconds,
                "E2E \(DurationText.format(seconds: e2e)) (limit \(DurationText.format(seconds: maxSeconds)))"
            )
        case .cost(let maxUSD):
            return verdict(
                context.costUSD <= maxUSD + 1e-15,
                String(format: "cost $%.6f (limit $%.6f)", context.costUSD, maxUSD)
            )
        case .clarifies:
            let asked = RecoveryDetector.clarifies(output, input: context.input)
            return verdict(asked, asked ? "asks a clarifying question" : "does not ask a clarifying question")
        case .refuses, .abstains:
            let declined = RecoveryDetector.abstains(output, input: context.input)
            return verdict(
                declined,
                declined ? "declines or admits it does not know" : "answers without declining or admitting uncertainty"
            )
        case .callsTool(let name, let args, let schema):
            let calls = context.toolCalls.filter { $0.name == name }
            guard !calls.isEmpty else {
                let made = context.toolCalls.map(\.name)
                return verdict(
                    false,
                    "\(name) not called" + (made.isEmpty ? " (no tool calls)" : "; called \(list(made))")
                )
            }
            var problems: [String] = []
            for call in calls {
                let arguments = ToolCalls.arguments(call)
                if let args, let missing = args.first(where: { !ToolCalls.same(arguments[$0.key], $0.value) }) {
                    problems.append("\(name)(\(call.arguments)): \(missing.key) is not \(missing.value.jsonText)")
                    continue
                }
                if let schema {
                    guard let value = JSONValue.parse(Data(call.arguments.utf8)) else {
                        problems.append("\(name): arguments are not JSON")
                        continue
                    }
                    let errors = JSONSchemaValidator.validate(value, against: schema)
                    if !errors.isEmpty {
                        problems.append("\(name): " + errors.prefix(2).joined(separator: "; "))
                        continue
                    }
                }
                return verdict(true, "called \(name)(\(call.arguments))")
            }
            return verdict(false, problems.prefix(2).joined(separator: "; "))
        case .toolSequence(let names):
            let made = context.toolCalls.map(\.name)
            let ok = ToolCalls.containsSequence(made, names)
            return verdict(ok, (ok ? "called in order " : "expected in order \(list(names)); called ") + list(made))
        case .maxToolCalls(let limit):
            let count = context.toolCalls.count
            return verdict(count <= limit, "\(count) tool calls (limit \(limit))")
        case .judge, .command, .similar:
            return nil
        }
    }

    /// Combines check results into the case verdict: all must pass, or the weighted score must reach `threshold`.
    public static func verdict(of results: [CheckResult], threshold: Double?) -> (passed: Bool, score: Double) {
        guard !results.isEmpty else { return (true, 1) }
        let totalWeight = results.reduce(0) { $0 + $1.weight }
        let score = totalWeight > 0 ? results.reduce(0) { $0 + $1.weight * $1.score } / totalWeight : 0
        if let threshold { return (score >= threshold - 1e-12, score) }
        return (results.allSatisfy(\.passed), score)
    }

    /// Applies `not-`, weight and constraint marking to a raw verdict.
    public static func result(for check: Check, passed: Bool, score: Double, reason: String) -> CheckResult {
        if check.isNegated {
            return CheckResult(
                check: check.name,
                passed: !passed,
                score: 1 - score,
                weight: check.weight,
                reason: "not: " + reason,
                isConstraint: check.isConstraint
            )
        }
        return CheckResult(
            check: check.name,
            passed: passed,
            score: score,
            weight: check.weight,
            reason: reason,
            isConstraint: check.isConstraint
        )
    }

    // MARK: - Helpers

    static func contains(_ text: String, _ needle: String, caseInsensitive: Bool) -> Bool {
        caseInsensitive ? text.range(of: needle, options: .caseInsensitive) != nil : text.contains(needle)
    }

    static func quoted(_ text: String) -> String { JSONValue.quote(text) }

    static func list(_ items: [String]) -> String { "[" + items.map(quoted).joined(separator: ", ") + "]" }

    static func format(_ value: Double) -> String {
        value.rounded() == value && abs(value) < 1e15 ? String(Int(value)) : String(value)
    }

    /// The first number written in text (`-12`, `3.5`, `1,234.5`).
    public static func firstNumber(in text: String) -> Double? {
        guard let regex = RegexCache.regex(#"-?\d{1,3}(?:,\d{3})+(?:\.\d+)?|-?\d+(?:\.\d+)?"#),
            let match = regex.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)),
            let range = Range(match.range, in: text)
        else { return nil }
        return Double(text[range].replacingOccurrences(of: ",", with: ""))
    }

    /// Equality where numbers compare by value and a string expectation also matches its number or bool text.
    static func loosely(_ actual: JSONValue, equals expected: JSONValue) -> Bool {
        if actual == expected { return true }
        switch (actual, expected) {
        case (.number(let a), .number(let b)): return abs(a - b) < 1e-9
        case (.string(let a), .string(let b)): return a == b
        // A templated expectation arrives as text: "1250" matches the number 1250.
        case (.number(let a), .string(let b)):
            return Double(b.trimmingCharacters(in: .whitespaces)).map { abs($0 - a) < 1e-9 } ?? false
        case (.bool(let a), .string(let b)): return b.lowercased() == (a ? "true" : "false")
        default: return false
        }
    }
}
