import ArgumentParser
import Foundation
import RoadtestCore
import RoadtestReport
import RoadtestStore

/// Report files every command that shows a run can write (`-` writes to standard output).
struct OutputOptions: ParsableArguments {
    @Option(name: .long, help: "Write the JSON report (schema_version 1) to this path (- for standard output).")
    var json: String?

    @Option(name: .long, help: "Write a JUnit XML report to this path.")
    var junit: String?

    @Option(name: .long, help: "Write a Markdown report (for a pull-request comment) to this path.")
    var markdown: String?

    @Option(name: .long, help: "Write a self-contained HTML report to this path.")
    var html: String?

    @Flag(name: .long, help: "Print nothing on standard output (files are still written).")
    var quiet = false

    /// Prints the scorecard (unless a report goes to standard output or --quiet) and writes every requested file.
    func emit(_ report: RunReport, store: any RunStore) async throws {
        let failures = try await store.trialRows(runID: report.runID, failuresOnly: true, limit: 500)
        let toStandardOutput = [json, junit, markdown, html].contains("-")
        if !quiet && !toStandardOutput {
            let text = TerminalReport(useColor: isInteractive(STDOUT_FILENO)).render(report, failures: failures)
            FileHandle.standardOutput.write(Data(text.utf8))
        }
        let needsTrials = junit != nil || html != nil
        let trials =
            needsTrials ? try await store.trialRows(runID: report.runID, failuresOnly: false, limit: 200_000) : []
        if let json { try ReportFile.write(JSONReport.render(report), to: json) }
        if let junit { try ReportFile.write(Data(JUnitReport.render(report, trials: trials).utf8), to: junit) }
        if let markdown {
            try ReportFile.write(Data(MarkdownReport.render(report, failures: failures).utf8), to: markdown)
        }
        if let html { try ReportFile.write(Data(HTMLReport.render(report, trials: trials).utf8), to: html) }
    }
}

/// Where runs are stored.
struct StoreOptions: ParsableArguments {
    @Option(
        name: .long,
        help: ArgumentHelp(
            "A SQLite file, or a PostgreSQL database as postgres://USER@HOST:PORT/DB (password in PGPASSWORD).",
            discussion: "Default: $ROADTEST_STORE, else .roadtest/roadtest.db under the working directory."
        )
    )
    var store: String = ProcessInfo.processInfo.environment["ROADTEST_STORE"] ?? StoreLocation.defaultPath

    /// Opens the store and runs `body` with it; its connections close when `body` ends.
    func with<Result>(_ body: (Store) async throws -> Result) async throws -> Result {
        try await StoreLocation.with(store, body)
    }
}

/// `--otel-content`: traces (exported when `OTEL_EXPORTER_OTLP_ENDPOINT` is set) may carry prompts, outputs and
/// judges' explanations. Off by default.
struct TelemetryOptions: ParsableArguments {
    @Flag(
        name: .customLong("otel-content"),
        help: "Put prompts, outputs and judges' explanations on exported traces (off: only names, numbers, verdicts)."
    )
    var content = false

    func apply() { if content { TelemetryContent.enable() } }
}
