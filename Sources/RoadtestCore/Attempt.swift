import Foundation

/// How one attempt ended.
public enum AttemptClass: String, Sendable, Hashable, Codable, CaseIterable {
    case ok
    case timeout
    case connection
    case http429 = "http_429"
    case http4xx = "http_4xx"
    case http5xx = "http_5xx"
    /// Unparseable body, or `event: error` in a stream.
    case malformed
    /// The stream ended before its end marker.
    case streamCut = "stream_cut"
    /// A `command` provider's program exited non-zero or could not start.
    case commandFailed = "command_failed"
    /// The provider's content filter or safety system withheld the answer or refused the prompt (Azure's
    /// `content_filter`, Gemini's `SAFETY` and blocked prompts, Bedrock's `guardrail_intervened`): an answer about
    /// the request, so never retried and no reason to fall back.
    case contentFilter = "content_filter"

    /// Failures worth moving to the next candidate of a fallback chain (after the candidate's own retries): every
    /// failure of the endpoint rather than of the request. A 4xx (bad request) would fail anywhere.
    public var warrantsFallback: Bool {
        switch self {
        case .http429, .http5xx, .timeout, .connection, .streamCut, .malformed, .commandFailed: return true
        case .ok, .http4xx, .contentFilter: return false
        }
    }

    /// Failures worth another attempt: throttling, server errors, timeouts and connection errors.
    public var isRetryable: Bool {
        switch self {
        case .http429, .http5xx, .timeout, .connection: return true
        default: return false
        }
    }

    /// Error classes in report order (every class except `ok`).
    public static let errorClasses: [AttemptClass] = allCases.filter { $0 != .ok }
}

/// What a provider returned for one attempt, with timing stamped at byte arrival.
public struct ProviderResponse: Sendable, Hashable {
    public var attemptClass: AttemptClass
    public var httpStatus: Int?
    public var output: String
    public var inputTokens: Int
    public var outputTokens: Int
    /// Prompt tokens read from the provider's cache (part of `inputTokens`).
    public var cachedInputTokens: Int
    /// Prompt tokens written to the provider's cache (part of `inputTokens`).
    public var cacheWriteInputTokens: Int = 0
    /// Tool calls the model made, complete (streamed fragments joined).
    public var toolCalls: [ToolCall] = []
    /// Why the model stopped, when the provider said.
    public var finishReason: FinishReason?
    /// Reasoning text, kept apart from the output; never counted as content.
    public var reasoning: String = ""
    /// Seconds from send to the first reasoning event (reasoning models), timed apart from TTFT.
    public var timeToFirstReasoningToken: Double?
    /// True when output tokens were counted by Roadtest because the response carried no usage.
    public var isTokenCountEstimated: Bool
    /// Seconds from send to the first event carrying content or a tool call.
    public var timeToFirstToken: Double?
    /// Seconds from send to the last content event.
    public var endToEnd: Double?
    /// Seconds the server asked us to wait (`Retry-After`).
    public var retryAfter: Double?
    public var message: String?
    /// Number of content events received (stream chunks with content).
    public var contentEvents: Int
    /// Monotonic nanoseconds when the request was sent.
    public var sentAt: UInt64?
    /// Seconds between consecutive content events (streams only).
    public var interChunkGaps: [Double]

    public init(
        attemptClass: AttemptClass,
        httpStatus: Int? = nil,
        output: String = "",
        inputTokens: Int = 0,
        outputTokens: Int = 0,
        cachedInputTokens: Int = 0,
        isTokenCountEstimated: Bool = false,
        timeToFirstToken: Double? = nil,
        endToEnd: Double? = nil,
        retryAfter: Double? = nil,
        message: String? = nil,
        contentEvents: Int = 0
    ) {
        self.attemptClass = attemptClass
        self.httpStatus = httpStatus
        self.output = output
        self.inputTokens = inputTokens
        self.outputTokens = outputTokens
        self.cachedInputTokens = cachedInputTokens
        self.isTokenCountEstimated = isTokenCountEstimated
        self.timeToFirstToken = timeToFirstToken
        self.endToEnd = endToEnd
        self.retryAfter = retryAfter
        self.message = message
        self.contentEvents = contentEvents
        self.sentAt = nil
        self.interChunkGaps = []
    }

    /// Roadtest's own token estimate for text when a response carries no usage: whitespace-separated words
    /// and punctuation runs, never a foreign tokenizer. Always marked as an estimate.
    public static func estimateTokens(_ text: String) -> Int {
        var count = 0
        var inWord = false
        for scalar in text.unicodeScalars {
            if scalar.isASCII {
                // The same classes, without a Unicode property lookup.
                switch scalar.value {
                case 0x09...0x0D, 0x20:
                    inWord = false
                case 0x30...0x39, 0x41...0x5A, 0x61...0x7A:
                    if !inWord { count += 1 }
                    inWord = true
                default:
                    count += 1
                    inWord = false
                }
                continue
            }
            if scalar.properties.isWhitespace {
                inWord = false
            } else if scalar.properties.isAlphabetic || ("0"..."9").contains(scalar) {
                if !inWord { count += 1 }
                inWord = true
            } else {
                count += 1
                inWord = false
            }
        }
        return count
    }
}

/// One recorded attempt at a trial (the task itself or a judge call grading it).
public struct Attempt: Sendable, Hashable, Codable {
    public enum Role: String, Sendable, Hashable, Codable {
        case task
        case judge
    }

    public var role: Role
    public var number: Int
    public var attemptClass: AttemptClass
    public var httpStatus: Int?
    public var timeToFirstToken: Double?
    public var endToEnd: Double?
    public var inputTokens: Int
    public var outputTokens: Int
    public var isTokenCountEstimated: Bool
    public var retryAfter: Double?
    public var message: String?
    public var costUSD: Double
    /// The candidate this attempt went to when it was not the trial's own (a fallback); nil otherwise.
    public var candidate: String?
    /// Which of a strategy's samples this attempt belongs to (0-based); nil without a strategy.
    public var strategySample: Int?

    public init(
        role: Role,
        number: Int,
        response: ProviderResponse,
        costUSD: Double,
        candidate: String? = nil,
        strategySample: Int? = nil
    ) {
        self.candidate = candidate
        self.strategySample = strategySample
        self.role = role
        self.number = number
        self.attemptClass = response.attemptClass
        self.httpStatus = response.httpStatus
        self.timeToFirstToken = response.timeToFirstToken
        self.endToEnd = response.endToEnd
        self.inputTokens = response.inputTokens
        self.outputTokens = response.outputTokens
        self.isTokenCountEstimated = response.isTokenCountEstimated
        self.retryAfter = response.retryAfter
        self.message = response.message
        self.costUSD = costUSD
    }
}

/// Identifies one trial: a case run on a candidate, one sample of it.
public struct TrialKey: Sendable, Hashable, Codable {
    public var candidate: String
    public var caseID: String
    public var sample: Int
    /// The case as written, a robustness variant or a prompt alternative.
    public var variant: Variant

    public init(candidate: String, caseID: String, sample: Int, variant: Variant = .original) {
        self.candidate = candidate
        self.caseID = caseID
        self.sample = sample
        self.variant = variant
    }
}

/// The graded result of one trial.
public struct Outcome: Sendable, Hashable, Codable {
    public var key: TrialKey
    public var passed: Bool
    public var score: Double
    public var output: String
    public var checks: [CheckResult]
    public var attempts: [Attempt]
    /// Cost of every attempt and judge call of this trial.
    public var costUSD: Double
    /// Class of the last task attempt.
    public var finalClass: AttemptClass
    /// The user input actually sent (perturbed for robustness variants).
    public var input: String?
    /// The system prompt actually sent.
    public var system: String?
    /// The output asked a clarifying question (deterministic detector).
    public var clarified: Bool
    /// The output declined or admitted it does not know (deterministic detector).
    public var abstained: Bool
    /// The candidate whose answer was graded when it was not the trial's own (a fallback served it); nil otherwise.
    public var servedBy: String?
    /// When the trial's first attempt was sent (seconds since 1970).
    public var startedAt: Double?
    /// Seconds from the first attempt's send to the end of the last task attempt: retries, backoff and fallbacks
    /// included. What the caller waited. With a strategy: until the selected answer existed.
    public var elapsed: Double?
    /// The answer's identity for majority votes across samples (`AnswerSelection.answerKey`), when answered.
    public var answerKey: String?
    /// A tool-calling conversation: every call, the model turns, whether `max_turns` stopped it.
    public var tools: ToolTrace?
    /// The whole conversation of a tool-calling trial or an attack (system prompt first), as sent and answered.
    public var transcript: [Message]?
    /// The attack this trial was and whether it succeeded (attack trials only).
    public var attackPack: AttackPack?
    public var attackVerdict: AttackVerdict?

    public init(
        key: TrialKey,
        passed: Bool,
        score: Double,
        output: String,
        checks: [CheckResult],
        attempts: [Attempt],
        costUSD: Double,
        finalClass: AttemptClass,
        input: String? = nil,
        system: String? = nil
    ) {
        self.key = key
        self.passed = passed
        self.score = score
        self.output = output
        self.checks = checks
        self.attempts = attempts
        self.costUSD = costUSD
        self.finalClass = finalClass
        self.input = input
        self.system = system
        let verdicts =
            finalClass == .ok ? RecoveryDetector.verdicts(output, input: input) : (clarifies: false, abstains: false)
        self.clarified = verdicts.clarifies
        self.abstained = verdicts.abstains
    }
}
