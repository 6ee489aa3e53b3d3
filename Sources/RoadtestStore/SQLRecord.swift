import Foundation
import RoadtestCore

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

extension SQLDialect {
    /// The statement that stores `record`, replacing the row with the same primary key.
    func upsert<Record: SQLRecord>(_ record: Record) -> SQLStatement {
        let columns = record.columns
        return SQLStatement(
            upsert(into: Record.table, columns: columns.map(\.key), key: Record.primaryKey),
            columns.map(\.value)
        )
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
}
