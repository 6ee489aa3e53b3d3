import Foundation

/// A stored outcome as the scorer folds it: the graded trial with its attempts, and the facts about its case
/// that scoring needs (kind and tags).
public struct OutcomeRecord: Sendable, Hashable, Codable {
    public var outcome: Outcome
    public var kind: CaseKind
    public var tags: [String]

    public init(outcome: Outcome, kind: CaseKind, tags: [String]) {
        self.outcome = outcome
        self.kind = kind
        self.tags = tags
    }
}
