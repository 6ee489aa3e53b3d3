import Foundation
import RoadtestCore
import Synchronization

/// A row type that owns its mapping to a table: each column is named beside the value it takes, once, so the
/// column list and the values cannot drift apart, and the row it reads back is decoded by the same type.
protocol SQLRecord {
    /// The table the record is a row of.
    static var table: String { get }
    /// The table's primary key (upserts replace the row with the same key).
    static var primaryKey: [String] { get }
    /// Every stored column with its value.
    var columns: KeyValuePairs<String, any SQLBindable> { get }
}

/// Upsert statements' text by record type and dialect: written once, not once per stored row.
private let upsertTexts = Mutex<[UpsertText: String]>([:])

private struct UpsertText: Hashable {
    let record: ObjectIdentifier
    let dialect: SQLDialect
    let columns: Int
}

extension SQLDialect {
    /// The statement that stores `record`, replacing the row with the same primary key.
    func upsert<Record: SQLRecord>(_ record: Record) -> SQLStatement {
        let columns = record.columns
        let key = UpsertText(record: ObjectIdentifier(Record.self), dialect: self, columns: columns.count)
        let text =
            upsertTexts.withLock { $0[key] }
            ?? {
                let text = upsert(into: Record.table, columns: columns.map(\.key), key: Record.primaryKey)
                upsertTexts.withLock { $0[key] = text }
                return text
            }()
        return SQLStatement(text, columns.map(\.value))
    }

    /// One statement that stores every record of `records` (all of one type), each replacing the row with its key.
    /// The records' keys must differ (PostgreSQL cannot update a row twice in one statement).
    func upsert<Record: SQLRecord>(_ records: [Record]) -> SQLStatement {
        let names = records.first.map { $0.columns.map(\.key) } ?? []
        let row = "(" + Array(repeating: "?", count: names.count).joined(separator: ", ") + ")"
        let values = Array(repeating: row, count: records.count).joined(separator: ", ")
        let list = names.joined(separator: ", ")
        var sql: String
        switch self {
        case .sqlite:
            sql = "INSERT OR REPLACE INTO \(Record.table) (\(list)) VALUES \(values)"
        case .postgres:
            let updates = names.filter { !Record.primaryKey.contains($0) }.map { "\($0) = EXCLUDED.\($0)" }
            sql =
                "INSERT INTO \(Record.table) (\(list)) VALUES \(values) ON CONFLICT "
                + "(\(Record.primaryKey.joined(separator: ", "))) DO "
                + (updates.isEmpty ? "NOTHING" : "UPDATE SET " + updates.joined(separator: ", "))
        }
        return SQLStatement(sql, values: Self.values(records, columns: names.count))
    }

    /// Every record's values in column order, converted once.
    static func values<Record: SQLRecord>(_ records: [Record], columns: Int) -> [SQLValue] {
        var values: [SQLValue] = []
        values.reserveCapacity(records.count * columns)
        for record in records {
            for (_, value) in record.columns { values.append(value.sqlValue) }
        }
        return values
    }

    /// The statement that adds `record` as a new row (a table whose key the database assigns).
    func insert<Record: SQLRecord>(_ record: Record) -> SQLStatement {
        let columns = record.columns
        let placeholders = Array(repeating: "?", count: columns.count).joined(separator: ", ")
        return SQLStatement(
            "INSERT INTO \(Record.table) (\(columns.map(\.key).joined(separator: ", "))) VALUES (\(placeholders))",
            columns.map(\.value)
        )
    }

    /// One statement that adds every record of `records` (all of one type, so their columns are the same); with
    /// `ignoringConflicts`, a row whose key is already there is kept as it is.
    func insert<Record: SQLRecord>(_ records: [Record], ignoringConflicts: Bool = false) -> SQLStatement {
        let names = records.first.map { $0.columns.map(\.key) } ?? []
        let row = "(" + Array(repeating: "?", count: names.count).joined(separator: ", ") + ")"
        var sql =
            "INSERT INTO \(Record.table) (\(names.joined(separator: ", "))) VALUES "
            + Array(repeating: row, count: records.count).joined(separator: ", ")
        if ignoringConflicts {
            sql += self == .postgres ? " ON CONFLICT (\(Record.primaryKey.joined(separator: ", "))) DO NOTHING" : ""
            if self == .sqlite { sql = sql.replacingOccurrences(of: "INSERT INTO", with: "INSERT OR IGNORE INTO") }
        }
        return SQLStatement(sql, values: Self.values(records, columns: names.count))
    }
}
