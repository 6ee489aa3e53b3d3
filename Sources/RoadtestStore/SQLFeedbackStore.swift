import Foundation
import RoadtestCore

/// Human feedback over SQL, and the subjects it can be about (kept gateway bodies, a run's failing trials).
public struct SQLFeedbackStore: FeedbackStore {
    let database: any SQLDatabase
    var dialect: SQLDialect { database.dialect }

    public func recordFeedback(_ feedback: Feedback) async throws {
        try await database.write(dialect.insert(feedback))
    }

    public func allFeedback() async throws -> [Feedback] {
        try await database.fetchAll(SQLStatement("SELECT * FROM feedback ORDER BY created_at, id"))
            .map(Feedback.init(row:))
    }

    public func feedbackSubject(_ subject: String) async throws -> FeedbackSubject? {
        if subject.hasPrefix("request:") {
            let id = String(subject.dropFirst("request:".count))
            return try await database.fetchOne(SQLStatement("SELECT * FROM gateway_body WHERE request_id = ?", [id]))
                .map(GatewayBodyRow.subject)
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
        guard let row, !(try row.bool("is_private")) else { return nil }
        return FeedbackSubject(
            subject: subject,
            tag: parts[1],
            system: try row.optionalText("system"),
            input: try row.optionalText("input") ?? "",
            output: try row.text("output"),
            receivedAt: 0
        )
    }

    public func reviewSubjects(limit: Int) async throws -> [FeedbackSubject] {
        var subjects = try await database.fetchAll(
            SQLStatement("SELECT * FROM gateway_body ORDER BY received_at DESC LIMIT ?", [limit])
        ).map(GatewayBodyRow.subject)
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
                run, try row.text("candidate_id"), try row.text("case_id"), String(try row.int("sample")),
                try row.text("variant"),
            ]
            return FeedbackSubject(
                subject: "trial:" + key.joined(separator: "/"),
                tag: try row.text("candidate_id"),
                system: try row.optionalText("system"),
                input: try row.optionalText("input") ?? "",
                output: try row.text("output"),
                receivedAt: 0
            )
        }
        return subjects
    }
}
