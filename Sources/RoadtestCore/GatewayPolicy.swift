import Foundation

/// What `roadtest gateway` serves: candidates (a suite's keys) and routes (what clients send as `model`), with
/// the gateway's security limits. Written by `roadtest pick --policy` or by hand.
public struct GatewayPolicy: Sendable, Hashable {
    public struct Route: Sendable, Hashable {
        /// What clients send as `model`.
        public var name: String
        public var candidate: String
        /// Tried in order after the candidate's own retries (each at most once per request).
        public var fallback: [String]
        /// Requests carrying `x-roadtest-tag: TAG` go to this route whatever their `model`.
        public var matchTag: String?
        /// USD per UTC day; past it the route answers 429 until midnight UTC.
        public var budgetPerDay: Double?
        /// Candidates that get a copy of a share of this route's live requests, off the client's path.
        public var shadow: [String] = []
        /// The share of live requests shadowed (0-1).
        public var shadowSample: Double = 0
        /// Switch the route to another candidate when its live SLO is breached.
        public var rollback: Rollback?
        /// A canary split: each request goes to one of these candidates with probability proportional to its weight
        /// (then down the route's fallbacks). Empty: always `candidate`.
        public var weights: [String: Double] = [:]

        /// This route with its candidate drawn from `weights` (`draw` is uniform in [0, 1)).
        public func weighted(draw: Double) -> Route {
            let total = weights.values.reduce(0, +)
            guard total > 0 else { return self }
            var point = draw * total
            for id in weights.keys.sorted() {
                point -= weights[id]!
                if point < 0 {
                    var chosen = self
                    chosen.candidate = id
                    chosen.fallback = fallback.filter { $0 != id }
                    return chosen
                }
            }
            return self
        }
        public var location: SourceLocation?

        public init(
            name: String,
            candidate: String,
            fallback: [String] = [],
            matchTag: String? = nil,
            budgetPerDay: Double? = nil,
            location: SourceLocation? = nil
        ) {
            self.name = name
            self.candidate = candidate
            self.fallback = fallback
            self.matchTag = matchTag
            self.budgetPerDay = budgetPerDay
            self.location = location
        }
    }

    /// A route's automatic rollback: over the last `window` seconds (at least `minimumRequests` requests), an error
    /// rate above `errorRate` or an E2E p95 above `e2eP95` switches the route to `to`.
    public struct Rollback: Sendable, Hashable {
        public var to: String
        public var errorRate: Double?
        public var e2eP95: Double?
        public var window: Double
        public var minimumRequests: Int

        public init(
            to: String,
            errorRate: Double? = nil,
            e2eP95: Double? = nil,
            window: Double = 60,
            minimumRequests: Int = 10
        ) {
            self.to = to
            self.errorRate = errorRate
            self.e2eP95 = e2eP95
            self.window = window
            self.minimumRequests = minimumRequests
        }

        /// Why the window breaches the SLO, or nil. `samples`: (failed, E2E seconds) of the window's requests.
        public func breach(_ samples: [(failed: Bool, e2e: Double?)]) -> String? {
            guard samples.count >= minimumRequests else { return nil }
            let failed = samples.filter(\.failed).count
            let rate = Double(failed) / Double(samples.count)
            if let errorRate, rate > errorRate {
                return String(
                    format: "error rate %.1f%% > %.1f%% over %d requests",
                    rate * 100,
                    errorRate * 100,
                    samples.count
                )
            }
            if let e2eP95, let p95 = Statistics.percentile(sorted: samples.compactMap(\.e2e).sorted(), 0.95),
                p95 > e2eP95
            {
                return String(format: "E2E p95 %.3f s > %.3f s over %d requests", p95, e2eP95, samples.count)
            }
            return nil
        }
    }

    public var path: String
    public var candidates: [Candidate]
    public var defaults: Settings
    public var routes: [Route]
    /// The environment variable holding the client tokens (comma-separated); nil: no client authentication.
    public var tokensEnvironmentVariable: String?
    /// Largest request body, in bytes (413 above it).
    public var maxBodyBytes: Int
    /// Requests per minute per client token (429 with Retry-After above it); nil: unlimited.
    public var requestsPerMinute: Int?

    public init(
        path: String,
        candidates: [Candidate],
        defaults: Settings = Settings(),
        routes: [Route],
        tokensEnvironmentVariable: String? = nil,
        maxBodyBytes: Int = 1 << 20,
        requestsPerMinute: Int? = nil
    ) {
        self.path = path
        self.candidates = candidates
        self.defaults = defaults
        self.routes = routes
        self.tokensEnvironmentVariable = tokensEnvironmentVariable
        self.maxBodyBytes = maxBodyBytes
        self.requestsPerMinute = requestsPerMinute
    }

    /// The route for a request: the one matching its tag, else the one named like its model.
    public func route(model: String?, tag: String?) -> Route? {
        if let tag, let route = routes.first(where: { $0.matchTag == tag }) { return route }
        return routes.first { $0.name == model }
    }

    /// The candidates a route reaches: its own, then its fallbacks, each once.
    public func chain(of route: Route) -> [Candidate] {
        var seen: Set<String> = []
        return ([route.candidate] + route.fallback).compactMap { id in
            guard seen.insert(id).inserted else { return nil }
            return candidates.first { $0.id == id }
        }
    }

    /// Largest number of shadow requests waiting; more are dropped (and counted).
    public var shadowQueue: Int = 1000
    /// Output tokens a request that names no `max_tokens` (and whose candidate sets none) is assumed to produce when
    /// a budgeted route reserves its worst-case cost (`limits.reserve_output_tokens`).
    public var reserveOutputTokens: Int = 4096
    /// Seconds a connection may take to send a complete request head, from its opening or from the first byte of its
    /// next request (`limits.header_timeout`); then it is closed.
    public var headerTimeout: Double = 10
    /// Seconds a request may take to send its body, from the end of its head (`limits.body_timeout`).
    public var bodyTimeout: Double = 30
    /// Seconds a kept-alive connection may wait for its next request after an answer (`limits.idle_timeout`).
    public var idleTimeout: Double = 60
    /// Connections open at once from one client IP address; more are closed as they open
    /// (`limits.max_connections_per_client`; 0 in the policy: nil, no limit).
    public var maxConnectionsPerClient: Int? = 1024
    /// The share of answered requests whose input and output are kept (for review and feedback), after
    /// `redactions` (regular expressions) replaced what they match with `[redacted]`.
    public var bodySample: Double = 0
    public var redactions: [String] = []
    /// `otel: {content: true}`: exported traces may carry prompts and outputs (as `--otel-content`).
    public var otelContent = false

    /// Text with every redaction applied.
    public func redacted(_ text: String) -> String {
        var result = text
        for pattern in redactions {
            guard let regex = RegexCache.regex(pattern) else { continue }
            result = regex.stringByReplacingMatches(
                in: result,
                range: NSRange(result.startIndex..., in: result),
                withTemplate: "[redacted]"
            )
        }
        return result
    }

    /// The policy as a suite (no cases): what `CandidateEndpoints` needs to start local servers and providers.
    public var suite: Suite {
        Suite(name: "gateway", path: path, candidates: candidates, defaults: defaults, cases: [])
    }
}

/// One request the gateway served (or refused), as stored: no bodies, no tokens, no headers.
public struct GatewayRecord: Sendable, Hashable, Codable {
    public var id: String
    /// Seconds since 1970 when the request arrived.
    public var receivedAt: Double
    public var route: String?
    /// The candidate that answered (nil when none did).
    public var servedBy: String?
    /// The HTTP status the client got.
    public var status: Int
    /// How it ended (stored as `ok`, an attempt class, a refusal, `client_gone` or `cancelled`).
    public var outcome: GatewayOutcome
    public var stream: Bool
    /// Seconds from arrival to the first content the client got, and to the end of the response.
    public var timeToFirstToken: Double?
    public var endToEnd: Double?
    public var inputTokens: Int
    public var outputTokens: Int
    public var costUSD: Double
    /// Upstream attempts (retries and fallbacks included).
    public var attempts: Int
    /// Served by a fallback, not the route's own candidate.
    public var fellBack: Bool

    public init(
        id: String,
        receivedAt: Double,
        route: String? = nil,
        servedBy: String? = nil,
        status: Int,
        outcome: GatewayOutcome,
        stream: Bool = false,
        timeToFirstToken: Double? = nil,
        endToEnd: Double? = nil,
        inputTokens: Int = 0,
        outputTokens: Int = 0,
        costUSD: Double = 0,
        attempts: Int = 0,
        fellBack: Bool = false
    ) {
        self.id = id
        self.receivedAt = receivedAt
        self.route = route
        self.servedBy = servedBy
        self.status = status
        self.outcome = outcome
        self.stream = stream
        self.timeToFirstToken = timeToFirstToken
        self.endToEnd = endToEnd
        self.inputTokens = inputTokens
        self.outputTokens = outputTokens
        self.costUSD = costUSD
        self.attempts = attempts
        self.fellBack = fellBack
    }
}

/// A live request and a shadow candidate's answer to a copy of it.
public struct ShadowPair: Sendable, Hashable, Codable {
    public var requestID: String
    public var route: String
    public var receivedAt: Double
    /// The last user message (what the pair is about).
    public var input: String
    public var liveCandidate: String
    public var liveOutput: String
    public var liveOutcome: String
    public var liveEndToEnd: Double?
    public var liveCostUSD: Double
    public var shadowCandidate: String
    public var shadowOutput: String
    public var shadowOutcome: String
    public var shadowEndToEnd: Double?
    public var shadowCostUSD: Double

    public init(
        requestID: String,
        route: String,
        receivedAt: Double,
        input: String,
        liveCandidate: String,
        liveOutput: String,
        liveOutcome: String,
        liveEndToEnd: Double?,
        liveCostUSD: Double,
        shadowCandidate: String,
        shadowOutput: String,
        shadowOutcome: String,
        shadowEndToEnd: Double?,
        shadowCostUSD: Double
    ) {
        self.requestID = requestID
        self.route = route
        self.receivedAt = receivedAt
        self.input = input
        self.liveCandidate = liveCandidate
        self.liveOutput = liveOutput
        self.liveOutcome = liveOutcome
        self.liveEndToEnd = liveEndToEnd
        self.liveCostUSD = liveCostUSD
        self.shadowCandidate = shadowCandidate
        self.shadowOutput = shadowOutput
        self.shadowOutcome = shadowOutcome
        self.shadowEndToEnd = shadowEndToEnd
        self.shadowCostUSD = shadowCostUSD
    }
}
