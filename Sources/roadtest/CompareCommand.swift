import ArgumentParser
import Foundation
import RoadtestCore
import RoadtestReport
import RoadtestStore

/// Options shared by `compare` and `run --baseline`.
struct ComparisonOptions: ParsableArguments {
    @Option(name: .long, help: "Significance level of the verdicts.")
    var alpha = 0.05

    @Option(name: .long, help: "The smallest pass-rate difference that matters (0.05 = 5 points).")
    var minEffect = 0.0

    @Option(name: .long, help: "Exit 100 on a significant regression of these kinds: regression, latency, cost.")
    var failOn: String?

    func gates() throws -> Set<ComparisonReport.Gate> {
        Set(
            try (failOn ?? "").split(separator: ",").map { name in
                guard let gate = ComparisonReport.Gate(rawValue: name.trimmingCharacters(in: .whitespaces)) else {
                    throw RoadtestError(.invalidArgument, "--fail-on takes regression, latency or cost, got '\(name)'")
                }
                return gate
            }
        )
    }

    /// Compares, prints and writes the comparison; returns the exit status its gates decide.
    func run(
        store: any RunStore,
        base: String,
        head: String,
        candidates: [(base: String, head: String)]?,
        outputs: ComparisonOutputs,
        quiet: Bool
    ) async throws -> Int32 {
        let gates = try gates()
        guard alpha > 0 && alpha < 1, minEffect >= 0 else {
            throw RoadtestError(.invalidArgument, "--alpha must be between 0 and 1 and --min-effect at least 0")
        }
        let report = try await store.compare(
            base: base,
            head: head,
            candidates: candidates,
            comparison: RunComparison(alpha: alpha, minimumEffect: minEffect)
        )
        if !quiet && outputs.json != "-" {
            FileHandle.standardOutput.write(Data(ComparisonRenderer.terminal(report).utf8))
        }
        if let path = outputs.json { try ReportFile.write(try ComparisonRenderer.json(report), to: path) }
        if let path = outputs.markdown {
            try ReportFile.write(Data(ComparisonRenderer.markdown(report).utf8), to: path)
        }
        if let path = outputs.html {
            let page = ComparisonRenderer.html(report, outputs: try await store.flippedOutputs(report))
            try ReportFile.write(Data(page.utf8), to: path)
        }
        return report.tripped(gates).isEmpty ? ExitStatus.barsMet : ExitStatus.barsNotMet
    }
}

/// Where a comparison is written.
struct ComparisonOutputs {
    var json: String?
    var markdown: String?
    var html: String?
}

struct CompareCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare",
        abstract: "Did it get worse, or is it noise? Paired comparison of two runs on the trials they share.",
        discussion: """
            Trials pair by (case, sample, variant). Pass rates: difference with a 95% paired bootstrap interval and \
            McNemar's exact p-value; latency and cost per success: differences with bootstrap intervals. Exit 100 when \
            a gate in --fail-on trips, 1 when the runs cannot be compared.
            """
    )

    @Argument(help: "The base run (an id, latest, latest~N).")
    var base: String

    @Argument(help: "The head run (default: the base run itself, with --candidates).")
    var head: String?

    @Option(name: .long, help: "Compare only this candidate (in both runs).")
    var candidate: String?

    @Option(name: .long, help: "Compare two candidates, BASE_ID,HEAD_ID (inside one run when HEAD is not given).")
    var candidates: String?

    @Option(name: .long, help: "Write the comparison as JSON (- for standard output).")
    var json: String?

    @Option(name: .long, help: "Write the comparison as Markdown (a pull-request comment).")
    var markdown: String?

    @Option(name: .long, help: "Write the comparison as HTML, flipped trials' outputs side by side.")
    var html: String?

    @Flag(name: .long, help: "Print nothing on standard output (files are still written).")
    var quiet = false

    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var comparison: ComparisonOptions

    func run() async throws {
        let code = try await withUserFacingErrors { () -> Int32 in
            var pairs: [(base: String, head: String)]?
            if let candidate { pairs = [(candidate, candidate)] }
            if let candidates {
                let ids = candidates.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
                guard ids.count == 2 else {
                    throw RoadtestError(.invalidArgument, "--candidates takes BASE_ID,HEAD_ID")
                }
                pairs = [(ids[0], ids[1])]
            }
            guard head != nil || candidates != nil else {
                throw RoadtestError(.invalidArgument, "give a HEAD run, or --candidates A,B to compare inside one run")
            }
            return try await storeOptions.with { store in
                try await comparison.run(
                    store: store.runs,
                    base: base,
                    head: head ?? base,
                    candidates: pairs,
                    outputs: ComparisonOutputs(json: json, markdown: markdown, html: html),
                    quiet: quiet
                )
            }
        }
        throw ExitCode(code)
    }
}
