import Foundation
import RoadtestCore

// MARK: - Reading outcomes for reports

extension SQLRunStore {
    /// One query, outcomes joined with their attempts in (candidate, case, sample, variant) order; consecutive rows
    /// of one trial are folded into one record, so memory holds one trial at a time.
    public func forEachOutcome(runID: String, _ body: (OutcomeRecord) throws -> Void) async throws {
        var current: (id: [String], row: SQLRow, attempts: [Attempt])?
        func flush() throws {
            guard let trial = current else { return }
            let row = trial.row
            var outcome = Outcome(
                key: try TrialColumns.trialKey(row),
                passed: try row.bool("passed"),
                score: try row.double("score"),
                output: "",
                checks: try CheckResult.decode(json: try row.text("checks")),
                attempts: trial.attempts,
                costUSD: try row.double("cost_usd"),
                finalClass: try row.value("final_class")
            )
            outcome.clarified = try row.bool("clarified")
            outcome.abstained = try row.bool("abstained")
            outcome.servedBy = try row.optionalText("served_by")
            outcome.startedAt = try row.optionalDouble("started_at")
            outcome.elapsed = try row.optionalDouble("elapsed")
            outcome.answerKey = try row.optionalText("answer_key")
            if let calls = try row.optionalInt("tool_calls") {
                // The scorer needs the counts only; the calls themselves are in the transcript.
                outcome.tools = ToolTrace(
                    calls: Array(repeating: ToolCall(id: "", name: "", arguments: ""), count: calls),
                    turns: try row.optionalInt("tool_turns") ?? 0,
                    maxTurnsReached: try row.optionalBool("max_turns_reached") ?? false
                )
            }
            if let pack = try row.optionalText("attack_pack") {
                outcome.attackPack = AttackPack(rawValue: pack)
                outcome.attackVerdict = AttackVerdict(
                    succeeded: try row.optionalBool("attack_succeeded") ?? false,
                    evidence: ""
                )
            }
            // The case's kind and tags come from a LEFT JOIN: a trial whose case row is gone reads as a normal case.
            try body(
                OutcomeRecord(
                    outcome: outcome,
                    kind: try row.optionalText("case_kind").flatMap(CaseKind.init(rawValue:)) ?? .normal,
                    tags: Tags.decode(try row.optionalText("tags"))
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
            let id = [
                try row.text("candidate_id"), try row.text("case_id"), String(try row.int("sample")),
                try row.text("variant"),
            ]
            if current?.id != id {
                try flush()
                current = (id, row, [])
            }
            if row.isPresent("a_role") {
                current?.attempts.append(try AttemptRow.attempt(row, prefix: "a_"))
            }
        }
        try flush()
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
            var trial = TrialRow(
                key: try TrialColumns.trialKey(row),
                tags: Tags.decode(try row.optionalText("tags")),
                input: try row.optionalText("effective_input") ?? "",
                passed: try row.bool("passed"),
                score: try row.double("score"),
                output: try row.text("output"),
                checks: try CheckResult.decode(json: try row.text("checks")),
                finalClass: try row.value("final_class"),
                attempts: try row.int("attempts"),
                endToEnd: try row.optionalDouble("e2e"),
                costUSD: try row.double("cost_usd"),
                system: try row.optionalText("system")
            )
            trial.transcript = try row.optionalText("transcript").map {
                try decoder.decode([Message].self, from: Data($0.utf8))
            }
            if let pack = try row.optionalText("attack_pack") {
                trial.attackPack = pack
                trial.attackSucceeded = try row.optionalBool("attack_succeeded")
                trial.attackEvidence = try row.optionalText("attack_evidence")
                trial.attackHighlight = try row.optionalText("attack_highlight")
            }
            return try row.bool("is_private") ? trial.redacted() : trial
        }
    }
}
