import Foundation

/// Every trial of a run: case x variant x sample for each scored candidate, in the order they are run.
public struct RunPlan: Sendable {
    /// One planned trial: its key and where its case is in the suite.
    public struct Trial: Sendable, Hashable {
        public var key: TrialKey
        /// Index of the case in `suite.cases`.
        public var caseIndex: Int
    }

    public let trials: [Trial]

    public init(suite: Suite) {
        var trials: [Trial] = []
        for candidate in suite.scoredCandidates {
            for (caseIndex, testCase) in suite.cases.enumerated() {
                for variant in suite.variants(for: testCase) {
                    for sample in 0..<suite.samples(for: testCase) {
                        trials.append(
                            Trial(
                                key: TrialKey(
                                    candidate: candidate.id,
                                    caseID: testCase.id,
                                    sample: sample,
                                    variant: variant
                                ),
                                caseIndex: caseIndex
                            )
                        )
                    }
                }
            }
        }
        self.trials = trials
    }
}
