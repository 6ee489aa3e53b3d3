import Foundation
import RoadtestCore

// MARK: - Copying between stores

extension Store {
    /// A table `copy` moves, its primary key, and whether rows belong to a run (`run_column`).
    struct CopiedTable {
        var name: String
        var key: [String]
        var runColumn: String?
    }

    static let copiedTables = [
        CopiedTable(name: "run", key: ["id"], runColumn: "id"),
        CopiedTable(name: "test_case", key: ["run_id", "case_id"], runColumn: "run_id"),
        CopiedTable(name: "outcome", key: TrialColumns.key, runColumn: "run_id"),
        CopiedTable(name: "attempt", key: AttemptRow.primaryKey, runColumn: "run_id"),
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
        to destination: Store,
        runs only: [String]? = nil,
        progress: (String, Int) -> Void = { _, _ in }
    ) async throws -> [(table: String, rows: Int)] {
        if let only {
            for id in only {
                if try await runs.run(id: id) != nil { continue }
                if try await documents.loadRunJSON(id: id) != nil { continue }
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
                let sql = destination.database.dialect.upsert(into: table.name, columns: columns, key: table.key)
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
            let existing = Set(try await destination.feedback.allFeedback())
            for item in try await feedback.allFeedback() where !existing.contains(item) {
                try await destination.feedback.recordFeedback(item)
                copied += 1
            }
            summary.append(("feedback", copied))
        }
        return summary
    }
}
