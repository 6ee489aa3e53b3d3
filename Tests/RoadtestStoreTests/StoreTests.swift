import Foundation
import RoadtestCore
import RoadtestStore
import RoadtestTestSupport
import Testing

/// The SQLite store behind the RunStore protocol: secrets, typed variants, streaming records, scoring from records.
@Suite struct StoreTests {
    static func suite(headers: [String: String] = [:]) -> Suite {
        Suite(
            name: "s",
            path: "/tmp/s.yaml",
            candidates: [Candidate(id: "a", provider: .openai, baseURL: "http://127.0.0.1:1/v1", headers: headers)],
            cases: [
                Case(id: "c1", tags: ["billing"], messages: [Message(role: "user", content: "one")]),
                Case(id: "c2", kind: .ambiguous, messages: [Message(role: "user", content: "two")]),
            ],
            robustness: RobustnessConfig(perturbations: [.typos], variants: 2),
            prompts: ["Be brief."]
        )
    }

    static func run(_ id: String) -> RunRecord {
        RunRecord(
            id: id,
            suiteName: "s",
            suitePath: "/tmp/s.yaml",
            suiteHash: "h",
            status: .running,
            startedAt: RunRecord.timestamp(),
            version: "test"
        )
    }

    static func outcome(
        _ caseID: String,
        _ variant: Variant,
        passed: Bool,
        sample: Int = 0,
        e2e: Double = 0.1
    ) -> Outcome {
        var response = ProviderResponse(
            attemptClass: .ok,
            output: passed ? "fine" : "wrong",
            inputTokens: 10,
            outputTokens: 5,
            timeToFirstToken: e2e / 2,
            endToEnd: e2e
        )
        response.httpStatus = 200
        let failed = CheckResult(check: "contains", passed: passed, score: passed ? 1 : 0, weight: 1, reason: "")
        return Outcome(
            key: TrialKey(candidate: "a", caseID: caseID, sample: sample, variant: variant),
            passed: passed,
            score: passed ? 1 : 0,
            output: response.output,
            checks: [failed],
            attempts: [Attempt(role: .task, number: 1, response: response, costUSD: 0.001)],
            costUSD: 0.001,
            finalClass: .ok,
            input: "x"
        )
    }

    @Test func headerValuesAreNeverStoredNotEvenWhenAResumedSuiteChanges() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("store.db").path
            let store = try Store.sqlite(path: path).runs
            // Given a suite whose candidate sends an Authorization header
            try await store.createRun(Self.run("r1"), suite: Self.suite(headers: ["Authorization": "Bearer sk-first"]))
            // When a resumed run's suite changed and is stored again
            try await store.updateSuite(
                runID: "r1",
                suite: Self.suite(headers: ["Authorization": "Bearer sk-second-secret"]),
                hash: "h2"
            )
            // Then neither value is anywhere in the database file
            let bytes =
                try Data(contentsOf: URL(fileURLWithPath: path))
                + ((try? Data(contentsOf: URL(fileURLWithPath: path + "-wal"))) ?? Data())
            let text = String(decoding: bytes, as: UTF8.self)
            #expect(!text.contains("sk-first") && !text.contains("sk-second-secret"))
            let stored = try #require(try await store.suite(runID: "r1"))
            #expect(stored.candidates[0].headers == ["Authorization": Suite.redacted])
        }
    }

    @Test func typedVariantsRoundTripTheStore() async throws {
        let store = try Store.inMemory().runs
        try await store.createRun(Self.run("r"), suite: Self.suite())
        let variants: [Variant] = [.original, .perturbed(.typos, 1), .perturbed(.typos, 2), .prompt(1)]
        for variant in variants { try await store.record(Self.outcome("c1", variant, passed: true), runID: "r") }
        let keys = try await store.completedTrials(runID: "r")
        #expect(Set(keys.map(\.variant)) == Set(variants))
        let typo = try #require(keys.first { $0.variant == .perturbed(.typos, 2) })
        #expect(typo.variant.kind == .perturbation && typo.variant.perturbation == .typos && typo.variant.index == 2)
        var streamed: [Variant] = []
        try await store.forEachOutcome(runID: "r") { streamed.append($0.outcome.key.variant) }
        #expect(Set(streamed) == Set(variants) && streamed.count == variants.count)
    }

    @Test func recordingATrialAgainReplacesItAndItsAttempts() async throws {
        let store = try Store.inMemory().runs
        try await store.createRun(Self.run("r"), suite: Self.suite())
        try await store.record(Self.outcome("c1", .original, passed: false), runID: "r")
        try await store.record(Self.outcome("c1", .original, passed: true), runID: "r")
        #expect(try await store.outcomeCount(runID: "r") == 1)
        let attempts = try await store.attempts(runID: "r", key: TrialKey(candidate: "a", caseID: "c1", sample: 0))
        #expect(attempts.count == 1)
    }

    @Test func theScorerFoldsRecordsStreamedFromTheStore() async throws {
        // Given stored outcomes with known answers: c1 passes twice of 2 samples as written, c2 (ambiguous) fails;
        // a typo variant of c1 fails, the other passes; under the alternative prompt c1 passes and c2 fails.
        let store = try Store.inMemory().runs
        var suite = Self.suite()
        suite.cases[0].samples = 2
        try await store.createRun(Self.run("r"), suite: suite)
        let outcomes = [
            Self.outcome("c1", .original, passed: true, sample: 0, e2e: 0.1),
            Self.outcome("c1", .original, passed: true, sample: 1, e2e: 0.3),
            Self.outcome("c2", .original, passed: false, e2e: 0.2),
            Self.outcome("c1", .perturbed(.typos, 1), passed: false, e2e: 0.4),
            Self.outcome("c1", .perturbed(.typos, 2), passed: true, e2e: 0.5),
            Self.outcome("c1", .prompt(1), passed: true, e2e: 0.6),
            Self.outcome("c2", .prompt(1), passed: false, e2e: 0.7),
        ]
        // Recorded in reverse: the fold does not depend on arrival order.
        for outcome in outcomes.reversed() { try await store.record(outcome, runID: "r") }
        // When the report is folded from the stored records
        let report = try #require(try await store.report(runID: "r"))
        let card = try #require(report.candidates.first)
        // Then every figure is what the records say
        #expect(card.cases == 2 && card.trials == 3)
        #expect(card.passRate == 0.5)
        #expect(card.byTag["billing"]?.passRate == 1.0)
        #expect(card.attempts == 7 && card.retries == 0)
        #expect(abs(card.costUSD.total - 0.007) < 1e-12)
        #expect(abs((card.costUSD.perSuccess ?? 0) - 0.007 / 4) < 1e-12)
        #expect(card.latencyMilliseconds.e2e.count == 7)
        #expect(card.latencyMilliseconds.e2e.p50.map { abs($0 - 400) < 1e-9 } == true)
        #expect(card.latencyMilliseconds.e2e.max.map { abs($0 - 700) < 1e-9 } == true)
        #expect(card.failuresByCheck["contains"] == 3)
        #expect(card.recovery.ambiguous == 1 && card.recovery.handled == 0)
        #expect(card.robustness?.cleanPassRate == 2.0 / 3.0)
        #expect(card.robustness?.perturbedPassRate == 0.5)
        #expect(card.robustness?.worstCasePassRate == 0)
        #expect(card.promptSensitivity?.byPrompt.map(\.passRate) == [2.0 / 3.0, 0.5])
        #expect(card.sampling?.samples == 2)
        #expect(card.sampling?.flakyCases == [])
        // 2 cases at 50%: the detectable difference (±140 pt) is past any possible one, so the run is too small.
        #expect(card.minimumDetectableDifference == nil && card.isTooSmallToDetectDifference)
    }

    @Test func runsResolveLatestAndStatusesAreTyped() async throws {
        let store = try Store.inMemory().runs
        try await store.createRun(Self.run("20260101-000000-0001"), suite: Self.suite())
        try await store.createRun(Self.run("20260101-000000-0002"), suite: Self.suite())
        try await store.setStatus(runID: "20260101-000000-0001", status: .failed, finishedAt: nil)
        #expect(try await store.run(id: "20260101-000000-0001")?.status == .failed)
        #expect(try await store.resolveRunID("latest") != nil)
        #expect(try await store.resolveRunID("latest~5") == nil)
        #expect(try await store.resolveRunID("nope") == nil)
    }

    @Test func postgresURLsParseWithoutEverHoldingAPassword() throws {
        let tcp = try PostgresDatabase.Location.parse(
            "postgres://team@db.internal:5433/evals?sslmode=require&password_env=EVALS_DB_PASSWORD",
            environment: [:]
        )
        #expect(tcp.user == "team" && tcp.host == "db.internal" && tcp.port == 5433 && tcp.database == "evals")
        #expect(tcp.sslMode == "require" && tcp.passwordVariable == "EVALS_DB_PASSWORD" && tcp.socketDirectory == nil)
        let socket = try PostgresDatabase.Location.parse(
            "postgresql://team@/evals?host=/var/run/postgresql&port=6000",
            environment: [:]
        )
        #expect(socket.socketDirectory == "/var/run/postgresql" && socket.port == 6000)
        let defaults = try PostgresDatabase.Location.parse("postgres:///", environment: ["PGUSER": "ci"])
        #expect(defaults.user == "ci" && defaults.database == "ci" && defaults.port == 5432)
        #expect(defaults.sslMode == "prefer" && defaults.passwordVariable == "PGPASSWORD")
        for bad in [
            "postgres://team:hunter2@db/evals", "postgres://db/evals?sslmode=verify-full", "postgres://db/evals?pass=x",
            "postgres://db/evals?port=99999",
        ] {
            let error = #expect(throws: RoadtestError.self) {
                _ = try PostgresDatabase.Location.parse(bad, environment: [:])
            }
            #expect(error?.message.contains("hunter2") == false)
        }
        #expect(StoreLocation.isPostgres("postgresql://x/y") && !StoreLocation.isPostgres(".roadtest/roadtest.db"))
    }

    @Test(arguments: [
        ("missing", "missing from the result"),
        ("count", "expected text"),
        ("nothing", "NULL where a value is required"),
    ])
    func aRowReadsStrictly(column: String, problem: String) throws {
        // Given a row as either backend returns it
        let row = SQLRow(["count": .int(3), "name": .text("x"), "nothing": .null, "sum": .text("4"), "flag": .int(1)])
        // Then a missing, mistyped or NULL column throws, naming the column and what was wrong
        let error = #expect(throws: SQLRow.ColumnError.self) { _ = try row.text(column) }
        #expect(error?.column == column && error?.description.contains(problem) == true, "\(String(describing: error))")
    }

    @Test func aRowConvertsOnlyWhatTheBackendsDiffer() throws {
        let row = SQLRow([
            "count": .int(3), "ratio": .double(0.5), "sum": .text("4"), "flag": .int(1), "nothing": .null,
        ])
        #expect(try row.int("count") == 3 && row.double("count") == 3)  // an integer reads as a number
        #expect(try row.int("sum") == 4)  // PostgreSQL's numeric arrives as text
        #expect(try row.bool("flag") && row.optionalInt("nothing") == nil)
        #expect(throws: SQLRow.ColumnError.self) { _ = try row.int("ratio") }  // 0.5 is not an integer
        #expect(throws: SQLRow.ColumnError.self) { _ = try row.bool("count") }  // 3 is not 0 or 1
        #expect(throws: SQLRow.ColumnError.self) { _ = try row.value("sum", as: RunStatus.self) }
    }

    @Test func aSQLiteStoreHasNoQueueAndAStoredRecordReadsBackWhole() async throws {
        let store = try Store.inMemory()
        #expect(store.queue == nil && !store.isShared)
        let record = GatewayRecord(
            id: "q1",
            receivedAt: 1_800_000_000.5,
            route: "r",
            servedBy: "a",
            status: 200,
            outcome: .failed(.streamCut),
            stream: true,
            timeToFirstToken: 0.01,
            endToEnd: nil,
            inputTokens: 3,
            outputTokens: 4,
            costUSD: 0.25,
            attempts: 2,
            fellBack: true
        )
        try await store.gateway.recordGatewayRequests([record])
        #expect(try await store.gateway.gatewayRequests(limit: 5) == [record])
    }
}
