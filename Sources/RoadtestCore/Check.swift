import Foundation

/// What a check tests. Argument shapes follow the suite contract in DESIGN.md.
public enum CheckKind: Sendable, Hashable, Codable {
    case equals(String)
    case contains(String)
    case icontains(String)
    case containsAny([String], caseInsensitive: Bool)
    case containsAll([String], caseInsensitive: Bool)
    case startsWith(String)
    case regex(String)
    case isJSON(schema: JSONValue?)
    case jsonPath(path: String, expected: JSONValue?)
    case number(value: Double, tolerance: Double)
    case maxLength(Int)
    case wordCount(min: Int?, max: Int?)
    /// End-to-end latency of the successful attempt at most this many seconds.
    case latency(maxSeconds: Double)
    /// Cost of the whole task (every attempt and judge call) at most this many USD.
    case cost(maxUSD: Double)
    /// A rubric graded by a judge candidate.
    case judge(rubric: String, judge: String?)
    /// An external program grades: output on stdin, exit 0 passes, optional JSON `{"score": x}` on stdout.
    case command([String])
    /// Cosine similarity of the output's and `expected`'s embeddings at least `threshold` (the score is the
    /// similarity); `embeddings` names the embeddings candidate (default: the suite's first).
    case similar(expected: String, threshold: Double, embeddings: String?)
    /// The output asks a clarifying question (deterministic detector; `confirm` names a judge to confirm it).
    case clarifies(confirm: String?)
    /// The output declines or admits it does not know (`refuses`); `abstains` is the same detector.
    case refuses(confirm: String?)
    case abstains(confirm: String?)
    /// The model called the tool `name` at least once; with `args`, with these argument values (a subset match);
    /// with `schema`, with arguments valid under this JSON Schema.
    case callsTool(name: String, args: [String: JSONValue]?, schema: JSONValue?)
    /// The tools were called in this order (other calls may come between).
    case toolSequence([String])
    /// At most this many tool calls in the whole conversation.
    case maxToolCalls(Int)

    /// The check's name as written in a suite, without `not-`.
    public var name: String {
        switch self {
        case .equals: return "equals"
        case .contains: return "contains"
        case .icontains: return "icontains"
        case .containsAny(_, let ci): return ci ? "icontains-any" : "contains-any"
        case .containsAll(_, let ci): return ci ? "icontains-all" : "contains-all"
        case .startsWith: return "starts-with"
        case .regex: return "regex"
        case .isJSON: return "is-json"
        case .jsonPath: return "json-path"
        case .number: return "number"
        case .maxLength: return "max-length"
        case .wordCount: return "word-count"
        case .latency: return "latency"
        case .cost: return "cost"
        case .judge: return "judge"
        case .command: return "command"
        case .similar: return "similar"
        case .clarifies: return "clarifies"
        case .refuses: return "refuses"
        case .abstains: return "abstains"
        case .callsTool: return "calls-tool"
        case .toolSequence: return "tool-sequence"
        case .maxToolCalls: return "max-tool-calls"
        }
    }

    /// Every check name a suite may use (each also with a `not-` prefix).
    public static let names = [
        "equals", "contains", "icontains", "contains-any", "icontains-any", "contains-all", "icontains-all",
        "starts-with", "regex", "is-json", "json-path", "number", "max-length", "word-count", "latency", "cost",
        "judge", "command", "similar", "clarifies", "refuses", "abstains", "calls-tool", "tool-sequence",
        "max-tool-calls",
    ]
}

/// A check with its modifiers.
public struct Check: Sendable, Hashable, Codable {
    public var kind: CheckKind
    /// `not-` prefix: passes when the underlying check fails.
    public var isNegated: Bool
    public var weight: Double
    /// A hard constraint (format, length, forbidden content) reported separately.
    public var isConstraint: Bool

    public init(kind: CheckKind, isNegated: Bool = false, weight: Double = 1, isConstraint: Bool = false) {
        self.kind = kind
        self.isNegated = isNegated
        self.weight = weight
        self.isConstraint = isConstraint
    }

    /// The name as written, with `not-` when negated.
    public var name: String { (isNegated ? "not-" : "") + kind.name }
}

/// The verdict of one check on one output.
public struct CheckResult: Sendable, Hashable, Codable {
    public var check: String
    public var passed: Bool
    public var score: Double
    public var weight: Double
    public var reason: String
    public var isConstraint: Bool

    public init(check: String, passed: Bool, score: Double, weight: Double, reason: String, isConstraint: Bool = false)
    {
        self.check = check
        self.passed = passed
        self.score = score
        self.weight = weight
        self.reason = reason
        self.isConstraint = isConstraint
    }
}

extension CheckResult {
    /// A trial's check results as JSON, written in one pass (`JSONWriter`): the bytes Foundation's `JSONEncoder`
    /// writes for `[CheckResult]` with `.sortedKeys` and `.withoutEscapingSlashes`, without the Codable machinery (every stored trial
    /// carries them; a test holds both to the same bytes).
    public static func json(_ checks: [CheckResult]) -> String {
        var writer = JSONWriter(capacity: 96 * max(1, checks.count))
        writer.raw("[")
        for (position, check) in checks.enumerated() {
            if position > 0 { writer.raw(",") }
            writer.raw("{\"check\":")
            writer.string(check.check)
            writer.raw(check.isConstraint ? ",\"isConstraint\":true" : ",\"isConstraint\":false")
            writer.raw(check.passed ? ",\"passed\":true,\"reason\":" : ",\"passed\":false,\"reason\":")
            writer.string(check.reason)
            writer.raw(",\"score\":")
            writer.number(check.score)
            writer.raw(",\"weight\":")
            writer.number(check.weight)
            writer.raw("}")
        }
        writer.raw("]")
        return String(decoding: writer.bytes, as: UTF8.self)
    }

    /// Check results read back from `json(_:)` (or any JSON `JSONEncoder` wrote for them) with the one-pass
    /// parser; anything else goes to the Codable decoder, which decides.
    public static func decode(json text: String) throws -> [CheckResult] {
        if let elements = JSONValue.parse(text)?.arrayValue {
            var checks: [CheckResult] = []
            checks.reserveCapacity(elements.count)
            for element in elements {
                guard case .object(let members) = element, members.count == 6,
                    let check = members["check"]?.stringValue,
                    case .bool(let passed)? = members["passed"],
                    let score = members["score"]?.doubleValue,
                    let weight = members["weight"]?.doubleValue,
                    let reason = members["reason"]?.stringValue,
                    case .bool(let isConstraint)? = members["isConstraint"]
                else { return try JSONDecoder().decode([CheckResult].self, from: Data(text.utf8)) }
                checks.append(
                    CheckResult(
                        check: check,
                        passed: passed,
                        score: score,
                        weight: weight,
                        reason: reason,
                        isConstraint: isConstraint
                    )
                )
            }
            return checks
        }
        return try JSONDecoder().decode([CheckResult].self, from: Data(text.utf8))
    }
}
