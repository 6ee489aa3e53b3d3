import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import RoadtestCore
import RoadtestProviders
import RoadtestStore
import RoadtestWire
import Synchronization

/// The gateway: an OpenAI-compatible endpoint that serves a policy's routes through the same providers and
/// fallback chains as runs. `POST /v1/chat/completions` (streaming and not), `GET /v1/models` (the route names),
/// `GET /_roadtest/status`. Every response carries `x-roadtest-request-id`, and `x-roadtest-served-by` when a
/// candidate answered.
///
/// ```swift
/// let gateway = try Gateway(policy: policy, providers: providers, tokens: env["TOKENS"], store: store)
/// try await gateway.makeApplication(port: 8080).runService()
/// ```
public final class Gateway: Sendable {
    public let policy: GatewayPolicy
    let providers: [String: any ModelProvider]
    let authenticator: TokenAuthenticator?
    let limiter: RateLimiter?
    let budgets: BudgetTracker
    let breakers = CircuitBreakers()
    public let recorder: GatewayRecorder
    public let metrics = GatewayMetrics()
    let store: (any RunStore)?
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
        store: (any RunStore)?,
        spentToday: [String: Double] = [:],
        logger: Logger = Logger(label: "roadtest.gateway")
    ) throws {
        self.policy = policy
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
        limiter = policy.requestsPerMinute.map(RateLimiter.init(perMinute:))
        budgets = BudgetTracker(spentToday: spentToday)
        recorder = GatewayRecorder(store: store)
        self.store = store
        shadower = Shadower(store: store, capacity: policy.shadowQueue, breakers: breakers)
        self.logger = logger
    }

    /// Whether clients must present a token.
    public var requiresAuthentication: Bool { authenticator != nil }

    public func makeRouter() -> Router<BasicRequestContext> {
        let router = Router()
        router.post("/v1/chat/completions") { request, _ in await self.chat(request, format: .openAI) }
        router.post("/v1/messages") { request, _ in await self.chat(request, format: .anthropic) }
        router.get("/v1/models") { request, _ in self.models(request) }
        router.get("/_roadtest/status") { request, _ in self.status(request) }
        router.get("/metrics") { request, _ in self.metricsText(request) }
        router.post("/v1/feedback") { request, _ in await self.feedback(request) }
        router.get("/health") { _, _ in Self.json(.object(["status": .string("ok")]), id: nil) }
        return router
    }

    public func makeApplication(
        host: String = "127.0.0.1",
        port: Int,
        onRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) -> some ApplicationProtocol {
        var serverLogger = Logger(label: "roadtest.gateway.http")
        serverLogger.logLevel = .critical
        return Application(
            router: makeRouter(),
            configuration: .init(address: .hostname(host, port: port), serverName: "roadtest-gateway"),
            onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? port) },
            logger: serverLogger
        )
    }

    /// Stops taking shadow jobs, lets queued ones finish, and flushes the records.
    public func shutdown() async {
        await shadower.finish()
        await recorder.finish()
    }

    /// Shadow jobs dropped because the queue was full, and shadow jobs finished.
    public var shadowDropped: Int { shadower.droppedCount }
    public var shadowCompleted: Int { shadower.completedCount }

    /// Counts by outcome since start.
    public var counts: [String: Int] { counters.withLock { $0 } }

    // MARK: - Endpoints

    func models(_ request: Request) -> Response {
        let id = Self.requestID()
        if case .refused(let response) = authorize(request, id: id) { return response }
        let data = policy.routes.map {
            JSONValue.object(["id": .string($0.name), "object": .string("model"), "owned_by": .string("roadtest")])
        }
        return Self.json(.object(["object": .string("list"), "data": .array(data)]), id: id)
    }

    /// Prometheus text format (the same token as the API when the policy requires one).
    func metricsText(_ request: Request) -> Response {
        if authenticator != nil, case .refused(let response) = authorize(request, id: nil, limited: false) {
            return response
        }
        return Response(
            status: .ok,
            headers: [.contentType: "text/plain; version=0.0.4"],
            body: .init(byteBuffer: ByteBuffer(string: metrics.exposition()))
        )
    }

    func status(_ request: Request) -> Response {
        let id = Self.requestID()
        if case .refused(let response) = authorize(request, id: id) { return response }
        let routes = policy.routes.map { configured in
            let route = rollbacks.active(configured)
            let rollback = rollbacks.event(configured.name).map { event in
                JSONValue.object([
                    "from": .string(event.from), "to": .string(event.to), "at": .number(event.at),
                    "reason": .string(event.reason),
                ])
            }
            return JSONValue.object([
                "rolled_back": rollback ?? .null,
                "name": .string(route.name),
                "candidate": .string(route.candidate),
                "fallback": .array(route.fallback.map(JSONValue.string)),
                "spent_today_usd": .number(budgets.spent(route.name)),
                "budget_usd_per_day": route.budgetPerDay.map(JSONValue.number) ?? .null,
            ])
        }
        let counts = self.counts.mapValues { JSONValue.number(Double($0)) }
        return Self.json(
            .object([
                "routes": .array(routes), "requests": .object(counts),
                "records_dropped": .number(Double(recorder.droppedCount)),
                "shadow_dropped": .number(Double(shadower.droppedCount)),
            ]),
            id: id
        )
    }

    enum Authorization {
        case allowed(client: Int)
        case refused(Response)
    }

    /// Authentication, then the per-token rate limit.
    func authorize(
        _ request: Request,
        id: String?,
        limited: Bool = true,
        format: ClientFormat = .openAI
    ) -> Authorization {
        var client = 0
        if let authenticator {
            let presented = TokenAuthenticator.presented(
                authorization: request.headers[.authorization],
                apiKey: request.headers[HTTPField.Name("x-api-key")!]
            )
            guard let presented, let index = authenticator.match(presented) else {
                return .refused(
                    Self.error(
                        format: format,
                        .unauthorized,
                        "missing or unknown token: send Authorization: Bearer TOKEN",
                        type: "authentication_error",
                        id: id
                    )
                )
            }
            client = index
        }
        if limited, let limiter, let wait = limiter.take(client) {
            var response = Self.error(
                format: format,
                .tooManyRequests,
                "rate limit: \(policy.requestsPerMinute ?? 0) requests per minute for this token",
                type: "rate_limit_exceeded",
                id: id
            )
            response.headers[.retryAfter] = String(Int(wait.rounded(.up)))
            return .refused(response)
        }
        return .allowed(client: client)
    }

    func chat(_ request: Request, format: ClientFormat) async -> Response {
        let id = Self.requestID()
        let arrival = Monotonic.now()
        var record = GatewayRecord(id: id, receivedAt: Date().timeIntervalSince1970, status: 200, outcome: "ok")
        func refuse(_ response: Response, _ outcome: String) -> Response {
            record.status = Int(response.status.code)
            record.outcome = outcome
            finish(record)
            return response
        }
        if case .refused(let response) = authorize(request, id: id, format: format) {
            return refuse(response, response.status == .unauthorized ? "unauthorized" : "rate_limited")
        }
        var request = request
        let body: ByteBuffer
        do {
            body = try await request.body.collect(upTo: policy.maxBodyBytes)
        } catch {
            return refuse(
                Self.error(
                    format: format,
                    .contentTooLarge,
                    "request body over \(policy.maxBodyBytes) bytes",
                    type: "invalid_request_error",
                    id: id
                ),
                "too_large"
            )
        }
        let wire: Incoming
        let decoded: Result<Incoming, WireError> =
            format == .anthropic
            ? WireJSON.decode(AnthropicMessages.Request.self, from: Data(body.readableBytesView)).map(
                Incoming.init(anthropic:)
            )
            : WireJSON.decode(OpenAIChat.Request.self, from: Data(body.readableBytesView)).map(Incoming.init(openAI:))
        switch decoded {
        case .success(let incoming): wire = incoming
        case .failure(let error):
            return refuse(
                Self.error(
                    format: format,
                    .badRequest,
                    "not a \(format == .anthropic ? "messages" : "chat completions") request: \(error.reason)",
                    type: "invalid_request_error",
                    id: id
                ),
                "bad_request"
            )
        }
        let tag = request.headers[HTTPField.Name("x-roadtest-tag")!]
        guard let configured = policy.route(model: wire.model, tag: tag) else {
            let names = policy.routes.map(\.name).joined(separator: ", ")
            return refuse(
                Self.error(
                    format: format,
                    .notFound,
                    "no route named '\(wire.model ?? "")'; routes: \(names)",
                    type: "invalid_request_error",
                    code: "model_not_found",
                    id: id
                ),
                "unknown_route"
            )
        }
        // A rolled-back route serves its rollback candidate; otherwise a canary split draws the candidate.
        let route =
            rollbacks.event(configured.name) == nil
            ? configured.weighted(draw: Double.random(in: 0..<1)) : rollbacks.active(configured)
        record.route = route.name
        if let budget = route.budgetPerDay, budgets.spent(route.name) >= budget {
            return refuse(
                Self.error(
                    format: format,
                    .tooManyRequests,
                    String(format: "route '%@' has spent its budget of $%.2f for today (UTC)", route.name, budget),
                    type: "budget_exceeded",
                    id: id
                ),
                "budget"
            )
        }
        let links = self.links(for: route, wire: wire)
        guard !links.isEmpty else {
            return refuse(
                Self.error(
                    format: format,
                    .serviceUnavailable,
                    "route '\(route.name)' has no candidate to serve it",
                    type: "api_error",
                    id: id
                ),
                "no_candidate"
            )
        }
        record.stream = wire.stream
        let shadow = shadowLinks(for: route, wire: wire)
        if wire.stream {
            return await stream(
                links: links,
                route: route,
                includeUsage: wire.includeUsage,
                record: record,
                arrival: arrival,
                shadow: shadow,
                format: format
            )
        }
        return await whole(links: links, route: route, record: record, arrival: arrival, shadow: shadow, format: format)
    }

    // MARK: - Requests upstream

    /// The request for each candidate of the route's chain: the client's request with the candidate's model, and
    /// the candidate's settings where the client set none.
    func links(for route: GatewayPolicy.Route, wire: Incoming) -> [ChainLink] {
        let system = wire.system
        let messages = wire.messages
        let tools = wire.tools
        return policy.chain(of: route).compactMap { candidate in
            guard let provider = providers[candidate.id] else { return nil }
            let settings = policy.defaults.overlaid(with: candidate.settings)
            var extra = settings.extra
            extra.merge(wire.extra) { _, client in client }
            let request = ChatRequest(
                model: candidate.model,
                system: system.isEmpty ? settings.system : system.joined(separator: "\n\n"),
                messages: messages,
                temperature: wire.temperature ?? settings.temperature,
                maxTokens: wire.maxTokens ?? settings.maxTokens,
                stream: wire.stream,
                extra: extra,
                timeout: settings.timeout ?? Settings.builtInTimeout,
                tools: tools,
                toolChoice: wire.toolChoice
            )
            return ChainLink(
                id: candidate.id,
                provider: provider,
                request: request,
                price: candidate.effectivePrice,
                retryPolicy: RetryPolicy(settings: settings),
                cooldown: candidate.cooldown
            )
        }
    }

    /// The shadow candidates' requests for this live request, when the route's sample picks it.
    func shadowLinks(for route: GatewayPolicy.Route, wire: Incoming) -> [ChainLink] {
        guard !route.shadow.isEmpty, Double.random(in: 0..<1) < route.shadowSample else { return [] }
        return route.shadow.flatMap { id -> [ChainLink] in
            links(for: GatewayPolicy.Route(name: route.name, candidate: id), wire: wire).prefix(1).map { link in
                var link = link
                link.request.stream = false
                return link
            }
        }
    }

    /// Keeps the input and output of a sampled share of answered requests (redacted), off the client's path.
    func keepBody(_ links: [ChainLink], record: GatewayRecord, output: String) {
        guard policy.bodySample > 0, record.outcome == "ok", let route = record.route, let store,
            let request = links.first?.request, Double.random(in: 0..<1) < policy.bodySample
        else { return }
        let subject = FeedbackSubject(
            subject: "request:" + record.id,
            tag: route,
            system: request.system.map(policy.redacted),
            input: policy.redacted(request.messages.last(where: { $0.role == "user" })?.content ?? ""),
            output: policy.redacted(output),
            receivedAt: record.receivedAt
        )
        Task { try? await store.recordGatewayBody(subject) }
    }

    /// `POST /v1/feedback {"request_id", "rating": "up"|"down"|1-5, "correction"?, "comment"?}`.
    func feedback(_ request: Request) async -> Response {
        let id = Self.requestID()
        if case .refused(let response) = authorize(request, id: id) { return response }
        var request = request
        guard let body = try? await request.body.collect(upTo: policy.maxBodyBytes),
            case .object(let object)? = JSONValue.parse(Data(body.readableBytesView))
        else {
            return Self.error(.badRequest, "feedback must be a JSON object", type: "invalid_request_error", id: id)
        }
        guard let requestID = object["request_id"]?.stringValue else {
            return Self.error(
                .badRequest,
                "feedback needs 'request_id' (the x-roadtest-request-id of the answer)",
                type: "invalid_request_error",
                id: id
            )
        }
        guard let rating = object["rating"].flatMap(Feedback.score(of:)) else {
            return Self.error(.badRequest, "'rating' is up, down or 1-5", type: "invalid_request_error", id: id)
        }
        guard let store else {
            return Self.error(.serviceUnavailable, "the gateway runs without a store", type: "api_error", id: id)
        }
        var known = recent.withLock { $0.ids.contains(requestID) }
        if !known { known = (try? await store.gatewayRequestExists(requestID)) == true }
        guard known else {
            return Self.error(.notFound, "no request \(requestID)", type: "invalid_request_error", id: id)
        }
        let feedback = Feedback(
            subject: "request:" + requestID,
            rating: rating.text,
            score: rating.score,
            correction: object["correction"]?.stringValue.map(policy.redacted),
            comment: object["comment"]?.stringValue.map(policy.redacted),
            source: "api"
        )
        do {
            try await store.recordFeedback(feedback)
        } catch {
            return Self.error(.internalServerError, "could not store the feedback", type: "api_error", id: id)
        }
        return Self.json(.object(["ok": .bool(true), "request_id": .string(requestID)]), id: id)
    }

    /// Queues the shadow copies of a finished live request (never awaited by the client).
    func shadow(_ links: [ChainLink], record: GatewayRecord, output: String) {
        guard !links.isEmpty, record.outcome == "ok", let route = record.route, let live = record.servedBy else {
            return
        }
        let input = links[0].request.messages.last(where: { $0.role == "user" })?.content ?? ""
        for link in links {
            let pair = ShadowPair(
                requestID: record.id,
                route: route,
                receivedAt: record.receivedAt,
                input: input,
                liveCandidate: live,
                liveOutput: output,
                liveOutcome: record.outcome,
                liveEndToEnd: record.endToEnd,
                liveCostUSD: record.costUSD,
                shadowCandidate: link.id,
                shadowOutput: "",
                shadowOutcome: "pending",
                shadowEndToEnd: nil,
                shadowCostUSD: 0
            )
            if !shadower.submit(.init(pair: pair, link: link)) { metrics.recordShadowDropped(route: route) }
        }
    }

    /// A non-streaming request: the chain's answer as an OpenAI chat completion.
    func whole(
        links: [ChainLink],
        route: GatewayPolicy.Route,
        record: GatewayRecord,
        arrival: UInt64,
        shadow shadowLinks: [ChainLink] = [],
        format: ClientFormat = .openAI
    ) async -> Response {
        var record = record
        let result: FallbackChain.Result
        do {
            result = try await FallbackChain(links: links, breakers: breakers).send(role: .task)
        } catch {
            record.status = 499
            record.outcome = "cancelled"
            finish(record)
            return Self.error(format: format, .init(code: 499), "cancelled", type: "api_error", id: record.id)
        }
        let response = result.response
        record.attempts = result.attempts.count
        record.costUSD = result.attempts.reduce(0) { $0 + $1.costUSD }
        record.inputTokens = result.attempts.reduce(0) { $0 + $1.inputTokens }
        record.outputTokens = result.attempts.reduce(0) { $0 + $1.outputTokens }
        record.endToEnd = Monotonic.seconds(from: arrival, to: Monotonic.now())
        budgets.add(record.costUSD, to: route.name)
        guard response.attemptClass == .ok else {
            return chainFailed(
                record,
                route: route,
                attemptClass: response.attemptClass,
                message: response.message ?? "",
                retryAfter: response.retryAfter,
                format: format
            )
        }
        record.servedBy = result.servedBy
        record.fellBack = result.servedBy != route.candidate
        record.timeToFirstToken = record.endToEnd
        finish(record)
        shadow(shadowLinks, record: record, output: response.output)
        keepBody(links, record: record, output: response.output)
        if format == .anthropic {
            var headers = Self.headers(id: record.id, servedBy: result.servedBy)
            headers[.contentType] = "application/json"
            let body = WireJSON.data(Self.anthropicResponse(id: record.id, model: route.name, response: response))
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: body)))
        }
        var message = OpenAIChat.Message(
            role: "assistant",
            content: response.toolCalls.isEmpty || !response.output.isEmpty ? .text(response.output) : nil
        )
        if !response.toolCalls.isEmpty {
            message.tool_calls = response.toolCalls.map {
                OpenAIChat.ToolCall(id: $0.id, function: .init(name: $0.name, arguments: $0.arguments))
            }
        }
        var completion = OpenAIChat.Completion(
            id: record.id,
            model: route.name,
            choices: [
                .init(index: 0, message: message, finish_reason: response.toolCalls.isEmpty ? "stop" : "tool_calls")
            ],
            usage: .init(
                prompt_tokens: TokenCount(response.inputTokens),
                completion_tokens: TokenCount(response.outputTokens)
            )
        )
        completion.created = Int(record.receivedAt)
        var headers = Self.headers(id: record.id, servedBy: result.servedBy)
        headers[.contentType] = "application/json"
        return Response(
            status: .ok,
            headers: headers,
            body: .init(byteBuffer: ByteBuffer(bytes: WireJSON.data(completion)))
        )
    }

    // MARK: - Helpers

    /// Outcomes that are the gateway's own refusals, not the route's answers: they do not count toward an SLO.
    static let refusals: Set<String> = [
        "unauthorized", "rate_limited", "budget", "too_large", "bad_request", "unknown_route", "no_candidate",
        "cancelled", "client_gone",
    ]

    func finish(_ record: GatewayRecord) {
        if let name = record.route, !Self.refusals.contains(record.outcome),
            let configured = policy.routes.first(where: { $0.name == name }), configured.rollback != nil,
            rollbacks.event(name) == nil,
            let event = rollbacks.observe(configured, failed: record.outcome != "ok", e2e: record.endToEnd)
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
        counters.withLock { $0[record.outcome, default: 0] += 1 }
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
                "outcome": .string(record.outcome),
            ]
        )
    }

    /// Records and answers a request every candidate of its route failed (before any content, when streaming):
    /// the status of the last failure, its message, and `Retry-After` on a 429.
    func chainFailed(
        _ record: GatewayRecord,
        route: GatewayPolicy.Route,
        attemptClass: AttemptClass,
        message: String,
        retryAfter: Double?,
        format: ClientFormat
    ) -> Response {
        var record = record
        let (status, type) = Self.status(for: attemptClass)
        record.status = Int(status.code)
        record.outcome = attemptClass.rawValue
        finish(record)
        var response = Self.error(
            format: format,
            status,
            "every candidate of route '\(route.name)' failed before answering; last: \(attemptClass.rawValue)"
                + (message.isEmpty ? "" : " (\(message.prefix(200)))"),
            type: type,
            id: record.id
        )
        if let retryAfter, status == .tooManyRequests {
            response.headers[.retryAfter] = String(Int(retryAfter.rounded(.up)))
        }
        return response
    }

    /// The HTTP status and OpenAI error type for a chain's final failure.
    static func status(for attemptClass: AttemptClass) -> (HTTPResponse.Status, String) {
        switch attemptClass {
        case .http429: return (.tooManyRequests, "rate_limit_exceeded")
        case .timeout: return (.gatewayTimeout, "timeout")
        case .http4xx: return (.badRequest, "invalid_request_error")
        default: return (.badGateway, "api_error")
        }
    }

    static func requestID() -> String { "rt-" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "") }

    static func headers(id: String?, servedBy: String?) -> HTTPFields {
        var headers = HTTPFields()
        if let id { headers[HTTPField.Name("x-roadtest-request-id")!] = id }
        if let servedBy { headers[HTTPField.Name("x-roadtest-served-by")!] = servedBy }
        return headers
    }

    static func json(_ value: JSONValue, id: String?) -> Response {
        var headers = headers(id: id, servedBy: nil)
        headers[.contentType] = "application/json"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: value.jsonText)))
    }

    static func error(
        format: ClientFormat = .openAI,
        _ status: HTTPResponse.Status,
        _ message: String,
        type: String,
        code: String? = nil,
        id: String?
    ) -> Response {
        var headers = headers(id: id, servedBy: nil)
        headers[.contentType] = "application/json"
        let data =
            format == .anthropic
            ? WireJSON.data(AnthropicMessages.ErrorBody(type: anthropicErrorType(Int(status.code)), message: message))
            : WireJSON.data(OpenAIChat.ErrorBody(message: message, type: type, code: code))
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}
