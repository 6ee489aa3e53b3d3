import Foundation

/// A test-time sampling strategy on a candidate: `samples` answers per trial, one selected, graded as usual.
/// Cost counts every sample and verifier call; latency is the time until the selected answer exists.
public struct Strategy: Sendable, Hashable, Codable {
    public enum Selection: String, Sendable, Hashable, Codable, CaseIterable {
        /// The most frequent answer after normalisation (ties: the earliest sample).
        case majority
        /// The verifier scores every sample; the best is kept (ties: the earliest).
        case bestOf = "best-of"
        /// The first sample (in sample order) that passes the verifier check.
        case firstValid = "first-valid"
    }

    public var samples: Int
    public var select: Selection
    /// `best-of`: the check that scores each sample (a `judge` rubric or a `command` program, or any check);
    /// `first-valid`: the check a sample must pass (say `is-json`).
    public var verifier: Check?
    /// `majority`: group answers by meaning (embeddings, cosine at least `threshold`) instead of by normalised text.
    public var similar: Bool = false
    public var threshold: Double = 0.85
    /// The embeddings candidate for `similar` (default: the suite's first).
    public var embeddings: String?

    public init(samples: Int, select: Selection = .majority, verifier: Check? = nil) {
        self.samples = samples
        self.select = select
        self.verifier = verifier
    }

    enum CodingKeys: String, CodingKey {
        case samples, select, verifier, similar, threshold, embeddings
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        samples = try container.decode(Int.self, forKey: .samples)
        select = try container.decode(Selection.self, forKey: .select)
        verifier = try container.decodeIfPresent(Check.self, forKey: .verifier)
        similar = try container.decodeIfPresent(Bool.self, forKey: .similar) ?? false
        threshold = try container.decodeIfPresent(Double.self, forKey: .threshold) ?? 0.85
        embeddings = try container.decodeIfPresent(String.self, forKey: .embeddings)
    }

    /// How reports name it: `majority@5`.
    public var label: String { "\(select.rawValue)@\(samples)" }
}

/// Chooses one answer among a trial's samples. Pure.
public enum AnswerSelection {
    /// The text majority votes compare: lower-cased, whitespace collapsed, surrounding quotes and trailing
    /// punctuation removed.
    public static func normalised(_ text: String) -> String {
        var words = text.lowercased().split(whereSeparator: \.isWhitespace).joined(separator: " ")
        let strip: Set<Character> = [".", "!", "?", ",", ";", ":", "\"", "'", "`", "*"]
        while let last = words.last, strip.contains(last) { words.removeLast() }
        while let first = words.first, strip.contains(first) { words.removeFirst() }
        return words
    }

    /// The index of the majority answer among `answers` (nil entries are failed samples and do not vote): the
    /// largest group of equal `key`s, ties to the group whose first member comes first; its first member is
    /// returned.
    public static func majority<Key: Hashable>(_ keys: [Key?]) -> Int? {
        var counts: [Key: (count: Int, first: Int)] = [:]
        for (index, key) in keys.enumerated() {
            guard let key else { continue }
            counts[key, default: (0, index)].count += 1
        }
        return counts.values.max { a, b in a.count != b.count ? a.count < b.count : a.first > b.first }?.first
    }

    /// Groups answers by meaning: each answer joins the first group whose first member's vector is at least
    /// `threshold` similar (cosine), else starts a group. Returns a group number per answer (nil stays nil).
    public static func groups(_ vectors: [[Double]?], threshold: Double) -> [Int?] {
        var leaders: [[Double]] = []
        return vectors.map { vector in
            guard let vector else { return nil }
            if let index = leaders.firstIndex(where: { cosine($0, vector) >= threshold }) { return index }
            leaders.append(vector)
            return leaders.count - 1
        }
    }

    /// Cosine similarity (0 when either vector is empty or zero, or their lengths differ).
    public static func cosine(_ a: [Double], _ b: [Double]) -> Double {
        guard a.count == b.count, !a.isEmpty else { return 0 }
        var dot = 0.0
        var normA = 0.0
        var normB = 0.0
        for index in a.indices {
            dot += a[index] * b[index]
            normA += a[index] * a[index]
            normB += b[index] * b[index]
        }
        guard normA > 0, normB > 0 else { return 0 }
        return dot / (normA.squareRoot() * normB.squareRoot())
    }

    /// The index of the best score (ties: the earliest); nil entries do not compete.
    public static func best(_ scores: [Double?]) -> Int? {
        var chosen: Int?
        for (index, score) in scores.enumerated() {
            guard let score else { continue }
            if let current = chosen, let best = scores[current], best >= score { continue }
            chosen = index
        }
        return chosen
    }

    /// An answer's identity for majority voting across trials (a hash of its normalised text), stored with each
    /// outcome so majority@k can be computed from a run's samples.
    public static func answerKey(_ text: String) -> String {
        let hash = FaultPlan.hash(Array(normalised(text).utf8))
        return hash.hex16
    }
}
