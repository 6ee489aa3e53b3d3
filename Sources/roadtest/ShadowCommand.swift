import ArgumentParser
import Foundation
import RoadtestCore
import RoadtestReport
import RoadtestStore
import RoadtestSuite

struct ShadowCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "shadow",
        abstract: "What shadow candidates answered to copies of the gateway's live traffic.",
        subcommands: [ShadowReportCommand.self]
    )
}

struct ShadowReportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Compare live answers with shadow answers: agreement, shadow errors, latency and cost deltas.",
        discussion: """
            Pairs come from routes with `shadow: {candidates: [...], sample: 20%}` in the gateway's policy. \
            Agreement is exact after normalisation (case, spacing, punctuation), with a 95% Wilson interval; \
            the latency delta is the median over pairs of shadow minus live end-to-end time.
            """
    )

    @Option(name: .long, help: "Only this route.")
    var route: String?

    @Option(
        name: .long,
        help: "Grade pairs whose input is one of this suite's cases with that case's deterministic checks."
    )
    var suite: String?

    @Option(name: .long, help: "Write the report as JSON here (- for standard output).")
    var json: String?

    @OptionGroup var storeOptions: StoreOptions

    func run() async throws {
        let code = try await withUserFacingErrors { () -> Int32 in
            try await storeOptions.with { store in
                let pairs = try await store.gateway.shadowPairs(route: route, limit: 1_000_000)
                let cases = try suite.map { try SuiteLoader().load(path: $0).cases } ?? []
                let report = ShadowReport(pairs: pairs, cases: Array(cases))
                if let json {
                    let encoder = JSONEncoder()
                    encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
                    try ReportFile.write(try encoder.encode(report), to: json)
                    if json == "-" { return 0 }
                }
                guard !report.comparisons.isEmpty else {
                    print("no shadow pairs yet" + (route.map { " for route \($0)" } ?? ""))
                    return 0
                }
                for c in report.comparisons {
                    func ms(_ value: Double?) -> String { value.map { String(format: "%.1f ms", $0) } ?? "–" }
                    let rate = c.agreementRate.map { String(format: "%.1f%%", $0 * 100) } ?? "–"
                    print(
                        "\(c.route): live \(c.live.joined(separator: ", ")) vs shadow \(c.shadow): \(c.pairs) pairs, "
                            + "\(c.answered) answered, agreement \(c.agreed)/\(c.answered) \(rate) "
                            + String(format: "[%.1f%%–%.1f%%]", c.agreementCI95[0] * 100, c.agreementCI95[1] * 100)
                    )
                    if let graded = c.graded {
                        print(
                            "  graded by the suite: \(graded.pairs) pairs, pass rate live "
                                + String(
                                    format: "%.1f%%, shadow %.1f%%",
                                    graded.livePassRate * 100,
                                    graded.shadowPassRate * 100
                                )
                                + "; shadow worse on \(graded.shadowWorse), better on \(graded.shadowBetter) (McNemar p "
                                + String(format: "%.3g)", graded.mcnemarP)
                                + (graded.checksSkipped > 0
                                    ? "; \(graded.checksSkipped) judge/command/similar checks not run" : "")
                        )
                    }
                    let errors = c.shadowErrors.sorted { $0.key < $1.key }.map { "\($0.key) ×\($0.value)" }
                    print(
                        "  shadow errors: \(errors.isEmpty ? "none" : errors.joined(separator: ", ")); "
                            + "E2E shadow − live p50 \(ms(c.e2eDeltaP50Ms)); p95 live \(ms(c.liveE2EP95Ms)), shadow "
                            + "\(ms(c.shadowE2EP95Ms)); cost live $\(String(format: "%.6f", c.liveCostUSD)), shadow "
                            + "$\(String(format: "%.6f", c.shadowCostUSD))"
                    )
                }
                return 0
            }
        }
        throw ExitCode(code)
    }
}
