import Foundation

/// How a gateway request ended, as stored, counted and labelled in metrics.
public enum GatewayOutcome: RawRepresentable, Sendable, Hashable, Codable, CustomStringConvertible {
    /// A candidate answered in full (`ok`).
    case answered
    /// The gateway refused the request itself, before any candidate was asked.
    case refused(Refusal)
    /// No complete answer: every candidate failed before answering (the last attempt's class), or the stream broke
    /// after content reached the client (`stream_cut`).
    case failed(AttemptClass)
    /// The client went away before the answer ended.
    case clientGone
    /// The gateway stopped before the answer ended.
    case cancelled

    /// Why the gateway refused a request.
    public enum Refusal: String, Sendable, CaseIterable {
        case unauthorized
        case rateLimited = "rate_limited"
        case budget
        case tooLarge = "too_large"
        case badRequest = "bad_request"
        case unknownRoute = "unknown_route"
        case noCandidate = "no_candidate"
    }

    /// The stored and labelled name: `ok`, an attempt class (`http_429`, `stream_cut`, ...), a refusal
    /// (`unauthorized`, `budget`, ...), `client_gone` or `cancelled`.
    public var rawValue: String {
        switch self {
        case .answered: "ok"
        case .refused(let refusal): refusal.rawValue
        case .failed(let attemptClass): attemptClass.rawValue
        case .clientGone: "client_gone"
        case .cancelled: "cancelled"
        }
    }

    public init?(rawValue: String) {
        switch rawValue {
        case "ok": self = .answered
        case "client_gone": self = .clientGone
        case "cancelled": self = .cancelled
        default:
            if let refusal = Refusal(rawValue: rawValue) {
                self = .refused(refusal)
            } else if let attemptClass = AttemptClass(rawValue: rawValue), attemptClass != .ok {
                self = .failed(attemptClass)
            } else {
                return nil
            }
        }
    }

    public var description: String { rawValue }

    /// Whether a candidate answered in full.
    public var isAnswered: Bool { self == .answered }

    /// Whether the outcome says something about the route's candidates (what an SLO counts): the gateway's own
    /// refusals and requests cut short by the client or by the gateway stopping do not.
    public var countsTowardSLO: Bool {
        switch self {
        case .answered, .failed: true
        case .refused, .clientGone, .cancelled: false
        }
    }
}

/// What a gateway does with a request, decided from the policy alone (pure: no clock, no randomness of its own).
public enum RoutePlan: Sendable, Equatable {
    /// Serve it with this route (after any canary split or rollback).
    case serve(GatewayPolicy.Route)
    /// No route has the requested name (or tag).
    case unknownRoute(requested: String, known: [String])
    /// The route has spent its budget for the day.
    case overBudget(route: String, budget: Double)
}

extension GatewayPolicy {
    /// The route for a request naming `model` (or sent with `tag`): a rolled-back route serves `rolledBack`; otherwise
    /// a canary split draws its candidate with `draw` (in 0..<1); a route whose `spentToday` reached its budget
    /// refuses.
    public func plan(
        model: String?,
        tag: String?,
        rolledBack: (String) -> Route?,
        draw: Double,
        spentToday: (String) -> Double
    ) -> RoutePlan {
        guard let configured = route(model: model, tag: tag) else {
            return .unknownRoute(requested: model ?? "", known: routes.map(\.name))
        }
        let route = rolledBack(configured.name) ?? configured.weighted(draw: draw)
        if let budget = route.budgetPerDay, spentToday(route.name) >= budget {
            return .overBudget(route: route.name, budget: budget)
        }
        return .serve(route)
    }
}
