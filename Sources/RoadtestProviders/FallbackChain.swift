import Foundation
import RoadtestCore
import Synchronization

/// One candidate of a fallback chain, ready to be asked: its provider, the request as this candidate gets it
/// (its own model and settings), its price and its retry policy.
public struct ChainLink: Sendable {
    public var id: String
    public var provider: any ModelProvider
    public var request: ChatRequest
    public var price: Price
    public var retryPolicy: RetryPolicy
    public var cooldown: Cooldown?
    /// The provider's OpenTelemetry name (`gen_ai.provider.name` on each attempt's span).
    public var providerName: String

    public init(
        id: String,
        provider: any ModelProvider,
        request: ChatRequest,
        price: Price,
        retryPolicy: RetryPolicy,
        cooldown: Cooldown? = nil,
        providerName: String = "openai"
    ) {
        self.providerName = providerName
        self.id = id
        self.provider = provider
        self.request = request
        self.price = price
        self.retryPolicy = retryPolicy
        self.cooldown = cooldown
    }
}

/// Circuit breakers, one per candidate, shared by every request of a run (or of the gateway). A candidate with a
/// `cooldown` opens after `after` consecutive failed attempts and is skipped for `duration`; then one request
/// probes it (half-open): success closes the circuit, failure opens it again. Failures count across retries and
/// fallbacks alike, so a failing candidate is skipped by every request, not only the one that saw it fail.
public final class CircuitBreakers: Sendable {
    public enum Admission: Sendable, Hashable {
        /// Closed: send.
        case closed
        /// The cooldown is over and this request is the one probe.
        case probe
        /// Open (or another request is probing): skip, until the monotonic time given.
        case open(until: UInt64)
    }

    struct Breaker {
        var failures = 0
        var openUntil: UInt64?
        var probing = false
        var openings = 0
    }

    private let state = Mutex<[String: Breaker]>([:])

    public init() {}

    /// Whether a request may go to `id` now. Without a cooldown the circuit is always closed.
    public func admit(_ id: String, cooldown: Cooldown?, now: UInt64 = Monotonic.now()) -> Admission {
        guard cooldown != nil else { return .closed }
        return state.withLock { breakers in
            var breaker = breakers[id, default: Breaker()]
            defer { breakers[id] = breaker }
            guard let until = breaker.openUntil else { return .closed }
            if now < until || breaker.probing { return .open(until: max(until, now)) }
            breaker.probing = true
            return .probe
        }
    }

    /// Records an attempt's result; true when the circuit is (now) open, so the caller stops retrying `id`.
    @discardableResult
    public func record(_ id: String, failed: Bool, cooldown: Cooldown?, now: UInt64 = Monotonic.now()) -> Bool {
        guard let cooldown else { return false }
        return state.withLock { breakers in
            var breaker = breakers[id, default: Breaker()]
            defer { breakers[id] = breaker }
            guard failed else {
                breaker = Breaker(openings: breaker.openings)
                return false
            }
            breaker.failures += 1
            if breaker.probing || breaker.failures >= cooldown.after {
                breaker.openUntil = now + UInt64(max(0, cooldown.duration) * 1e9)
                breaker.probing = false
                breaker.failures = 0
                breaker.openings += 1
                return true
            }
            return false
        }
    }

    /// How many times `id`'s circuit opened.
    public func openings(_ id: String) -> Int { state.withLock { $0[id]?.openings ?? 0 } }
}

/// A request sent down a fallback chain: each candidate with its own retries (backoff, Retry-After), then, on a
/// failure worth falling back on (429, 5xx, timeout, connection, cut stream, malformed), the next candidate;
/// each candidate at most once; candidates whose circuit is open are skipped (when every one is, the one that
/// reopens first is probed). Every attempt is recorded and charged at its own candidate's price.
///
/// ```swift
/// let result = try await FallbackChain(links: links, breakers: breakers).send(role: .task)
/// print(result.servedBy, result.attempts.count)
/// ```
public struct FallbackChain: Sendable {
    public struct Result: Sendable {
        /// The last attempt's response: the answer, or the final failure.
        public var response: ProviderResponse
        public var attempts: [Attempt]
        /// The candidate that gave `response`.
        public var servedBy: String
        /// Wall-clock seconds since 1970 when the first attempt was sent.
        public var startedAt: Double
        /// Seconds from the first send to the end of the last attempt, waits included.
        public var elapsed: Double
    }

    public let links: [ChainLink]
    public let breakers: CircuitBreakers
    /// Uniform random numbers in [0, 1) for backoff jitter.
    public let jitter: @Sendable () -> Double

    public init(
        links: [ChainLink],
        breakers: CircuitBreakers = CircuitBreakers(),
        jitter: @escaping @Sendable () -> Double = { Double.random(in: 0..<1) }
    ) {
        precondition(!links.isEmpty, "a chain has at least one candidate")
        self.links = links
        self.breakers = breakers
        self.jitter = jitter
    }

    /// Sends the request down the chain. Throws only `CancellationError`; failures are in the result.
    public func send(role: Attempt.Role) async throws -> Result {
        let primary = links[0].id
        let startedAt = Date().timeIntervalSince1970
        let start = Monotonic.now()
        var attempts: [Attempt] = []
        var last: (ProviderResponse, String)?
        var skipped: [(link: ChainLink, until: UInt64)] = []
        var seen: Set<String> = []
        for link in links where seen.insert(link.id).inserted {
            switch breakers.admit(link.id, cooldown: link.cooldown) {
            case .open(let until):
                skipped.append((link, until))
                continue
            case .closed, .probe:
                break
            }
            let response = try await sendWithRetries(link, primary: primary, role: role, attempts: &attempts)
            last = (response, link.id)
            if !response.attemptClass.warrantsFallback { break }
        }
        if last == nil, let soonest = skipped.min(by: { $0.until < $1.until }) {
            // Every candidate is cooling down: probe the one that reopens first rather than fail unasked.
            let response = try await sendWithRetries(
                soonest.link,
                primary: primary,
                role: role,
                attempts: &attempts
            )
            last = (response, soonest.link.id)
        }
        let (response, servedBy) = last!
        return Result(
            response: response,
            attempts: attempts,
            servedBy: servedBy,
            startedAt: startedAt,
            elapsed: Monotonic.seconds(from: start, to: Monotonic.now())
        )
    }

    func sendWithRetries(
        _ link: ChainLink,
        primary: String,
        role: Attempt.Role,
        attempts: inout [Attempt]
    ) async throws -> ProviderResponse {
        var number = 1
        while true {
            try Task.checkCancellation()
            let response = await GenAISpan.attempt(link, role: role, number: attempts.count + 1) {
                await link.provider.send(link.request)
            }
            try Task.checkCancellation()
            let cost = link.price.cost(
                inputTokens: response.inputTokens,
                outputTokens: response.outputTokens,
                cachedInputTokens: response.cachedInputTokens,
                cacheWriteTokens: response.cacheWriteInputTokens
            )
            attempts.append(
                Attempt(
                    role: role,
                    number: attempts.count + 1,
                    response: response,
                    costUSD: cost,
                    candidate: link.id == primary ? nil : link.id
                )
            )
            let opened = breakers.record(
                link.id,
                failed: response.attemptClass.warrantsFallback,
                cooldown: link.cooldown
            )
            guard !opened,
                let delay = link.retryPolicy.delay(
                    afterAttempt: number,
                    attemptClass: response.attemptClass,
                    retryAfter: response.retryAfter,
                    jitter: jitter()
                )
            else {
                return response
            }
            try await Task.sleep(nanoseconds: UInt64(delay * 1e9))
            number += 1
        }
    }
}

/// One upstream stream, read by one task at a time: first while a chain waits for its first content, then by
/// whoever relays the rest.
public final class ProviderEventCursor: @unchecked Sendable {
    var iterator: AsyncStream<[ProviderEvent]>.AsyncIterator
    var batch: [ProviderEvent] = []
    var position = 0
    /// The attempt's client span: it sees every event read and ends with the stream (or when the cursor goes).
    let span: StreamedAttemptSpan?

    init(_ stream: AsyncStream<[ProviderEvent]>, span: StreamedAttemptSpan? = nil) {
        iterator = stream.makeAsyncIterator()
        self.span = span
    }

    deinit { span?.end() }

    /// The events that already arrived and were not read yet (no waiting).
    public func drainBuffered() -> [ProviderEvent] {
        defer {
            batch = []
            position = 0
        }
        let events = Array(batch[position...])
        if let span { for event in events { span.observe(event) } }
        return events
    }

    public func next() async -> ProviderEvent? {
        while position == batch.count {
            guard let next = await iterator.next() else {
                span?.end()
                return nil
            }
            batch = next
            position = 0
        }
        position += 1
        span?.observe(batch[position - 1])
        return batch[position - 1]
    }
}

extension FallbackChain {
    /// How a streamed request down the chain started.
    public enum StreamOpening: Sendable {
        /// A candidate sent content (or a complete empty answer): relay `buffered`, then the rest of `cursor`.
        case ready(cursor: ProviderEventCursor, buffered: [ProviderEvent], link: ChainLink, attempts: Int, cost: Double)
        /// Every candidate failed before any content.
        case failed(AttemptClass, message: String, retryAfter: Double?, attempts: Int, cost: Double)
    }

    /// The chain for a stream that someone is waiting to relay: the same walk as `send` (each candidate's retries,
    /// then the next on a failure that warrants it, breakers shared), but it stops at the first content event and
    /// hands over the live stream. Failures after that point are the relay's to handle.
    public func open() async -> StreamOpening {
        var attempts = 0
        var cost = 0.0
        var last: (AttemptClass, String, Double?) = (.connection, "no candidate was tried", nil)
        var seen: Set<String> = []
        var skipped: [(link: ChainLink, until: UInt64)] = []
        var tried = false

        /// Every attempt at one link: nil when it failed (`last` says how), else the opening.
        func attempt(_ link: ChainLink) async -> StreamOpening? {
            tried = true
            var number = 1
            while true {
                if Task.isCancelled {
                    return .failed(.timeout, message: "cancelled", retryAfter: nil, attempts: attempts, cost: cost)
                }
                attempts += 1
                let cursor = ProviderEventCursor(
                    link.provider.eventBatches(for: link.request),
                    span: StreamedAttemptSpan(link, number: number)
                )
                var buffered: [ProviderEvent] = []
                var failure: (AttemptClass, String, Double?)?
                reading: while let event = await cursor.next() {
                    buffered.append(event)
                    switch event {
                    case .text, .toolCall, .end:
                        _ = breakers.record(link.id, failed: false, cooldown: link.cooldown)
                        return .ready(cursor: cursor, buffered: buffered, link: link, attempts: attempts, cost: cost)
                    case .failed(let attemptClass, _, let message, let retryAfter):
                        failure = (attemptClass, message, retryAfter)
                        break reading
                    case .usage(let usage):
                        cost += link.price.cost(
                            inputTokens: usage.input ?? 0,
                            outputTokens: usage.output ?? 0,
                            cachedInputTokens: usage.cacheRead ?? 0,
                            cacheWriteTokens: usage.cacheWrite ?? 0
                        )
                    default:
                        continue
                    }
                }
                let (attemptClass, message, retryAfter) =
                    failure ?? (.streamCut, "the stream ended before any content", nil)
                cursor.span?.end()
                last = (attemptClass, "\(link.id): \(message)", retryAfter)
                let opened = breakers.record(link.id, failed: attemptClass.warrantsFallback, cooldown: link.cooldown)
                if !opened,
                    let delay = link.retryPolicy.delay(
                        afterAttempt: number,
                        attemptClass: attemptClass,
                        retryAfter: retryAfter,
                        jitter: jitter()
                    )
                {
                    try? await Task.sleep(nanoseconds: UInt64(delay * 1e9))
                    number += 1
                    continue
                }
                if !attemptClass.warrantsFallback {
                    return .failed(
                        attemptClass,
                        message: last.1,
                        retryAfter: retryAfter,
                        attempts: attempts,
                        cost: cost
                    )
                }
                return nil
            }
        }

        for link in links where seen.insert(link.id).inserted {
            if case .open(let until) = breakers.admit(link.id, cooldown: link.cooldown) {
                skipped.append((link, until))
                continue
            }
            if let opening = await attempt(link) { return opening }
        }
        // Every candidate is cooling down: probe the one that reopens first rather than fail unasked (as `send`).
        if !tried, let soonest = skipped.min(by: { $0.until < $1.until }), let opening = await attempt(soonest.link) {
            return opening
        }
        return .failed(last.0, message: last.1, retryAfter: last.2, attempts: attempts, cost: cost)
    }
}
