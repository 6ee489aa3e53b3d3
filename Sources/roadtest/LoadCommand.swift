import ArgumentParser
import Foundation
import RoadtestCore
import RoadtestLoad
import RoadtestReport
import RoadtestStore

struct LoadCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "load",
        abstract: "Latency under load: TTFT, TPOT and E2E percentiles, throughput, goodput and the saturation point.",
        discussion: """
            Requests are the suite's own cases (cycled; shuffled with --seed), one attempt each (no retries).
            Closed loop: --concurrency 1,8,32. Open loop: --rate 5,10,20 [--arrival poisson]; open-loop levels also
            report latency from the intended send time (corrected_*) and the generator's schedule lag. --sweep finds
            the saturation point by itself. Default: --concurrency 1,8,32 for 10s each after 2s of warm-up.
            Before the levels, the generator measures itself against a zero-latency endpoint in its own process: the
            report states its ceiling (req/s) and the latency it adds, and warns about levels near that ceiling.
            Percentiles carry distribution-free 95% intervals; one with too few requests to bound is marked '*'.
            """
    )

    @Argument(help: "The suite file (YAML).")
    var suite: String

    @Option(name: .long, help: "Candidates to load (repeatable; default: every scored candidate).")
    var candidate: [String] = []

    @Option(name: .long, help: "Closed-loop levels: concurrent streams, comma-separated.")
    var concurrency: String?

    @Option(name: .long, help: "Open-loop levels: requests per second, comma-separated.")
    var rate: String?

    @Option(name: .long, help: "Open-loop arrivals: constant or poisson.")
    var arrival: String = "constant"

    @Flag(
        name: .long,
        help:
            "Find the saturation point: bound it with one-at-a-time and maximum-throughput levels, then try rates between."
    )
    var sweep = false

    @Option(name: .long, help: "Highest concurrency of the sweep's maximum-throughput level.")
    var sweepConcurrency = 64

    @Option(name: .long, help: "Measured time per level (e.g. 30s).")
    var duration: String?

    @Option(name: .long, help: "Measured requests per level (instead of --duration).")
    var requests: Int?

    @Option(name: .long, help: "Warm-up per level, excluded from the statistics.")
    var warmup: String = "2s"

    @Option(name: .long, help: "SLOs for goodput, e.g. ttft=500ms,e2e=2s,tpot=50ms.")
    var slo: String?

    @Option(name: .long, help: "Shuffle the cases (and Poisson arrivals) with this seed.")
    var seed: UInt64?

    @Flag(
        name: .long,
        help: "Skip measuring the generator's own ceiling and added latency before the levels (about 1.5 s)."
    )
    var noCalibration = false

    @Option(name: .long, help: "Write the JSON report to this path.")
    var json: String?

    @Option(name: .long, help: "Write a self-contained HTML report with latency and throughput charts.")
    var html: String?

    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var telemetry: TelemetryOptions

    func run() async throws {
        telemetry.apply()
        try await withUserFacingErrors {
            let interactive = isInteractive(STDERR_FILENO)
            let report = try await storeOptions.with { store in
                let session = LoadSession(
                    store: store.documents,
                    options: try options(),
                    announce: { printError("roadtest: " + $0) },
                    onLevel: { _, level in if interactive { printError(LoadReport.row(level)) } }
                )
                return try await Interruptible.run(progress: nil, session.execute)
            }
            if json != "-" && html != "-" { FileHandle.standardOutput.write(Data(report.terminalText().utf8)) }
            if let json { try ReportFile.write(try report.json(), to: json) }
            if let html { try ReportFile.write(Data(report.html().utf8), to: html) }
        }
    }

    func options() throws -> LoadSession.Options {
        func invalid(_ message: String) -> RoadtestError { RoadtestError(.invalidArgument, message) }
        func list(_ text: String, _ name: String) throws -> [Double] {
            let values = text.split(separator: ",").map { Double($0.trimmingCharacters(in: .whitespaces)) }
            guard !values.isEmpty, values.allSatisfy({ ($0 ?? 0) > 0 }) else {
                throw invalid("--\(name) takes positive numbers separated by commas, e.g. --\(name) 1,8,32")
            }
            return values.compactMap { $0 }
        }
        guard let arrival = Arrival(rawValue: arrival) else { throw invalid("--arrival must be constant or poisson") }
        guard let warmup = DurationText.seconds(warmup) else { throw invalid("--warmup must be a duration like 5s") }
        var seconds = try duration.map { text -> Double in
            guard let seconds = DurationText.seconds(text), seconds > 0 else {
                throw invalid("--duration must be a duration like 30s")
            }
            return seconds
        }
        if seconds == nil && requests == nil { seconds = 10 }
        if let requests, requests <= 0 { throw invalid("--requests must be above 0") }
        let slo = try slo.map { text -> SLO in
            guard let parsed = SLO.parse(text) else { throw invalid("--slo takes ttft=500ms,e2e=2s,tpot=50ms") }
            return parsed
        }
        func level(_ mode: LoadLevel.Mode) -> LoadLevel {
            LoadLevel(mode: mode, duration: seconds, requests: requests, warmup: warmup)
        }
        var levels = try concurrency.map { try list($0, "concurrency").map { level(.concurrency(Int($0))) } } ?? []
        levels += try rate.map { try list($0, "rate").map { level(.rate($0, arrival)) } } ?? []
        if levels.isEmpty && !sweep { levels = [1, 8, 32].map { level(.concurrency($0)) } }
        return LoadSession.Options(
            suitePath: suite,
            candidates: candidate,
            levels: levels,
            sweep: sweep,
            sweepConcurrency: sweepConcurrency,
            sweepDuration: seconds ?? 10,
            warmup: warmup,
            slo: slo,
            seed: seed,
            calibrate: !noCalibration
        )
    }
}
