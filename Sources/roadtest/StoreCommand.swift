import ArgumentParser
import Foundation
import RoadtestCore
import RoadtestStore

struct StoreCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "store",
        abstract: "Manage stores: move runs between SQLite files and PostgreSQL.",
        subcommands: [StoreCopyCommand.self]
    )
}

struct StoreCopyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "copy",
        abstract: "Copy runs (and gateway traffic, shadow pairs, feedback) from one store to another.",
        discussion: """
            Either side is a SQLite file or a postgres://USER@HOST:PORT/DB URL (password in PGPASSWORD, or the \
            variable named by ?password_env=NAME). The destination is created or migrated when needed. Copying \
            again replaces what was copied before; nothing is duplicated.
            """
    )

    @Option(name: .long, help: "The store to copy from.")
    var from: String

    @Option(name: .long, help: "The store to copy into.")
    var to: String

    @Option(name: .long, help: "Copy only this run (repeatable; an id or latest). Default: everything.")
    var run: [String] = []

    func run() async throws {
        let code = try await withUserFacingErrors { () -> Int32 in
            guard from != to else {
                throw RoadtestError(.invalidArgument, "--from and --to name the same store")
            }
            let summary = try await StoreLocation.with(from) { source in
                try await StoreLocation.with(to) { destination in
                    var runs: [String]?
                    if !run.isEmpty {
                        runs = []
                        for reference in run {
                            runs?.append(try await source.runs.resolveRunID(reference) ?? reference)
                        }
                    }
                    return try await source.copy(to: destination, runs: runs)
                }
            }
            let copied = summary.filter { $0.rows > 0 }.map { "\($0.rows) \($0.table)" }
            printError(
                "roadtest: copied "
                    + (copied.isEmpty ? "nothing (the source is empty)" : copied.joined(separator: ", "))
            )
            return 0
        }
        throw ExitCode(code)
    }
}
