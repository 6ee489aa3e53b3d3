import Foundation

/// Ways to perturb a case's user input, as real input gets messy.
public enum Perturbation: String, Sendable, Hashable, Codable, CaseIterable {
    /// Letter case changed (all caps, all lower, or random toggles).
    case `case`
    /// Extra spaces, tabs and line breaks.
    case whitespace
    /// Adjacent letters swapped, dropped or doubled in some words.
    case typos
    /// Punctuation removed or doubled.
    case punctuation
    /// The end of the input cut off.
    case truncate
    /// Irrelevant text or markup around the input.
    case noise
    /// Look-alike characters and zero-width spaces.
    case unicode

    /// Applies this perturbation; deterministic in (`seed`, `key`, `index`), and never returns `text` unchanged.
    public func apply(to text: String, seed: UInt64, key: String, index: Int) -> String {
        var random = SplitMix64(seed: seed ^ FNV.hash("\(rawValue)|\(key)|\(index)"))
        var result = perturb(text, random: &random)
        if result == text {
            // Guarantee a difference even for inputs the transformation cannot change (e.g. empty or one symbol).
            result =
                text + (self == .unicode ? "\u{200B}" : self == .whitespace ? "  " : self == .noise ? "\n--" : " .")
        }
        return result
    }

    func perturb(_ text: String, random: inout SplitMix64) -> String {
        switch self {
        case .case:
            switch random.next() % 3 {
            case 0: return text.uppercased()
            case 1: return text.lowercased()
            default:
                return String(
                    text.map { character in
                        random.next() % 2 == 0
                            ? Character(character.isUppercase ? character.lowercased() : character.uppercased())
                            : character
                    }
                )
            }
        case .whitespace:
            var words = text.split(separator: " ", omittingEmptySubsequences: false).map(String.init)
            let fillers = ["  ", "\t", "\n", "   ", " \n "]
            for index in words.indices.dropLast() where random.next() % 3 == 0 {
                words[index] += fillers[Int(random.next() % UInt64(fillers.count))]
            }
            return fillers[Int(random.next() % 2)] + words.joined(separator: " ")
                + (random.next() % 2 == 0 ? "\n\n" : "   ")
        case .typos:
            var words = text.split(separator: " ", omittingEmptySubsequences: false).map { Array($0) }
            let candidates = words.indices.filter { words[$0].filter(\.isLetter).count >= 3 }
            guard !candidates.isEmpty else { return text }
            let count = max(1, candidates.count / 5)
            for _ in 0..<count {
                let wordIndex = candidates[Int(random.next() % UInt64(candidates.count))]
                var word = words[wordIndex]
                let position = Int(random.next() % UInt64(word.count - 1))
                switch random.next() % 3 {
                case 0 where word[position] != word[position + 1]: word.swapAt(position, position + 1)
                case 1: word.remove(at: position)
                default: word.insert(word[position], at: position)
                }
                words[wordIndex] = word
            }
            return words.map { String($0) }.joined(separator: " ")
        case .punctuation:
            if random.next() % 2 == 0 {
                let stripped = String(text.filter { !$0.isPunctuation })
                if stripped != text { return stripped }
            }
            var result = ""
            for character in text {
                result.append(character)
                if character.isPunctuation { result.append(character) }
            }
            return result == text ? text + "!!" : result
        case .truncate:
            guard text.count > 1 else { return "" }
            let fraction = 0.5 + Double(random.next() % 35) / 100
            let keep = min(text.count - 1, max(1, Int(Double(text.count) * fraction)))
            return String(text.prefix(keep))
        case .noise:
            let wrappers = [
                ("<div class=\"msg\"><p>", "</p></div>"),
                ("[ticket #\(1000 + random.next() % 9000)] ", "\n\nSent from my phone"),
                ("FWD: re: re: ", "\n\n-- \nThis email and any attachments are confidential."),
                ("```\n", "\n```\n(pasted from the chat widget)"),
                ("Hi team,\n", "\nThanks!! Also unrelated but the coffee machine is broken again."),
            ]
            let (prefix, suffix) = wrappers[Int(random.next() % UInt64(wrappers.count))]
            return prefix + text + suffix
        case .unicode:
            let lookAlikes: [Character: Character] = [
                "a": "а", "e": "е", "o": "о", "p": "р", "c": "с", "x": "х", "y": "у", "i": "і", "A": "А", "E": "Е",
                "O": "О",
            ]
            var result = ""
            for character in text {
                if let swap = lookAlikes[character], random.next() % 3 == 0 {
                    result.append(swap)
                } else {
                    result.append(character)
                }
                if character == " ", random.next() % 4 == 0 { result.append("\u{200B}") }
            }
            return result
        }
    }
}

/// Suite-level robustness settings.
public struct RobustnessConfig: Sendable, Hashable, Codable {
    public var perturbations: [Perturbation]
    /// Variants per perturbation.
    public var variants: Int
    public var seed: UInt64

    public init(perturbations: [Perturbation], variants: Int = 1, seed: UInt64 = 0) {
        self.perturbations = perturbations
        self.variants = variants
        self.seed = seed
    }
}

/// A small deterministic generator (SplitMix64): the same seed gives the same variants on every machine.
public struct SplitMix64: Sendable {
    var state: UInt64

    public init(seed: UInt64) {
        state = seed
    }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// FNV-1a, a stable string hash (Swift's `Hasher` is seeded per process).
public enum FNV {
    public static func hash(_ text: String) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01b3
        }
        return hash
    }
}

extension Suite {
    /// Every variant a case runs under.
    public var variants: [Variant] {
        var result = [Variant.original]
        if let robustness {
            for perturbation in robustness.perturbations {
                for index in 1...max(1, robustness.variants) {
                    result.append(.perturbed(perturbation, index))
                }
            }
        }
        for index in prompts.indices {
            result.append(.prompt(index + 1))
        }
        return result
    }

    /// The messages and system prompt of `testCase` under `variant`.
    public func apply(_ variant: Variant, to testCase: Case, system: String?) -> (messages: [Message], system: String?)
    {
        var messages = testCase.messages
        var system = system
        if let perturbation = variant.perturbation, let robustness,
            let last = messages.lastIndex(where: { $0.role == "user" })
        {
            messages[last].content = perturbation.apply(
                to: messages[last].content,
                seed: robustness.seed,
                key: testCase.id,
                index: variant.index
            )
        }
        if let promptIndex = variant.promptIndex, prompts.indices.contains(promptIndex) {
            system = prompts[promptIndex]
        }
        return (messages, system)
    }
}
