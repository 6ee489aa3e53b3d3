import Foundation
import RoadtestProviders

/// A real PostgreSQL server for a test: Debian's `postgresql` binaries (`make test` installs them), a fresh
/// cluster in a temporary directory, listening on loopback with password (SCRAM) authentication, stopped and
/// removed afterwards. As root, the server runs as the `postgres` user (PostgreSQL refuses to run as root).
public struct PostgresServer: Sendable {
    /// The user and password of the cluster's superuser.
    public static let user = "roadtest"
    public static let password = "roadtest-test-password"

    public let port: Int
    public let directory: URL

    /// `postgres://roadtest@127.0.0.1:PORT/DATABASE` (the password goes in `PGPASSWORD`).
    public func url(database: String = "roadtest") -> String {
        "postgres://\(Self.user)@127.0.0.1:\(port)/\(database)?sslmode=disable"
    }

    /// The environment a client needs: this process's, with `PGPASSWORD` set.
    public var environment: [String: String] {
        var environment = ProcessInfo.processInfo.environment
        environment["PGPASSWORD"] = Self.password
        return environment
    }

    /// The directory holding `initdb`, `pg_ctl` and `postgres`, when PostgreSQL is installed.
    public static var binaries: URL? {
        let root = URL(fileURLWithPath: "/usr/lib/postgresql")
        let versions = (try? FileManager.default.contentsOfDirectory(atPath: root.path)) ?? []
        return versions.compactMap(Int.init).sorted().reversed().map { root.appendingPathComponent("\($0)/bin") }
            .first { FileManager.default.isExecutableFile(atPath: $0.appendingPathComponent("initdb").path) }
    }

    public static var isInstalled: Bool { binaries != nil }

    static var isRoot: Bool { getuid() == 0 }

    /// Runs a PostgreSQL program (as `postgres` when this process is root).
    func program(_ name: String, _ arguments: [String], timeout: Double = 120) async throws -> ProcessRunner.Result {
        guard let binaries = Self.binaries else { throw HarnessError("PostgreSQL is not installed (make test)") }
        let path = binaries.appendingPathComponent(name).path
        let command =
            Self.isRoot ? ["/usr/sbin/runuser", "-u", "postgres", "--", path] + arguments : [path] + arguments
        let result = try await ProcessRunner.run(command, timeout: timeout)
        guard result.status == 0 else {
            let log = (try? String(contentsOf: directory.appendingPathComponent("server.log"), encoding: .utf8)) ?? ""
            throw HarnessError(
                "\(name) exited \(result.status): \(String(decoding: result.standardError, as: UTF8.self)) \(log)"
            )
        }
        return result
    }

    /// Starts a cluster, runs `body` with it, and stops and removes it whatever happens.
    public static func with<T: Sendable>(_ body: (PostgresServer) async throws -> T) async throws -> T {
        let directory = URL(fileURLWithPath: NSTemporaryDirectory())
            .appendingPathComponent("roadtest-pg-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let passwordFile = directory.appendingPathComponent("password")
        try Data(password.utf8).write(to: passwordFile)
        if isRoot {
            _ = try await ProcessRunner.run(["/bin/chown", "-R", "postgres", directory.path], timeout: 30)
        }
        var lastError: (any Error)?
        for _ in 0..<5 {
            let server = PostgresServer(port: Int.random(in: 20_000...60_000), directory: directory)
            do {
                try await server.start(passwordFile: passwordFile)
            } catch {
                lastError = error
                try? FileManager.default.removeItem(at: directory.appendingPathComponent("data"))
                continue
            }
            do {
                let result = try await body(server)
                await server.stop()
                return result
            } catch {
                await server.stop()
                throw error
            }
        }
        try? FileManager.default.removeItem(at: directory)
        throw lastError ?? HarnessError("PostgreSQL did not start")
    }

    func start(passwordFile: URL) async throws {
        let data = directory.appendingPathComponent("data").path
        _ = try await program(
            "initdb",
            [
                "-D", data, "-U", Self.user, "--pwfile", passwordFile.path, "--auth-local=trust",
                "--auth-host=scram-sha-256", "-E", "UTF8", "--no-locale",
            ]
        )
        _ = try await program(
            "pg_ctl",
            [
                "-D", data, "-l", directory.appendingPathComponent("server.log").path, "-w", "-t", "60", "-o",
                "-p \(port) -k \(directory.path) -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200",
                "start",
            ]
        )
        _ = try await program("createdb", ["-h", directory.path, "-p", String(port), "-U", Self.user, "roadtest"])
    }

    /// A new, empty database in this cluster.
    public func createDatabase(_ name: String) async throws {
        _ = try await program("createdb", ["-h", directory.path, "-p", String(port), "-U", Self.user, name])
    }

    /// Runs SQL through `psql` (over the cluster's socket) and returns its unaligned output.
    public func psql(_ sql: String, database: String = "roadtest") async throws -> String {
        let result = try await program(
            "psql",
            ["-h", directory.path, "-p", String(port), "-U", Self.user, "-d", database, "-At", "-c", sql]
        )
        return String(decoding: result.standardOutput, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Stops the server at once (`pg_ctl -m immediate`) and removes its files.
    public func stop() async {
        _ = try? await program(
            "pg_ctl",
            ["-D", directory.appendingPathComponent("data").path, "-m", "immediate", "-w", "stop"]
        )
        try? FileManager.default.removeItem(at: directory)
    }
}

public struct HarnessError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
