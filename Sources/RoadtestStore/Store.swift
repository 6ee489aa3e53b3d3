import Foundation
import RoadtestCore

/// An open store and what it can do, each capability a protocol: runs and outcomes, load and drill documents,
/// gateway traffic, feedback, and (on PostgreSQL only) the distributed runs' queue. Commands take the capabilities
/// they need; nothing finds one by downcasting.
///
/// ```swift
/// let store = try await StoreLocation.open("postgres://roadtest@db/roadtest")
/// let report = try await store.runs.report(runID: "latest")
/// guard let queue = store.queue else { /* a SQLite file: no distributed runs */ }
/// ```
public struct Store: Sendable {
    let database: any SQLDatabase
    public let runs: any RunStore
    public let documents: any DocumentStore
    public let gateway: any GatewayStore
    public let feedback: any FeedbackStore
    /// The queue workers share; nil for a SQLite file (distributed runs need PostgreSQL).
    public let queue: (any TrialQueue)?
    /// The gateway's budgets and rate limits, shared by every gateway process on this store; nil for a SQLite
    /// file (a gateway on one keeps them in its own memory).
    public let ledger: (any GatewayLedger)?

    init(database: any SQLDatabase, queue: (any TrialQueue)? = nil, ledger: (any GatewayLedger)? = nil) {
        self.database = database
        runs = SQLRunStore(database: database)
        documents = SQLDocumentStore(database: database)
        gateway = SQLGatewayStore(database: database)
        feedback = SQLFeedbackStore(database: database)
        self.queue = queue
        self.ledger = ledger
    }

    init(postgres: PostgresDatabase) {
        self.init(
            database: postgres,
            queue: PostgresTrialQueue(database: postgres),
            ledger: PostgresGatewayLedger(database: postgres)
        )
    }

    /// Opens (creating if needed) the SQLite store at `path` and migrates it.
    public static func sqlite(path: String) throws -> Store {
        Store(database: try SQLiteDatabase(path: path))
    }

    /// A SQLite store in memory (tests, throwaway runs).
    public static func inMemory() throws -> Store {
        Store(database: try SQLiteDatabase())
    }

    /// Whether this is a shared (PostgreSQL) store.
    public var isShared: Bool { database.dialect == .postgres }

    /// Runs `body` while the store's connections are served: a PostgreSQL store's pool runs for the scope of this
    /// call and closes when it ends (a SQLite file needs nothing).
    public func withRunning<Result>(_ body: () async throws -> Result) async throws -> Result {
        try await database.withRunning(body)
    }
}

/// Opening a store from the `--store` argument.
///
/// ```swift
/// try await StoreLocation.with(".roadtest/roadtest.db") { store in try await store.runs.runs(limit: 10) }
/// ```
public enum StoreLocation {
    /// The default store path under the working directory.
    public static let defaultPath = ".roadtest/roadtest.db"

    /// Whether `location` names a PostgreSQL database rather than a SQLite file.
    public static func isPostgres(_ location: String) -> Bool {
        location.hasPrefix("postgres://") || location.hasPrefix("postgresql://")
    }

    /// Opens the store named by `location`: a `postgres://user@host:port/db` URL (password from `PGPASSWORD`) or a
    /// SQLite file path; either is created or migrated when needed.
    public static func open(
        _ location: String,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) async throws -> Store {
        if isPostgres(location) {
            return Store(postgres: try await PostgresDatabase.connect(url: location, environment: environment))
        }
        do {
            return try Store.sqlite(path: location)
        } catch {
            throw RoadtestError(.store, "cannot open the store at \(location)", cause: error)
        }
    }

    /// Opens the store named by `location` and runs `body` with it while its connections are served; they close
    /// when `body` returns or throws.
    public static func with<Result>(
        _ location: String,
        environment: [String: String] = ProcessInfo.processInfo.environment,
        _ body: (Store) async throws -> Result
    ) async throws -> Result {
        let store = try await open(location, environment: environment)
        return try await store.withRunning { try await body(store) }
    }
}
