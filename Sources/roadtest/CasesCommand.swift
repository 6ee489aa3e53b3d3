import ArgumentParser
import Foundation
import RoadtestCore
import RoadtestReport
import RoadtestStore

struct CasesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cases",
        abstract: "The life of each case over a suite's recent runs: saturated, never passed, discriminating."
    )

    @Argument(help: "The suite file whose runs to read.")
    var suite: String

    @Option(name: .long, help: "How many of the latest finished runs to consider.")
    var runs = 5

    @Option(name: .long, help: "Write the case statuses as JSON (- for standard output).")
    var json: String?

    @OptionGroup var storeOptions: StoreOptions

    func run() async throws {
        try await withUserFacingErrors {
            let report = try await storeOptions.open().caseLifecycle(suitePath: suite, runs: runs)
            if json != "-" { FileHandle.standardOutput.write(Data(CaseLifecycleRenderer.terminal(report).utf8)) }
            if let json { try ReportFile.write(try CaseLifecycleRenderer.json(report), to: json) }
        }
    }
}
