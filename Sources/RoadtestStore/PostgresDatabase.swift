import Foundation
import Logging
import NIOSSL
import PostgresNIO
import RoadtestCore

/// The shared backend: a PostgreSQL database through PostgresNIO's connection pool, migrated when opened (under
/// an advisory lock, so workers starting together migrate once).
///
/// The password never comes from the URL: it is read from `PGPASSWORD`, or from the variable the URL names with
/// `?password_env=NAME`; it is never stored, logged or printed.
public final class PostgresDatabase: SQLDatabase {
    /// What a `postgres://` URL says, password aside.
    public struct Location: Sendable, Equatable {
        public var user: String
        public var host: String
        public var port: Int
        public var database: String
        /// `disable`, `prefer` (the default) or `require`.
        public var sslMode: String
        /// The environment variable that holds the password.
        public var passwordVariable: String
        /// A Unix socket directory (`?host=/var/run/postgresql`), in place of TCP.
        public var socketDirectory: String?

        /// The URL without secrets, for messages.
        public var display: String {
            "postgres://\(user)@\(socketDirectory ?? host):\(port)/\(database)"
        }

        /// Parses `postgres://user@host:port/db?sslmode=…&password_env=…`; a password in the URL is refused.
        public static func parse(_ url: String, environment: [String: String]) throws -> Location {
            guard let components = URLComponents(string: url),
                components.scheme == "postgres" || components.scheme == "postgresql"
            else {
                throw RoadtestError(
                    .invalidArgument,
                    "--store \(url): not a PostgreSQL URL",
                    hint: "write it as postgres://USER@HOST:PORT/DATABASE (password in PGPASSWORD)"
                )
            }
            if components.password != nil {
                throw RoadtestError(
                    .invalidArgument,
                    "--store: the PostgreSQL URL holds a password",
                    hint: "drop it from the URL and set PGPASSWORD (or name a variable with ?password_env=NAME): "
                        + "URLs end up in shell history, process lists and logs"
                )
            }
            var location = Location(
                user: components.user ?? environment["PGUSER"] ?? "postgres",
                host: components.host.flatMap { $0.isEmpty ? nil : $0 } ?? "127.0.0.1",
                port: components.port ?? 5432,
                database: "",
                sslMode: "prefer",
                passwordVariable: "PGPASSWORD"
            )
            let path = components.path.hasPrefix("/") ? String(components.path.dropFirst()) : components.path
            location.database = path.isEmpty ? location.user : path
            for item in components.queryItems ?? [] {
                let value = item.value ?? ""
                switch item.name {
                case "sslmode":
                    guard ["disable", "prefer", "require"].contains(value) else {
                        throw RoadtestError(
                            .invalidArgument,
                            "--store: sslmode=\(value) is not supported",
                            hint: "use sslmode=disable, prefer or require"
                        )
                    }
                    location.sslMode = value
                case "password_env":
                    location.passwordVariable = value
                case "host" where value.hasPrefix("/"):
                    location.socketDirectory = value
                case "port":
                    guard let port = Int(value), (1...65_535).contains(port) else {
                        throw RoadtestError(.invalidArgument, "--store: port=\(value) is not a port number")
                    }
                    location.port = port
                default:
                    throw RoadtestError(
                        .invalidArgument,
                        "--store: unknown parameter '\(item.name)' in the PostgreSQL URL",
                        hint: "known: sslmode, password_env, host (a socket directory), port"
                    )
                }
            }
            return location
        }
    }

    public var dialect: SQLDialect { .postgres }
    public let location: Location
    let client: PostgresClient
    let logger: Logger

    /// Connects to the database at `url` and migrates it.
    public static func connect(
        url: String,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) async throws -> PostgresDatabase {
        let location = try Location.parse(url, environment: environment)
        let password = environment[location.passwordVariable]
        do {
            // One connection first: a wrong host or password fails now, with the server's own words (the pool
            // would retry for a minute), and the migrations run on it.
            let connection = try await PostgresConnection.connect(
                configuration: try Self.connectionConfiguration(location, password: password),
                id: 0,
                logger: Self.quietLogger
            )
            do {
                try await migrate(connection)
            } catch {
                try? await connection.close()
                throw error
            }
            try await connection.close()
        } catch {
            throw RoadtestError(
                .store,
                "cannot open the PostgreSQL store at \(location.display): \(Self.describe(error))",
                hint: "is the server up, the database created, and the password in \(location.passwordVariable)?"
            )
        }
        return PostgresDatabase(location: location, password: password)
    }

    static var quietLogger: Logger {
        var logger = Logger(label: "roadtest.postgres")
        logger.logLevel = .critical
        return logger
    }

    static func connectionConfiguration(
        _ location: Location,
        password: String?
    ) throws
        -> PostgresConnection.Configuration
    {
        if let directory = location.socketDirectory {
            return .init(
                unixSocketPath: directory + "/.s.PGSQL.\(location.port)",
                username: location.user,
                password: password,
                database: location.database
            )
        }
        let tls: PostgresConnection.Configuration.TLS =
            switch location.sslMode {
            case "disable": .disable
            case "require": .require(try NIOSSLContext(configuration: .makeClientConfiguration()))
            default: .prefer(try NIOSSLContext(configuration: .makeClientConfiguration()))
            }
        var configuration = PostgresConnection.Configuration(
            host: location.host,
            port: location.port,
            username: location.user,
            password: password,
            database: location.database,
            tls: tls
        )
        configuration.options.connectTimeout = .seconds(10)
        return configuration
    }

    init(location: Location, password: String?) {
        self.location = location
        var configuration: PostgresClient.Configuration
        if let directory = location.socketDirectory {
            configuration = .init(
                unixSocketPath: directory + "/.s.PGSQL.\(location.port)",
                username: location.user,
                password: password,
                database: location.database
            )
        } else {
            let tls: PostgresClient.Configuration.TLS =
                switch location.sslMode {
                case "disable": .disable
                case "require": .require(.makeClientConfiguration())
                default: .prefer(.makeClientConfiguration())
                }
            configuration = .init(
                host: location.host,
                port: location.port,
                username: location.user,
                password: password,
                database: location.database,
                tls: tls
            )
        }
        configuration.options.connectTimeout = .seconds(10)
        configuration.options.maximumConnections = 8
        let logger = Self.quietLogger
        self.logger = logger
        let client = PostgresClient(configuration: configuration, backgroundLogger: logger)
        self.client = client
    }

    /// Runs `body` while the connection pool runs (queries wait for it); the pool's connections close when `body`
    /// returns or throws.
    public func withRunning<Result>(_ body: () async throws -> Result) async throws -> Result {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await self.client.run() }
            defer { group.cancelAll() }
            return try await body()
        }
    }

    /// Applies the migrations this database lacks, in one transaction under an advisory lock.
    static func migrate(_ connection: PostgresConnection) async throws {
        let logger = quietLogger
        try await connection.withTransaction(logger: logger) { connection in
            try await connection.query("SELECT pg_advisory_xact_lock(7261010)", logger: logger)
            try await connection.query(
                "CREATE TABLE IF NOT EXISTS roadtest_migration (id TEXT PRIMARY KEY, applied_at TEXT NOT NULL)",
                logger: logger
            )
            var applied = Set<String>()
            for try await id in try await connection.query("SELECT id FROM roadtest_migration", logger: logger)
                .decode(String.self)
            {
                applied.insert(id)
            }
            for migration in StoreSchema.migrations where !applied.contains(migration.id) {
                for statement in migration.statements {
                    try await connection.query(
                        PostgresQuery(unsafeSQL: SQLDialect.postgres.ddl(statement)),
                        logger: logger
                    )
                }
                try await connection.query(
                    "INSERT INTO roadtest_migration (id, applied_at) VALUES (\(migration.id), \(RunRecord.timestamp()))",
                    logger: logger
                )
            }
        }
    }

    public func write(_ statements: [SQLStatement]) async throws {
        do {
            if statements.count == 1 {
                try await client.query(Self.query(statements[0]), logger: logger)
                return
            }
            try await client.withTransaction(logger: logger) { connection in
                for statement in statements { try await connection.query(Self.query(statement), logger: logger) }
            }
        } catch {
            throw RoadtestError(.store, "PostgreSQL store: \(Self.describe(error))")
        }
    }

    public func read(_ statement: SQLStatement, _ body: (SQLRow) throws -> Void) async throws {
        let rows: PostgresRowSequence
        do {
            rows = try await client.query(Self.query(statement), logger: logger)
        } catch {
            throw RoadtestError(.store, "PostgreSQL store: \(Self.describe(error))")
        }
        var columns: SQLRow.Columns?
        for try await row in rows {
            var cells: [SQLValue] = []
            cells.reserveCapacity(row.count)
            var names: [String] = []
            for cell in row {
                if columns == nil { names.append(cell.columnName) }
                cells.append(try Self.value(cell))
            }
            if columns == nil { columns = SQLRow.Columns(names) }
            try body(SQLRow(columns: columns!, cells: cells))
        }
    }

    /// Runs `body` on one connection inside a transaction (the queue's claims).
    func transaction<Result: Sendable>(_ body: (PostgresConnection) async throws -> Result) async throws -> Result {
        do {
            return try await client.withTransaction(logger: logger) { connection in try await body(connection) }
        } catch {
            throw RoadtestError(.store, "PostgreSQL store: \(Self.describe(error))")
        }
    }

    /// The statement with `?` placeholders numbered (`$1`, `$2`, ...) outside quoted literals, and its bindings.
    static func query(_ statement: SQLStatement) -> PostgresQuery {
        var sql = ""
        sql.reserveCapacity(statement.sql.count + 16)
        var number = 0
        var quoted = false
        for character in statement.sql {
            if character == "'" { quoted.toggle() }
            if character == "?" && !quoted {
                number += 1
                sql += "$\(number)"
            } else {
                sql.append(character)
            }
        }
        var bindings = PostgresBindings(capacity: statement.arguments.count)
        for argument in statement.arguments {
            switch argument {
            case .null: bindings.appendNull()
            case .int(let int): bindings.append(int)
            case .double(let double): bindings.append(double)
            case .text(let text): bindings.append(text)
            }
        }
        return PostgresQuery(unsafeSQL: sql, binds: bindings)
    }

    static func value(_ cell: PostgresCell) throws -> SQLValue {
        guard cell.bytes != nil else { return .null }
        switch cell.dataType {
        case .int2, .int4, .int8: return .int(try cell.decode(Int.self))
        case .float4, .float8: return .double(try cell.decode(Double.self))
        case .bool: return .int(try cell.decode(Bool.self) ? 1 : 0)
        default: return .text(try cell.decode(String.self))
        }
    }

    /// A PostgresNIO error as a sentence: the server's message when there is one (never the bindings).
    static func describe(_ error: any Error) -> String {
        if let error = error as? PSQLError {
            if let message = error.serverInfo?[.message] {
                let state = error.serverInfo?[.sqlState].map { " (SQLSTATE \($0))" } ?? ""
                return message + state
            }
            if error.code == .sslUnsupported {
                return
                    "the server does not offer TLS (sslmode=require); use sslmode=prefer or disable on a trusted network"
            }
            if let underlying = error.underlying { return "\(error.code): \(underlying)" }
            return "\(error.code)"
        }
        if let error = error as? RoadtestError { return error.message }
        return "\(error)"
    }
}
