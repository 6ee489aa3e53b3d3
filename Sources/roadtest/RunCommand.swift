import ArgumentParser
import Foundation
import RoadtestCore
import RoadtestRunner
import RoadtestStore

struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Evaluate every candidate of a suite and print one scorecard per candidate.",
        discussion: """
            Results stream into the store as they finish. Ctrl-C stops promptly and keeps every finished \
            trial; `roadtest run SUITE --resume` continues the latest unfinished run of that suite.
            """
    )

    @Argument(help: "The suite file (YAML).")
    var suite: String

    @Flag(name: .long, help: "Continue the latest unfinished run of this suite instead of starting a new one.")
    var resume = false

    @Option(name: .long, help: "Use this candidate as the judge for `judge` checks (it is not scored).")
    var judge: String?

    @Option(name: .long, help: "Only run these candidates (repeatable; judges are kept).")
    var candidate: [String] = []

    @Option(name: .long, help: "Override every candidate's concurrency.")
    var concurrency: Int?

    @Flag(name: .long, help: "Never show the progress bar.")
    var noProgress = false

    @Flag(
        name: .long,
        help: ArgumentHelp(
            "Queue the trials in the shared store (--store postgres://...) for `roadtest worker`s and follow them.",
            discussion: "Ctrl-C marks the run interrupted (workers stop taking its trials); --resume continues it."
        )
    )
    var distributed = false

    @Option(name: .long, help: "After the run, compare it with this run (an id or latest) and exit by the comparison.")
    var baseline: String?

    @Option(name: .long, help: "With --baseline: write the comparison as Markdown (a pull-request comment).")
    var compareMarkdown: String?

    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var output: OutputOptions
    @OptionGroup var comparison: ComparisonOptions
    @OptionGroup var telemetry: TelemetryOptions

    func run() async throws {
        telemetry.apply()
        let code = try await withUserFacingErrors { () -> Int32 in
            try await storeOptions.with { store in
                // `latest` means the latest run before this one.
                var baselineID: String?
                if let baseline {
                    baselineID = try await store.runs.resolveRunID(baseline)
                    guard baselineID != nil else {
                        throw RoadtestError(
                            .notFound,
                            "--baseline \(baseline): no such run",
                            hint: "list runs with `roadtest runs`"
                        )
                    }
                }
                let session = RunSession(
                    store: store.runs,
                    queue: store.queue,
                    options: .init(
                        suitePath: suite,
                        resume: resume,
                        judge: judge,
                        candidates: candidate,
                        concurrency: concurrency,
                        version: Roadtest.version,
                        distributed: distributed
                    ),
                    announce: { printError("roadtest: " + $0) }
                )
                let showProgress = !noProgress && isInteractive(STDERR_FILENO)
                switch try await Interruptible.run(progress: showProgress ? session.progress : nil, session.execute) {
                case .finished(let report):
                    try await output.emit(report, store: store.runs)
                    if reportsUnansweredCandidates(report) { return ExitStatus.couldNotRun }
                    if let baselineID {
                        return try await comparison.run(
                            store: store.runs,
                            base: baselineID,
                            head: report.runID,
                            candidates: nil,
                            outputs: ComparisonOutputs(markdown: compareMarkdown),
                            quiet: output.quiet
                        )
                    }
                    return report.barsMet ? ExitStatus.barsMet : ExitStatus.barsNotMet
                case .interrupted(let runID, let stored, let total):
                    printError(
                        "roadtest: interrupted; \(stored) of \(total) trials are stored in run \(runID). "
                            + "Continue with: roadtest run \(suite) --resume\(distributed ? " --distributed" : "")"
                    )
                    return ExitStatus.interrupted
                }
            }
        }
        throw ExitCode(code)
    }
}
