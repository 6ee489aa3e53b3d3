import Foundation
import RoadtestCore

/// The run store over SQL: every query once, for both backends (`SQLiteDatabase`, embedded, the default;
/// `PostgresDatabase`, shared). The only module that speaks SQL.
///
/// ```swift
/// let store = try SQLiteStore(path: ".roadtest/roadtest.db")
/// let shared = try await SQLRunStore(database: PostgresDatabase.connect(url: "postgres://roadtest@db/roadtest"))
/// ```
public final class SQLRunStore: RunStore {
    public let database: any SQLDatabase
    var dialect: SQLDialect { database.dialect }

    public init(database: any SQLDatabase) {
        self.database = database
    }

    /// Opens (creating if needed) the SQLite store at `path` and migrates it.
    public convenience init(path: String) throws {
        self.init(database: try SQLiteDatabase(path: path))
    }

    /// A SQLite store in memory (tests).
    public convenience init() throws {
        self.init(database: try SQLiteDatabase())
    }

    /// Closes the store's connections (PostgreSQL); nothing is lost by not calling it.
    public func close() async { await database.close() }

    // MARK: - Load runs and drills

    public func saveLoadRun(id: String, suiteName: String, startedAt: String, json: Data) async throws {
        try await database.write(
            SQLStatement(
                dialect.upsert(
                    into: "load_run",
                    columns: ["id", "suite_name", "started_at", "report_json"],
                    key: ["id"]
                ),
                [id, suiteName, startedAt, String(decoding: json, as: UTF8.self)]
            )
        )
    }

    public func loadRunJSON(id: String) async throws -> Data? {
        try await database.fetchOne(SQLStatement("SELECT report_json FROM load_run WHERE id = ?", [id]))
            .map { Data($0.text("report_json").utf8) }
    }

    public func saveDrill(runID: String, cleanRunID: String, startedAt: String, json: Data) async throws {
        try await database.write(
            SQLStatement(
                dialect.upsert(
                    into: "drill",
                    columns: ["run_id", "clean_run_id", "started_at", "report_json"],
                    key: ["run_id"]
                ),
                [runID, cleanRunID, startedAt, String(decoding: json, as: UTF8.self)]
            )
        )
    }

    public func drillJSON(runID: String) async throws -> Data? {
        try await database.fetchOne(SQLStatement("SELECT report_json FROM drill WHERE run_id = ?", [runID]))
            .map { Data($0.text("report_json").utf8) }
    }

    // MARK: - Gateway

    static let gatewayColumns = [
        "id", "received_at", "route", "served_by", "status", "outcome", "stream", "ttft", "e2e", "input_tokens",
        "output_tokens", "cost_usd", "attempts", "fell_back",
    ]

    public func recordGatewayRequests(_ records: [GatewayRecord]) async throws {
        guard !records.isEmpty else { return }
        let sql = dialect.upsert(into: "gateway_request", columns: Self.gatewayColumns, key: ["id"])
        try await database.write(
            records.map { r in
                SQLStatement(
                    sql,
                    [
                        r.id, r.receivedAt, r.route, r.servedBy, r.status, r.outcome, r.stream, r.timeToFirstToken,
                        r.endToEnd, r.inputTokens, r.outputTokens, r.costUSD, r.attempts, r.fellBack,
                    ]
                )
            }
        )
    }

    public func gatewayRequests(limit: Int) async throws -> [GatewayRecord] {
        try await database.fetchAll(
            SQLStatement("SELECT * FROM gateway_request ORDER BY received_at DESC LIMIT ?", [limit])
        ).map { row in
            GatewayRecord(
                id: row.text("id"),
                receivedAt: row.double("received_at"),
                route: row["route"],
                servedBy: row["served_by"],
                status: row.int("status"),
                outcome: row.text("outcome"),
                stream: row.bool("stream"),
                timeToFirstToken: row["ttft"],
                endToEnd: row["e2e"],
                inputTokens: row.int("input_tokens"),
                outputTokens: row.int("output_tokens"),
                costUSD: row.double("cost_usd"),
                attempts: row.int("attempts"),
                fellBack: row.bool("fell_back")
            )
        }
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
        ) { row in spend[row.text("route")] = row.double("spent") }
        return spend
    }

    static let shadowColumns = [
        "request_id", "shadow_candidate", "route", "received_at", "input", "live_candidate", "live_output",
        "live_outcome", "live_e2e", "live_cost_usd", "shadow_output", "shadow_outcome", "shadow_e2e", "shadow_cost_usd",
    ]

    public func recordShadowPair(_ pair: ShadowPair) async throws {
        try await database.write(
            SQLStatement(
                dialect.upsert(
                    into: "shadow_pair",
                    columns: Self.shadowColumns,
                    key: ["request_id", "shadow_candidate"]
                ),
                [
                    pair.requestID, pair.shadowCandidate, pair.route, pair.receivedAt, pair.input,
                    pair.liveCandidate, pair.liveOutput, pair.liveOutcome, pair.liveEndToEnd, pair.liveCostUSD,
                    pair.shadowOutput, pair.shadowOutcome, pair.shadowEndToEnd, pair.shadowCostUSD,
                ]
            )
        )
    }

    public func shadowPairs(route: String?, limit: Int) async throws -> [ShadowPair] {
        let order = "ORDER BY received_at, request_id, shadow_candidate LIMIT ?"
        let statement =
            if let route {
                SQLStatement("SELECT * FROM shadow_pair WHERE route = ? \(order)", [route, limit])
            } else {
                SQLStatement("SELECT * FROM shadow_pair \(order)", [limit])
            }
        return try await database.fetchAll(statement).map { row in
            ShadowPair(
                requestID: row.text("request_id"),
                route: row.text("route"),
                receivedAt: row.double("received_at"),
                input: row.text("input"),
                liveCandidate: row.text("live_candidate"),
                liveOutput: row.text("live_output"),
                liveOutcome: row.text("live_outcome"),
                liveEndToEnd: row["live_e2e"],
                liveCostUSD: row.double("live_cost_usd"),
                shadowCandidate: row.text("shadow_candidate"),
                shadowOutput: row.text("shadow_output"),
                shadowOutcome: row.text("shadow_outcome"),
                shadowEndToEnd: row["shadow_e2e"],
                shadowCostUSD: row.double("shadow_cost_usd")
            )
        }
    }

    // MARK: - Feedback

    public func recordGatewayBody(_ subject: FeedbackSubject) async throws {
        let id = String(subject.subject.dropFirst("request:".count))
        try await database.write(
            SQLStatement(
                dialect.upsert(
                    into: "gateway_body",
                    columns: ["request_id", "route", "system", "input", "output", "received_at"],
                    key: ["request_id"]
                ),
                [id, subject.tag, subject.system, subject.input, subject.output, subject.receivedAt]
            )
        )
    }

    public func gatewayRequestExists(_ id: String) async throws -> Bool {
        try await database.fetchOne(SQLStatement("SELECT 1 AS found FROM gateway_request WHERE id = ?", [id])) != nil
    }

    public func recordFeedback(_ feedback: Feedback) async throws {
        try await database.write(
            SQLStatement(
                """
                INSERT INTO feedback (subject, rating, score, correction, comment, created_at, source)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                """,
                [
                    feedback.subject, feedback.rating, feedback.score, feedback.correction, feedback.comment,
                    feedback.createdAt, feedback.source,
                ]
            )
        )
    }

    public func allFeedback() async throws -> [Feedback] {
        try await database.fetchAll(SQLStatement("SELECT * FROM feedback ORDER BY created_at, id")).map { row in
            Feedback(
                subject: row.text("subject"),
                rating: row.text("rating"),
                score: row.double("score"),
                correction: row["correction"],
                comment: row["comment"],
                createdAt: row.double("created_at"),
                source: row.text("source")
            )
        }
    }

    static func bodySubject(_ row: SQLRow) -> FeedbackSubject {
        FeedbackSubject(
            subject: "request:" + row.text("request_id"),
            tag: row.text("route"),
            system: row["system"],
            input: row.text("input"),
            output: row.text("output"),
            receivedAt: row.double("received_at")
        )
    }

    public func feedbackSubject(_ subject: String) async throws -> FeedbackSubject? {
        if subject.hasPrefix("request:") {
            let id = String(subject.dropFirst("request:".count))
            return try await database.fetchOne(SQLStatement("SELECT * FROM gateway_body WHERE request_id = ?", [id]))
                .map(Self.bodySubject)
        }
        let parts = subject.dropFirst("trial:".count).split(separator: "/", omittingEmptySubsequences: false)
            .map(String.init)
        guard subject.hasPrefix("trial:"), parts.count == 5, let sample = Int(parts[3]) else { return nil }
        let row = try await database.fetchOne(
            SQLStatement(
                """
                SELECT o.input AS input, o.output AS output, o.system AS system, COALESCE(c.private, 0) AS is_private
                FROM outcome o LEFT JOIN test_case c ON c.run_id = o.run_id AND c.case_id = o.case_id
                WHERE o.run_id = ? AND o.candidate_id = ? AND o.case_id = ? AND o.sample = ? AND o.variant = ?
                """,
                [parts[0], parts[1], parts[2], sample, parts[4]]
            )
        )
        // A private holdout case's input never leaves the store through feedback.
        guard let row, !row.bool("is_private") else { return nil }
        return FeedbackSubject(
            subject: subject,
            tag: parts[1],
            system: row["system"],
            input: row.text("input"),
            output: row.text("output"),
            receivedAt: 0
        )
    }

    public func reviewSubjects(limit: Int) async throws -> [FeedbackSubject] {
        var subjects = try await database.fetchAll(
            SQLStatement("SELECT * FROM gateway_body ORDER BY received_at DESC LIMIT ?", [limit])
        ).map(Self.bodySubject)
        guard
            let run = try await database.fetchOne(
                SQLStatement("SELECT id FROM run WHERE status = 'finished' ORDER BY started_at DESC, id DESC LIMIT 1")
            )?.text("id")
        else { return subjects }
        subjects += try await database.fetchAll(
            SQLStatement(
                """
                SELECT o.* FROM outcome o LEFT JOIN test_case c ON c.run_id = o.run_id AND c.case_id = o.case_id
                WHERE o.run_id = ? AND o.passed = 0 AND COALESCE(c.private, 0) = 0
                ORDER BY o.candidate_id, o.case_id LIMIT ?
                """,
                [run, limit]
            )
        ).map { row in
            let key = [
                run, row.text("candidate_id"), row.text("case_id"), String(row.int("sample")), row.text("variant"),
            ]
            return FeedbackSubject(
                subject: "trial:" + key.joined(separator: "/"),
                tag: row.text("candidate_id"),
                system: row["system"],
                input: row.text("input"),
                output: row.text("output"),
                receivedAt: 0
            )
        }
        return subjects
    }

    // MARK: - Runs

    static func runRecord(_ row: SQLRow) -> RunRecord {
        RunRecord(
            id: row.text("id"),
            suiteName: row.text("suite_name"),
            suitePath: row.text("suite_path"),
            suiteHash: row.text("suite_hash"),
            status: RunStatus(rawValue: row.text("status")) ?? .interrupted,
            startedAt: row.text("started_at"),
            finishedAt: row["finished_at"],
            version: row.text("version")
        )
    }

    /// The suite as stored: redacted, without its cases (they are rows of `test_case`).
    static func suiteJSON(_ suite: Suite) throws -> String {
        String(decoding: try JSONEncoder().encode(suite.withoutCases.redactingSecrets()), as: UTF8.self)
    }

    static let runColumns = [
        "id", "suite_name", "suite_path", "suite_hash", "suite_json", "status", "started_at", "finished_at", "version",
    ]

    public func createRun(_ record: RunRecord, suite: Suite) async throws {
        let json = try Self.suiteJSON(suite)
        let insert = SQLStatement(
            "INSERT INTO run (\(Self.runColumns.joined(separator: ", "))) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                record.id, record.suiteName, record.suitePath, record.suiteHash, json, record.status.rawValue,
                record.startedAt, record.finishedAt, record.version,
            ]
        )
        try await storeCases(suite, runID: record.id, first: insert)
    }

    public func updateSuite(runID: String, suite: Suite, hash: String) async throws {
        let json = try Self.suiteJSON(suite)
        try await database.write(SQLStatement("DELETE FROM test_case WHERE run_id = ?", [runID]))
        try await storeCases(
            suite,
            runID: runID,
            first: SQLStatement("UPDATE run SET suite_json = ?, suite_hash = ? WHERE id = ?", [json, hash, runID])
        )
    }

    /// Writes the suite's cases after `first`, a few thousand per transaction so a large suite never sits in
    /// memory twice.
    func storeCases(_ suite: Suite, runID: String, first: SQLStatement) async throws {
        let sql = dialect.upsert(
            into: "test_case",
            columns: ["run_id", "case_id", "kind", "tags", "input", "private", "position", "case_json"],
            key: ["run_id", "case_id"]
        )
        let encoder = JSONEncoder()
        var batch = [first]
        for (position, testCase) in suite.cases.enumerated() {
            batch.append(
                SQLStatement(
                    sql,
                    [
                        runID, testCase.id, testCase.kind.rawValue, Self.encodeTags(testCase.tags),
                        testCase.isPrivate ? "" : testCase.input, testCase.isPrivate, position,
                        String(decoding: try encoder.encode(testCase), as: UTF8.self),
                    ]
                )
            )
            if batch.count >= 2_000 {
                try await database.write(batch)
                batch.removeAll(keepingCapacity: true)
            }
        }
        if !batch.isEmpty { try await database.write(batch) }
    }

    public func setStatus(runID: String, status: RunStatus, finishedAt: String?) async throws {
        try await database.write(
            SQLStatement(
                "UPDATE run SET status = ?, finished_at = ? WHERE id = ?",
                [status.rawValue, finishedAt, runID]
            )
        )
    }

    static let runHeader = "id, suite_name, suite_path, suite_hash, status, started_at, finished_at, version"

    public func run(id: String) async throws -> RunRecord? {
        try await database.fetchOne(SQLStatement("SELECT \(Self.runHeader) FROM run WHERE id = ?", [id]))
            .map(Self.runRecord)
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
        ) { row in suite.cases.append(try decoder.decode(Case.self, from: Data(row.text("case_json").utf8))) }
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
            SQLStatement("SELECT \(Self.runHeader) FROM run ORDER BY started_at DESC, id DESC LIMIT ?", [limit])
        ).map(Self.runRecord)
    }

    public func latestUnfinishedRun(suitePath: String) async throws -> RunRecord? {
        try await database.fetchOne(
            SQLStatement(
                """
                SELECT \(Self.runHeader) FROM run WHERE suite_path = ? AND status != ?
                ORDER BY started_at DESC, id DESC LIMIT 1
                """,
                [suitePath, RunStatus.finished.rawValue]
            )
        ).map(Self.runRecord)
    }

    // MARK: - Outcomes

    static let outcomeColumns = [
        "run_id", "candidate_id", "case_id", "sample", "variant", "passed", "score", "output", "checks", "cost_usd",
        "final_class", "attempts", "e2e", "completed_at", "input", "system", "clarified", "abstained", "variant_kind",
        "variant_index", "variant_perturbation", "served_by", "started_at", "elapsed", "answer_key", "tool_calls",
        "tool_turns", "max_turns_reached", "transcript", "attack_pack", "attack_succeeded", "attack_evidence",
        "attack_highlight",
    ]
    static let trialKeyColumns = ["run_id", "candidate_id", "case_id", "sample", "variant"]
    static let attemptColumns = [
        "run_id", "candidate_id", "case_id", "sample", "variant", "role", "number", "class", "http_status", "ttft",
        "e2e", "input_tokens", "output_tokens", "estimated", "retry_after", "message", "cost_usd", "candidate",
        "strategy_sample",
    ]

    public func record(_ outcome: Outcome, runID: String) async throws {
        try await database.write(try outcomeStatements(outcome, runID: runID))
    }

    /// The statements that store a graded trial: replacing a trial replaces its attempts too (idempotent on the
    /// trial key).
    func outcomeStatements(_ outcome: Outcome, runID: String) throws -> [SQLStatement] {
        let checks = String(decoding: try JSONEncoder().encode(outcome.checks), as: UTF8.self)
        let key = outcome.key
        let e2e = outcome.attempts.last(where: { $0.role == .task })?.endToEnd
        let taskAttempts = outcome.attempts.filter { $0.role == .task }.count
        let transcript = try outcome.transcript.map { String(decoding: try JSONEncoder().encode($0), as: UTF8.self) }
        var statements = [
            SQLStatement(
                "DELETE FROM attempt WHERE run_id = ? AND candidate_id = ? AND case_id = ? AND sample = ? AND variant = ?",
                [runID, key.candidate, key.caseID, key.sample, key.variant.name]
            ),
            SQLStatement(
                dialect.upsert(into: "outcome", columns: Self.outcomeColumns, key: Self.trialKeyColumns),
                [
                    runID, key.candidate, key.caseID, key.sample, key.variant.name, outcome.passed, outcome.score,
                    outcome.output, checks, outcome.costUSD, outcome.finalClass.rawValue, taskAttempts, e2e,
                    RunRecord.timestamp(), outcome.input, outcome.system, outcome.clarified, outcome.abstained,
                    key.variant.kind.rawValue, key.variant.index, key.variant.perturbation?.rawValue,
                    outcome.servedBy, outcome.startedAt, outcome.elapsed, outcome.answerKey,
                    outcome.tools?.calls.count, outcome.tools?.turns, outcome.tools?.maxTurnsReached, transcript,
                    outcome.attackPack?.rawValue, outcome.attackVerdict?.succeeded, outcome.attackVerdict?.evidence,
                    outcome.attackVerdict?.highlight,
                ]
            ),
        ]
        let attemptSQL = dialect.upsert(
            into: "attempt",
            columns: Self.attemptColumns,
            key: Self.trialKeyColumns + ["role", "number"]
        )
        for attempt in outcome.attempts {
            statements.append(
                SQLStatement(
                    attemptSQL,
                    [
                        runID, key.candidate, key.caseID, key.sample, key.variant.name, attempt.role.rawValue,
                        attempt.number, attempt.attemptClass.rawValue, attempt.httpStatus, attempt.timeToFirstToken,
                        attempt.endToEnd, attempt.inputTokens, attempt.outputTokens, attempt.isTokenCountEstimated,
                        attempt.retryAfter, attempt.message, attempt.costUSD, attempt.candidate,
                        attempt.strategySample,
                    ]
                )
            )
        }
        return statements
    }

    static func variant(_ row: SQLRow) -> Variant {
        Variant(
            kind: Variant.Kind(rawValue: row.text("variant_kind")) ?? .original,
            perturbation: (row["variant_perturbation"] as String?).flatMap(Perturbation.init(rawValue:)),
            index: row.int("variant_index")
        )
    }

    static func trialKey(_ row: SQLRow) -> TrialKey {
        TrialKey(
            candidate: row.text("candidate_id"),
            caseID: row.text("case_id"),
            sample: row.int("sample"),
            variant: variant(row)
        )
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
        ) { keys.insert(Self.trialKey($0)) }
        return keys
    }

    public func outcomeCount(runID: String) async throws -> Int {
        try await database.fetchOne(SQLStatement("SELECT COUNT(*) AS n FROM outcome WHERE run_id = ?", [runID]))?
            .int("n") ?? 0
    }

    /// An attempt from a row; `prefix` names the joined columns (`a_`).
    static func attempt(_ row: SQLRow, prefix: String = "") -> Attempt {
        var response = ProviderResponse(attemptClass: AttemptClass(rawValue: row.text(prefix + "class")) ?? .malformed)
        response.httpStatus = row[prefix + "http_status"]
        response.timeToFirstToken = row[prefix + "ttft"]
        response.endToEnd = row[prefix + "e2e"]
        response.inputTokens = row.int(prefix + "input_tokens")
        response.outputTokens = row.int(prefix + "output_tokens")
        response.isTokenCountEstimated = row.bool(prefix + "estimated")
        response.retryAfter = row[prefix + "retry_after"]
        response.message = row[prefix + "message"]
        return Attempt(
            role: Attempt.Role(rawValue: row.text(prefix + "role")) ?? .task,
            number: row.int(prefix + "number"),
            response: response,
            costUSD: row.double(prefix + "cost_usd"),
            candidate: row[prefix + "candidate"],
            strategySample: row[prefix + "strategy_sample"]
        )
    }

    /// One query, outcomes joined with their attempts in (candidate, case, sample, variant) order; consecutive rows
    /// of one trial are folded into one record, so memory holds one trial at a time.
    public func forEachOutcome(runID: String, _ body: (OutcomeRecord) throws -> Void) async throws {
        let decoder = JSONDecoder()
        var current: (id: [String], row: SQLRow, attempts: [Attempt])?
        func flush() throws {
            guard let trial = current else { return }
            let row = trial.row
            let checks = (try? decoder.decode([CheckResult].self, from: Data(row.text("checks").utf8))) ?? []
            var outcome = Outcome(
                key: Self.trialKey(row),
                passed: row.bool("passed"),
                score: row.double("score"),
                output: "",
                checks: checks,
                attempts: trial.attempts,
                costUSD: row.double("cost_usd"),
                finalClass: AttemptClass(rawValue: row.text("final_class")) ?? .malformed
            )
            outcome.clarified = row.bool("clarified")
            outcome.abstained = row.bool("abstained")
            outcome.servedBy = row["served_by"]
            outcome.startedAt = row["started_at"]
            outcome.elapsed = row["elapsed"]
            outcome.answerKey = row["answer_key"]
            if let calls: Int = row["tool_calls"] {
                // The scorer needs the counts only; the calls themselves are in the transcript.
                outcome.tools = ToolTrace(
                    calls: Array(repeating: ToolCall(id: "", name: "", arguments: ""), count: calls),
                    turns: row.int("tool_turns"),
                    maxTurnsReached: row.bool("max_turns_reached")
                )
            }
            if let pack: String = row["attack_pack"] {
                outcome.attackPack = AttackPack(rawValue: pack)
                outcome.attackVerdict = AttackVerdict(succeeded: row.bool("attack_succeeded"), evidence: "")
            }
            try body(
                OutcomeRecord(
                    outcome: outcome,
                    kind: CaseKind(rawValue: row.text("case_kind")) ?? .normal,
                    tags: Self.decodeTags(row["tags"] ?? "[]")
                )
            )
        }
        try await database.read(
            SQLStatement(
                """
                SELECT o.candidate_id, o.case_id, o.sample, o.variant, o.variant_kind, o.variant_index,
                    o.variant_perturbation, o.passed, o.score, o.checks, o.cost_usd, o.final_class, o.clarified,
                    o.abstained, o.served_by, o.started_at, o.elapsed, o.answer_key, o.tool_calls, o.tool_turns,
                    o.max_turns_reached, o.attack_pack, o.attack_succeeded, t.kind AS case_kind, t.tags AS tags,
                    a.role AS a_role, a.number AS a_number, a.class AS a_class, a.http_status AS a_http_status,
                    a.ttft AS a_ttft, a.e2e AS a_e2e, a.input_tokens AS a_input_tokens,
                    a.output_tokens AS a_output_tokens, a.estimated AS a_estimated, a.retry_after AS a_retry_after,
                    a.message AS a_message, a.cost_usd AS a_cost_usd, a.candidate AS a_candidate,
                    a.strategy_sample AS a_strategy_sample
                FROM outcome o
                LEFT JOIN test_case t ON t.run_id = o.run_id AND t.case_id = o.case_id
                LEFT JOIN attempt a ON a.run_id = o.run_id AND a.candidate_id = o.candidate_id
                    AND a.case_id = o.case_id AND a.sample = o.sample AND a.variant = o.variant
                WHERE o.run_id = ?
                ORDER BY \(dialect.bytewise("o.candidate_id")), \(dialect.bytewise("o.case_id")), o.sample,
                    \(dialect.bytewise("o.variant")), a.role DESC, a.number
                """,
                [runID]
            )
        ) { row in
            let id = [row.text("candidate_id"), row.text("case_id"), String(row.int("sample")), row.text("variant")]
            if current?.id != id {
                try flush()
                current = (id, row, [])
            }
            if row.values["a_role"].map({ $0 != .null }) ?? false {
                current?.attempts.append(Self.attempt(row, prefix: "a_"))
            }
        }
        try flush()
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
        ).map { Self.attempt($0) }
    }

    public func trialRows(runID: String, failuresOnly: Bool, limit: Int) async throws -> [TrialRow] {
        let filter = failuresOnly ? "AND o.passed = 0" : ""
        let decoder = JSONDecoder()
        return try await database.fetchAll(
            SQLStatement(
                """
                SELECT o.*, c.tags AS tags, COALESCE(o.input, c.input) AS effective_input,
                    COALESCE(c.private, 0) AS is_private FROM outcome o
                LEFT JOIN test_case c ON c.run_id = o.run_id AND c.case_id = o.case_id
                WHERE o.run_id = ? \(filter)
                ORDER BY \(dialect.bytewise("o.candidate_id")), \(dialect.bytewise("o.case_id")),
                    \(dialect.bytewise("o.variant")), o.sample LIMIT ?
                """,
                [runID, limit]
            )
        ).map { row in
            let checks = (try? decoder.decode([CheckResult].self, from: Data(row.text("checks").utf8))) ?? []
            var trial = TrialRow(
                key: Self.trialKey(row),
                tags: Self.decodeTags(row["tags"] ?? "[]"),
                input: row.text("effective_input"),
                passed: row.bool("passed"),
                score: row.double("score"),
                output: row.text("output"),
                checks: checks,
                finalClass: AttemptClass(rawValue: row.text("final_class")) ?? .malformed,
                attempts: row.int("attempts"),
                endToEnd: row["e2e"],
                costUSD: row.double("cost_usd"),
                system: row["system"]
            )
            trial.transcript = (row["transcript"] as String?).flatMap {
                try? decoder.decode([Message].self, from: Data($0.utf8))
            }
            if let pack: String = row["attack_pack"] {
                trial.attackPack = pack
                trial.attackSucceeded = row["attack_succeeded"]
                trial.attackEvidence = row["attack_evidence"]
                trial.attackHighlight = row["attack_highlight"]
            }
            return row.bool("is_private") ? trial.redacted() : trial
        }
    }

    // MARK: - Helpers

    static func encodeTags(_ tags: [String]) -> String {
        JSONValue.array(tags.map(JSONValue.string)).jsonText
    }

    static func decodeTags(_ text: String) -> [String] {
        JSONValue.parse(text)?.arrayValue?.compactMap(\.stringValue) ?? []
    }
}

/// The embedded store (a SQLite file), under its familiar name.
public typealias SQLiteStore = SQLRunStore

// MARK: - Copying between stores

extension SQLRunStore {
    /// A table `copy` moves, its primary key, and whether rows belong to a run (`run_column`).
    struct CopiedTable {
        var name: String
        var key: [String]
        var runColumn: String?
    }

    static let copiedTables = [
        CopiedTable(name: "run", key: ["id"], runColumn: "id"),
        CopiedTable(name: "test_case", key: ["run_id", "case_id"], runColumn: "run_id"),
        CopiedTable(name: "outcome", key: trialKeyColumns, runColumn: "run_id"),
        CopiedTable(name: "attempt", key: trialKeyColumns + ["role", "number"], runColumn: "run_id"),
        CopiedTable(name: "drill", key: ["run_id"], runColumn: "run_id"),
        CopiedTable(name: "load_run", key: ["id"], runColumn: "id"),
        CopiedTable(name: "gateway_request", key: ["id"], runColumn: nil),
        CopiedTable(name: "shadow_pair", key: ["request_id", "shadow_candidate"], runColumn: nil),
        CopiedTable(name: "gateway_body", key: ["request_id"], runColumn: nil),
    ]

    /// Copies runs (all, or those named), load runs, drills, gateway traffic, shadow pairs and feedback into
    /// `destination`, a page at a time. Copying again replaces what was copied before (nothing is duplicated).
    /// Returns rows copied per table.
    public func copy(
        to destination: SQLRunStore,
        runs only: [String]? = nil,
        progress: (String, Int) -> Void = { _, _ in }
    ) async throws -> [(table: String, rows: Int)] {
        if let only {
            for id in only {
                if try await run(id: id) != nil { continue }
                if try await loadRunJSON(id: id) != nil { continue }
                throw RoadtestError(
                    .notFound,
                    "no run '\(id)' in the source store",
                    hint: "list runs with `roadtest runs`"
                )
            }
        }
        var summary: [(table: String, rows: Int)] = []
        for table in Self.copiedTables {
            // With --run, traffic that belongs to no run is not copied.
            if only != nil && table.runColumn == nil { continue }
            var copied = 0
            var filter = ""
            var filterArguments: [any SQLBindable] = []
            if let only, let column = table.runColumn {
                filter = "WHERE \(column) IN (\(only.map { _ in "?" }.joined(separator: ", ")))"
                filterArguments = only
            }
            let order = table.key.joined(separator: ", ")
            while true {
                let rows = try await database.fetchAll(
                    SQLStatement(
                        "SELECT * FROM \(table.name) \(filter) ORDER BY \(order) LIMIT ? OFFSET ?",
                        filterArguments + [1_000, copied]
                    )
                )
                guard !rows.isEmpty else { break }
                let columns = rows[0].values.keys.sorted()
                let sql = destination.dialect.upsert(into: table.name, columns: columns, key: table.key)
                try await destination.database.write(
                    rows.map { row in SQLStatement(sql, columns.map { row.values[$0] ?? .null }) }
                )
                copied += rows.count
                progress(table.name, copied)
                if rows.count < 1_000 { break }
            }
            summary.append((table.name, copied))
        }
        if only == nil {
            // Feedback has no natural key: rows the destination already holds (same subject, time and source) are
            // skipped.
            var copied = 0
            let existing = Set(try await destination.allFeedback())
            for feedback in try await allFeedback() where !existing.contains(feedback) {
                try await destination.recordFeedback(feedback)
                copied += 1
            }
            summary.append(("feedback", copied))
        }
        return summary
    }
}
