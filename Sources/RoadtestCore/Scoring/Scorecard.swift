import Foundation
/// p50/p90/p95/p99/max of a latency, in milliseconds, with the count they were computed over.
public struct Percentiles: Sendable, Hashable, Codable {
    public var count: Int
    public var p50: Double?
    public var p90: Double?
    public var p95: Double?
    public var p99: Double?
    public var max: Double?

    public init(count: Int = 0, p50: Double? = nil, p90: Double? = nil, p95: Double? = nil, p99: Double? = nil, max: Double? = nil) {
        self.count = count
        self.p50 = p50
        self.p90 = p90
        self.p95 = p95
        self.p99 = p99
        self.max = max
    }

    /// Nearest-rank percentiles of values in milliseconds.
    public init(milliseconds values: [Double]) {
        let sorted = values.sorted()
        self.init(
            count: sorted.count, p50: Statistics.percentile(sorted: sorted, 0.50),
            p90: Statistics.percentile(sorted: sorted, 0.90), p95: Statistics.percentile(sorted: sorted, 0.95),
            p99: Statistics.percentile(sorted: sorted, 0.99), max: sorted.last)
    }

    public func value(at p: Double) -> Double? {
        switch p {
        case 0.5: return p50
        case 0.9: return p90
        case 0.95: return p95
        case 0.99: return p99
        default: return max
        }
    }
}

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

    enum CodingKeys: String, CodingKey {
        case samples
        case passAtK = "pass_at_k"
        case passHatK = "pass_hat_k"
        case flipRate = "flip_rate"
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

    public init(cleanPassRate: Double, perturbedPassRate: Double, worstCasePassRate: Double, byPerturbation: [String: Double]) {
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

/// Everything measured about one candidate in one run. Field names are the JSON contract (schema_version 1).
public struct Scorecard: Sendable, Hashable, Codable {
    public var id: String
    public var provider: String
    public var model: String?
    public var cases: Int
    public var trials: Int
    /// Cases passed; with samples > 1, the expected number (sum over cases of passing samples / samples).
    public var passed: Double
    /// Pass rate; with samples > 1, pass@1 averaged over samples (mean of c/n per case).
    public var passRate: Double
    public var passRateCI95: [Double]
    public var byTag: [String: TagScore]
    /// Failed checks by check name (e.g. `contains`, `not-regex`).
    public var failuresByCheck: [String: Int]
    public var latencyMilliseconds: LatencySummary
    /// Output tokens per second of request time (sum of output tokens / sum of E2E over ok attempts).
    public var outputTokensPerSecond: Double?
    public var tokens: TokenSummary
    public var attempts: Int
    public var retries: Int
    public var errors: [String: Int]
    public var costUSD: CostSummary
    public var sampling: SamplingSummary?
    public var bars: BarsSummary
    public var recovery: RecoverySummary
    public var constraints: ConstraintSummary
    /// Present when the suite sets `robustness`.
    public var robustness: RobustnessSummary?
    /// Present when the suite sets `prompts`.
    public var promptSensitivity: PromptSensitivity?

    enum CodingKeys: String, CodingKey {
        case id, provider, model, cases, trials, passed
        case passRate = "pass_rate"
        case passRateCI95 = "pass_rate_ci95"
        case byTag = "by_tag"
        case failuresByCheck = "failures_by_check"
        case latencyMilliseconds = "latency_ms"
        case outputTokensPerSecond = "output_tokens_per_s"
        case tokens, attempts, retries, errors
        case costUSD = "cost_usd"
        case sampling, bars, recovery, constraints, robustness
        case promptSensitivity = "prompt_sensitivity"
    }

    public init(
        id: String, provider: String, model: String?, cases: Int, trials: Int, passed: Double, passRate: Double,
        passRateCI95: [Double], byTag: [String: TagScore], failuresByCheck: [String: Int],
        latencyMilliseconds: LatencySummary, outputTokensPerSecond: Double?, tokens: TokenSummary, attempts: Int,
        retries: Int, errors: [String: Int], costUSD: CostSummary, sampling: SamplingSummary?, bars: BarsSummary,
        recovery: RecoverySummary = RecoverySummary(ambiguous: 0, handled: 0, rate: nil, confidentWrong: 0, confidentWrongRate: nil),
        constraints: ConstraintSummary = ConstraintSummary(checked: 0, violated: 0, violationRate: 0, byCheck: [:]),
        robustness: RobustnessSummary? = nil, promptSensitivity: PromptSensitivity? = nil
    ) {
        self.id = id
        self.provider = provider
        self.model = model
        self.cases = cases
        self.trials = trials
        self.passed = passed
        self.passRate = passRate
        self.passRateCI95 = passRateCI95
        self.byTag = byTag
        self.failuresByCheck = failuresByCheck
        self.latencyMilliseconds = latencyMilliseconds
        self.outputTokensPerSecond = outputTokensPerSecond
        self.tokens = tokens
        self.attempts = attempts
        self.retries = retries
        self.errors = errors
        self.costUSD = costUSD
        self.sampling = sampling
        self.bars = bars
        self.recovery = recovery
        self.constraints = constraints
        self.robustness = robustness
        self.promptSensitivity = promptSensitivity
    }

    /// Total error attempts / attempts.
    public var errorRate: Double {
        attempts > 0 ? Double(errors.values.reduce(0, +)) / Double(attempts) : 0
    }
}

/// Evaluates a suite's bars against a scorecard.
public enum BarEvaluator {
    /// The value of a metric on a scorecard, in the unit bars are written in (seconds for latencies).
    public static func value(of metric: BarMetric, in card: Scorecard) -> Double? {
        let latency = card.latencyMilliseconds
        let seconds: (Double?) -> Double? = { $0.map { $0 / 1000 } }
        switch metric {
        case .passRate: return card.trials > 0 ? card.passRate : nil
        case .p50Latency: return seconds(latency.e2e.p50)
        case .p90Latency: return seconds(latency.e2e.p90)
        case .p95Latency: return seconds(latency.e2e.p95)
        case .p99Latency: return seconds(latency.e2e.p99)
        case .p50TTFT: return seconds(latency.ttft.p50)
        case .p95TTFT: return seconds(latency.ttft.p95)
        case .p99TTFT: return seconds(latency.ttft.p99)
        case .costPerSuccess: return card.costUSD.perSuccess
        case .totalCost: return card.costUSD.total
        case .errorRate: return card.errorRate
        }
    }

    /// Every bar's verdict; a bar whose value could not be measured is not met.
    public static func evaluate(_ bars: [Bar], on card: Scorecard) -> BarsSummary {
        let results = bars.map { bar -> BarResult in
            guard let value = value(of: bar.metric, in: card) else {
                return BarResult(bar: bar.metric.rawValue, target: bar.target, value: nil, met: false, margin: nil)
            }
            let margin = bar.metric.isMinimum ? value - bar.target : bar.target - value
            return BarResult(bar: bar.metric.rawValue, target: bar.target, value: value, met: margin >= -1e-12, margin: margin)
        }
        return BarsSummary(met: results.allSatisfy(\.met), results: results)
    }
}

/// A whole run's report: what every renderer takes.
public struct RunReport: Sendable, Hashable, Codable {
    public static let schemaVersion = 1

    public var schemaVersion: Int
    public var runID: String
    public var suite: String
    public var suitePath: String
    public var status: String
    public var startedAt: String
    public var finishedAt: String?
    public var candidates: [Scorecard]
    /// Every bar of every candidate met (true when the suite has none).
    public var barsMet: Bool

    enum CodingKeys: String, CodingKey {
        case schemaVersion = "schema_version"
        case runID = "run_id"
        case suite
        case suitePath = "suite_path"
        case status
        case startedAt = "started_at"
        case finishedAt = "finished_at"
        case candidates
        case barsMet = "bars_met"
    }

    public init(
        runID: String, suite: String, suitePath: String, status: String, startedAt: String, finishedAt: String?,
        candidates: [Scorecard]
    ) {
        self.schemaVersion = Self.schemaVersion
        self.runID = runID
        self.suite = suite
        self.suitePath = suitePath
        self.status = status
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.candidates = candidates
        self.barsMet = candidates.allSatisfy(\.bars.met)
    }
}

/// One trial as reports list it (outputs, failed checks).
public struct TrialRow: Sendable, Hashable, Codable {
    public var key: TrialKey
    public var tags: [String]
    public var input: String
    public var passed: Bool
    public var score: Double
    public var output: String
    public var checks: [CheckResult]
    public var finalClass: AttemptClass
    public var attempts: Int
    public var endToEnd: Double?
    public var costUSD: Double
    /// The system prompt sent, when it differs from the case's (prompt alternatives).
    public var system: String?

    public init(
        key: TrialKey, tags: [String], input: String, passed: Bool, score: Double, output: String,
        checks: [CheckResult], finalClass: AttemptClass, attempts: Int, endToEnd: Double?, costUSD: Double, system: String? = nil
    ) {
        self.key = key
        self.tags = tags
        self.input = input
        self.passed = passed
        self.score = score
        self.output = output
        self.checks = checks
        self.finalClass = finalClass
        self.attempts = attempts
        self.endToEnd = endToEnd
        self.costUSD = costUSD
        self.system = system
    }
}
