import ArgumentParser
import Foundation
import RoadtestCore
import RoadtestReport
import RoadtestRunner
import RoadtestStore

struct PickCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pick",
        abstract: "The cheapest configuration of a run that clears every bar, per tag and overall.",
        discussion: """
            Among the run's candidates (matrix configurations included), picks the cheapest by cost per success \
            (ties: lower E2E p95) whose figures clear every bar; the pass rate is judged on the lower bound of its \
            95% interval unless --point. The next cheapest that also clears is its fallback. Says when every \
            candidate clears (saturated) and, when none does, which is closest. --policy writes the routing policy \
            the gateway reads (no secrets). Exit 0 when something clears overall, 100 when nothing does.
            """
    )

    @Argument(help: "The run: an id, latest or latest~N.")
    var run = "latest"

    @Flag(name: .long, help: "Also pick per tag.")
    var byTag = false

    @Option(name: .long, help: "Judge by these bars (a YAML file) instead of the suite's.")
    var bars: String?

    @Flag(name: .long, help: "Judge the pass rate on its point estimate instead of its 95% lower bound.")
    var point = false

    @Option(name: .long, help: "Write the routing policy (YAML) for the gateway to this path.")
    var policy: String?

    @Option(name: .long, help: "Write the JSON report to this path (- for standard output).")
    var json: String?

    @Option(name: .long, help: "Write a self-contained HTML report with the frontier chart to this path.")
    var html: String?

    @Flag(name: .long, help: "Print nothing on standard output (files are still written).")
    var quiet = false

    @OptionGroup var storeOptions: StoreOptions

    func run() async throws {
        let code = try await withUserFacingErrors { () -> Int32 in
            let result = try await storeOptions.with { store in
                try await PickSession(
                    store: store.runs,
                    options: .init(run: run, byTag: byTag, barsPath: bars, rule: point ? .point : .ciLowerBound)
                ).execute()
            }
            if !quiet && json != "-" && html != "-" {
                FileHandle.standardOutput.write(Data(PickRenderer.terminal(result.report).utf8))
            }
            if let json { try ReportFile.write(PickRenderer.json(result.report), to: json) }
            if let html { try ReportFile.write(Data(PickRenderer.html(result.report).utf8), to: html) }
            if let policy { try ReportFile.write(Data(result.policy.utf8), to: policy) }
            let overall = result.report.picks.first { $0.scope == "overall" }
            return overall?.candidate != nil ? ExitStatus.barsMet : ExitStatus.barsNotMet
        }
        throw ExitCode(code)
    }
}
