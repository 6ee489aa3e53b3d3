import Foundation
import RoadtestCore

/// When to try again: exponential backoff with jitter, honouring `Retry-After`. A pure value; no I/O.
public struct RetryPolicy: Sendable, Hashable {
    /// Retries after the first attempt.
    public var maxRetries: Int
    /// Delay before the first retry, in seconds; doubles each retry.
    public var baseDelay: Double
    /// Longest computed delay, in seconds.
    public var maxDelay: Double
    /// Longest `Retry-After` honoured, in seconds (a server asking for more is waited on this long).
    public var maxRetryAfter: Double

    public init(maxRetries: Int, baseDelay: Double = 0.5, maxDelay: Double = 30, maxRetryAfter: Double = 120) {
        self.maxRetries = maxRetries
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
        self.maxRetryAfter = maxRetryAfter
    }

    /// Seconds to wait before attempt `attempt + 1`, or nil when attempt `attempt` (1-based) should be the last.
    /// `jitter` is a uniform random number in [0, 1): the delay is drawn from [half, full] of the exponential step.
    public func delay(
        afterAttempt attempt: Int,
        attemptClass: AttemptClass,
        retryAfter: Double?,
        jitter: Double
    ) -> Double? {
        guard attemptClass.isRetryable, attempt <= maxRetries else { return nil }
        if let retryAfter { return min(max(0, retryAfter), maxRetryAfter) }
        let exponential = min(maxDelay, baseDelay * Double(1 << min(attempt - 1, 20)))
        return exponential * (0.5 + 0.5 * jitter)
    }
}

extension RetryPolicy {
    /// The policy effective settings ask for (`retries`, `retry_backoff`; built-in defaults otherwise).
    public init(settings: Settings) {
        self.init(
            maxRetries: settings.retries ?? Settings.builtInRetries,
            baseDelay: settings.retryBackoff ?? Settings.builtInRetryBackoff
        )
    }
}
