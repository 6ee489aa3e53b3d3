import Foundation
import GRDB
import RoadtestCore

/// The embedded run store: SQLite through GRDB, migrated when opened. The only module that speaks SQL.
///
/// ```swift
/// let store = try SQLiteStore(path: ".roadtest/roadtest.db")
/// ```
public final class SQLiteStore: RunStore {
    let writer: any DatabaseWriter

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

    // MARK: - Load runs

    public func saveLoadRun(id: String, suiteName: String, startedAt: String, json: Data) async throws {
        try await writer.write { db in
            try db.execute(
                sql: "INSERT OR REPLACE INTO load_run (id, suite_name, started_at, report_json) VALUES (?, ?, ?, ?)",
                arguments: [id, suiteName, startedAt, String(decoding: json, as: UTF8.self)]
            )
        }
    }

    public func loadRunJSON(id: String) async throws -> Data? {
        try await writer.read { db in
            try String.fetchOne(db, sql: "SELECT report_json FROM load_run WHERE id = ?", arguments: [id])
                .map { Data($0.utf8) }
        }
    }

    public func saveDrill(runID: String, cleanRunID: String, startedAt: String, json: Data) async throws {
        try await writer.write { db in
            try db.execute(
                sql: """
                    INSERT OR REPLACE INTO drill (run_id, clean_run_id, started_at, report_json) VALUES (?, ?, ?, ?)
                    """,
                arguments: [runID, cleanRunID, startedAt, String(decoding: json, as: UTF8.self)]
            )
        }
    }

    public func drillJSON(runID: String) async throws -> Data? {
        try await writer.read { db in
            try String.fetchOne(db, sql: "SELECT report_json FROM drill WHERE run_id = ?", arguments: [runID])
                .map { Data($0.utf8) }
        }
    }

    // MARK: - Gateway

    public func recordGatewayRequests(_ records: [GatewayRecord]) async throws {
        guard !records.isEmpty else { return }
        try await writer.write { db in
            for r in records {
                try db.execute(
                    sql: """
                        INSERT OR REPLACE INTO gateway_request (id, received_at, route, served_by, status, outcome,
                            stream, ttft, e2e, input_tokens, output_tokens, cost_usd, attempts, fell_back)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                        """,
                    arguments: [
                        r.id, r.receivedAt, r.route, r.servedBy, r.status, r.outcome, r.stream, r.timeToFirstToken,
                        r.endToEnd, r.inputTokens, r.outputTokens, r.costUSD, r.attempts, r.fellBack,
                    ]
                )
            }
        }
    }

    public func gatewayRequests(limit: Int) async throws -> [GatewayRecord] {
        try await writer.read { db in
            try Row.fetchAll(
                db,
                sql: "SELECT * FROM gateway_request ORDER BY received_at DESC LIMIT ?",
                arguments: [limit]
            ).map { row in
                GatewayRecord(
                    id: row["id"],
                    receivedAt: row["received_at"],
                    route: row["route"],
                    servedBy: row["served_by"],
                    status: row["status"],
                    outcome: row["outcome"],
                    stream: row["stream"],
                    timeToFirstToken: row["ttft"],
                    endToEnd: row["e2e"],
                    inputTokens: row["input_tokens"],
                    outputTokens: row["output_tokens"],
                    costUSD: row["cost_usd"],
                    attempts: row["attempts"],
                    fellBack: row["fell_back"]
                )
            }
        }
    }

    public func gatewaySpend(since: Double) async throws -> [String: Double] {
        try await writer.read { db in
            var spend: [String: Double] = [:]
            for row in try Row.fetchAll(
                db,
                sql: """
                    SELECT route, SUM(cost_usd) AS spent FROM gateway_request
                    WHERE received_at >= ? AND route IS NOT NULL GROUP BY route
                    """,
                arguments: [since]
            ) {
                spend[row["route"]] = row["spent"]
            }
            return spend
        }
    }

    public func recordShadowPair(_ pair: ShadowPair) async throws {
        try await writer.write { db in
            try db.execute(
                sql: """
                    INSERT OR REPLACE INTO shadow_pair (request_id, shadow_candidate, route, received_at, input,
                        live_candidate, live_output, live_outcome, live_e2e, live_cost_usd, shadow_output,
                        shadow_outcome, shadow_e2e, shadow_cost_usd)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    pair.requestID, pair.shadowCandidate, pair.route, pair.receivedAt, pair.input,
                    pair.liveCandidate, pair.liveOutput, pair.liveOutcome, pair.liveEndToEnd, pair.liveCostUSD,
                    pair.shadowOutput, pair.shadowOutcome, pair.shadowEndToEnd, pair.shadowCostUSD,
                ]
            )
        }
    }

    public func shadowPairs(route: String?, limit: Int) async throws -> [ShadowPair] {
        try await writer.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT * FROM shadow_pair WHERE (? IS NULL OR route = ?) ORDER BY received_at, request_id,
                        shadow_candidate LIMIT ?
                    """,
                arguments: [route, route, limit]
            ).map { row in
                ShadowPair(
                    requestID: row["request_id"],
                    route: row["route"],
                    receivedAt: row["received_at"],
                    input: row["input"],
                    liveCandidate: row["live_candidate"],
                    liveOutput: row["live_output"],
                    liveOutcome: row["live_outcome"],
                    liveEndToEnd: row["live_e2e"],
                    liveCostUSD: row["live_cost_usd"],
                    shadowCandidate: row["shadow_candidate"],
                    shadowOutput: row["shadow_output"],
                    shadowOutcome: row["shadow_outcome"],
                    shadowEndToEnd: row["shadow_e2e"],
                    shadowCostUSD: row["shadow_cost_usd"]
                )
            }
        }
    }

    // MARK: - Feedback

    public func recordGatewayBody(_ subject: FeedbackSubject) async throws {
        let id = String(subject.subject.dropFirst("request:".count))
        try await writer.write { db in
            try db.execute(
                sql: """
                    INSERT OR REPLACE INTO gateway_body (request_id, route, system, input, output, received_at)
                    VALUES (?, ?, ?, ?, ?, ?)
                    """,
                arguments: [id, subject.tag, subject.system, subject.input, subject.output, subject.receivedAt]
            )
        }
    }

    public func gatewayRequestExists(_ id: String) async throws -> Bool {
        try await writer.read { db in
            try Bool.fetchOne(db, sql: "SELECT EXISTS(SELECT 1 FROM gateway_request WHERE id = ?)", arguments: [id])
                ?? false
        }
    }

    public func recordFeedback(_ feedback: Feedback) async throws {
        try await writer.write { db in
            try db.execute(
                sql: """
                    INSERT INTO feedback (subject, rating, score, correction, comment, created_at, source)
                    VALUES (?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    feedback.subject, feedback.rating, feedback.score, feedback.correction, feedback.comment,
                    feedback.createdAt, feedback.source,
                ]
            )
        }
    }

    public func allFeedback() async throws -> [Feedback] {
        try await writer.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM feedback ORDER BY created_at, id").map { row in
                Feedback(
                    subject: row["subject"],
                    rating: row["rating"],
                    score: row["score"],
                    correction: row["correction"],
                    comment: row["comment"],
                    createdAt: row["created_at"],
                    source: row["source"]
                )
            }
        }
    }

    public func feedbackSubject(_ subject: String) async throws -> FeedbackSubject? {
        try await writer.read { db in
            if subject.hasPrefix("request:") {
                let id = String(subject.dropFirst("request:".count))
                return try Row.fetchOne(db, sql: "SELECT * FROM gateway_body WHERE request_id = ?", arguments: [id])
                    .map { row in
                        FeedbackSubject(
                            subject: subject,
                            tag: row["route"],
                            system: row["system"],
                            input: row["input"],
                            output: row["output"],
                            receivedAt: row["received_at"]
                        )
                    }
            }
            let parts = subject.dropFirst("trial:".count).split(separator: "/", omittingEmptySubsequences: false)
                .map(String.init)
            guard subject.hasPrefix("trial:"), parts.count == 5, let sample = Int(parts[3]) else { return nil }
            return try Row.fetchOne(
                db,
                sql: """
                    SELECT o.input AS input, o.output AS output, o.system AS system, o.completed_at AS completed_at,
                        COALESCE(c.private, 0) AS is_private
                    FROM outcome o LEFT JOIN test_case c ON c.run_id = o.run_id AND c.case_id = o.case_id
                    WHERE o.run_id = ? AND o.candidate_id = ? AND o.case_id = ? AND o.sample = ? AND o.variant = ?
                    """,
                arguments: [parts[0], parts[1], parts[2], sample, parts[4]]
            ).flatMap { row in
                // A private holdout case's input never leaves the store through feedback.
                let isPrivate: Bool = row["is_private"]
                guard !isPrivate else { return nil }
                return FeedbackSubject(
                    subject: subject,
                    tag: parts[1],
                    system: row["system"],
                    input: row["input"] ?? "",
                    output: row["output"] ?? "",
                    receivedAt: 0
                )
            }
        }
    }

    public func reviewSubjects(limit: Int) async throws -> [FeedbackSubject] {
        try await writer.read { db in
            var subjects = try Row.fetchAll(
                db,
                sql: "SELECT * FROM gateway_body ORDER BY received_at DESC LIMIT ?",
                arguments: [limit]
            ).map { row in
                FeedbackSubject(
                    subject: "request:" + (row["request_id"] as String),
                    tag: row["route"],
                    system: row["system"],
                    input: row["input"],
                    output: row["output"],
                    receivedAt: row["received_at"]
                )
            }
            if let run = try String.fetchOne(
                db,
                sql: "SELECT id FROM run WHERE status = 'finished' ORDER BY started_at DESC LIMIT 1"
            ) {
                subjects += try Row.fetchAll(
                    db,
                    sql: """
                        SELECT o.* FROM outcome o LEFT JOIN test_case c ON c.run_id = o.run_id AND c.case_id = o.case_id
                        WHERE o.run_id = ? AND o.passed = 0 AND COALESCE(c.private, 0) = 0
                        ORDER BY o.candidate_id, o.case_id LIMIT ?
                        """,
                    arguments: [run, limit]
                ).map { row in
                    let key = [run, row["candidate_id"], row["case_id"], String(row["sample"] as Int), row["variant"]]
                        .map { "\($0 ?? "")" }
                    return FeedbackSubject(
                        subject: "trial:" + key.joined(separator: "/"),
                        tag: row["candidate_id"],
                        system: row["system"],
                        input: row["input"] ?? "",
                        output: row["output"] ?? "",
                        receivedAt: 0
                    )
                }
            }
            return subjects
        }
    }

    // MARK: - Runs

    static func runRecord(_ row: Row) -> RunRecord {
        RunRecord(
            id: row["id"],
            suiteName: row["suite_name"],
            suitePath: row["suite_path"],
            suiteHash: row["suite_hash"],
            status: RunStatus(rawValue: row["status"]) ?? .interrupted,
            startedAt: row["started_at"],
            finishedAt: row["finished_at"],
            version: row["version"]
        )
    }

    static func suiteJSON(_ suite: Suite) throws -> String {
        String(decoding: try JSONEncoder().encode(suite.redactingSecrets()), as: UTF8.self)
    }

    public func createRun(_ record: RunRecord, suite: Suite) async throws {
        let json = try Self.suiteJSON(suite)
        try await writer.write { db in
            try db.execute(
                sql: """
                    INSERT INTO run (id, suite_name, suite_path, suite_hash, suite_json, status, started_at, finished_at,
                        version)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    record.id, record.suiteName, record.suitePath, record.suiteHash, json, record.status.rawValue,
                    record.startedAt, record.finishedAt, record.version,
                ]
            )
            try Self.storeCases(suite, runID: record.id, db: db)
        }
    }

    public func updateSuite(runID: String, suite: Suite, hash: String) async throws {
        let json = try Self.suiteJSON(suite)
        try await writer.write { db in
            try db.execute(
                sql: "UPDATE run SET suite_json = ?, suite_hash = ? WHERE id = ?",
                arguments: [json, hash, runID]
            )
            try Self.storeCases(suite, runID: runID, db: db)
        }
    }

    static func storeCases(_ suite: Suite, runID: String, db: Database) throws {
        for testCase in suite.cases {
            try db.execute(
                sql: """
                    INSERT OR REPLACE INTO test_case (run_id, case_id, kind, tags, input, private)
                    VALUES (?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    runID, testCase.id, testCase.kind.rawValue, encodeTags(testCase.tags),
                    testCase.isPrivate ? "" : testCase.input, testCase.isPrivate,
                ]
            )
        }
    }

    public func setStatus(runID: String, status: RunStatus, finishedAt: String?) async throws {
        try await writer.write { db in
            try db.execute(
                sql: "UPDATE run SET status = ?, finished_at = ? WHERE id = ?",
                arguments: [status.rawValue, finishedAt, runID]
            )
        }
    }

    public func run(id: String) async throws -> RunRecord? {
        try await writer.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM run WHERE id = ?", arguments: [id]).map(Self.runRecord)
        }
    }

    public func suite(runID: String) async throws -> Suite? {
        let json = try await writer.read { db in
            try String.fetchOne(db, sql: "SELECT suite_json FROM run WHERE id = ?", arguments: [runID])
        }
        guard let json else { return nil }
        return try JSONDecoder().decode(Suite.self, from: Data(json.utf8))
    }

    public func runs(limit: Int = 50) async throws -> [RunRecord] {
        try await writer.read { db in
            try Row.fetchAll(
                db,
                sql: "SELECT * FROM run ORDER BY started_at DESC, rowid DESC LIMIT ?",
                arguments: [limit]
            ).map(Self.runRecord)
        }
    }

    public func latestUnfinishedRun(suitePath: String) async throws -> RunRecord? {
        try await writer.read { db in
            try Row.fetchOne(
                db,
                sql: """
                    SELECT * FROM run WHERE suite_path = ? AND status != ? ORDER BY started_at DESC, rowid DESC LIMIT 1
                    """,
                arguments: [suitePath, RunStatus.finished.rawValue]
            ).map(Self.runRecord)
        }
    }

    // MARK: - Outcomes

    public func record(_ outcome: Outcome, runID: String) async throws {
        let checks = String(decoding: try JSONEncoder().encode(outcome.checks), as: UTF8.self)
        let key = outcome.key
        let e2e = outcome.attempts.last(where: { $0.role == .task })?.endToEnd
        let taskAttempts = outcome.attempts.filter { $0.role == .task }.count
        let transcript = try outcome.transcript.map { String(decoding: try JSONEncoder().encode($0), as: UTF8.self) }
        try await writer.write { db in
            // Replacing a trial replaces its attempts too (idempotent on the trial key).
            try db.execute(
                sql: """
                    DELETE FROM attempt WHERE run_id = ? AND candidate_id = ? AND case_id = ? AND sample = ?
                        AND variant = ?
                    """,
                arguments: [runID, key.candidate, key.caseID, key.sample, key.variant.name]
            )
            try db.execute(
                sql: """
                    INSERT OR REPLACE INTO outcome (run_id, candidate_id, case_id, sample, variant, passed, score, output,
                        checks, cost_usd, final_class, attempts, e2e, completed_at, input, system, clarified, abstained,
                        variant_kind, variant_index, variant_perturbation, served_by, started_at, elapsed, answer_key,
                        tool_calls, tool_turns, max_turns_reached, transcript, attack_pack, attack_succeeded,
                        attack_evidence, attack_highlight)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?,
                        ?)
                    """,
                arguments: [
                    runID, key.candidate, key.caseID, key.sample, key.variant.name, outcome.passed, outcome.score,
                    outcome.output, checks, outcome.costUSD, outcome.finalClass.rawValue, taskAttempts, e2e,
                    RunRecord.timestamp(), outcome.input, outcome.system, outcome.clarified, outcome.abstained,
                    key.variant.kind.rawValue, key.variant.index, key.variant.perturbation?.rawValue,
                    outcome.servedBy, outcome.startedAt, outcome.elapsed, outcome.answerKey,
                    outcome.tools?.calls.count, outcome.tools?.turns, outcome.tools?.maxTurnsReached, transcript,
                    outcome.attackPack?.rawValue, outcome.attackVerdict?.succeeded, outcome.attackVerdict?.evidence,
                    outcome.attackVerdict?.highlight,
                ]
            )
            for attempt in outcome.attempts {
                try db.execute(
                    sql: """
                        INSERT OR REPLACE INTO attempt (run_id, candidate_id, case_id, sample, variant, role, number,
                            class, http_status, ttft, e2e, input_tokens, output_tokens, estimated, retry_after, message,
                            cost_usd, candidate, strategy_sample)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                        """,
                    arguments: [
                        runID, key.candidate, key.caseID, key.sample, key.variant.name, attempt.role.rawValue,
                        attempt.number, attempt.attemptClass.rawValue, attempt.httpStatus, attempt.timeToFirstToken,
                        attempt.endToEnd, attempt.inputTokens, attempt.outputTokens, attempt.isTokenCountEstimated,
                        attempt.retryAfter, attempt.message, attempt.costUSD, attempt.candidate,
                        attempt.strategySample,
                    ]
                )
            }
        }
    }

    static func variant(_ row: Row) -> Variant {
        Variant(
            kind: Variant.Kind(rawValue: row["variant_kind"]) ?? .original,
            perturbation: (row["variant_perturbation"] as String?).flatMap(Perturbation.init(rawValue:)),
            index: row["variant_index"]
        )
    }

    static func trialKey(_ row: Row) -> TrialKey {
        TrialKey(candidate: row["candidate_id"], caseID: row["case_id"], sample: row["sample"], variant: variant(row))
    }

    public func completedTrials(runID: String) async throws -> Set<TrialKey> {
        try await writer.read { db in
            var keys = Set<TrialKey>()
            let rows = try Row.fetchCursor(
                db,
                sql: """
                    SELECT candidate_id, case_id, sample, variant_kind, variant_index, variant_perturbation
                    FROM outcome WHERE run_id = ?
                    """,
                arguments: [runID]
            )
            while let row = try rows.next() { keys.insert(Self.trialKey(row)) }
            return keys
        }
    }

    public func outcomeCount(runID: String) async throws -> Int {
        try await writer.read { db in
            try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM outcome WHERE run_id = ?", arguments: [runID]) ?? 0
        }
    }

    static func attempt(_ row: Row) -> Attempt {
        var response = ProviderResponse(attemptClass: AttemptClass(rawValue: row["class"]) ?? .malformed)
        response.httpStatus = row["http_status"]
        response.timeToFirstToken = row["ttft"]
        response.endToEnd = row["e2e"]
        response.inputTokens = row["input_tokens"]
        response.outputTokens = row["output_tokens"]
        response.isTokenCountEstimated = row["estimated"]
        response.retryAfter = row["retry_after"]
        response.message = row["message"]
        return Attempt(
            role: Attempt.Role(rawValue: row["role"]) ?? .task,
            number: row["number"],
            response: response,
            costUSD: row["cost_usd"],
            candidate: row["candidate"],
            strategySample: row["strategy_sample"]
        )
    }

    public func forEachOutcome(runID: String, _ body: (OutcomeRecord) throws -> Void) async throws {
        try streamOutcomes(runID: runID, body)
    }

    /// A synchronous read: the records stream through `body` one at a time inside one read transaction.
    func streamOutcomes(runID: String, _ body: (OutcomeRecord) throws -> Void) throws {
        try writer.read { db in
            let order = "candidate_id, case_id, sample, variant"
            let outcomes = try Row.fetchCursor(
                db,
                sql: """
                    SELECT o.candidate_id, o.case_id, o.sample, o.variant, o.variant_kind, o.variant_index,
                        o.variant_perturbation, o.passed, o.score, o.checks, o.cost_usd, o.final_class, o.clarified,
                        o.abstained, o.served_by, o.started_at, o.elapsed, o.answer_key, o.tool_calls, o.tool_turns,
                        o.max_turns_reached, o.attack_pack, o.attack_succeeded, t.kind AS case_kind, t.tags AS tags
                    FROM outcome o LEFT JOIN test_case t ON t.run_id = o.run_id AND t.case_id = o.case_id
                    WHERE o.run_id = ? ORDER BY o.candidate_id, o.case_id, o.sample, o.variant
                    """,
                arguments: [runID]
            )
            // Attempts come in the same order, so both cursors advance together (a merge join).
            let attempts = try Row.fetchCursor(
                db,
                sql: "SELECT * FROM attempt WHERE run_id = ? ORDER BY \(order), role DESC, number",
                arguments: [runID]
            )
            var pending = try attempts.next()
            let decoder = JSONDecoder()
            while let row = try outcomes.next() {
                let key = Self.trialKey(row)
                let sortKey = Self.sortKey(row)
                var trialAttempts: [Attempt] = []
                while let attemptRow = pending {
                    let attemptKey = Self.sortKey(attemptRow)
                    guard attemptKey <= sortKey else { break }
                    if attemptKey == sortKey { trialAttempts.append(Self.attempt(attemptRow)) }
                    pending = try attempts.next()
                }
                let checksJSON: String = row["checks"]
                let checks = (try? decoder.decode([CheckResult].self, from: Data(checksJSON.utf8))) ?? []
                var outcome = Outcome(
                    key: key,
                    passed: row["passed"],
                    score: row["score"],
                    output: "",
                    checks: checks,
                    attempts: trialAttempts,
                    costUSD: row["cost_usd"],
                    finalClass: AttemptClass(rawValue: row["final_class"]) ?? .malformed
                )
                outcome.clarified = row["clarified"]
                outcome.abstained = row["abstained"]
                outcome.servedBy = row["served_by"]
                outcome.startedAt = row["started_at"]
                outcome.elapsed = row["elapsed"]
                outcome.answerKey = row["answer_key"]
                if let calls: Int = row["tool_calls"] {
                    // The scorer needs the counts only; the calls themselves are in the transcript.
                    outcome.tools = ToolTrace(
                        calls: Array(repeating: ToolCall(id: "", name: "", arguments: ""), count: calls),
                        turns: row["tool_turns"] ?? 0,
                        maxTurnsReached: row["max_turns_reached"] ?? false
                    )
                }
                if let pack: String = row["attack_pack"] {
                    outcome.attackPack = AttackPack(rawValue: pack)
                    outcome.attackVerdict = AttackVerdict(succeeded: row["attack_succeeded"] ?? false, evidence: "")
                }
                try body(
                    OutcomeRecord(
                        outcome: outcome,
                        kind: CaseKind(rawValue: row["case_kind"] ?? "") ?? .normal,
                        tags: Self.decodeTags(row["tags"] ?? "[]")
                    )
                )
            }
        }
    }

    /// The (candidate, case, sample, variant) order (the primary keys' order, so SQLite sorts nothing) both cursors of `forEachOutcome` follow, compared as SQLite
    /// compares TEXT (bytewise) and INTEGER.
    static func sortKey(_ row: Row) -> SortKey {
        SortKey(
            candidate: Array((row["candidate_id"] as String).utf8),
            caseID: Array((row["case_id"] as String).utf8),
            sample: row["sample"],
            variant: Array((row["variant"] as String).utf8)
        )
    }

    struct SortKey: Comparable {
        var candidate: [UInt8]
        var caseID: [UInt8]
        var sample: Int
        var variant: [UInt8]

        static func < (lhs: SortKey, rhs: SortKey) -> Bool {
            if lhs.candidate != rhs.candidate { return lhs.candidate.lexicographicallyPrecedes(rhs.candidate) }
            if lhs.caseID != rhs.caseID { return lhs.caseID.lexicographicallyPrecedes(rhs.caseID) }
            if lhs.sample != rhs.sample { return lhs.sample < rhs.sample }
            return lhs.variant.lexicographicallyPrecedes(rhs.variant)
        }
    }

    public func attempts(runID: String, key: TrialKey) async throws -> [Attempt] {
        try await writer.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT * FROM attempt WHERE run_id = ? AND candidate_id = ? AND case_id = ? AND sample = ?
                        AND variant = ?
                    ORDER BY role DESC, number
                    """,
                arguments: [runID, key.candidate, key.caseID, key.sample, key.variant.name]
            ).map(Self.attempt)
        }
    }

    public func trialRows(runID: String, failuresOnly: Bool, limit: Int) async throws -> [TrialRow] {
        try await writer.read { db in
            let filter = failuresOnly ? "AND o.passed = 0" : ""
            return try Row.fetchAll(
                db,
                sql: """
                    SELECT o.*, c.tags AS tags, COALESCE(o.input, c.input) AS effective_input,
                        COALESCE(c.private, 0) AS is_private FROM outcome o
                    LEFT JOIN test_case c ON c.run_id = o.run_id AND c.case_id = o.case_id
                    WHERE o.run_id = ? \(filter)
                    ORDER BY o.candidate_id, o.case_id, o.variant, o.sample LIMIT ?
                    """,
                arguments: [runID, limit]
            ).map { row in
                let checksJSON: String = row["checks"]
                let checks = (try? JSONDecoder().decode([CheckResult].self, from: Data(checksJSON.utf8))) ?? []
                var trial = TrialRow(
                    key: Self.trialKey(row),
                    tags: Self.decodeTags(row["tags"] ?? "[]"),
                    input: row["effective_input"] ?? "",
                    passed: row["passed"],
                    score: row["score"],
                    output: row["output"],
                    checks: checks,
                    finalClass: AttemptClass(rawValue: row["final_class"]) ?? .malformed,
                    attempts: row["attempts"],
                    endToEnd: row["e2e"],
                    costUSD: row["cost_usd"],
                    system: row["system"]
                )
                let transcriptJSON: String? = row["transcript"]
                trial.transcript = transcriptJSON.flatMap {
                    try? JSONDecoder().decode([Message].self, from: Data($0.utf8))
                }
                if let pack: String = row["attack_pack"] {
                    trial.attackPack = pack
                    trial.attackSucceeded = row["attack_succeeded"]
                    trial.attackEvidence = row["attack_evidence"]
                    trial.attackHighlight = row["attack_highlight"]
                }
                let isPrivate: Bool = row["is_private"]
                return isPrivate ? trial.redacted() : trial
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
}
