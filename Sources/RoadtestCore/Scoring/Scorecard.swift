import Foundation

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
    /// The smallest pass-rate difference a paired comparison on this many cases can detect (80% power, alpha
    /// 0.05), assuming pairs flip at 2·p·(1−p) (at least 5%) for this pass rate p. Nil without cases, and when
    /// the run is too small to detect a difference (`isTooSmallToDetectDifference`).
    public var minimumDetectableDifference: Double?
    /// True when the detectable difference would exceed any possible one (the way from this pass rate to 0% or to
    /// 100%): the run is too small to detect a difference, and no figure is given.
    public var isTooSmallToDetectDifference = false
    /// Present when the candidate has a fallback chain or a fallback served any of its trials.
    public var fallback: FallbackSummary?
    /// Present when the candidate samples several answers per trial.
    public var strategy: StrategySummary?
    /// Tool-calling trials (absent when the suite has none).
    public var tools: ToolsSummary?
    /// The security drill (absent without attacks).
    public var security: SecuritySummary?
    /// Present when no model answered any of the candidate's attempts (refused connections, 401, 403, 404): the
    /// run did not test it.
    public var noAnswer: NoAnswer?

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
        case minimumDetectableDifference = "minimum_detectable_difference"
        case fallback, strategy, tools, security
        case noAnswer = "no_answer"
    }

    /// Keys written but never read back.
    enum EncodedOnlyKeys: String, CodingKey {
        case minimumDetectableDifferenceReason = "minimum_detectable_difference_reason"
    }

    /// `minimum_detectable_difference` is always present: a number, or null with
    /// `minimum_detectable_difference_reason` when the run is too small to detect a difference.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(provider, forKey: .provider)
        try container.encodeIfPresent(model, forKey: .model)
        try container.encode(cases, forKey: .cases)
        try container.encode(trials, forKey: .trials)
        try container.encode(passed, forKey: .passed)
        try container.encode(passRate, forKey: .passRate)
        try container.encode(passRateCI95, forKey: .passRateCI95)
        try container.encode(byTag, forKey: .byTag)
        try container.encode(failuresByCheck, forKey: .failuresByCheck)
        try container.encode(latencyMilliseconds, forKey: .latencyMilliseconds)
        try container.encodeIfPresent(outputTokensPerSecond, forKey: .outputTokensPerSecond)
        try container.encode(tokens, forKey: .tokens)
        try container.encode(attempts, forKey: .attempts)
        try container.encode(retries, forKey: .retries)
        try container.encode(errors, forKey: .errors)
        try container.encode(costUSD, forKey: .costUSD)
        try container.encodeIfPresent(sampling, forKey: .sampling)
        try container.encode(bars, forKey: .bars)
        try container.encode(recovery, forKey: .recovery)
        try container.encode(constraints, forKey: .constraints)
        try container.encodeIfPresent(robustness, forKey: .robustness)
        try container.encodeIfPresent(promptSensitivity, forKey: .promptSensitivity)
        try container.encode(minimumDetectableDifference, forKey: .minimumDetectableDifference)
        if isTooSmallToDetectDifference {
            var extra = encoder.container(keyedBy: EncodedOnlyKeys.self)
            try extra.encode(Self.tooSmallToDetect, forKey: .minimumDetectableDifferenceReason)
        }
        try container.encodeIfPresent(fallback, forKey: .fallback)
        try container.encodeIfPresent(strategy, forKey: .strategy)
        try container.encodeIfPresent(tools, forKey: .tools)
        try container.encodeIfPresent(security, forKey: .security)
        try container.encodeIfPresent(noAnswer, forKey: .noAnswer)
    }

    /// What every report says in place of a detectable difference larger than any possible one.
    public static let tooSmallToDetect = "run too small to detect a difference"

    public init(
        id: String,
        provider: String,
        model: String?,
        cases: Int,
        trials: Int,
        passed: Double,
        passRate: Double,
        passRateCI95: [Double],
        byTag: [String: TagScore],
        failuresByCheck: [String: Int],
        latencyMilliseconds: LatencySummary,
        outputTokensPerSecond: Double?,
        tokens: TokenSummary,
        attempts: Int,
        retries: Int,
        errors: [String: Int],
        costUSD: CostSummary,
        sampling: SamplingSummary?,
        bars: BarsSummary,
        recovery: RecoverySummary = RecoverySummary(
            ambiguous: 0,
            handled: 0,
            rate: nil,
            confidentWrong: 0,
            confidentWrongRate: nil
        ),
        constraints: ConstraintSummary = ConstraintSummary(checked: 0, violated: 0, violationRate: 0, byCheck: [:]),
        robustness: RobustnessSummary? = nil,
        promptSensitivity: PromptSensitivity? = nil,
        fallback: FallbackSummary? = nil,
        strategy: StrategySummary? = nil,
        tools: ToolsSummary? = nil,
        security: SecuritySummary? = nil,
        noAnswer: NoAnswer? = nil
    ) {
        self.noAnswer = noAnswer
        self.tools = tools
        self.security = security
        self.fallback = fallback
        self.strategy = strategy
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

/// Who answered a candidate's trials when its fallback chain was used.
public struct FallbackSummary: Sendable, Hashable, Codable {
    /// The candidate's fallback chain, in order.
    public var chain: [String]
    /// Trials whose graded answer came from a fallback candidate.
    public var servedByFallback: Int
    /// Those trials by the candidate that served them.
    public var servedBy: [String: Int]
    /// Moves from one candidate of the chain to the next, over all trials (failed trials included).
    public var moves: Int

    enum CodingKeys: String, CodingKey {
        case chain
        case servedByFallback = "served_by_fallback"
        case servedBy = "served_by"
        case moves
    }

    public init(chain: [String], servedByFallback: Int, servedBy: [String: Int], moves: Int) {
        self.chain = chain
        self.servedByFallback = servedByFallback
        self.servedBy = servedBy
        self.moves = moves
    }
}
