import Foundation
import RoadtestCore
import Synchronization

/// Automatic rollback per route: a sliding window of the live route's requests (failed or not, E2E); when the
/// route's SLO is breached over it, the route switches to its rollback candidate and stays there until restart.
final class Rollbacks: Sendable {
    struct Event: Sendable, Hashable {
        var from: String
        var to: String
        var at: Double
        var reason: String
    }

    struct State: Sendable {
        var samples: [(at: UInt64, failed: Bool, e2e: Double?)] = []
        var event: Event?
    }

    let state = Mutex<[String: State]>([:])

    /// The route as it serves now: rolled back, its candidate is the rollback target, followed by the fallbacks
    /// (the breaching candidate left out).
    func active(_ route: GatewayPolicy.Route) -> GatewayPolicy.Route {
        guard let event = state.withLock({ $0[route.name]?.event }) else { return route }
        var rolled = route
        rolled.candidate = event.to
        rolled.fallback = route.fallback.filter { $0 != event.to && $0 != event.from }
        return rolled
    }

    /// Adds a finished request of the live route; returns the rollback it triggered, if any.
    func observe(
        _ route: GatewayPolicy.Route,
        failed: Bool,
        e2e: Double?,
        now: UInt64 = Monotonic.now()
    ) -> Event? {
        guard let rollback = route.rollback else { return nil }
        return state.withLock { states in
            var state = states[route.name] ?? State()
            defer { states[route.name] = state }
            guard state.event == nil else { return nil }
            state.samples.append((now, failed, e2e))
            let horizon = now &- UInt64(rollback.window * 1e9)
            state.samples.removeAll { $0.at < horizon }
            guard let reason = rollback.breach(state.samples.map { ($0.failed, $0.e2e) }) else { return nil }
            let event = Event(from: route.candidate, to: rollback.to, at: Date().timeIntervalSince1970, reason: reason)
            state.event = event
            state.samples.removeAll()
            return event
        }
    }

    func event(_ route: String) -> Event? { state.withLock { $0[route]?.event } }
}
