import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import RoadtestCore

/// What the gateway knows about a request while it is handled: its id (sent back as `x-roadtest-request-id`),
/// when it arrived, and which client token it was authenticated with (the index, for per-token limits).
public struct GatewayRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// `rt-` and 32 hex digits; the id of the stored record and of feedback about it.
    public var requestID: String
    /// Seconds since 1970 when the request arrived.
    public var receivedAt: Double
    /// Monotonic nanoseconds at arrival (latencies are measured from here).
    public var arrival: UInt64
    /// The index of the client's token (0 when the gateway has no authentication).
    public var client = 0

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        requestID = Gateway.requestID()
        receivedAt = Date().timeIntervalSince1970
        arrival = Monotonic.now()
    }
}

/// Every response carries the request's id.
struct RequestIDMiddleware: RouterMiddleware {
    typealias Context = GatewayRequestContext

    func handle(
        _ request: Request,
        context: Context,
        next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        var response = try await next(request, context)
        response.headers[Gateway.requestIDHeader] = context.requestID
        return response
    }
}

/// Authentication and the per-token rate limit, for every endpoint but `/health` (and, unlimited, `/metrics`). A
/// refused chat request is recorded like any other request; the refusal is in the client's wire format.
struct GuardMiddleware: RouterMiddleware {
    typealias Context = GatewayRequestContext
    let gateway: Gateway

    func handle(
        _ request: Request,
        context: Context,
        next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        let path = request.uri.path
        if path == "/health" { return try await next(request, context) }
        let format: ClientFormat = path == "/v1/messages" ? .anthropic : .openAI
        let isChat = path == "/v1/chat/completions" || path == "/v1/messages"
        let isMetrics = path == "/metrics"
        if isMetrics && gateway.authenticator == nil { return try await next(request, context) }
        switch await gateway.admit(request, limited: !isMetrics, format: format) {
        case .allowed(let client):
            var context = context
            context.client = client
            return try await next(request, context)
        case .refused(let response, let refusal):
            if isChat {
                gateway.finish(
                    GatewayRecord(
                        id: context.requestID,
                        receivedAt: context.receivedAt,
                        status: Int(response.status.code),
                        outcome: .refused(refusal)
                    )
                )
            }
            return response
        }
    }
}

extension Gateway {
    enum Admission {
        case allowed(client: Int)
        case refused(Response, GatewayOutcome.Refusal)
    }

    /// Authentication, then the per-token rate limit.
    func admit(_ request: Request, limited: Bool, format: ClientFormat) async -> Admission {
        var client = 0
        if let authenticator {
            let presented = TokenAuthenticator.presented(
                authorization: request.headers[.authorization],
                apiKey: request.headers[HTTPField.Name("x-api-key")!]
            )
            guard let presented, let index = authenticator.match(presented) else {
                let response = Self.error(
                    format: format,
                    .unauthorized,
                    "missing or unknown token: send Authorization: Bearer TOKEN",
                    type: "authentication_error"
                )
                return .refused(response, .unauthorized)
            }
            client = index
        }
        if limited, let wait = await allowances.take(client: client) {
            var response = Self.error(
                format: format,
                .tooManyRequests,
                "rate limit: \(policy.requestsPerMinute ?? 0) requests per minute for this token",
                type: "rate_limit_exceeded"
            )
            response.headers[.retryAfter] = String(Int(wait.rounded(.up)))
            return .refused(response, .rateLimited)
        }
        return .allowed(client: client)
    }
}
