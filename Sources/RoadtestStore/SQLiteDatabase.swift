import Foundation
import GRDB

/// The embedded backend: one SQLite file through GRDB (a pool: readers never wait for the writer), migrated when
/// opened.
public final class SQLiteDatabase: SQLDatabase {
    let writer: any DatabaseWriter
    public var dialect: SQLDialect { .sqlite }

    /// Opens (creating if needed) the file at `path` and migrates it.
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

    /// A database in memory (tests).
    public convenience init() throws {
        try self.init(writer: DatabaseQueue())
    }

    init(writer: any DatabaseWriter) throws {
        self.writer = writer
        var migrator = DatabaseMigrator()
        for migration in StoreSchema.migrations {
            migrator.registerMigration(migration.id) { db in try db.execute(sql: migration.sql) }
        }
        try migrator.migrate(writer)
    }

    public func write(_ statements: [SQLStatement]) async throws {
        try await writer.write { db in
            // Prepared once per connection and reused: a batch of the same statement (a gateway's records every
            // 100 ms) is parsed once, not once per row.
            for statement in statements {
                try db.cachedStatement(sql: statement.sql).execute(arguments: Self.arguments(statement))
            }
        }
    }

    public func read(_ statement: SQLStatement, _ body: (SQLRow) throws -> Void) async throws {
        try readSynchronously(statement, body)
    }

    /// A synchronous read: rows stream through `body` inside one read transaction, one at a time.
    func readSynchronously(_ statement: SQLStatement, _ body: (SQLRow) throws -> Void) throws {
        try writer.read { db in
            let rows = try Row.fetchCursor(db, sql: statement.sql, arguments: Self.arguments(statement))
            let columns = SQLRow.Columns(rows.columnNames)
            var cells: [SQLValue] = []
            cells.reserveCapacity(columns.names.count)
            while let row = try rows.next() {
                cells.removeAll(keepingCapacity: true)
                for value in row.databaseValues {
                    switch value.storage {
                    case .null: cells.append(.null)
                    case .int64(let int): cells.append(.int(Int(int)))
                    case .double(let double): cells.append(.double(double))
                    case .string(let text): cells.append(.text(text))
                    case .blob(let data): cells.append(.text(String(decoding: data, as: UTF8.self)))
                    }
                }
                try body(SQLRow(columns: columns, cells: cells))
            }
        }
    }

    static func arguments(_ statement: SQLStatement) -> StatementArguments {
        // Straight to GRDB's own value type: no boxing of each value as an existential on the way.
        StatementArguments(
            statement.arguments.map { value -> DatabaseValue in
                switch value {
                case .null: .null
                case .int(let int): int.databaseValue
                case .double(let double): double.databaseValue
                case .text(let text): text.databaseValue
                }
            }
        )
    }
}
