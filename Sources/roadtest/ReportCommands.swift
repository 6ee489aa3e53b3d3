import ArgumentParser
import Foundation
import RoadtestCore
import RoadtestReport
import RoadtestStore
import RoadtestSuite

struct ReportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Render a stored run again, in any output format."
    )

    @Argument(help: "The run id (see `roadtest runs`), `latest`, or `latest~N`.")
    var runID: String

    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        let code = try await withUserFacingErrors { () -> Int32 in
            try await storeOptions.with { store in
                guard let id = try await store.runs.resolveRunID(runID),
                    let report = try await store.runs.report(runID: id)
                else {
                    throw RoadtestError(
                        .notFound,
                        "no run '\(runID)' in \(storeOptions.store)",
                        hint: "list runs with `roadtest runs`"
                    )
                }
                try await output.emit(report, store: store.runs)
                if reportsUnansweredCandidates(report) { return ExitStatus.couldNotRun }
                return report.barsMet ? ExitStatus.barsMet : ExitStatus.barsNotMet
            }
        }
        throw ExitCode(code)
    }
}

struct RunsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "runs", abstract: "List stored runs, newest first.")

    @Option(name: .long, help: "How many runs to list.")
    var limit = 20

    @OptionGroup var storeOptions: StoreOptions

    func run() async throws {
        try await withUserFacingErrors {
            try await storeOptions.with { store in
                let runs = try await store.runs.runs(limit: limit)
                if runs.isEmpty {
                    print("no runs in \(storeOptions.store) yet; start one with `roadtest run SUITE`")
                    return
                }
                var rows = [["RUN", "SUITE", "STATUS", "STARTED", "TRIALS"]]
                for run in runs {
                    let trials = try await store.runs.outcomeCount(runID: run.id)
                    rows.append([run.id, run.suiteName, run.status.rawValue, run.startedAt, String(trials)])
                }
                print(TextTable.render(rows), terminator: "")
            }
        }
    }
}

struct ValidateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Check a suite file and report every problem with file:line, without running it."
    )

    @Argument(help: "The suite file (YAML).")
    var suite: String

    func run() async throws {
        try await withUserFacingErrors {
            let loaded = try SuiteLoader().load(path: suite)
            let trials = RunPlan(suite: loaded).trials.count
            let attacks = loaded.cases.filter { $0.attack != nil }.count
            print(
                "\(suite): ok — \(loaded.scoredCandidates.count) candidate(s), \(loaded.cases.count - attacks) case(s)"
                    + (attacks > 0 ? " and \(attacks) attack(s)" : "")
                    + ", \(trials) trial(s), \(loaded.bars.count) bar(s)"
            )
        }
    }
}
