import Foundation
import RoadtestCore

/// Runs, suites and outcomes over SQL: every query once, for both backends (`SQLiteDatabase`, embedded, the
/// default; `PostgresDatabase`, shared). `StoreLocation.open` hands it out inside a `Store`.
///
/// ```swift
/// let store = try Store.sqlite(path: ".roadtest/roadtest.db")
/// let report = try await store.runs.report(runID: "latest")
/// ```
public struct SQLRunStore: RunStore {
    let database: any SQLDatabase
    var dialect: SQLDialect { database.dialect }

    init(database: any SQLDatabase) {
        self.database = database
    }

    // MARK: - Runs

    /// The suite as stored: redacted, without its cases (they are rows of `test_case`).
    static func suiteJSON(_ suite: Suite) throws -> String {
        String(decoding: try JSONEncoder().encode(suite.withoutCases.redactingSecrets()), as: UTF8.self)
    }

    /// The run's `suite_hash` is the fingerprint of the suite as its cases are written (`record.suiteHash` is not
    /// used): it is set with the last case, so a run whose cases were not all stored (a crash while storing them)
    /// never matches its suite, and a resume stores them again.
    public func createRun(_ record: RunRecord, suite: Suite) async throws {
        var record = record
        record.suiteHash = ""
        let insert = dialect.insert(RunRow(record: record, suiteJSON: try Self.suiteJSON(suite)))
        // Without cases the run keeps an empty hash until `storeCases` writes them.
        guard !suite.cases.isEmpty else { return try await database.write(insert) }
        try await storeCases(suite, runID: record.id, first: insert)
    }

    public func storeCases(runID: String, suite: Suite) async throws {
        try await storeCases(
            suite,
            runID: runID,
            first: SQLStatement("UPDATE run SET suite_hash = '' WHERE id = ?", [runID])
        )
    }

    public func updateSuite(runID: String, suite: Suite, hash: String) async throws {
        let json = try Self.suiteJSON(suite)
        try await database.write(SQLStatement("DELETE FROM test_case WHERE run_id = ?", [runID]))
        try await storeCases(
            suite,
            runID: runID,
            first: SQLStatement("UPDATE run SET suite_json = ?, suite_hash = '' WHERE id = ?", [json, runID])
        )
    }

    /// Writes the suite's cases after `first`, a few thousand per transaction so a large suite never sits in
    /// memory twice, each case encoded once (its JSON is stored and fingerprinted); the run's `suite_hash` is set
    /// in the last transaction.
    func storeCases(_ suite: Suite, runID: String, first: SQLStatement) async throws {
        let encoder = SuiteFingerprint.encoder()
        var fingerprint = SuiteFingerprint()
        fingerprint.add(try encoder.encode(suite.withoutCases))
        var batch = [first]
        for (position, testCase) in suite.cases.enumerated() {
            let data = try testCase.sortedJSON(encoder: encoder)
            fingerprint.add(data)
            batch.append(
                dialect.upsert(
                    TestCaseRow(
                        runID: runID,
                        testCase: testCase,
                        position: position,
                        caseJSON: String(decoding: data, as: UTF8.self)
                    )
                )
            )
            if batch.count >= 2_000 {
                try await database.write(batch)
                batch.removeAll(keepingCapacity: true)
            }
        }
        batch.append(SQLStatement("UPDATE run SET suite_hash = ? WHERE id = ?", [fingerprint.text, runID]))
        try await database.write(batch)
    }

    public func setStatus(runID: String, status: RunStatus, finishedAt: String?) async throws {
        try await database.write(
            SQLStatement(
                "UPDATE run SET status = ?, finished_at = ? WHERE id = ?",
                [status.rawValue, finishedAt, runID]
            )
        )
    }

    public func run(id: String) async throws -> RunRecord? {
        try await database.fetchOne(SQLStatement("SELECT \(RunRow.header) FROM run WHERE id = ?", [id]))
            .map(RunRecord.init(row:))
    }

    public func suite(runID: String) async throws -> Suite? {
        guard var suite = try await suiteHeader(runID: runID) else { return nil }
        // Runs stored before cases had rows of their own keep them in the suite's JSON.
        guard suite.cases.isEmpty else { return suite }
        let decoder = JSONDecoder()
        try await database.read(
            SQLStatement(
                "SELECT case_json FROM test_case WHERE run_id = ? AND case_json IS NOT NULL ORDER BY position",
                [runID]
            )
        ) { row in suite.cases.append(try decoder.decode(Case.self, from: Data(try row.text("case_json").utf8))) }
        return suite
    }

    public func suiteHeader(runID: String) async throws -> Suite? {
        guard
            let json = try await database.fetchOne(SQLStatement("SELECT suite_json FROM run WHERE id = ?", [runID]))?
                .text("suite_json")
        else { return nil }
        return try JSONDecoder().decode(Suite.self, from: Data(json.utf8))
    }

    public func runs(limit: Int = 50) async throws -> [RunRecord] {
        try await database.fetchAll(
            SQLStatement("SELECT \(RunRow.header) FROM run ORDER BY started_at DESC, id DESC LIMIT ?", [limit])
        ).map(RunRecord.init(row:))
    }

    public func latestUnfinishedRun(suitePath: String) async throws -> RunRecord? {
        try await database.fetchOne(
            SQLStatement(
                """
                SELECT \(RunRow.header) FROM run WHERE suite_path = ? AND status != ?
                ORDER BY started_at DESC, id DESC LIMIT 1
                """,
                [suitePath, RunStatus.finished.rawValue]
            )
        ).map(RunRecord.init(row:))
    }

    // MARK: - Outcomes

    public func record(_ outcome: Outcome, runID: String) async throws {
        try await database.write(try OutcomeRow.statements(outcome, runID: runID, dialect: dialect))
    }

    /// One transaction for every outcome of the batch.
    public func record(batch outcomes: [Outcome], runID: String) async throws -> [Bool] {
        try await database.write(try OutcomeRow.statements(outcomes, runID: runID, dialect: dialect))
        return outcomes.map { _ in true }
    }

    public func completedTrials(runID: String) async throws -> Set<TrialKey> {
        var keys = Set<TrialKey>()
        try await database.read(
            SQLStatement(
                """
                SELECT candidate_id, case_id, sample, variant_kind, variant_index, variant_perturbation
                FROM outcome WHERE run_id = ?
                """,
                [runID]
            )
        ) { keys.insert(try TrialColumns.trialKey($0)) }
        return keys
    }

    public func caseCount(runID: String) async throws -> Int {
        try await database.fetchOne(SQLStatement("SELECT COUNT(*) AS n FROM test_case WHERE run_id = ?", [runID]))?
            .int("n") ?? 0
    }

    public func outcomeCount(runID: String) async throws -> Int {
        try await database.fetchOne(SQLStatement("SELECT COUNT(*) AS n FROM outcome WHERE run_id = ?", [runID]))?
            .int("n") ?? 0
    }

    public func attempts(runID: String, key: TrialKey) async throws -> [Attempt] {
        try await database.fetchAll(
            SQLStatement(
                """
                SELECT * FROM attempt WHERE run_id = ? AND candidate_id = ? AND case_id = ? AND sample = ?
                    AND variant = ?
                ORDER BY role DESC, number
                """,
                [runID, key.candidate, key.caseID, key.sample, key.variant.name]
            )
        ).map { try AttemptRow.attempt($0) }
    }
}
