import ArgumentParser
import Foundation
import RoadtestCore
import RoadtestReport
import RoadtestStore

/// Report files every command that shows a run can write.
struct OutputOptions: ParsableArguments {
    @Option(name: .long, help: "Write the JSON report (schema_version 1) to this path.")
    var json: String?

    @Option(name: .long, help: "Write a JUnit XML report to this path.")
    var junit: String?

    @Option(name: .long, help: "Write a Markdown report (for a pull-request comment) to this path.")
    var markdown: String?

    @Option(name: .long, help: "Write a self-contained HTML report to this path.")
    var html: String?

    @Flag(name: .long, help: "Print nothing on standard output (files are still written).")
    var quiet = false

    /// Prints the scorecard and writes every requested file.
    func emit(_ report: RunReport, store: Store) throws {
        let failures = try store.trialRows(runID: report.runID, failuresOnly: true, limit: 500)
        if !quiet {
            let text = TerminalReport(useColor: isInteractive(STDOUT_FILENO)).render(report, failures: failures)
            FileHandle.standardOutput.write(Data(text.utf8))
        }
        let needsTrials = junit != nil || html != nil
        let trials = needsTrials ? try store.trialRows(runID: report.runID, limit: 200_000) : []
        if let json { try write(JSONReport.render(report), to: json) }
        if let junit { try write(Data(JUnitReport.render(report, trials: trials).utf8), to: junit) }
        if let markdown { try write(Data(MarkdownReport.render(report, failures: failures).utf8), to: markdown) }
        if let html { try write(Data(HTMLReport.render(report, trials: trials).utf8), to: html) }
    }

    func write(_ data: Data, to path: String) throws {
        let url = URL(fileURLWithPath: path)
        try? FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        do {
            try data.write(to: url, options: .atomic)
        } catch {
            throw UserFacingError("cannot write \(path): \(error.localizedDescription)")
        }
    }
}

/// Where runs are stored.
struct StoreOptions: ParsableArguments {
    @Option(name: .long, help: "SQLite store path (default: .roadtest/roadtest.db under the working directory).")
    var store: String = Store.defaultPath

    func open() throws -> Store {
        do {
            return try Store(path: store)
        } catch {
            throw UserFacingError("cannot open the store at \(store): \(error)")
        }
    }
}
