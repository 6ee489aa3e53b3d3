import Foundation
import GRDB
import RoadtestCore

/// Where every run lives: SQLite through GRDB. The single source of truth for reports and resumes.
///
/// ```swift
/// let store = try Store(path: ".roadtest/roadtest.db")
/// ```
public final class Store: Sendable {
    let writer: any DatabaseWriter

    /// The default store path under the working directory.
    public static let defaultPath = ".roadtest/roadtest.db"

    /// Opens (creating if needed) the store at `path` and migrates it.
    public convenience init(path: String) throws {
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent()
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
        }
        try self.init(writer: DatabasePool(path: path, configuration: configuration))
    }

    /// A store in memory (tests).
    public convenience init() throws {
        try self.init(writer: DatabaseQueue())
    }

    init(writer: any DatabaseWriter) throws {
        self.writer = writer
        try Self.migrator.migrate(writer)
    }

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(
                sql: """
                    CREATE TABLE run (
                        id TEXT PRIMARY KEY,
                        suite_name TEXT NOT NULL,
                        suite_path TEXT NOT NULL,
                        suite_hash TEXT NOT NULL,
                        suite_json TEXT NOT NULL,
                        status TEXT NOT NULL,
                        started_at TEXT NOT NULL,
                        finished_at TEXT,
                        version TEXT NOT NULL
                    );
                    CREATE INDEX run_by_path ON run(suite_path, started_at);
                    CREATE TABLE test_case (
                        run_id TEXT NOT NULL REFERENCES run(id) ON DELETE CASCADE,
                        case_id TEXT NOT NULL,
                        kind TEXT NOT NULL,
                        tags TEXT NOT NULL,
                        input TEXT NOT NULL,
                        PRIMARY KEY (run_id, case_id)
                    );
                    CREATE TABLE outcome (
                        run_id TEXT NOT NULL REFERENCES run(id) ON DELETE CASCADE,
                        candidate_id TEXT NOT NULL,
                        case_id TEXT NOT NULL,
                        sample INTEGER NOT NULL,
                        variant TEXT NOT NULL,
                        passed INTEGER NOT NULL,
                        score REAL NOT NULL,
                        output TEXT NOT NULL,
                        checks TEXT NOT NULL,
                        cost_usd REAL NOT NULL,
                        final_class TEXT NOT NULL,
                        attempts INTEGER NOT NULL,
                        e2e REAL,
                        completed_at TEXT NOT NULL,
                        PRIMARY KEY (run_id, candidate_id, case_id, sample, variant)
                    );
                    CREATE TABLE attempt (
                        run_id TEXT NOT NULL REFERENCES run(id) ON DELETE CASCADE,
                        candidate_id TEXT NOT NULL,
                        case_id TEXT NOT NULL,
                        sample INTEGER NOT NULL,
                        variant TEXT NOT NULL,
                        role TEXT NOT NULL,
                        number INTEGER NOT NULL,
                        class TEXT NOT NULL,
                        http_status INTEGER,
                        ttft REAL,
                        e2e REAL,
                        input_tokens INTEGER NOT NULL,
                        output_tokens INTEGER NOT NULL,
                        estimated INTEGER NOT NULL,
                        retry_after REAL,
                        message TEXT,
                        cost_usd REAL NOT NULL,
                        PRIMARY KEY (run_id, candidate_id, case_id, sample, variant, role, number)
                    );
                    CREATE INDEX attempt_ttft ON attempt(run_id, candidate_id, role, class, ttft);
                    CREATE INDEX attempt_e2e ON attempt(run_id, candidate_id, role, class, e2e);
                    """)
        }
        migrator.registerMigration("v2-variants-and-recovery") { db in
            try db.execute(
                sql: """
                    ALTER TABLE outcome ADD COLUMN input TEXT;
                    ALTER TABLE outcome ADD COLUMN system TEXT;
                    ALTER TABLE outcome ADD COLUMN clarified INTEGER NOT NULL DEFAULT 0;
                    ALTER TABLE outcome ADD COLUMN abstained INTEGER NOT NULL DEFAULT 0;
                    """)
        }
        migrator.registerMigration("v3-load-runs") { db in
            try db.execute(
                sql: """
                    CREATE TABLE load_run (
                        id TEXT PRIMARY KEY,
                        suite_name TEXT NOT NULL,
                        started_at TEXT NOT NULL,
                        report_json TEXT NOT NULL
                    );
                    """)
        }
        return migrator
    }

    // MARK: - Load runs

    /// Stores a `roadtest load` report (its JSON document).
    public func saveLoadRun(id: String, suiteName: String, startedAt: String, json: Data) throws {
        try writer.write { db in
            try db.execute(
                sql: "INSERT OR REPLACE INTO load_run (id, suite_name, started_at, report_json) VALUES (?, ?, ?, ?)",
                arguments: [id, suiteName, startedAt, String(decoding: json, as: UTF8.self)])
        }
    }

    /// A stored load report's JSON.
    public func loadRunJSON(id: String) throws -> Data? {
        try writer.read { db in
            try String.fetchOne(db, sql: "SELECT report_json FROM load_run WHERE id = ?", arguments: [id]).map { Data($0.utf8) }
        }
    }

    // MARK: - Runs

    /// A stored run's header.
    public struct RunRecord: Sendable, Hashable {
        public var id: String
        public var suiteName: String
        public var suitePath: String
        public var suiteHash: String
        public var status: String
        public var startedAt: String
        public var finishedAt: String?
        public var version: String

        public init(
            id: String, suiteName: String, suitePath: String, suiteHash: String, status: String, startedAt: String,
            finishedAt: String? = nil, version: String
        ) {
            self.id = id
            self.suiteName = suiteName
            self.suitePath = suitePath
            self.suiteHash = suiteHash
            self.status = status
            self.startedAt = startedAt
            self.finishedAt = finishedAt
            self.version = version
        }

        init(row: Row) {
            self.init(
                id: row["id"], suiteName: row["suite_name"], suitePath: row["suite_path"], suiteHash: row["suite_hash"],
                status: row["status"], startedAt: row["started_at"], finishedAt: row["finished_at"], version: row["version"])
        }
    }

    /// Run statuses.
    public enum RunStatus {
        public static let running = "running"
        public static let interrupted = "interrupted"
        public static let finished = "finished"
    }

    /// Records a new run with its suite (secrets never included: keys are only named, header values dropped).
    public func createRun(_ record: RunRecord, suite: Suite) throws {
        var stored = suite
        for index in stored.candidates.indices {
            stored.candidates[index].headers = stored.candidates[index].headers.mapValues { _ in "<redacted>" }
        }
        let json = String(decoding: try JSONEncoder().encode(stored), as: UTF8.self)
        try writer.write { db in
            try db.execute(
                sql: """
                    INSERT INTO run (id, suite_name, suite_path, suite_hash, suite_json, status, started_at, finished_at, version)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    record.id, record.suiteName, record.suitePath, record.suiteHash, json, record.status, record.startedAt,
                    record.finishedAt, record.version,
                ])
            for testCase in suite.cases {
                try db.execute(
                    sql: "INSERT INTO test_case (run_id, case_id, kind, tags, input) VALUES (?, ?, ?, ?, ?)",
                    arguments: [record.id, testCase.id, testCase.kind.rawValue, Self.encodeTags(testCase.tags), testCase.input])
            }
        }
    }

    /// Replaces a run's stored cases (a resumed run whose suite changed).
    public func updateSuite(runID: String, suite: Suite, hash: String) throws {
        let json = String(decoding: try JSONEncoder().encode(suite), as: UTF8.self)
        try writer.write { db in
            try db.execute(sql: "UPDATE run SET suite_json = ?, suite_hash = ? WHERE id = ?", arguments: [json, hash, runID])
            for testCase in suite.cases {
                try db.execute(
                    sql: "INSERT OR REPLACE INTO test_case (run_id, case_id, kind, tags, input) VALUES (?, ?, ?, ?, ?)",
                    arguments: [runID, testCase.id, testCase.kind.rawValue, Self.encodeTags(testCase.tags), testCase.input])
            }
        }
    }

    public func setStatus(runID: String, status: String, finishedAt: String?) throws {
        try writer.write { db in
            try db.execute(sql: "UPDATE run SET status = ?, finished_at = ? WHERE id = ?", arguments: [status, finishedAt, runID])
        }
    }

    public func run(id: String) throws -> RunRecord? {
        try writer.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM run WHERE id = ?", arguments: [id]).map(RunRecord.init(row:))
        }
    }

    /// The stored suite of a run.
    public func suite(runID: String) throws -> Suite? {
        let json = try writer.read { db in
            try String.fetchOne(db, sql: "SELECT suite_json FROM run WHERE id = ?", arguments: [runID])
        }
        guard let json else { return nil }
        return try JSONDecoder().decode(Suite.self, from: Data(json.utf8))
    }

    /// Runs, newest first.
    public func runs(limit: Int = 50) throws -> [RunRecord] {
        try writer.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM run ORDER BY started_at DESC, rowid DESC LIMIT ?", arguments: [limit])
                .map(RunRecord.init(row:))
        }
    }

    /// The latest run of the suite at `suitePath` that did not finish.
    public func latestUnfinishedRun(suitePath: String) throws -> RunRecord? {
        try writer.read { db in
            try Row.fetchOne(
                db, sql: "SELECT * FROM run WHERE suite_path = ? AND status != ? ORDER BY started_at DESC, rowid DESC LIMIT 1",
                arguments: [suitePath, RunStatus.finished]
            ).map(RunRecord.init(row:))
        }
    }

    // MARK: - Outcomes

    /// Stores a graded trial and every attempt it took, in one transaction.
    public func record(_ outcome: Outcome, runID: String) async throws {
        let checks = String(decoding: try JSONEncoder().encode(outcome.checks), as: UTF8.self)
        let key = outcome.key
        let e2e = outcome.attempts.last(where: { $0.role == .task })?.endToEnd
        let taskAttempts = outcome.attempts.filter { $0.role == .task }.count
        try await writer.write { db in
            try db.execute(
                sql: """
                    INSERT OR REPLACE INTO outcome (run_id, candidate_id, case_id, sample, variant, passed, score, output, checks,
                        cost_usd, final_class, attempts, e2e, completed_at, input, system, clarified, abstained)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    runID, key.candidate, key.caseID, key.sample, key.variant, outcome.passed, outcome.score, outcome.output,
                    checks, outcome.costUSD, outcome.finalClass.rawValue, taskAttempts, e2e, Self.timestamp(), outcome.input,
                    outcome.system, outcome.clarified, outcome.abstained,
                ])
            for attempt in outcome.attempts {
                try db.execute(
                    sql: """
                        INSERT OR REPLACE INTO attempt (run_id, candidate_id, case_id, sample, variant, role, number, class,
                            http_status, ttft, e2e, input_tokens, output_tokens, estimated, retry_after, message, cost_usd)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                        """,
                    arguments: [
                        runID, key.candidate, key.caseID, key.sample, key.variant, attempt.role.rawValue, attempt.number,
                        attempt.attemptClass.rawValue, attempt.httpStatus, attempt.timeToFirstToken, attempt.endToEnd,
                        attempt.inputTokens, attempt.outputTokens, attempt.isTokenCountEstimated, attempt.retryAfter,
                        attempt.message, attempt.costUSD,
                    ])
            }
        }
    }

    /// Trials of a run that already have an outcome (skipped on resume).
    public func completedTrials(runID: String) throws -> Set<TrialKey> {
        try writer.read { db in
            var keys = Set<TrialKey>()
            let rows = try Row.fetchCursor(db, sql: "SELECT candidate_id, case_id, sample, variant FROM outcome WHERE run_id = ?", arguments: [runID])
            while let row = try rows.next() {
                keys.insert(TrialKey(candidate: row[0], caseID: row[1], sample: row[2], variant: row[3]))
            }
            return keys
        }
    }

    /// Number of outcomes stored for a run.
    public func outcomeCount(runID: String) throws -> Int {
        try writer.read { db in
            try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM outcome WHERE run_id = ?", arguments: [runID]) ?? 0
        }
    }

    /// Stored attempts of one trial, in order (tests and drill-down).
    public func attempts(runID: String, key: TrialKey) throws -> [Attempt] {
        try writer.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT * FROM attempt WHERE run_id = ? AND candidate_id = ? AND case_id = ? AND sample = ? AND variant = ?
                    ORDER BY role DESC, number
                    """,
                arguments: [runID, key.candidate, key.caseID, key.sample, key.variant]
            ).map { row in
                var response = ProviderResponse(attemptClass: AttemptClass(rawValue: row["class"]) ?? .malformed)
                response.httpStatus = row["http_status"]
                response.timeToFirstToken = row["ttft"]
                response.endToEnd = row["e2e"]
                response.inputTokens = row["input_tokens"]
                response.outputTokens = row["output_tokens"]
                response.isTokenCountEstimated = row["estimated"]
                response.retryAfter = row["retry_after"]
                response.message = row["message"]
                return Attempt(role: Attempt.Role(rawValue: row["role"]) ?? .task, number: row["number"], response: response, costUSD: row["cost_usd"])
            }
        }
    }

    /// Trials of a run for reports, failures first; `limit` bounds memory for large runs.
    public func trialRows(runID: String, failuresOnly: Bool = false, limit: Int = 100_000) throws -> [TrialRow] {
        try writer.read { db in
            let filter = failuresOnly ? "AND o.passed = 0" : ""
            return try Row.fetchAll(
                db,
                sql: """
                    SELECT o.*, c.tags AS tags, COALESCE(o.input, c.input) AS effective_input FROM outcome o
                    LEFT JOIN test_case c ON c.run_id = o.run_id AND c.case_id = o.case_id
                    WHERE o.run_id = ? \(filter)
                    ORDER BY o.candidate_id, o.case_id, o.variant, o.sample LIMIT ?
                    """,
                arguments: [runID, limit]
            ).map { row in
                let checksJSON: String = row["checks"]
                let checks = (try? JSONDecoder().decode([CheckResult].self, from: Data(checksJSON.utf8))) ?? []
                return TrialRow(
                    key: TrialKey(candidate: row["candidate_id"], caseID: row["case_id"], sample: row["sample"], variant: row["variant"]),
                    tags: Self.decodeTags(row["tags"] ?? "[]"), input: row["effective_input"] ?? "", passed: row["passed"], score: row["score"],
                    output: row["output"], checks: checks, finalClass: AttemptClass(rawValue: row["final_class"]) ?? .malformed,
                    attempts: row["attempts"], endToEnd: row["e2e"], costUSD: row["cost_usd"], system: row["system"])
            }
        }
    }

    // MARK: - Helpers

    static func encodeTags(_ tags: [String]) -> String {
        JSONValue.array(tags.map(JSONValue.string)).jsonText
    }

    static func decodeTags(_ text: String) -> [String] {
        JSONValue.parse(text)?.arrayValue?.compactMap(\.stringValue) ?? []
    }

    /// An ISO 8601 timestamp for now.
    public static func timestamp(_ date: Date = Date()) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: date)
    }
}
