import Foundation
import RoadtestCore
import Synchronization

/// The gateway ledger in a PostgreSQL store (`Store.ledger`). A reservation is one conditional
/// `UPDATE … RETURNING` on the route's row for the day: PostgreSQL locks the row for the statement and re-checks the
/// condition against the latest committed spend, so concurrent admissions on any number of processes can never
/// together pass the cap. A rate-limit take is one `INSERT … ON CONFLICT DO UPDATE … WHERE` on the client's row.
final class PostgresGatewayLedger: GatewayLedger {
    let database: PostgresDatabase
    /// (route, day) rows this process knows exist, so the seeding insert runs once per route and day.
    let seeded = Mutex<Set<String>>([])

    init(database: PostgresDatabase) {
        self.database = database
    }

    static let now = PostgresTrialQueue.now

    /// Creates the route's row for `day` if missing, its spend seeded from the requests stored that day (a gateway
    /// that kept no ledger before, or records written by one).
    func ensureRow(route: String, day: Int) async throws {
        let key = "\(day)\u{1}\(route)"
        guard !seeded.withLock({ $0.contains(key) }) else { return }
        try await database.write(
            SQLStatement(
                """
                INSERT INTO gateway_budget (route, day, spent, reserved)
                SELECT ?, ?, COALESCE(SUM(cost_usd), 0), 0 FROM gateway_request
                WHERE route = ? AND received_at >= ? AND received_at < ?
                ON CONFLICT (route, day) DO NOTHING
                """,
                [route, day, route, Double(day) * 86_400, Double(day + 1) * 86_400]
            )
        )
        seeded.withLock { _ = $0.insert(key) }
    }

    func reserve(_ amount: Double, route: String, day: Int, cap: Double) async throws -> Bool {
        try await ensureRow(route: route, day: day)
        // A relative epsilon, as in the in-memory tracker: ten reservations of 0.01 fit a cap of 0.1.
        let row = try await database.fetchOne(
            SQLStatement(
                """
                UPDATE gateway_budget SET reserved = reserved + ?
                WHERE route = ? AND day = ? AND spent + reserved + ? <= ?
                RETURNING reserved
                """,
                [amount, route, day, amount, cap * (1 + 1e-12)]
            )
        )
        return row != nil
    }

    func settle(reserved: Double, cost: Double, route: String, day: Int) async throws {
        try await ensureRow(route: route, day: day)
        try await database.write(
            SQLStatement(
                """
                UPDATE gateway_budget SET reserved = GREATEST(reserved - ?, 0), spent = spent + ?
                WHERE route = ? AND day = ?
                """,
                [reserved, cost, route, day]
            )
        )
    }

    func budget(route: String, day: Int) async throws -> (spent: Double, reserved: Double) {
        try await ensureRow(route: route, day: day)
        guard
            let row = try await database.fetchOne(
                SQLStatement(
                    "SELECT spent, reserved FROM gateway_budget WHERE route = ? AND day = ?",
                    [route, day]
                )
            )
        else { return (0, 0) }
        return (try row.double("spent"), try row.double("reserved"))
    }

    func take(client: String, perMinute: Int) async throws -> Double? {
        let capacity = Double(perMinute)
        let rate = capacity / 60
        // EXCLUDED.at is the database's clock now; a bucket is refilled by the time since its last take.
        let refilled = "LEAST(?, gateway_rate.tokens + GREATEST(EXCLUDED.at - gateway_rate.at, 0) * ?)"
        let taken = try await database.fetchOne(
            SQLStatement(
                """
                INSERT INTO gateway_rate (client, tokens, at) VALUES (?, ?, \(Self.now))
                ON CONFLICT (client) DO UPDATE SET
                    tokens = \(refilled) - 1, at = GREATEST(gateway_rate.at, EXCLUDED.at)
                WHERE \(refilled) >= 1
                RETURNING tokens
                """,
                [client, capacity - 1, capacity, rate, capacity, rate]
            )
        )
        guard taken == nil else { return nil }
        let bucket = try await database.fetchOne(
            SQLStatement(
                "SELECT tokens, \(Self.now) - at AS elapsed FROM gateway_rate WHERE client = ?",
                [client]
            )
        )
        let tokens = min(
            capacity,
            (try bucket?.double("tokens") ?? 0) + max(0, try bucket?.double("elapsed") ?? 0) * rate
        )
        return max(0, (1 - tokens) / rate)
    }
}
