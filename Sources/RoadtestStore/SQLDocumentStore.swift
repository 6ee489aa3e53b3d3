import Foundation
import RoadtestCore

/// Stored `load` and `drill` reports over SQL.
public struct SQLDocumentStore: DocumentStore {
    let database: any SQLDatabase
    var dialect: SQLDialect { database.dialect }

    public func saveLoadRun(id: String, suiteName: String, startedAt: String, json: Data) async throws {
        try await database.write(
            dialect.upsert(
                LoadRunRow(
                    id: id,
                    suiteName: suiteName,
                    startedAt: startedAt,
                    json: String(decoding: json, as: UTF8.self)
                )
            )
        )
    }

    public func loadRunJSON(id: String) async throws -> Data? {
        try await database.fetchOne(SQLStatement("SELECT report_json FROM load_run WHERE id = ?", [id]))
            .map { Data(try $0.text("report_json").utf8) }
    }

    public func saveDrill(runID: String, cleanRunID: String, startedAt: String, json: Data) async throws {
        try await database.write(
            dialect.upsert(
                DrillRow(
                    runID: runID,
                    cleanRunID: cleanRunID,
                    startedAt: startedAt,
                    json: String(decoding: json, as: UTF8.self)
                )
            )
        )
    }

    public func drillJSON(runID: String) async throws -> Data? {
        try await database.fetchOne(SQLStatement("SELECT report_json FROM drill WHERE run_id = ?", [runID]))
            .map { Data(try $0.text("report_json").utf8) }
    }
}
