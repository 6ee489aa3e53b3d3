import Foundation
import RoadtestCore

// Each stored record type with its table mapping: the columns it writes, named beside their values, and the
// decoding of the row it reads back. Nothing else in the store lists a record's columns.

// MARK: - Runs and cases

/// A `run` row: the run record and its suite (redacted, without cases).
struct RunRow: SQLRecord {
    static let table = "run"
    static let primaryKey = ["id"]
    /// The columns `RunRecord(row:)` reads (everything but the suite).
    static let header = "id, suite_name, suite_path, suite_hash, status, started_at, finished_at, version"

    var record: RunRecord
    var suiteJSON: String

    var columns: KeyValuePairs<String, any SQLBindable> {
        [
            "id": record.id, "suite_name": record.suiteName, "suite_path": record.suitePath,
            "suite_hash": record.suiteHash, "suite_json": suiteJSON, "status": record.status.rawValue,
            "started_at": record.startedAt, "finished_at": record.finishedAt, "version": record.version,
        ]
    }
}

extension RunRecord {
    init(row: SQLRow) throws {
        self.init(
            id: try row.text("id"),
            suiteName: try row.text("suite_name"),
            suitePath: try row.text("suite_path"),
            suiteHash: try row.text("suite_hash"),
            status: try row.value("status"),
            startedAt: try row.text("started_at"),
            finishedAt: try row.optionalText("finished_at"),
            version: try row.text("version")
        )
    }
}

/// A `test_case` row: one case of a run's suite (a private case's input is not kept in the clear column).
struct TestCaseRow: SQLRecord {
    static let table = "test_case"
    static let primaryKey = ["run_id", "case_id"]

    var runID: String
    var testCase: Case
    var position: Int
    var caseJSON: String

    var columns: KeyValuePairs<String, any SQLBindable> {
        [
            "run_id": runID, "case_id": testCase.id, "kind": testCase.kind.rawValue,
            "tags": Tags.encode(testCase.tags), "input": testCase.isPrivate ? "" : testCase.input,
            "private": testCase.isPrivate, "position": position, "case_json": caseJSON,
        ]
    }
}

/// Tags are stored as a JSON array of strings.
enum Tags {
    static func encode(_ tags: [String]) -> String {
        JSONValue.array(tags.map(JSONValue.string)).jsonText
    }

    static func decode(_ text: String?) -> [String] {
        JSONValue.parse(text ?? "[]")?.arrayValue?.compactMap(\.stringValue) ?? []
    }
}

// MARK: - Outcomes and attempts

/// The key columns of a trial, shared by `outcome`, `attempt` and `trial_queue`.
enum TrialColumns {
    static let key = ["run_id", "candidate_id", "case_id", "sample", "variant"]

    /// `(candidate_id = ? AND case_id = ? AND sample = ? AND variant = ?) OR ...` for `count` trials of one run:
    /// each term an equality on the primary key's columns (an index lookup), where a row-value `IN (VALUES ...)`
    /// makes the planner scan the run's rows.
    static func matching(count: Int) -> String {
        Array(repeating: "(candidate_id = ? AND case_id = ? AND sample = ? AND variant = ?)", count: count)
            .joined(separator: " OR ")
    }

    /// The bound values for `matching`.
    static func bindings(_ keys: [TrialKey]) -> [any SQLBindable] {
        keys.flatMap { key -> [any SQLBindable] in [key.candidate, key.caseID, key.sample, key.variant.name] }
    }

    static func variant(_ row: SQLRow) throws -> Variant {
        Variant(
            kind: try row.value("variant_kind"),
            perturbation: try row.optionalText("variant_perturbation").map {
                guard let perturbation = Perturbation(rawValue: $0) else {
                    throw SQLRow.ColumnError(column: "variant_perturbation", problem: "unknown perturbation '\($0)'")
                }
                return perturbation
            },
            index: try row.int("variant_index")
        )
    }

    static func trialKey(_ row: SQLRow) throws -> TrialKey {
        TrialKey(
            candidate: try row.text("candidate_id"),
            caseID: try row.text("case_id"),
            sample: try row.int("sample"),
            variant: try variant(row)
        )
    }
}

/// An `outcome` row: a graded trial.
struct OutcomeRow: SQLRecord {
    static let table = "outcome"
    static let primaryKey = TrialColumns.key

    var runID: String
    var outcome: Outcome
    var checksJSON: String
    var transcriptJSON: String?
    var completedAt: String

    init(_ outcome: Outcome, runID: String) throws {
        self.runID = runID
        self.outcome = outcome
        let encoder = JSONEncoder()
        checksJSON = CheckResult.json(outcome.checks)
        transcriptJSON = try outcome.transcript.map { String(decoding: try encoder.encode($0), as: UTF8.self) }
        completedAt = RunRecord.timestamp()
    }

    var columns: KeyValuePairs<String, any SQLBindable> {
        let key = outcome.key
        let taskAttempts = outcome.attempts.filter { $0.role == .task }
        return [
            "run_id": runID, "candidate_id": key.candidate, "case_id": key.caseID, "sample": key.sample,
            "variant": key.variant.name, "passed": outcome.passed, "score": outcome.score, "output": outcome.output,
            "checks": checksJSON, "cost_usd": outcome.costUSD, "final_class": outcome.finalClass.rawValue,
            "attempts": taskAttempts.count, "e2e": taskAttempts.last?.endToEnd, "completed_at": completedAt,
            "input": outcome.input, "system": outcome.system, "clarified": outcome.clarified,
            "abstained": outcome.abstained, "variant_kind": key.variant.kind.rawValue,
            "variant_index": key.variant.index, "variant_perturbation": key.variant.perturbation?.rawValue,
            "served_by": outcome.servedBy, "started_at": outcome.startedAt, "elapsed": outcome.elapsed,
            "answer_key": outcome.answerKey, "tool_calls": outcome.tools?.calls.count,
            "tool_turns": outcome.tools?.turns, "max_turns_reached": outcome.tools?.maxTurnsReached,
            "transcript": transcriptJSON, "attack_pack": outcome.attackPack?.rawValue,
            "attack_succeeded": outcome.attackVerdict?.succeeded, "attack_evidence": outcome.attackVerdict?.evidence,
            "attack_highlight": outcome.attackVerdict?.highlight,
        ]
    }

    /// The statements that store a graded trial: replacing a trial replaces its attempts too (idempotent on the
    /// trial key).
    static func statements(_ outcome: Outcome, runID: String, dialect: SQLDialect) throws -> [SQLStatement] {
        let key = outcome.key
        return [
            SQLStatement(
                "DELETE FROM attempt WHERE run_id = ? AND candidate_id = ? AND case_id = ? AND sample = ? AND variant = ?",
                [runID, key.candidate, key.caseID, key.sample, key.variant.name]
            ),
            dialect.upsert(try OutcomeRow(outcome, runID: runID)),
        ] + outcome.attempts.map { dialect.upsert(AttemptRow(runID: runID, key: key, attempt: $0)) }
    }

    /// The statements that store many graded trials, a few per hundred trials rather than a few per trial: their
    /// old attempts deleted, their outcomes and attempts each written by multi-row upserts. Chunks stay under
    /// SQLite's 32,766 and PostgreSQL's 65,535 bound values per statement. A trial that appears twice is stored
    /// once, as its last outcome.
    static func statements(_ outcomes: [Outcome], runID: String, dialect: SQLDialect) throws -> [SQLStatement] {
        var latest: [TrialKey: Int] = [:]
        for (index, outcome) in outcomes.enumerated() { latest[outcome.key] = index }
        let unique = outcomes.indices.filter { latest[outcomes[$0].key] == $0 }.map { outcomes[$0] }
        var statements: [SQLStatement] = []
        for range in fixedChunks(unique.count, largest: 128) {
            let chunk = unique[range]
            // Old attempts: per trial in SQLite (in process, each an index lookup); one statement in PostgreSQL (a
            // round trip each), its trials as equalities the primary key's index answers.
            switch dialect {
            case .sqlite:
                for outcome in chunk {
                    statements.append(
                        SQLStatement(
                            "DELETE FROM attempt WHERE run_id = ? AND candidate_id = ? AND case_id = ? AND sample = ? "
                                + "AND variant = ?",
                            [runID] + TrialColumns.bindings([outcome.key])
                        )
                    )
                }
            case .postgres:
                statements.append(
                    SQLStatement(
                        "DELETE FROM attempt WHERE run_id = ? AND (\(TrialColumns.matching(count: chunk.count)))",
                        [runID] + TrialColumns.bindings(chunk.map(\.key))
                    )
                )
            }
            statements.append(dialect.upsert(try chunk.map { try OutcomeRow($0, runID: runID) }))
            let attempts = chunk.flatMap { outcome in
                outcome.attempts.map { AttemptRow(runID: runID, key: outcome.key, attempt: $0) }
            }
            for range in fixedChunks(attempts.count, largest: 512) {
                statements.append(dialect.upsert(Array(attempts[range])))
            }
        }
        return statements
    }
}

/// An `attempt` row: one request of a trial.
struct AttemptRow: SQLRecord {
    static let table = "attempt"
    static let primaryKey = TrialColumns.key + ["role", "number"]

    var runID: String
    var key: TrialKey
    var attempt: Attempt

    var columns: KeyValuePairs<String, any SQLBindable> {
        [
            "run_id": runID, "candidate_id": key.candidate, "case_id": key.caseID, "sample": key.sample,
            "variant": key.variant.name, "role": attempt.role.rawValue, "number": attempt.number,
            "class": attempt.attemptClass.rawValue, "http_status": attempt.httpStatus,
            "ttft": attempt.timeToFirstToken, "e2e": attempt.endToEnd, "input_tokens": attempt.inputTokens,
            "output_tokens": attempt.outputTokens, "estimated": attempt.isTokenCountEstimated,
            "retry_after": attempt.retryAfter, "message": attempt.message, "cost_usd": attempt.costUSD,
            "candidate": attempt.candidate, "strategy_sample": attempt.strategySample,
        ]
    }

    /// The attempt of a row; `prefix` names joined columns (`a_`).
    static func attempt(_ row: SQLRow, prefix: String = "") throws -> Attempt {
        var response = ProviderResponse(attemptClass: try row.value(prefix + "class"))
        response.httpStatus = try row.optionalInt(prefix + "http_status")
        response.timeToFirstToken = try row.optionalDouble(prefix + "ttft")
        response.endToEnd = try row.optionalDouble(prefix + "e2e")
        response.inputTokens = try row.int(prefix + "input_tokens")
        response.outputTokens = try row.int(prefix + "output_tokens")
        response.isTokenCountEstimated = try row.bool(prefix + "estimated")
        response.retryAfter = try row.optionalDouble(prefix + "retry_after")
        response.message = try row.optionalText(prefix + "message")
        return Attempt(
            role: try row.value(prefix + "role"),
            number: try row.int(prefix + "number"),
            response: response,
            costUSD: try row.double(prefix + "cost_usd"),
            candidate: try row.optionalText(prefix + "candidate"),
            strategySample: try row.optionalInt(prefix + "strategy_sample")
        )
    }
}

// MARK: - Documents

/// A `load_run` row: a `roadtest load` report.
struct LoadRunRow: SQLRecord {
    static let table = "load_run"
    static let primaryKey = ["id"]
    var id: String
    var suiteName: String
    var startedAt: String
    var json: String

    var columns: KeyValuePairs<String, any SQLBindable> {
        ["id": id, "suite_name": suiteName, "started_at": startedAt, "report_json": json]
    }
}

/// A `drill` row: a `roadtest drill` report, under its faulted run.
struct DrillRow: SQLRecord {
    static let table = "drill"
    static let primaryKey = ["run_id"]
    var runID: String
    var cleanRunID: String
    var startedAt: String
    var json: String

    var columns: KeyValuePairs<String, any SQLBindable> {
        ["run_id": runID, "clean_run_id": cleanRunID, "started_at": startedAt, "report_json": json]
    }
}

// MARK: - Gateway and feedback

extension GatewayRecord: SQLRecord {
    static let table = "gateway_request"
    static let primaryKey = ["id"]

    var columns: KeyValuePairs<String, any SQLBindable> {
        [
            "id": id, "received_at": receivedAt, "route": route, "served_by": servedBy, "status": status,
            "outcome": outcome.rawValue, "stream": stream, "ttft": timeToFirstToken, "e2e": endToEnd,
            "input_tokens": inputTokens, "output_tokens": outputTokens, "cost_usd": costUSD, "attempts": attempts,
            "fell_back": fellBack,
        ]
    }

    init(row: SQLRow) throws {
        self.init(
            id: try row.text("id"),
            receivedAt: try row.double("received_at"),
            route: try row.optionalText("route"),
            servedBy: try row.optionalText("served_by"),
            status: try row.int("status"),
            outcome: try row.value("outcome"),
            stream: try row.bool("stream"),
            timeToFirstToken: try row.optionalDouble("ttft"),
            endToEnd: try row.optionalDouble("e2e"),
            inputTokens: try row.int("input_tokens"),
            outputTokens: try row.int("output_tokens"),
            costUSD: try row.double("cost_usd"),
            attempts: try row.int("attempts"),
            fellBack: try row.bool("fell_back")
        )
    }
}

extension ShadowPair: SQLRecord {
    static let table = "shadow_pair"
    static let primaryKey = ["request_id", "shadow_candidate"]

    var columns: KeyValuePairs<String, any SQLBindable> {
        [
            "request_id": requestID, "shadow_candidate": shadowCandidate, "route": route, "received_at": receivedAt,
            "input": input, "live_candidate": liveCandidate, "live_output": liveOutput, "live_outcome": liveOutcome,
            "live_e2e": liveEndToEnd, "live_cost_usd": liveCostUSD, "shadow_output": shadowOutput,
            "shadow_outcome": shadowOutcome, "shadow_e2e": shadowEndToEnd, "shadow_cost_usd": shadowCostUSD,
        ]
    }

    init(row: SQLRow) throws {
        self.init(
            requestID: try row.text("request_id"),
            route: try row.text("route"),
            receivedAt: try row.double("received_at"),
            input: try row.text("input"),
            liveCandidate: try row.text("live_candidate"),
            liveOutput: try row.text("live_output"),
            liveOutcome: try row.text("live_outcome"),
            liveEndToEnd: try row.optionalDouble("live_e2e"),
            liveCostUSD: try row.double("live_cost_usd"),
            shadowCandidate: try row.text("shadow_candidate"),
            shadowOutput: try row.text("shadow_output"),
            shadowOutcome: try row.text("shadow_outcome"),
            shadowEndToEnd: try row.optionalDouble("shadow_e2e"),
            shadowCostUSD: try row.double("shadow_cost_usd")
        )
    }
}

/// A `gateway_body` row: a kept (redacted) gateway request and its answer, for feedback and review.
struct GatewayBodyRow: SQLRecord {
    static let table = "gateway_body"
    static let primaryKey = ["request_id"]
    var subject: FeedbackSubject

    var columns: KeyValuePairs<String, any SQLBindable> {
        [
            "request_id": String(subject.subject.dropFirst("request:".count)), "route": subject.tag,
            "system": subject.system, "input": subject.input, "output": subject.output,
            "received_at": subject.receivedAt,
        ]
    }

    static func subject(_ row: SQLRow) throws -> FeedbackSubject {
        FeedbackSubject(
            subject: "request:" + (try row.text("request_id")),
            tag: try row.text("route"),
            system: try row.optionalText("system"),
            input: try row.text("input"),
            output: try row.text("output"),
            receivedAt: try row.double("received_at")
        )
    }
}

extension Feedback: SQLRecord {
    static let table = "feedback"
    /// The database assigns `id`; feedback is inserted, never replaced.
    static let primaryKey = ["id"]

    var columns: KeyValuePairs<String, any SQLBindable> {
        [
            "subject": subject, "rating": rating, "score": score, "correction": correction, "comment": comment,
            "created_at": createdAt, "source": source,
        ]
    }

    init(row: SQLRow) throws {
        self.init(
            subject: try row.text("subject"),
            rating: try row.text("rating"),
            score: try row.double("score"),
            correction: try row.optionalText("correction"),
            comment: try row.optionalText("comment"),
            createdAt: try row.double("created_at"),
            source: try row.text("source")
        )
    }
}

/// `count` items cut into chunks of power-of-two sizes, the largest first (at most `largest`, a power of two): a
/// multi-row statement has one of a few shapes, so the database's cache of prepared statements holds a few of
/// them instead of one per batch size (a 200-row upsert's prepared program is large).
func fixedChunks(_ count: Int, largest: Int) -> [Range<Int>] {
    var chunks: [Range<Int>] = []
    var start = 0
    while start < count {
        var size = largest
        while size > count - start { size /= 2 }
        chunks.append(start..<(start + size))
        start += size
    }
    return chunks
}
