import ArgumentParser
import Foundation
import RoadtestCore
import RoadtestReport
import RoadtestStore

struct HistoryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "history",
        abstract: "How stable is it over time? Each candidate across the stored runs of a suite, with drift flagged."
    )

    @Argument(help: "The suite file whose runs to show.")
    var suite: String

    @Option(name: .long, help: "At most this many of the latest finished runs.")
    var limit = 50

    @Option(name: .long, help: "Significance level for drift between consecutive runs.")
    var alpha = 0.05

    @Option(name: .long, help: "Write the history as JSON (- for standard output).")
    var json: String?

    @Option(name: .long, help: "Write a self-contained HTML page with trend charts.")
    var html: String?

    @OptionGroup var storeOptions: StoreOptions

    func run() async throws {
        try await withUserFacingErrors {
            let report = try await storeOptions.with { store in
                try await store.runs.history(suitePath: suite, limit: limit, comparison: RunComparison(alpha: alpha))
            }
            if json != "-" { FileHandle.standardOutput.write(Data(HistoryRenderer.terminal(report).utf8)) }
            if let json { try ReportFile.write(try HistoryRenderer.json(report), to: json) }
            if let html { try ReportFile.write(Data(HistoryRenderer.html(report).utf8), to: html) }
        }
    }
}
