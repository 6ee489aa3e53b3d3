import CoreMetrics
import Foundation
import Hummingbird
import Logging
import RoadtestCore
import RoadtestProviders
import RoadtestServer
import RoadtestStore
import ServiceLifecycle
import Synchronization
import UnixSignals

/// The gateway: an OpenAI-compatible endpoint that serves a policy's routes through the same providers and
/// fallback chains as runs. `POST /v1/chat/completions` (streaming and not), `POST /v1/messages` (Anthropic),
/// `GET /v1/models` (the route names), `GET /_roadtest/status`, `GET /metrics`, `POST /v1/feedback`. Every response
/// carries `x-roadtest-request-id`, and `x-roadtest-served-by` when a candidate answered.
///
/// ```swift
/// let gateway = try Gateway(policy: policy, providers: providers, tokens: env["TOKENS"], store: store.gateway)
/// let app = try gateway.makeApplication(port: 8080)
/// try await gateway.makeServiceGroup(app: app).run()   // SIGTERM drains
/// ```
public final class Gateway: Sendable {
    public let policy: GatewayPolicy
    let providers: [String: any ModelProvider]
    let authenticator: TokenAuthenticator?
    /// Budgets and per-token rate limits: this process's, or the shared store's ledger.
    let allowances: Allowances
    let breakers = CircuitBreakers()
    public let recorder: GatewayRecorder
    public let metrics: GatewayMetrics
    /// Connections the gateway's servers closed on slow, idle or too many clients.
    public let connections = ConnectionTally()
    let store: (any GatewayStore)?
    let feedbackStore: (any FeedbackStore)?
    let shadower: Shadower
    let rollbacks = Rollbacks()
    /// Ids of the latest answered requests (bounded), so feedback can name one before its record is written.
    let recent = Mutex<(ids: Set<String>, order: [String])>(([], []))
    let counters = Mutex<[String: Int]>([:])
    let logger: Logger

    /// `tokens` is the value of the policy's `auth.tokens_env` variable (required when the policy names one).
    public init(
        policy: GatewayPolicy,
        providers: [String: any ModelProvider],
        tokens: String?,
        store: (any GatewayStore)?,
        feedback: (any FeedbackStore)? = nil,
        ledger: (any GatewayLedger)? = nil,
        spentToday: [String: Double] = [:],
        metricsExport: (any MetricsFactory)? = nil,
        logger: Logger = Logger(label: "roadtest.gateway")
    ) throws {
        self.policy = policy
        metrics = GatewayMetrics(otlp: metricsExport)
        self.providers = providers
        if let variable = policy.tokensEnvironmentVariable {
            let authenticator = TokenAuthenticator(list: tokens ?? "")
            guard !authenticator.isEmpty else {
                throw RoadtestError(
                    .invalidArgument,
                    "the policy's auth.tokens_env names \(variable), which is not set or holds no token",
                    hint: "export \(variable)=token1,token2 (clients send Authorization: Bearer TOKEN)"
                )
            }
            self.authenticator = authenticator
        } else {
            authenticator = nil
        }
        recorder = GatewayRecorder(store: store, ledger: ledger, logger: logger)
        allowances = Allowances(
            spentToday: spentToday,
            requestsPerMinute: policy.requestsPerMinute,
            ledger: ledger,
            recorder: recorder,
            logger: logger
        )
        self.store = store
        feedbackStore = feedback
        shadower = Shadower(store: store, capacity: policy.shadowQueue, breakers: breakers)
        self.logger = logger
    }

    /// Whether budgets and rate limits are shared with the other gateways on the store (a PostgreSQL ledger).
    public var sharesAllowances: Bool { allowances.ledger != nil }

    /// Whether clients must present a token.
    public var requiresAuthentication: Bool { authenticator != nil }

    public func makeRouter() -> Router<GatewayRequestContext> {
        let router = Router(context: GatewayRequestContext.self)
        // A server span per request (W3C traceparent honoured), its upstream attempts client spans beneath it; the
        // no-op tracer unless an OTLP endpoint is set.
        router.add(middleware: TracingMiddleware())
        router.add(middleware: RequestIDMiddleware())
        router.add(middleware: GuardMiddleware(gateway: self))
        router.post("/v1/chat/completions") { request, context in await self.chat(request, context, format: .openAI) }
        router.post("/v1/messages") { request, context in await self.chat(request, context, format: .anthropic) }
        router.get("/v1/models") { _, _ in self.models() }
        router.get("/_roadtest/status") { _, _ in await self.status() }
        router.get("/metrics") { _, _ in self.metricsText() }
        router.post("/v1/feedback") { request, _ in await self.feedback(request) }
        router.get("/health") { _, _ in Self.json(.object(["status": .string("ok")])) }
        return router
    }

    /// The gateway's HTTP server on `host:port` (port 0 picks one; `onRunning` gets it), closing slow and idle clients
    /// and capping connections per client address as the policy's `limits` say. Beyond loopback only with client
    /// authentication: anything else throws.
    public func makeApplication(
        host: String = "127.0.0.1",
        port: Int,
        onRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) throws -> some ApplicationProtocol {
        try HTTPServer.check(
            host: host,
            name: "gateway",
            exposure: .authenticatedBeyondLoopback(authenticated: requiresAuthentication)
        )
        return HTTPServer.makeApplication(
            router: makeRouter(),
            name: "gateway",
            host: host,
            port: port,
            connectionLimits: connectionLimits,
            onRunning: onRunning
        )
    }

    /// A second server on `host:port` that serves `GET /metrics` (and `GET /health`) without client authentication,
    /// for scrapers that send no token. It serves nothing else, so it can listen where the scraper reaches it.
    public func makeMetricsApplication(
        host: String = "127.0.0.1",
        port: Int,
        onRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) throws -> some ApplicationProtocol {
        let router = Router(context: BasicRequestContext.self)
        router.get("/metrics") { _, _ in self.metricsText() }
        router.get("/health") { _, _ in Self.json(.object(["status": .string("ok")])) }
        return HTTPServer.makeApplication(
            router: router,
            name: "gateway metrics",
            host: host,
            port: port,
            connectionLimits: connectionLimits,
            onRunning: onRunning
        )
    }

    /// The policy's limits on slow and idle clients and on connections per client address.
    public var connectionLimits: ConnectionLimits {
        ConnectionLimits(
            headerTimeout: .seconds(policy.headerTimeout),
            bodyTimeout: .seconds(policy.bodyTimeout),
            idleTimeout: .seconds(policy.idleTimeout),
            maxConnectionsPerClient: policy.maxConnectionsPerClient,
            tally: connections
        )
    }

    /// The gateway's background services, in start order: run them in one `ServiceGroup` before the HTTP server
    /// (`makeServiceGroup`), so that on shutdown the server drains first, then the shadow queue, then the records.
    public var services: [any Service] { [recorder, shadower] }

    /// The gateway's `ServiceGroup`: its services, `alongside` (the metrics listener) and `app`. SIGTERM and SIGINT (when `signals`) start a graceful
    /// shutdown: the server takes no new connection and finishes the requests in flight, queued shadow copies
    /// finish, buffered records are written; after `grace` whatever is left is cancelled.
    public func makeServiceGroup(
        app: some Service,
        alongside: [any Service] = [],
        grace: Duration = .seconds(10),
        signals: Bool = true
    ) -> ServiceGroup {
        var configuration = ServiceGroupConfiguration(
            services: services.map { ServiceGroupConfiguration.ServiceConfiguration(service: $0) }
                + alongside.map { .init(service: $0, successTerminationBehavior: .gracefullyShutdownGroup) }
                + [.init(service: app, successTerminationBehavior: .gracefullyShutdownGroup)],
            gracefulShutdownSignals: signals ? [.sigterm, .sigint] : [],
            logger: logger
        )
        configuration.maximumGracefulShutdownDuration = grace
        return ServiceGroup(configuration: configuration)
    }

    /// Waits until every queued shadow copy has finished and every buffered record is written (tests, benchmarks).
    public func settle() async {
        while shadower.pending > 0 { try? await Task.sleep(for: .milliseconds(10)) }
        await recorder.flush()
    }

    /// Shadow jobs dropped because the queue was full, and shadow jobs finished.
    public var shadowDropped: Int { shadower.droppedCount }
    public var shadowCompleted: Int { shadower.completedCount }

    /// Counts by outcome since start.
    public var counts: [String: Int] { counters.withLock { $0 } }

    /// Records a finished (or refused) request: rollback watch, counters, metrics, the store (off the client's path).
    func finish(_ record: GatewayRecord) {
        if let name = record.route, record.outcome.countsTowardSLO,
            let configured = policy.routes.first(where: { $0.name == name }), configured.rollback != nil,
            rollbacks.event(name) == nil,
            let event = rollbacks.observe(configured, failed: !record.outcome.isAnswered, e2e: record.endToEnd)
        {
            metrics.recordRollback(route: name)
            logger.warning(
                "route rolled back",
                metadata: [
                    "route": .string(name), "from": .string(event.from), "to": .string(event.to),
                    "reason": .string(event.reason),
                ]
            )
        }
        counters.withLock { $0[record.outcome.rawValue, default: 0] += 1 }
        if record.servedBy != nil {
            recent.withLock { recent in
                recent.ids.insert(record.id)
                recent.order.append(record.id)
                if recent.order.count > 100_000 {
                    // Forget the older half at once (amortised constant time per request).
                    for old in recent.order.prefix(50_000) { recent.ids.remove(old) }
                    recent.order.removeFirst(50_000)
                }
            }
        }
        metrics.record(record)
        if !recorder.record(record) { metrics.recordDropped() }
        logger.debug(
            "request",
            metadata: [
                "id": .string(record.id), "route": .string(record.route ?? "-"),
                "served_by": .string(record.servedBy ?? "-"), "status": .stringConvertible(record.status),
                "outcome": .string(record.outcome.rawValue),
            ]
        )
    }
}
