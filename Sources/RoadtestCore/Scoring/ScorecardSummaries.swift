import Foundation

/// Per-tag pass rate.
public struct TagScore: Sendable, Hashable, Codable {
    public var cases: Int
    public var passed: Double
    public var passRate: Double

    enum CodingKeys: String, CodingKey {
        case cases, passed
        case passRate = "pass_rate"
    }

    public init(cases: Int, passed: Double, passRate: Double) {
        self.cases = cases
        self.passed = passed
        self.passRate = passRate
    }
}

/// One bar's verdict.
public struct BarResult: Sendable, Hashable, Codable {
    public var bar: String
    public var target: Double
    public var value: Double?
    public var met: Bool
    /// How far inside the bar the value is (positive) or outside it (negative), in the metric's unit.
    public var margin: Double?

    public init(bar: String, target: Double, value: Double?, met: Bool, margin: Double?) {
        self.bar = bar
        self.target = target
        self.value = value
        self.met = met
        self.margin = margin
    }
}

public struct BarsSummary: Sendable, Hashable, Codable {
    public var met: Bool
    public var results: [BarResult]

    public init(met: Bool, results: [BarResult]) {
        self.met = met
        self.results = results
    }
}

public struct LatencySummary: Sendable, Hashable, Codable {
    public var ttft: Percentiles
    public var e2e: Percentiles

    public init(ttft: Percentiles, e2e: Percentiles) {
        self.ttft = ttft
        self.e2e = e2e
    }
}

public struct TokenSummary: Sendable, Hashable, Codable {
    public var input: Int
    public var output: Int
    /// Output tokens Roadtest counted itself because a response had no usage.
    public var outputEstimated: Int
    /// Tokens of judge calls (charged in cost, not in input/output above).
    public var judgeInput: Int
    public var judgeOutput: Int

    enum CodingKeys: String, CodingKey {
        case input, output
        case outputEstimated = "output_estimated"
        case judgeInput = "judge_input"
        case judgeOutput = "judge_output"
    }

    public init(input: Int, output: Int, outputEstimated: Int, judgeInput: Int, judgeOutput: Int) {
        self.input = input
        self.output = output
        self.outputEstimated = outputEstimated
        self.judgeInput = judgeInput
        self.judgeOutput = judgeOutput
    }
}

public struct CostSummary: Sendable, Hashable, Codable {
    public var total: Double
    /// Total cost / tasks passed; nil when nothing passed.
    public var perSuccess: Double?
    public var judge: Double

    enum CodingKeys: String, CodingKey {
        case total
        case perSuccess = "per_success"
        case judge
    }

    public init(total: Double, perSuccess: Double?, judge: Double) {
        self.total = total
        self.perSuccess = perSuccess
        self.judge = judge
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(total, forKey: .total)
        try container.encode(perSuccess, forKey: .perSuccess)  // explicit null when nothing passed
        try container.encode(judge, forKey: .judge)
    }
}

/// Figures that only exist with more than one sample per case.
public struct SamplingSummary: Sendable, Hashable, Codable {
    public var samples: Int
    /// pass@k by k (unbiased estimator, mean over cases).
    public var passAtK: [String: Double]
    /// pass^k by k: the chance that k samples all pass (mean over cases).
    public var passHatK: [String: Double]
    /// Fraction of cases whose samples disagree (some pass, some fail).
    public var flipRate: Double
    /// The cases whose samples disagree (flaky), by id.
    public var flakyCases: [String] = []
    /// majority@k by k: the chance that a majority vote over k of the samples (normalised answers) picks a
    /// passing answer (mean over cases).
    public var majorityAtK: [String: Double] = [:]
    /// The sampling curve: per k, pass@k and majority@k with the cost per success of sending k samples.
    public var curve: [CurvePoint] = []

    /// One k of the sampling curve.
    public struct CurvePoint: Sendable, Hashable, Codable {
        public var k: Int
        public var passAtK: Double
        public var majorityAtK: Double
        /// k × the mean cost of a trial / pass@k (an oracle picks the passing sample).
        public var costPerSuccessPass: Double?
        /// k × the mean cost of a trial / majority@k (what a majority vote ships).
        public var costPerSuccessMajority: Double?

        enum CodingKeys: String, CodingKey {
            case k
            case passAtK = "pass_at_k"
            case majorityAtK = "majority_at_k"
            case costPerSuccessPass = "cost_per_success_pass"
            case costPerSuccessMajority = "cost_per_success_majority"
        }

        public init(
            k: Int,
            passAtK: Double,
            majorityAtK: Double,
            costPerSuccessPass: Double?,
            costPerSuccessMajority: Double?
        ) {
            self.k = k
            self.passAtK = passAtK
            self.majorityAtK = majorityAtK
            self.costPerSuccessPass = costPerSuccessPass
            self.costPerSuccessMajority = costPerSuccessMajority
        }
    }

    enum CodingKeys: String, CodingKey {
        case samples
        case passAtK = "pass_at_k"
        case passHatK = "pass_hat_k"
        case flipRate = "flip_rate"
        case flakyCases = "flaky_cases"
        case majorityAtK = "majority_at_k"
        case curve
    }

    public init(samples: Int, passAtK: [String: Double], passHatK: [String: Double], flipRate: Double) {
        self.samples = samples
        self.passAtK = passAtK
        self.passHatK = passHatK
        self.flipRate = flipRate
    }
}

/// How a model behaves when it should ask or abstain, and how often it fails without doing either.
public struct RecoverySummary: Sendable, Hashable, Codable {
    /// Ambiguous trials (cases of `kind: ambiguous`, as written).
    public var ambiguous: Int
    /// Ambiguous trials the model handled by asking a clarifying question or abstaining.
    public var handled: Int
    public var rate: Double?
    /// Ordinary trials the model failed without asking or abstaining: the dangerous failure.
    public var confidentWrong: Int
    /// confident_wrong / ordinary trials.
    public var confidentWrongRate: Double?

    enum CodingKeys: String, CodingKey {
        case ambiguous, handled, rate
        case confidentWrong = "confident_wrong"
        case confidentWrongRate = "confident_wrong_rate"
    }

    public init(ambiguous: Int, handled: Int, rate: Double?, confidentWrong: Int, confidentWrongRate: Double?) {
        self.ambiguous = ambiguous
        self.handled = handled
        self.rate = rate
        self.confidentWrong = confidentWrong
        self.confidentWrongRate = confidentWrongRate
    }
}

/// Hard-constraint checks (`constraint: true`): how often they were violated.
public struct ConstraintSummary: Sendable, Hashable, Codable {
    public struct PerCheck: Sendable, Hashable, Codable {
        public var checked: Int
        public var violated: Int
        public var violationRate: Double

        enum CodingKeys: String, CodingKey {
            case checked, violated
            case violationRate = "violation_rate"
        }

        public init(checked: Int, violated: Int, violationRate: Double) {
            self.checked = checked
            self.violated = violated
            self.violationRate = violationRate
        }
    }

    public var checked: Int
    public var violated: Int
    public var violationRate: Double
    public var byCheck: [String: PerCheck]

    enum CodingKeys: String, CodingKey {
        case checked, violated
        case violationRate = "violation_rate"
        case byCheck = "by_check"
    }

    public init(checked: Int, violated: Int, violationRate: Double, byCheck: [String: PerCheck]) {
        self.checked = checked
        self.violated = violated
        self.violationRate = violationRate
        self.byCheck = byCheck
    }
}

/// Pass rates on perturbed input.
public struct RobustnessSummary: Sendable, Hashable, Codable {
    public var cleanPassRate: Double
    public var perturbedPassRate: Double
    /// A case counts only if it and all its variants pass.
    public var worstCasePassRate: Double
    public var byPerturbation: [String: Double]

    enum CodingKeys: String, CodingKey {
        case cleanPassRate = "clean_pass_rate"
        case perturbedPassRate = "perturbed_pass_rate"
        case worstCasePassRate = "worst_case_pass_rate"
        case byPerturbation = "by_perturbation"
    }

    public init(
        cleanPassRate: Double,
        perturbedPassRate: Double,
        worstCasePassRate: Double,
        byPerturbation: [String: Double]
    ) {
        self.cleanPassRate = cleanPassRate
        self.perturbedPassRate = perturbedPassRate
        self.worstCasePassRate = worstCasePassRate
        self.byPerturbation = byPerturbation
    }
}

/// Pass rate under each system prompt, and the spread between the best and the worst.
public struct PromptSensitivity: Sendable, Hashable, Codable {
    public struct Entry: Sendable, Hashable, Codable {
        public var prompt: String
        public var passRate: Double

        enum CodingKeys: String, CodingKey {
            case prompt
            case passRate = "pass_rate"
        }

        public init(prompt: String, passRate: Double) {
            self.prompt = prompt
            self.passRate = passRate
        }
    }

    public var byPrompt: [Entry]
    public var spread: Double

    enum CodingKeys: String, CodingKey {
        case byPrompt = "by_prompt"
        case spread
    }

    public init(byPrompt: [Entry], spread: Double) {
        self.byPrompt = byPrompt
        self.spread = spread
    }
}

/// A candidate's sampling strategy as run.
public struct StrategySummary: Sendable, Hashable, Codable {
    /// `majority@5`.
    public var name: String
    public var samples: Int
    public var select: String
    /// Distinct samples sent per trial, on average (failed samples included, retries not).
    public var samplesPerTrial: Double
    /// Verifier and judge calls per trial, on average.
    public var judgeCallsPerTrial: Double

    enum CodingKeys: String, CodingKey {
        case name, samples, select
        case samplesPerTrial = "samples_per_trial"
        case judgeCallsPerTrial = "judge_calls_per_trial"
    }

    public init(name: String, samples: Int, select: String, samplesPerTrial: Double, judgeCallsPerTrial: Double) {
        self.name = name
        self.samples = samples
        self.select = select
        self.samplesPerTrial = samplesPerTrial
        self.judgeCallsPerTrial = judgeCallsPerTrial
    }
}

/// Tool-calling trials of a candidate (attacks apart): calls made, model turns, conversations cut at `max_turns`.
public struct ToolsSummary: Sendable, Hashable, Codable {
    public var trials: Int
    public var toolCalls: Int
    /// Median model turns per trial (nearest rank).
    public var turnsP50: Double?
    public var maxTurnsReached: Int

    enum CodingKeys: String, CodingKey {
        case trials
        case toolCalls = "tool_calls"
        case turnsP50 = "turns_p50"
        case maxTurnsReached = "max_turns_reached"
    }

    public init(trials: Int, toolCalls: Int, turnsP50: Double?, maxTurnsReached: Int) {
        self.trials = trials
        self.toolCalls = toolCalls
        self.turnsP50 = turnsP50
        self.maxTurnsReached = maxTurnsReached
    }
}

/// A security drill's result for a candidate: attacks that got an answer, how many succeeded, by pack.
public struct SecuritySummary: Sendable, Hashable, Codable {
    public struct Pack: Sendable, Hashable, Codable {
        public var attacks: Int
        public var succeeded: Int
        public var rate: Double
        public var ci95: [Double]
        /// OWASP Top 10 for LLM Applications (2025) category.
        public var owasp: String

        public init(attacks: Int, succeeded: Int, owasp: String) {
            self.attacks = attacks
            self.succeeded = succeeded
            self.rate = attacks > 0 ? Double(succeeded) / Double(attacks) : 0
            let interval = Statistics.wilsonInterval(successes: Double(succeeded), trials: Double(attacks))
            self.ci95 = [interval.lower, interval.upper]
            self.owasp = owasp
        }
    }

    /// Attack trials decided (the model answered, or made a call before failing).
    public var attacks: Int
    public var succeeded: Int
    public var attackSuccessRate: Double
    public var ci95: [Double]
    public var byPack: [String: Pack]
    /// Attack trials that got no answer (provider errors): neither breached nor resisted, not in the rate.
    public var errored: Int
    public var costUSD: Double

    enum CodingKeys: String, CodingKey {
        case attacks, succeeded
        case attackSuccessRate = "attack_success_rate"
        case ci95
        case byPack = "by_pack"
        case errored
        case costUSD = "cost_usd"
    }

    public init(byPack: [String: Pack], errored: Int, costUSD: Double) {
        self.byPack = byPack
        self.attacks = byPack.values.reduce(0) { $0 + $1.attacks }
        self.succeeded = byPack.values.reduce(0) { $0 + $1.succeeded }
        self.attackSuccessRate = attacks > 0 ? Double(succeeded) / Double(attacks) : 0
        let interval = Statistics.wilsonInterval(successes: Double(succeeded), trials: Double(attacks))
        self.ci95 = [interval.lower, interval.upper]
        self.errored = errored
        self.costUSD = costUSD
    }
}
