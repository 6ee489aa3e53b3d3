import Foundation
import RoadtestCore
import RoadtestStore
import RoadtestTestSupport
import Testing

/// The PostgreSQL store on a real server (a fresh cluster on loopback, SCRAM passwords): the same records give the
/// same answers as SQLite, migrations run once however many processes open the store together, and passwords
/// come from the environment only.
@Suite(
    .serialized,
    .enabled(if: PostgresServer.isInstalled || TestEnvironment.isCI, "install PostgreSQL first (make test does)")
)
struct PostgresStoreTests {
    /// Writes the same run, gateway traffic, shadow pairs and feedback into `store`.
    static func fill(_ store: Store) async throws {
        var suite = StoreTests.suite(headers: ["Authorization": "Bearer sk-pg-secret"])
        suite.cases[0].samples = 2
        try await store.runs.createRun(StoreTests.run("r"), suite: suite)
        let outcomes = [
            StoreTests.outcome("c1", .original, passed: true, sample: 0, e2e: 0.1),
            StoreTests.outcome("c1", .original, passed: true, sample: 1, e2e: 0.3),
            StoreTests.outcome("c2", .original, passed: false, e2e: 0.2),
            StoreTests.outcome("c1", .perturbed(.typos, 1), passed: false, e2e: 0.4),
            StoreTests.outcome("c1", .perturbed(.typos, 2), passed: true, e2e: 0.5),
            StoreTests.outcome("c1", .prompt(1), passed: true, e2e: 0.6),
            StoreTests.outcome("c2", .prompt(1), passed: false, e2e: 0.7),
        ]
        for outcome in outcomes.reversed() { try await store.runs.record(outcome, runID: "r") }
        // Recorded twice: idempotent on the trial key.
        try await store.runs.record(outcomes[2], runID: "r")
        try await store.runs.setStatus(runID: "r", status: .finished, finishedAt: RunRecord.timestamp())
        try await store.gateway.recordGatewayRequests([
            GatewayRecord(
                id: "q1",
                receivedAt: 1_800_000_000.123456,
                route: "support",
                servedBy: "a",
                status: 200,
                outcome: .answered,
                stream: true,
                timeToFirstToken: 0.012,
                endToEnd: 0.2,
                inputTokens: 10,
                outputTokens: 3,
                costUSD: 0.0025,
                attempts: 1,
                fellBack: false
            )
        ])
        try await store.gateway.recordShadowPair(
            ShadowPair(
                requestID: "q1",
                route: "support",
                receivedAt: 1_800_000_000.123456,
                input: "hi",
                liveCandidate: "a",
                liveOutput: "hello",
                liveOutcome: "ok",
                liveEndToEnd: 0.2,
                liveCostUSD: 0.0025,
                shadowCandidate: "b",
                shadowOutput: "hey",
                shadowOutcome: "ok",
                shadowEndToEnd: nil,
                shadowCostUSD: 0.001
            )
        )
        try await store.gateway.recordGatewayBody(
            FeedbackSubject(
                subject: "request:q1",
                tag: "support",
                system: nil,
                input: "hi",
                output: "hello",
                receivedAt: 1_800_000_000.123456
            )
        )
        try await store.feedback.recordFeedback(
            Feedback(subject: "request:q1", rating: "down", score: 0, correction: "Hello!", createdAt: 1, source: "api")
        )
    }

    static func json<T: Encodable>(_ value: T) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    @Test func theSameRecordsGiveTheSameAnswersOnSQLiteAndPostgreSQL() async throws {
        try await PostgresServer.with { server in
            let sqlite = try Store.inMemory()
            try await StoreLocation.with(server.url(), environment: server.environment) { postgres in
                try await Self.fill(sqlite)
                try await Self.fill(postgres)

                let expected = try #require(try await sqlite.runs.report(runID: "r"))
                let report = try #require(try await postgres.runs.report(runID: "r"))
                // The run's own timestamps differ (two runs); every figure is the same.
                #expect(try Self.json(report.candidates) == Self.json(expected.candidates))
                #expect(try await postgres.runs.outcomeCount(runID: "r") == 7)
                #expect(try await postgres.runs.completedTrials(runID: "r") == sqlite.runs.completedTrials(runID: "r"))
                #expect(
                    try Self.json(await postgres.runs.trialRows(runID: "r", failuresOnly: true, limit: 10))
                        == Self.json(await sqlite.runs.trialRows(runID: "r", failuresOnly: true, limit: 10))
                )
                #expect(try await postgres.runs.runs(limit: 5).map(\.id) == ["r"])
                #expect(try await postgres.runs.run(id: "r")?.status == .finished)
                #expect(
                    try await postgres.gateway.gatewayRequests(limit: 5) == sqlite.gateway.gatewayRequests(limit: 5)
                )
                // Times keep their microseconds (8-byte doubles, not PostgreSQL's 4-byte REAL).
                #expect(try await postgres.gateway.gatewayRequests(limit: 1).first?.receivedAt == 1_800_000_000.123456)
                #expect(try await postgres.gateway.gatewaySpend(since: 0) == ["support": 0.0025])
                #expect(
                    try await postgres.gateway.shadowPairs(route: "support", limit: 5)
                        == sqlite.gateway.shadowPairs(route: nil, limit: 5)
                )
                #expect(try await postgres.feedback.allFeedback() == sqlite.feedback.allFeedback())
                #expect(try await postgres.gateway.gatewayRequestExists("q1"))
                #expect(try await !postgres.gateway.gatewayRequestExists("nope"))
                #expect(
                    try await postgres.feedback.reviewSubjects(limit: 10).map(\.subject)
                        == sqlite.feedback.reviewSubjects(limit: 10).map(\.subject)
                )
                // The header's value is nowhere in the database.
                let stored = try await server.psql("SELECT suite_json FROM run")
                #expect(!stored.contains("sk-pg-secret") && stored.contains(Suite.redacted))
            }
        }
    }

    @Test func storesOpenedTogetherMigrateOnceAndPasswordsComeOnlyFromTheEnvironment() async throws {
        try await PostgresServer.with { server in
            // Four processes' worth of stores opening a new database at once: one set of migrations.
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<4 {
                    group.addTask {
                        try await StoreLocation.with(server.url(), environment: server.environment) { _ in }
                    }
                }
                try await group.waitForAll()
            }
            let applied = try await server.psql("SELECT count(*) FROM roadtest_migration")
            #expect(Int(applied) == StoreSchema.migrations.count)

            // A password in the URL is refused, and the message does not repeat it.
            let withPassword = "postgres://roadtest:hunter2@127.0.0.1:\(server.port)/roadtest"
            let refused = await #expect(throws: RoadtestError.self) {
                _ = try await StoreLocation.open(withPassword, environment: [:])
            }
            #expect(refused?.message.contains("hunter2") == false)
            #expect(refused?.hint?.contains("PGPASSWORD") == true)

            // A wrong password is a clear error naming where the password was read from.
            var wrong = server.environment
            wrong["PGPASSWORD"] = "not-it"
            let denied = await #expect(throws: RoadtestError.self) {
                _ = try await StoreLocation.open(server.url(), environment: wrong)
            }
            #expect(denied?.message.contains("password authentication failed") == true, "\(denied?.message ?? "")")
            #expect(denied?.message.contains("not-it") == false)

            // ?password_env= names another variable.
            var named = ProcessInfo.processInfo.environment
            named["ROADTEST_DB_PASSWORD"] = PostgresServer.password
            named["PGPASSWORD"] = nil
            try await StoreLocation.with(server.url() + "&password_env=ROADTEST_DB_PASSWORD", environment: named) {
                store in
                let runs = try await store.runs.runs(limit: 1)
                #expect(runs.isEmpty)
            }
        }
    }
}
