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
        let text = withoutEcho(normalise(output), of: input)
        guard !text.isEmpty else { return false }
        let hasPhrase = clarifyingPhrases.contains { text.contains($0) }
        let questions = text.split(separator: "?", omittingEmptySubsequences: false).dropLast()
        // A question addressed to the user: "...you...?" or "which/what ...?" near the question mark.
        let asksUser = questions.contains { sentence in
            let tail = sentence.split(whereSeparator: { ".!\n".contains($0) }).last.map(String.init) ?? String(sentence)
            return tail.contains("you") || tail.contains("your") || tail.hasPrefix(" which") || tail.hasPrefix("which")
                || tail.hasPrefix("what") || tail.hasPrefix(" what") || tail.contains(" or ")
        }
        return asksUser || (hasPhrase && (text.contains("?") || text.contains("please")))
    }

    /// True when the output declines, or admits it does not know.
    public static func abstains(_ output: String, input: String? = nil) -> Bool {
        let text = withoutEcho(normalise(output), of: input)
        guard !text.isEmpty else { return false }
        return abstainingPhrases.contains { text.contains($0) }
    }

    /// The output with every copy of the (normalised) input removed.
    static func withoutEcho(_ text: String, of input: String?) -> String {
        guard let input else { return text }
        let echo = normalise(input).trimmingCharacters(in: .whitespacesAndNewlines)
        guard echo.count >= 8 else { return text }
        return text.replacingOccurrences(of: echo, with: " ")
    }

    static func normalise(_ text: String) -> String {
        text.lowercased().replacingOccurrences(of: "’", with: "'").replacingOccurrences(of: "‘", with: "'")
    }
}
