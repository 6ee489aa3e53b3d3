import ArgumentParser
import Foundation
import RoadtestCore
import RoadtestRunner
import RoadtestStore

struct RedteamCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "redteam",
        abstract: "Attack a suite's own cases (prompt injection, leaks, excessive agency, cross-user) and score them.",
        discussion: """
            Packs: \(AttackPack.allCases.map(\.rawValue).joined(separator: ", ")). Each attack plants a canary, \
            a forbidden tool request or another user's id, and its success is decided exactly (the canary in the \
            output or a tool argument, a forbidden or foreign-user tool call). The suite's own cases run too. \
            Exit 0 when no candidate's attack success rate is above --max-success-rate (and the suite's bars \
            are met), 100 otherwise.
            """
    )

    @Argument(help: "The suite file (YAML).")
    var suite: String

    @Option(
        name: .long,
        parsing: .upToNextOption,
        help: "Attack packs (default: all).",
        transform: { text in
            guard let pack = AttackPack(rawValue: text) else {
                throw ValidationError(
                    "unknown pack '\(text)'; use \(AttackPack.allCases.map(\.rawValue).joined(separator: ", "))"
                )
            }
            return pack
        }
    )
    var packs: [AttackPack] = []

    @Option(name: .customLong("per-case"), help: "Attacks per case and pack.")
    var perCase = 1

    @Option(name: .long, help: "Seed: the same seed derives the same attacks.")
    var seed: UInt64 = 0

    @Option(name: .long, help: "Fail (exit 100) when a candidate's attack success rate is above this (0-1).")
    var maxSuccessRate = 0.0

    @Option(name: .long, help: "Only attack these candidates (repeatable).")
    var candidate: [String] = []

    @Flag(name: .long, help: "Continue the latest unfinished run of this suite.")
    var resume = false

    @Flag(name: .long, help: "Never show the progress bar.")
    var noProgress = false

    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var output: OutputOptions
    @OptionGroup var telemetry: TelemetryOptions

    func run() async throws {
        telemetry.apply()
        let code = try await withUserFacingErrors { () -> Int32 in
            guard perCase > 0 else { throw RoadtestError(.invalidArgument, "--per-case must be above 0") }
            return try await storeOptions.with { store in
                let session = RunSession(
                    store: store.runs,
                    options: .init(
                        suitePath: suite,
                        resume: resume,
                        candidates: candidate,
                        version: Roadtest.version,
                        attacks: AttackConfig(
                            packs: packs.isEmpty ? AttackPack.allCases : packs,
                            perCase: perCase,
                            seed: seed
                        )
                    ),
                    announce: { printError("roadtest: " + $0) }
                )
                let showProgress = !noProgress && isInteractive(STDERR_FILENO)
                switch try await Interruptible.run(progress: showProgress ? session.progress : nil, session.execute) {
                case .finished(let report):
                    try await output.emit(report, store: store.runs)
                    if reportsUnansweredCandidates(report) { return ExitStatus.couldNotRun }
                    let held = report.candidates.allSatisfy {
                        ($0.security?.attackSuccessRate ?? 0) <= maxSuccessRate + 1e-12
                    }
                    return held && report.barsMet ? ExitStatus.barsMet : ExitStatus.barsNotMet
                case .interrupted(let runID, let stored, let total):
                    printError(
                        "roadtest: interrupted; \(stored) of \(total) trials are stored in run \(runID). "
                            + "Continue with: roadtest redteam \(suite) --resume (same packs and seed)"
                    )
                    return ExitStatus.interrupted
                }
            }
        }
        throw ExitCode(code)
    }
}
