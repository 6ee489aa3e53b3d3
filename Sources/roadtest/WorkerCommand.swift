import ArgumentParser
import Foundation
import RoadtestCore
import RoadtestRunner
import RoadtestStore

struct WorkerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "worker",
        abstract: "Run trials of distributed runs from a shared PostgreSQL store.",
        discussion: """
            Start as many workers as you like, on any machines that reach the store: each claims trials under a \
            lease it renews while it works, runs them with the run's stored suite (starting local models itself), \
            and writes each outcome once. A worker that dies loses its lease and its trials go to the others. It \
            exits when no running run has work left, after waiting --idle seconds for one. Provider keys come from \
            the environment, as for `roadtest run`.
            """
    )

    @Option(name: .long, help: "Trials in flight at once, across candidates.")
    var concurrency = 8

    @Option(name: .long, help: "Seconds a claim stays this worker's without a heartbeat (heartbeats every third).")
    var lease: Double = 30

    @Option(name: .long, help: "Seconds to wait for work before exiting.")
    var idle: Double = 60

    @Option(name: .long, help: "Work on this run only (an id).")
    var run: String?

    @Option(
        name: .long,
        help: "The suite file, when candidates send headers (the store keeps header values redacted)."
    )
    var suite: String?

    @Option(name: .long, help: "How this worker is known in the store (default: host-pid-random).")
    var id: String?

    @Flag(name: .long, help: "Never show the progress bar.")
    var noProgress = false

    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var telemetry: TelemetryOptions

    func run() async throws {
        telemetry.apply()
        let code = try await withUserFacingErrors { () -> Int32 in
            guard StoreLocation.isPostgres(storeOptions.store) else {
                throw RoadtestError(
                    .invalidArgument,
                    "a worker needs the shared PostgreSQL store its runs are queued in",
                    hint: "pass --store postgres://USER@HOST:PORT/DB (or set ROADTEST_STORE); password in PGPASSWORD"
                )
            }
            return try await storeOptions.with { store in
                guard let queue = store.queue else {
                    throw RoadtestError(
                        .invalidArgument,
                        "a worker needs the shared PostgreSQL store its runs are queued in"
                    )
                }
                let worker = Worker(
                    store: store.runs,
                    queue: queue,
                    options: .init(
                        concurrency: concurrency,
                        lease: lease,
                        idle: idle,
                        runID: run,
                        suitePath: suite,
                        id: id
                    ),
                    announce: { printError("roadtest: " + $0) }
                )
                let showProgress = !noProgress && isInteractive(STDERR_FILENO)
                do {
                    let summary = try await Interruptible.run(
                        progress: showProgress ? worker.progress : nil,
                        worker.execute
                    )
                    printError(
                        "roadtest: worker \(summary.workerID) wrote \(summary.completed) outcome"
                            + "\(summary.completed == 1 ? "" : "s")"
                            + (summary.dropped > 0
                                ? " (\(summary.dropped) finished after another worker took them)" : "")
                            + (summary.runs.isEmpty
                                ? "; no run had work" : " for run \(summary.runs.joined(separator: ", "))")
                    )
                    return 0
                } catch is RoadtestInterrupted {
                    printError("roadtest: worker stopped; its unfinished trials are back in the queue")
                    return ExitStatus.interrupted
                }
            }
        }
        throw ExitCode(code)
    }
}
