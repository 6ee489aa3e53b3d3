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
        try await trialPage(
            runID: runID,
            filter: TrialFilter(passed: failuresOnly ? false : nil),
            offset: 0,
            limit: limit,
            counting: false
        ).rows
    }

    public func trialPage(runID: String, filter: TrialFilter, offset: Int, limit: Int) async throws -> TrialPage {
        try await trialPage(runID: runID, filter: filter, offset: offset, limit: limit, counting: true)
    }

    func trialPage(
        runID: String,
        filter: TrialFilter,
        offset: Int,
        limit: Int,
        counting: Bool
    ) async throws -> TrialPage {
        var conditions = ["o.run_id = ?"]
        var values: [any SQLBindable] = [runID]
        if let candidate = filter.candidate {
            conditions.append("o.candidate_id = ?")
            values.append(candidate)
        }
        if let caseID = filter.caseID {
            conditions.append("o.case_id = ?")
            values.append(caseID)
        }
        if let passed = filter.passed {
            conditions.append("o.passed = ?")
            values.append(passed ? 1 : 0)
        }
        if let outcomeClass = filter.outcomeClass {
            conditions.append("o.final_class = ?")
            values.append(outcomeClass.rawValue)
        }
        if let tag = filter.tag {
            // Tags are stored as a JSON array of strings.
            conditions.append("c.tags LIKE ? ESCAPE '\\'")
            values.append("%" + Self.likeEscaped(JSONValue.string(tag).jsonText) + "%")
        }
        if let check = filter.failedCheck {
            // Check results are stored as JSON with sorted keys: check, isConstraint, passed, ...
            conditions.append("(o.checks LIKE ? ESCAPE '\\' OR o.checks LIKE ? ESCAPE '\\')")
            for constraint in ["false", "true"] {
                values.append(
                    "%" + Self.likeEscaped(#""check":"# + JSONValue.string(check).jsonText)
                        + #","isConstraint":\#(constraint),"passed":false%"#
                )
            }
        }
        if let text = filter.text, !text.isEmpty {
            conditions.append(
                "(LOWER(o.output) LIKE ? ESCAPE '\\' OR LOWER(COALESCE(o.input, c.input, '')) LIKE ? ESCAPE '\\')"
            )
            let pattern = "%" + Self.likeEscaped(text.lowercased()) + "%"
            values += [pattern, pattern]
        }
        let from = """
            FROM outcome o LEFT JOIN test_case c ON c.run_id = o.run_id AND c.case_id = o.case_id
            WHERE \(conditions.joined(separator: " AND "))
            """
        let total =
            counting
            ? try await database.fetchOne(SQLStatement("SELECT COUNT(*) AS n " + from, values))?.int("n") ?? 0 : 0
        let decoder = JSONDecoder()
        let rows = try await database.fetchAll(
            SQLStatement(
                """
                SELECT o.*, c.tags AS tags, COALESCE(o.input, c.input) AS effective_input,
                    COALESCE(c.private, 0) AS is_private \(from)
                ORDER BY \(dialect.bytewise("o.candidate_id")), \(dialect.bytewise("o.case_id")),
                    \(dialect.bytewise("o.variant")), o.sample LIMIT ? OFFSET ?
                """,
                values + [limit, offset]
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
        return TrialPage(rows: rows, total: counting ? total : rows.count)
    }

    /// `text` for a LIKE pattern with `\` as its escape: `%`, `_` and `\` match only themselves.
    static func likeEscaped(_ text: String) -> String {
        var out = ""
        for character in text {
            if character == "%" || character == "_" || character == "\\" { out.append("\\") }
            out.append(character)
        }
        return out
    }
}
