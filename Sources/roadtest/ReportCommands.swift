import ArgumentParser
import Foundation
import RoadtestCore
import RoadtestRunner
import RoadtestStore
import RoadtestSuite

struct ReportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report", abstract: "Render a stored run again, in any output format.")

    @Argument(help: "The run id (see `roadtest runs`), or `latest`.")
    var runID: String

    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        let met = try await withUserFacingErrors { () -> Bool in
            let store = try storeOptions.open()
            let id = runID == "latest" ? try store.runs(limit: 1).first?.id : runID
            guard let id, let report = try store.report(runID: id) else {
                throw UserFacingError("no run '\(runID)' in \(storeOptions.store); list runs with `roadtest runs`")
            }
            try output.emit(report, store: store)
            return report.barsMet
        }
        throw ExitCode(met ? ExitStatus.barsMet : ExitStatus.barsNotMet)
    }
}

struct RunsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "runs", abstract: "List stored runs, newest first.")

    @Option(name: .long, help: "How many runs to list.")
    var limit = 20

    @OptionGroup var storeOptions: StoreOptions

    func run() async throws {
        try await withUserFacingErrors {
            let store = try storeOptions.open()
            let runs = try store.runs(limit: limit)
            if runs.isEmpty {
                print("no runs in \(storeOptions.store) yet; start one with `roadtest run SUITE`")
                return
            }
            let header = ["RUN", "SUITE", "STATUS", "STARTED", "TRIALS"]
            var rows = [header]
            for run in runs {
                rows.append([run.id, run.suiteName, run.status, run.startedAt, String(try store.outcomeCount(runID: run.id))])
            }
            let widths = (0..<header.count).map { column in rows.map { $0[column].count }.max() ?? 0 }
            for row in rows {
                print(zip(row, widths).map { $0.0.padding(toLength: $0.1, withPad: " ", startingAt: 0) }.joined(separator: "  "))
            }
        }
    }
}

struct ValidateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate", abstract: "Check a suite file and report every problem with file:line, without running it.")

    @Argument(help: "The suite file (YAML).")
    var suite: String

    func run() async throws {
        try await withUserFacingErrors {
            let loaded = try SuiteLoader().load(path: suite)
            let trials = Runner.plan(for: loaded).count
            print("\(suite): ok — \(loaded.scoredCandidates.count) candidate(s), \(loaded.cases.count) case(s), \(trials) trial(s), \(loaded.bars.count) bar(s)")
        }
    }
}
