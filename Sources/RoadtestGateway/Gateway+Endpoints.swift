import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import RoadtestCore
import RoadtestServer
import RoadtestStore
import Synchronization

// MARK: - The other endpoints (authentication and limits are applied by `GuardMiddleware`)

extension Gateway {
    /// `GET /v1/models`: the route names.
    func models() -> Response {
        let data = policy.routes.map {
            JSONValue.object(["id": .string($0.name), "object": .string("model"), "owned_by": .string("roadtest")])
        }
        return Self.json(.object(["object": .string("list"), "data": .array(data)]))
    }

    /// `GET /metrics`: Prometheus text format.
    func metricsText() -> Response {
        Response(
            status: .ok,
            headers: [.contentType: "text/plain; version=0.0.4"],
            body: .init(byteBuffer: ByteBuffer(string: metrics.exposition() + connectionsExposition()))
        )
    }

    /// The connection guards' counts in Prometheus text (kept by the server, not in the registry).
    func connectionsExposition() -> String {
        let name = "roadtest_gateway_connections_closed_total"
        return "# HELP \(name) Connections the gateway closed on its own: refused (the client address held "
            + "max_connections_per_client) or timed_out (a slow request head or body, or idle past idle_timeout).\n"
            + "# TYPE \(name) counter\n"
            + "\(name){reason=\"refused\"} \(connections.refused)\n"
            + "\(name){reason=\"timed_out\"} \(connections.timedOut)\n"
    }

    /// `GET /_roadtest/status`: routes as they serve now, spend, counts.
    func status() async -> Response {
        var routes: [JSONValue] = []
        for configured in policy.routes {
            let route = rollbacks.active(configured)
            let rollback = rollbacks.event(configured.name).map { event in
                JSONValue.object([
                    "from": .string(event.from), "to": .string(event.to), "at": .number(event.at),
                    "reason": .string(event.reason),
                ])
            }
            routes.append(
                .object([
                    "rolled_back": rollback ?? .null,
                    "name": .string(route.name),
                    "candidate": .string(route.candidate),
                    "fallback": .array(route.fallback.map(JSONValue.string)),
                    "spent_today_usd": .number(await allowances.spent(route)),
                    "budget_usd_per_day": route.budgetPerDay.map(JSONValue.number) ?? .null,
                ])
            )
        }
        let counts = self.counts.mapValues { JSONValue.number(Double($0)) }
        return Self.json(
            .object([
                "routes": .array(routes), "requests": .object(counts),
                "budgets": .string(sharesAllowances ? "shared" : "process"),
                "records_dropped": .number(Double(recorder.droppedCount)),
                "shadow_dropped": .number(Double(shadower.droppedCount)),
            ])
        )
    }

    /// `POST /v1/feedback {"request_id", "rating": "up"|"down"|1-5, "correction"?, "comment"?}`.
    func feedback(_ request: Request) async -> Response {
        var request = request
        guard let body = try? await request.body.collect(upTo: policy.maxBodyBytes),
            case .object(let object)? = JSONValue.parse(Data(body.readableBytesView))
        else {
            return Self.error(.badRequest, "feedback must be a JSON object", type: "invalid_request_error")
        }
        guard let requestID = object["request_id"]?.stringValue else {
            return Self.error(
                .badRequest,
                "feedback needs 'request_id' (the x-roadtest-request-id of the answer)",
                type: "invalid_request_error"
            )
        }
        guard let rating = object["rating"].flatMap(Feedback.score(of:)) else {
            return Self.error(.badRequest, "'rating' is up, down or 1-5", type: "invalid_request_error")
        }
        guard let store, let feedbackStore else {
            return Self.error(.serviceUnavailable, "the gateway runs without a store", type: "api_error")
        }
        var known = recent.withLock { $0.ids.contains(requestID) }
        if !known { known = (try? await store.gatewayRequestExists(requestID)) == true }
        guard known else {
            return Self.error(.notFound, "no request \(requestID)", type: "invalid_request_error")
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
            try await feedbackStore.recordFeedback(feedback)
        } catch {
            return Self.error(.internalServerError, "could not store the feedback", type: "api_error")
        }
        return Self.json(.object(["ok": .bool(true), "request_id": .string(requestID)]))
    }
}
