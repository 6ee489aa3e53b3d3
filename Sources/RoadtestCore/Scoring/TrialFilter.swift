/// Which trials of a run to list (`roadtest view`): every condition that is set must hold.
public struct TrialFilter: Sendable, Hashable {
    public var candidate: String?
    /// The case's id, exactly.
    public var caseID: String?
    /// A tag of the trial's case.
    public var tag: String?
    /// A check that failed on the trial (its name as the scorecard shows it: `contains`, `judge`, `not-regex`...).
    public var failedCheck: String?
    /// The class of the trial's last task attempt (`ok`, `timeout`, `http_429`...).
    public var outcomeClass: AttemptClass?
    public var passed: Bool?
    /// Text in the trial's input or output (case-insensitive for ASCII).
    public var text: String?

    public init(
        candidate: String? = nil,
        caseID: String? = nil,
        tag: String? = nil,
        failedCheck: String? = nil,
        outcomeClass: AttemptClass? = nil,
        passed: Bool? = nil,
        text: String? = nil
    ) {
        self.candidate = candidate
        self.caseID = caseID
        self.tag = tag
        self.failedCheck = failedCheck
        self.outcomeClass = outcomeClass
        self.passed = passed
        self.text = text
    }
}

/// One page of a run's trials, and how many match in all.
public struct TrialPage: Sendable {
    public var rows: [TrialRow]
    public var total: Int

    public init(rows: [TrialRow], total: Int) {
        self.rows = rows
        self.total = total
    }
}
