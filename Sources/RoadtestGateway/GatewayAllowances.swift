import Foundation
import Logging
import RoadtestCore
import RoadtestStore
import Synchronization

/// Where the gateway keeps its budgets and per-token rate limits: in this process (`BudgetTracker`, `RateLimiter`:
/// one process owns them, a SQLite store), or in the store's shared ledger (PostgreSQL: every replica on the store
/// enforces one budget per route and one limit per token).
///
/// A shared ledger that cannot be reached fails budgeted requests closed (503: money is never spent unguarded) and
/// rate limits open to this process's own limiter; either is logged once, and once more when the ledger is back.
final class Allowances: Sendable {
    let local: BudgetTracker
    let limiter: RateLimiter?
    let ledger: (any GatewayLedger)?
    /// Settles shared reservations off the client's path.
    let recorder: GatewayRecorder
    let logger: Logger
    let outage = Atomic<Bool>(false)
    /// How long an admission may wait for the ledger.
    let timeout: Duration

    init(
        spentToday: [String: Double],
        requestsPerMinute: Int?,
        ledger: (any GatewayLedger)?,
        recorder: GatewayRecorder,
        logger: Logger,
        timeout: Duration = .seconds(2)
    ) {
        self.recorder = recorder
        local = BudgetTracker(spentToday: spentToday)
        limiter = requestsPerMinute.map(RateLimiter.init(perMinute:))
        self.ledger = ledger
        self.logger = logger
        self.timeout = timeout
    }

    enum Admission {
        case admitted(Reservation)
        case refused
        case unavailable
    }

    /// Reserves `amount` on `route` (capped at `cap` a day, or unbudgeted when nil).
    func reserve(_ amount: Double, route: String, cap: Double?) async -> Admission {
        guard let cap else { return .admitted(Reservation(self, route: route, amount: 0, day: nil, shared: false)) }
        let day = BudgetTracker.day(Date())
        guard let ledger else {
            guard local.reserve(amount, on: route, cap: cap) else { return .refused }
            return .admitted(Reservation(self, route: route, amount: amount, day: day, shared: false))
        }
        do {
            let fits = try await Deadline.value(within: timeout) {
                try await ledger.reserve(amount, route: route, day: day, cap: cap)
            }
            recovered()
            return fits ? .admitted(Reservation(self, route: route, amount: amount, day: day, shared: true)) : .refused
        } catch {
            failed(error)
            return .unavailable
        }
    }

    /// Takes one request from `client`'s rate limit; nil when allowed, else seconds to wait.
    func take(client: Int) async -> Double? {
        guard let limiter else { return nil }
        guard let ledger else { return limiter.take(client) }
        do {
            let wait = try await Deadline.value(within: timeout) {
                try await ledger.take(client: "token:\(client)", perMinute: limiter.perMinute)
            }
            recovered()
            return wait
        } catch {
            failed(error)
            return limiter.take(client)
        }
    }

    /// What `route` spent today: the shared ledger's figure for a budgeted route on a shared store, else this
    /// process's.
    func spent(_ route: GatewayPolicy.Route) async -> Double {
        if route.budgetPerDay != nil, let ledger,
            let budget = try? await Deadline.value(
                within: timeout,
                { try await ledger.budget(route: route.name, day: BudgetTracker.day(Date())) }
            )
        {
            return budget.spent
        }
        return local.spent(route.name)
    }

    func failed(_ error: any Error) {
        if !outage.exchange(true, ordering: .relaxed) {
            logger.error(
                "cannot reach the shared budget ledger; budgeted routes answer 503, rate limits are per process until it is back",
                metadata: ["error": "\(error)"]
            )
        }
    }

    func recovered() {
        if outage.exchange(false, ordering: .relaxed) { logger.notice("the shared budget ledger answers again") }
    }
}

/// What a request reserved when it was admitted. `settle(cost:)` ends it with what the request really cost; a
/// reservation dropped without settling (a client that left before its answer began) settles at the cost it was
/// told last (`charge`), so nothing stays reserved.
final class Reservation: Sendable {
    let allowances: Allowances
    let route: String
    let amount: Double
    let day: Int?
    let shared: Bool
    let state = Mutex<(settled: Bool, cost: Double)>((false, 0))

    init(_ allowances: Allowances, route: String, amount: Double, day: Int?, shared: Bool) {
        self.allowances = allowances
        self.route = route
        self.amount = amount
        self.day = day
        self.shared = shared
    }

    /// What the request has cost so far (failed attempts), charged if it is never settled.
    func charge(_ cost: Double) {
        state.withLock { $0.cost = cost }
    }

    /// Ends the reservation: what was reserved is released and `cost` is added to the route's spend (once).
    func settle(cost: Double) {
        let first = state.withLock { state -> Bool in
            defer { state = (true, cost) }
            return !state.settled
        }
        if first { release(cost: cost) }
    }

    func release(cost: Double) {
        // This process's figures (status, metrics) always; the shared ledger's through the recorder, off the path.
        allowances.local.settle(reserved: shared ? 0 : amount, cost: cost, on: route)
        if shared, let day {
            allowances.recorder.settle(Settlement(route: route, day: day, reserved: amount, cost: cost))
        }
    }

    deinit {
        let (settled, cost) = state.withLock { $0 }
        if !settled { release(cost: cost) }
    }
}

/// A shared reservation to settle in the ledger.
struct Settlement: Sendable {
    var route: String
    var day: Int
    var reserved: Double
    var cost: Double
}
