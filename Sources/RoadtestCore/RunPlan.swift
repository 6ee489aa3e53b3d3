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

    /// How many trials the suite plans, and how many of them are among `completed`, counted without holding the
    /// plan (a million-case suite's).
    public static func count(suite: Suite, completed: Set<TrialKey>) -> (total: Int, done: Int) {
        var total = 0
        var done = 0
        let candidates = suite.scoredCandidates
        for testCase in suite.cases {
            let variants = suite.variants(for: testCase)
            let samples = suite.samples(for: testCase)
            total += candidates.count * variants.count * samples
            guard !completed.isEmpty else { continue }
            for candidate in candidates {
                for variant in variants {
                    for sample in 0..<samples
                    where completed.contains(
                        TrialKey(candidate: candidate.id, caseID: testCase.id, sample: sample, variant: variant)
                    ) {
                        done += 1
                    }
                }
            }
        }
        return (total, done)
    }
}
