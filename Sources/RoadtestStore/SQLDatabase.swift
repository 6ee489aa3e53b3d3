import Foundation

/// A value bound to or read from a SQL statement: the four kinds both stores keep (booleans are integers 0 and 1).
public enum SQLValue: Sendable, Hashable {
    case null
    case int(Int)
    case double(Double)
    case text(String)
}

/// A Swift value that binds as a `SQLValue`.
public protocol SQLBindable: Sendable {
    var sqlValue: SQLValue { get }
}

extension Int: SQLBindable { public var sqlValue: SQLValue { .int(self) } }
extension Double: SQLBindable { public var sqlValue: SQLValue { .double(self) } }
extension String: SQLBindable { public var sqlValue: SQLValue { .text(self) } }
extension Bool: SQLBindable { public var sqlValue: SQLValue { .int(self ? 1 : 0) } }
extension SQLValue: SQLBindable { public var sqlValue: SQLValue { self } }
extension Optional: SQLBindable where Wrapped: SQLBindable {
    public var sqlValue: SQLValue { self?.sqlValue ?? .null }
}

/// One statement with its arguments, written with `?` placeholders (the PostgreSQL backend numbers them).
public struct SQLStatement: Sendable {
    public var sql: String
    public var arguments: [SQLValue]

    public init(_ sql: String, _ arguments: [any SQLBindable] = []) {
        self.sql = sql
        self.arguments = arguments.map(\.sqlValue)
    }

    public init(_ sql: String, values: [SQLValue]) {
        self.sql = sql
        self.arguments = values
    }
}

/// The SQL both backends understand differs in a few places; each statement that differs asks the dialect.
public enum SQLDialect: Sendable {
    case sqlite
    case postgres

    /// `INSERT` that replaces the row with the same `key` (the table's primary key).
    public func upsert(into table: String, columns: [String], key: [String]) -> String {
        let placeholders = Array(repeating: "?", count: columns.count).joined(separator: ", ")
        let list = columns.joined(separator: ", ")
        switch self {
        case .sqlite:
            return "INSERT OR REPLACE INTO \(table) (\(list)) VALUES (\(placeholders))"
        case .postgres:
            let updates = columns.filter { !key.contains($0) }.map { "\($0) = EXCLUDED.\($0)" }
            let action = updates.isEmpty ? "NOTHING" : "UPDATE SET " + updates.joined(separator: ", ")
            return "INSERT INTO \(table) (\(list)) VALUES (\(placeholders)) "
                + "ON CONFLICT (\(key.joined(separator: ", "))) DO \(action)"
        }
    }

    /// A text column ordered bytewise, as SQLite orders it (PostgreSQL orders by the database's collation).
    public func bytewise(_ column: String) -> String {
        self == .postgres ? "\(column) COLLATE \"C\"" : column
    }

    /// A migration's DDL, written for SQLite, in this dialect: the same tables and columns, with PostgreSQL's
    /// 8-byte `DOUBLE PRECISION` for SQLite's `REAL`, `BIGSERIAL` for an autoincrement key, `strpos` for `instr`.
    public func ddl(_ sql: String) -> String {
        switch self {
        case .sqlite:
            return sql
        case .postgres:
            return
                sql
                .replacingOccurrences(of: "INTEGER PRIMARY KEY AUTOINCREMENT", with: "BIGSERIAL PRIMARY KEY")
                .replacingOccurrences(of: " REAL", with: " DOUBLE PRECISION")
                .replacingOccurrences(of: "instr(", with: "strpos(")
        }
    }
}

/// What the run store needs from a SQL database: atomic batches of writes and streamed reads. `SQLiteDatabase`
/// (GRDB) and `PostgresDatabase` (PostgresNIO) implement it; `SQLRunStore` holds every query once.
public protocol SQLDatabase: Sendable {
    var dialect: SQLDialect { get }
    /// Runs the statements in one transaction: all of them or none.
    func write(_ statements: [SQLStatement]) async throws
    /// Streams the rows of a query through `body`, one at a time.
    func read(_ statement: SQLStatement, _ body: (SQLRow) throws -> Void) async throws
    /// Runs `body` while the database's connections are served (a PostgreSQL pool runs for that long; SQLite needs
    /// nothing): the lifetime of a store's connections is the scope of this call.
    func withRunning<Result>(_ body: () async throws -> Result) async throws -> Result
}

extension SQLDatabase {
    public func withRunning<Result>(_ body: () async throws -> Result) async throws -> Result { try await body() }

    public func write(_ statement: SQLStatement) async throws { try await write([statement]) }

    public func fetchAll(_ statement: SQLStatement) async throws -> [SQLRow] {
        var rows: [SQLRow] = []
        try await read(statement) { rows.append($0) }
        return rows
    }

    public func fetchOne(_ statement: SQLStatement) async throws -> SQLRow? {
        var first: SQLRow?
        try await read(statement) { row in if first == nil { first = row } }
        return first
    }
}
