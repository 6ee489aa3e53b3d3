import ArgumentParser
import Foundation
import Hummingbird
import RoadtestCore
import RoadtestDrill
import RoadtestReport
import RoadtestServer
import RoadtestStore
import RoadtestSuite

/// The faults to inject, from `--faults` and `--scenario`.
struct FaultOptions: ParsableArguments {
    @Option(
        name: .long,
        help: ArgumentHelp(
            "Faults and their share of requests, e.g. 429:20%,500:5%,cut:5%,slow:10%x5.",
            discussion: """
                Kinds: 429 (with Retry-After; 429:20%@2s sets it), 500, 503, stall (send nothing; stall:5%@30s \
                holds at most 30 s), cut (drop the stream after some events; cut:5%@3), malformed (corrupt one \
                event), error_event, reset (close before any response), slow (slow:10%x5: five times slower to \
                first byte and between events).
                """
        )
    )
    var faults: String?

    @Option(name: .long, help: "A fault timeline (YAML): - {at: 10s, for: 5s, fault: 503, rate: 100%}.")
    var scenario: String?

    @Option(name: .long, help: "Seed for which requests get faults (same seed, same faults).")
    var seed: UInt64 = 0

    func load() throws -> (FaultSpec, [FaultWindow]) {
        var spec = try faults.map(FaultSpec.parse) ?? .none
        var windows: [FaultWindow] = []
        if let scenario {
            let loaded = try ScenarioLoader().load(path: scenario)
            windows = loaded.windows
            if spec.rules.isEmpty { spec = loaded.spec }
        }
        guard !spec.rules.isEmpty || !windows.isEmpty else {
            throw RoadtestError(
                .invalidArgument,
                "no faults given",
                hint: "pass --faults 429:20%,cut:5% or --scenario outage.yaml"
            )
        }
        return (spec, windows)
    }
}

struct ChaosCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "chaos",
        abstract: "Serve a fault-injecting reverse proxy in front of a real OpenAI- or Anthropic-format endpoint.",
        discussion: """
            Paths are forwarded unchanged to the upstream origin and streams pass through as they arrive. Each \
            request gets at most one fault, chosen deterministically for --seed. Every request is logged as one JSON \
            line: time, t (seconds since start), id, method, path, fault, kind, window, upstream_status, status, \
            events, duration_ms. Point a client's base URL at the proxy, e.g. http://127.0.0.1:8090/v1.
            """
    )

    @Option(name: .long, help: "The upstream origin, e.g. http://127.0.0.1:8080.")
    var upstream: String

    @Option(name: .long, help: "Address to listen on (loopback unless you say otherwise).")
    var listen = "127.0.0.1:8090"

    @OptionGroup var faultOptions: FaultOptions

    @Option(name: .long, help: "Write the request log (JSON lines) here; - for standard output (the default).")
    var log = "-"

    func run() async throws {
        let code = try await withUserFacingErrors { () -> Int32 in
            let (spec, windows) = try faultOptions.load()
            let (host, port) = try Self.address(listen)
            let sink = try ChaosLogWriter(path: log)
            let proxy = try ChaosProxy(
                options: .init(
                    upstream: upstream,
                    plan: FaultPlan(spec: spec, windows: windows, seed: faultOptions.seed)
                ),
                onLog: { sink.write($0) }
            )
            if !["127.0.0.1", "localhost", "::1"].contains(host) {
                printError("roadtest chaos: listening on \(host), reachable from other machines")
            }
            let upstream = self.upstream
            let app = proxy.makeApplication(host: host, port: port) { port in
                printError(
                    "roadtest chaos: http://\(host):\(port) -> \(upstream) with faults "
                        + (spec.text.isEmpty ? "–" : spec.text)
                        + (windows.isEmpty ? "" : " and \(windows.count) scenario window(s)")
                )
            }
            try await app.runService()
            await proxy.shutdown()
            return 0
        }
        throw ExitCode(code)
    }

    static func address(_ text: String, option: String = "--listen") throws -> (String, Int) {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
            (0...65535).contains(port)
        else {
            throw RoadtestError(
                .invalidArgument,
                "\(option) \(text): expected HOST:PORT",
                hint: "for example 127.0.0.1:8090"
            )
        }
        return (String(text[..<colon]).trimmingCharacters(in: CharacterSet(charactersIn: "[]")), port)
    }
}

struct DrillCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "drill",
        abstract: "Run a suite with faults injected in front of candidates' real endpoints and score their resilience.",
        discussion: """
            A drill runs the suite clean (or compares with --clean RUN), then again with a chaos proxy in front of \
            each chosen candidate's endpoint (local llama-servers included). Fallback chains and retries do their \
            work; candidates reached only as fallbacks stay clean unless chosen too. The report shows, per \
            candidate: faults injected by kind, success rate under faults against clean, lost trials (must be 0), \
            trials served by a fallback, retries, added latency, cost change and recovery after outage windows. \
            Exit 0 when nothing was lost and every drilled candidate meets --min-success-rate; 100 otherwise.
            """
    )

    @Argument(help: "The suite file (YAML).")
    var suite: String

    @Option(name: .long, help: "Put faults in front of this candidate (repeatable; default every scored candidate).")
    var candidate: [String] = []

    @OptionGroup var faultOptions: FaultOptions

    @Option(
        name: .long,
        help: "Compare with this stored run (an id or latest) instead of running the suite clean first."
    )
    var clean: String?

    @Option(name: .long, help: "Use this candidate as the judge for `judge` checks.")
    var judge: String?

    @Option(name: .long, help: "Override every candidate's concurrency.")
    var concurrency: Int?

    @Option(
        name: .long,
        help: "Fail (exit 100) when a drilled candidate's success rate under faults is below this (0-1)."
    )
    var minSuccessRate: Double?

    @Option(name: .long, help: "Write the proxies' request log (JSON lines) to this path.")
    var log: String?

    @Option(name: .long, help: "Write the drill report as JSON to this path (- for standard output).")
    var json: String?

    @Option(name: .long, help: "Write a self-contained HTML report (with a timeline) to this path.")
    var html: String?

    @Flag(name: .long, help: "Print nothing on standard output (files are still written).")
    var quiet = false

    @Flag(name: .long, help: "Never show the progress bar.")
    var noProgress = false

    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var telemetry: TelemetryOptions

    func run() async throws {
        telemetry.apply()
        let code = try await withUserFacingErrors { () -> Int32 in
            let (spec, windows) = try faultOptions.load()
            return try await storeOptions.with { store in
                let sink = try ChaosLogWriter(path: log)
                let session = DrillSession(
                    store: store.runs,
                    documents: store.documents,
                    options: .init(
                        suitePath: suite,
                        candidates: candidate,
                        faults: spec,
                        windows: windows,
                        seed: faultOptions.seed,
                        cleanRun: clean,
                        judge: judge,
                        concurrency: concurrency,
                        version: Roadtest.version
                    ),
                    announce: { printError("roadtest: " + $0) },
                    onLog: { sink.write($0) }
                )
                let showProgress = !noProgress && isInteractive(STDERR_FILENO)
                switch try await Interruptible.run(progress: showProgress ? session.progress : nil, session.execute) {
                case .finished(let report):
                    if !quiet && json != "-" && html != "-" {
                        FileHandle.standardOutput.write(Data(DrillRenderer.terminal(report).utf8))
                    }
                    if let json { try ReportFile.write(DrillRenderer.json(report), to: json) }
                    if let html { try ReportFile.write(Data(DrillRenderer.html(report).utf8), to: html) }
                    let floor = minSuccessRate ?? 0
                    let held = report.candidates.compactMap(\.resilience).allSatisfy { ($0.successRate ?? 0) >= floor }
                    return report.lost == 0 && held ? ExitStatus.barsMet : ExitStatus.barsNotMet
                case .interrupted(let runID, let stored, let total):
                    printError(
                        "roadtest: interrupted; \(stored) of \(total) trials are stored in run \(runID). Run the drill again."
                    )
                    return ExitStatus.interrupted
                }
            }
        }
        throw ExitCode(code)
    }
}
