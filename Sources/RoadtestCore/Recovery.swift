import Foundation

/// Deterministic detectors for how a model behaves when it should not simply answer: does it ask a
/// clarifying question, or decline / admit it does not know? They read the output only; a judge can
/// confirm them (`clarifies: {confirm: JUDGE}`).
public enum RecoveryDetector {
    static let clarifyingPhrases = [
        "could you clarify", "can you clarify", "could you please clarify", "please clarify", "clarify what",
        "could you provide", "can you provide", "please provide", "could you specify", "can you specify",
        "please specify",
        "could you tell me", "can you tell me more", "tell me more", "could you share", "can you share", "please share",
        "what do you mean", "what exactly", "which one", "which of", "more details", "more detail", "more information",
        "more context", "do you mean", "are you referring", "could you explain", "can you explain what", "need to know",
        "let me know which", "let me know what", "what kind of", "what type of", "which specific",
    ]

    static let abstainingPhrases = [
        "i don't know", "i do not know", "i dont know", "i'm not sure", "i am not sure", "not certain", "i cannot",
        "i can't",
        "i can not", "i'm unable", "i am unable", "unable to", "not able to", "i won't", "i will not", "i must decline",
        "i have to decline", "i decline", "cannot help with", "can't help with", "cannot assist", "can't assist",
        "no information", "don't have information", "do not have information", "don't have enough",
        "do not have enough",
        "not enough information", "insufficient information", "cannot determine", "can't determine",
        "cannot be determined",
        "impossible to say", "impossible to know", "no way to know", "i have no way", "there is no way to know",
        "i'm sorry, but", "i am sorry, but", "sorry, but i", "i apologize, but", "as an ai", "i lack",
    ]

    /// True when the output asks the user something to resolve what they meant. Text that repeats the input
    /// (a base model echoing the user's own question) does not count.
    public static func clarifies(_ output: String, input: String? = nil) -> Bool {
        clarifies(normalisedText: withoutEcho(normalise(output), of: input))
    }

    /// Both detectors on one output (its text normalised once): what every graded trial records.
    public static func verdicts(_ output: String, input: String? = nil) -> (clarifies: Bool, abstains: Bool) {
        let text = withoutEcho(normalise(output), of: input)
        return (clarifies(normalisedText: text), abstains(normalisedText: text))
    }

    private static func clarifies(normalisedText text: String) -> Bool {
        guard !text.isEmpty else { return false }
        let hasPhrase = clarifyingPhrases.contains { text.containsBytes($0) }
        let questions = text.split(separator: "?", omittingEmptySubsequences: false).dropLast()
        // A question addressed to the user: "...you...?" or "which/what ...?" near the question mark.
        let asksUser = questions.contains { sentence in
            let tail = sentence.split(whereSeparator: { ".!\n".contains($0) }).last.map(String.init) ?? String(sentence)
            return tail.containsBytes("you") || tail.hasPrefix(" which") || tail.hasPrefix("which")
                || tail.hasPrefix("what") || tail.hasPrefix(" what") || tail.containsBytes(" or ")
        }
        return asksUser || (hasPhrase && (text.containsBytes("?") || text.containsBytes("please")))
    }

    /// True when the output declines, or admits it does not know.
    public static func abstains(_ output: String, input: String? = nil) -> Bool {
        abstains(normalisedText: withoutEcho(normalise(output), of: input))
    }

    private static func abstains(normalisedText text: String) -> Bool {
        guard !text.isEmpty else { return false }
        return abstainingPhrases.contains { text.containsBytes($0) }
    }

    /// The output with every copy of the (normalised) input removed.
    static func withoutEcho(_ text: String, of input: String?) -> String {
        // An echo is at least 8 characters, so at least 8 bytes: a shorter output holds none.
        guard let input, text.utf8.count >= 8 else { return text }
        let echo = normalise(input).trimmingCharacters(in: .whitespacesAndNewlines)
        guard echo.count >= 8, text.containsBytes(echo) else { return text }
        return text.replacingOccurrences(of: echo, with: " ")
    }

    static func normalise(_ text: String) -> String {
        let lowered = text.lowercased()
        // Curly quotes are U+2018 and U+2019 (E2 80 98/99 in UTF-8): most outputs have none.
        guard lowered.utf8.contains(0xE2) else { return lowered }
        return lowered.replacingOccurrences(of: "’", with: "'").replacingOccurrences(of: "‘", with: "'")
    }
}

extension StringProtocol {
    /// Whether `needle`'s UTF-8 bytes occur in this string's: a literal search without Foundation (whose `contains`
    /// goes through `range(of:)` and a locale), for phrase matching on every graded trial. UTF-8 is
    /// self-synchronising, so a byte match is a match of whole characters' encodings.
    func containsBytes(_ needle: String) -> Bool {
        var needle = needle
        return needle.withUTF8 { needleBytes in
            guard let first = needleBytes.first else { return true }
            let search = { (haystack: UnsafeBufferPointer<UInt8>) -> Bool in
                let count = needleBytes.count
                guard haystack.count >= count else { return false }
                var index = 0
                let last = haystack.count - count
                while index <= last {
                    if haystack[index] == first {
                        var offset = 1
                        while offset < count && haystack[index + offset] == needleBytes[offset] { offset += 1 }
                        if offset == count { return true }
                    }
                    index += 1
                }
                return false
            }
            if let found = utf8.withContiguousStorageIfAvailable(search) { return found }
            return Array(utf8).withUnsafeBufferPointer(search)
        }
    }
}
