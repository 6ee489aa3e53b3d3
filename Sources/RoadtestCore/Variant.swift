import Foundation

/// One way a case is run: as written, perturbed, or under an alternative system prompt. Typed end to end:
/// stored as its kind, index and perturbation, never parsed back from its display name.
public struct Variant: Sendable, Hashable, Codable, Comparable, CustomStringConvertible {
    /// What the variant changes.
    public enum Kind: String, Sendable, Hashable, Codable {
        /// The case as written.
        case original
        /// The user input perturbed (robustness).
        case perturbation
        /// An alternative system prompt (prompt sensitivity).
        case prompt
    }

    public var kind: Kind
    /// The perturbation, for `.perturbation` variants.
    public var perturbation: Perturbation?
    /// 1-based: the n-th variant of a perturbation or the n-th alternative prompt; 0 for the original.
    public var index: Int

    public init(kind: Kind, perturbation: Perturbation? = nil, index: Int = 0) {
        self.kind = kind
        self.perturbation = kind == .perturbation ? perturbation : nil
        self.index = kind == .original ? 0 : index
    }

    /// The case as written.
    public static let original = Variant(kind: .original)

    /// The `index`-th (1-based) perturbed copy of a case's input.
    public static func perturbed(_ perturbation: Perturbation, _ index: Int) -> Variant {
        Variant(kind: .perturbation, perturbation: perturbation, index: index)
    }

    /// The case under the `number`-th (1-based) alternative system prompt.
    public static func prompt(_ number: Int) -> Variant {
        Variant(kind: .prompt, index: number)
    }

    /// True for the case as written.
    public var isOriginal: Bool { kind == .original }

    /// Index into the suite's `prompts` (0-based) for a prompt alternative.
    public var promptIndex: Int? { kind == .prompt ? index - 1 : nil }

    /// The display name and storage key: "" for the original, "typos#1", "prompt#2".
    public var name: String {
        switch kind {
        case .original: return ""
        case .perturbation: return "\(perturbation?.rawValue ?? "perturbation")#\(index)"
        case .prompt: return "prompt#\(index)"
        }
    }

    public var description: String { isOriginal ? "original" : name }

    public static func < (lhs: Variant, rhs: Variant) -> Bool { lhs.name < rhs.name }
}

extension Variant {
    /// The variant a name or description stands for (`""` or `original`, `prompt#2`, `typos#1`); nil for none.
    public init?(name: String) {
        if name.isEmpty || name == "original" {
            self = .original
            return
        }
        let parts = name.split(separator: "#", maxSplits: 1)
        guard parts.count == 2, let index = Int(parts[1]) else { return nil }
        if parts[0] == "prompt" {
            self = .prompt(index)
        } else if let perturbation = Perturbation(rawValue: String(parts[0])) {
            self = .perturbed(perturbation, index)
        } else {
            return nil
        }
    }
}
