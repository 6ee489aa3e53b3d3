import Foundation
import RoadtestCore

/// The gateway's records over SQL: request records, spend per route, shadow pairs and kept bodies.
public struct SQLGatewayStore: GatewayStore {
    let database: any SQLDatabase
    var dialect: SQLDialect { database.dialect }

    public func recordGatewayRequests(_ records: [GatewayRecord]) async throws {
        guard let first = records.first else { return }
        // One statement text for the batch (the same columns for every record), its values per record.
        let sql = dialect.upsert(first).sql
        try await database.write(records.map { SQLStatement(sql, $0.columns.map(\.value)) })
    }

    public func gatewayRequests(limit: Int) async throws -> [GatewayRecord] {
        try await database.fetchAll(
            SQLStatement("SELECT * FROM gateway_request ORDER BY received_at DESC LIMIT ?", [limit])
        ).map(GatewayRecord.init(row:))
    }

    public func gatewaySpend(since: Double) async throws -> [String: Double] {
        var spend: [String: Double] = [:]
        try await database.read(
            SQLStatement(
                """
                SELECT route, SUM(cost_usd) AS spent FROM gateway_request
                WHERE received_at >= ? AND route IS NOT NULL GROUP BY route
                """,
                [since]
            )
        ) { row in spend[try row.text("route")] = try row.optionalDouble("spent") ?? 0 }
        return spend
    }

    public func recordShadowPair(_ pair: ShadowPair) async throws {
        try await database.write(dialect.upsert(pair))
    }

    public func shadowPairs(route: String?, limit: Int) async throws -> [ShadowPair] {
        let order = "ORDER BY received_at, request_id, shadow_candidate LIMIT ?"
        let statement =
            if let route {
                SQLStatement("SELECT * FROM shadow_pair WHERE route = ? \(order)", [route, limit])
            } else {
                SQLStatement("SELECT * FROM shadow_pair \(order)", [limit])
            }
        return try await database.fetchAll(statement).map(ShadowPair.init(row:))
    }

    public func recordGatewayBody(_ subject: FeedbackSubject) async throws {
        try await database.write(dialect.upsert(GatewayBodyRow(subject: subject)))
    }

    public func gatewayRequestExists(_ id: String) async throws -> Bool {
        try await database.fetchOne(SQLStatement("SELECT 1 AS found FROM gateway_request WHERE id = ?", [id])) != nil
    }
}
