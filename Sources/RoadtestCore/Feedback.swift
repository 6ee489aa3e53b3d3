import Foundation

/// A person's verdict on one output: a gateway request or a run's trial.
public struct Feedback: Sendable, Hashable, Codable {
    /// `request:ID` (a gateway request) or `trial:RUN/CANDIDATE/CASE/SAMPLE/VARIANT` (a run's trial).
    public var subject: String
    /// As given: `up`, `down`, or 1-5.
    public var rating: String
    /// 0 (bad) to 1 (good): up 1, down 0, n stars (n - 1) / 4.
    public var score: Double
    /// The correct answer, when the person wrote one.
    public var correction: String?
    public var comment: String?
    /// Seconds since 1970.
    public var createdAt: Double
    /// `api` (POST /v1/feedback) or `review` (the review page).
    public var source: String

    public init(
        subject: String,
        rating: String,
        score: Double,
        correction: String? = nil,
        comment: String? = nil,
        createdAt: Double = Date().timeIntervalSince1970,
        source: String
    ) {
        self.subject = subject
        self.rating = rating
        self.score = score
        self.correction = correction
        self.comment = comment
        self.createdAt = createdAt
        self.source = source
    }

    /// The score of a rating (`up`, `down`, `good`, `bad`, or 1-5), or nil when it is none of these.
    public static func score(of rating: JSONValue) -> (text: String, score: Double)? {
        switch rating {
        case .string(let text):
            switch text.lowercased() {
            case "up", "good": return ("up", 1)
            case "down", "bad": return ("down", 0)
            default:
                guard let stars = Int(text), (1...5).contains(stars) else { return nil }
                return (text, Double(stars - 1) / 4)
            }
        case .number(let value):
            guard value.rounded() == value, (1...5).contains(value) else { return nil }
            return (String(Int(value)), (value - 1) / 4)
        default:
            return nil
        }
    }

    public var isGood: Bool { score >= 0.5 }
}

/// What a person judged: the input and output of a gateway request or a run's trial.
public struct FeedbackSubject: Sendable, Hashable, Codable {
    public var subject: String
    /// The route (gateway) or the candidate (trial), used as a tag of exported cases.
    public var tag: String
    public var system: String?
    public var input: String
    public var output: String
    public var receivedAt: Double

    public init(subject: String, tag: String, system: String?, input: String, output: String, receivedAt: Double) {
        self.subject = subject
        self.tag = tag
        self.system = system
        self.input = input
        self.output = output
        self.receivedAt = receivedAt
    }
}

/// Feedback -> suite cases: the benchmark that updates from real usage. Pure.
public enum FeedbackExport {
    /// One case per judged subject (its latest feedback wins), as a JSONL line's object; subjects without a stored
    /// input are skipped (and counted).
    public static func cases(
        feedback: [Feedback],
        subjects: [String: FeedbackSubject]
    ) -> (cases: [JSONValue], skipped: Int) {
        var latest: [String: Feedback] = [:]
        for item in feedback where (latest[item.subject]?.createdAt ?? -1) <= item.createdAt {
            latest[item.subject] = item
        }
        var cases: [JSONValue] = []
        var skipped = 0
        for key in latest.keys.sorted() {
            let item = latest[key]!
            guard let subject = subjects[key], !subject.input.isEmpty else {
                skipped += 1
                continue
            }
            var object: [String: JSONValue] = [
                "id": .string("feedback-" + String(format: "%08x", UInt32(truncatingIfNeeded: FNV.hash(key)))),
                "prompt": .string(subject.input),
                "tags": .array([.string("feedback"), .string(subject.tag)]),
                "description": .string("from \(key), rated \(item.rating)" + (item.comment.map { ": \($0)" } ?? "")),
            ]
            if let system = subject.system, !system.isEmpty { object["system"] = .string(system) }
            let expected = item.correction ?? (item.isGood ? subject.output : nil)
            if let expected, !expected.isEmpty {
                object["checks"] = .array([check(expecting: expected)])
            } else {
                // A bad answer and no correction: the case fails if the model says the same again.
                object["checks"] = .array([
                    .object(["not-equals": .string(subject.output.trimmingCharacters(in: .whitespacesAndNewlines))])
                ])
            }
            cases.append(.object(object))
        }
        return (cases, skipped)
    }

    /// A short expected answer must appear in the output; a longer one must mean the same (embeddings).
    static func check(expecting expected: String) -> JSONValue {
        let text = expected.trimmingCharacters(in: .whitespacesAndNewlines)
        let words = text.split(whereSeparator: \.isWhitespace).count
        return words <= 6 ? .object(["icontains": .string(text)]) : .object(["similar": .string(text)])
    }
}
