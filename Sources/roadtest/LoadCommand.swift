import ArgumentParser
import Foundation
import RoadtestCore
import RoadtestLoad
import RoadtestProviders
import RoadtestRunner
import RoadtestStore
import RoadtestSuite

struct LoadCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "load",
        abstract: "Latency under load: TTFT, TPOT and E2E percentiles, throughput, goodput and the saturation point.",
        discussion: """
            Requests are the suite's own cases (cycled; shuffled with --seed), one attempt each (no retries).
            Closed loop: --concurrency 1,8,32. Open loop: --rate 5,10,20 [--arrival poisson]; open-loop levels also
            report latency from the intended send time (corrected_*) and the generator's schedule lag. --sweep finds
            the saturation point by itself. Default: --concurrency 1,8,32 for 10s each after 2s of warm-up.
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

    @Flag(name: .long, help: "Find the saturation point: bound it with one-at-a-time and maximum-throughput levels, then try rates between.")
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

    @Option(name: .long, help: "Write the JSON report to this path.")
    var json: String?

    @Option(name: .long, help: "Write a self-contained HTML report with latency and throughput charts.")
    var html: String?

    @OptionGroup var storeOptions: StoreOptions

    func run() async throws {
        try await withUserFacingErrors { try await execute() }
    }

    func parseList(_ text: String, name: String) throws -> [Double] {
        let values = text.split(separator: ",").map { Double($0.trimmingCharacters(in: .whitespaces)) }
        guard !values.isEmpty, values.allSatisfy({ ($0 ?? 0) > 0 }) else {
            throw UserFacingError("--\(name) takes positive numbers separated by commas, e.g. --\(name) 1,8,32")
        }
        return values.compactMap { $0 }
    }

    func execute() async throws {
        var suite = try SuiteLoader().load(path: self.suite)
        for id in candidate where !suite.candidates.contains(where: { $0.id == id }) {
            throw UserFacingError("--candidate \(id): no candidate has that id (candidates: \(suite.candidates.map(\.id).joined(separator: ", ")))")
        }
        if !candidate.isEmpty { suite.candidates = suite.candidates.filter { candidate.contains($0.id) } }
        guard let arrivalKind = Arrival(rawValue: arrival) else { throw UserFacingError("--arrival must be constant or poisson") }
        guard let warmupSeconds = DurationText.seconds(warmup) else { throw UserFacingError("--warmup must be a duration like 5s") }
        var durationSeconds = try duration.map { text -> Double in
            guard let seconds = DurationText.seconds(text), seconds > 0 else { throw UserFacingError("--duration must be a duration like 30s") }
            return seconds
        }
        if durationSeconds == nil && requests == nil { durationSeconds = 10 }
        if let requests, requests <= 0 { throw UserFacingError("--requests must be above 0") }
        let objectives = try slo.map { text -> SLO in
            guard let parsed = SLO.parse(text) else { throw UserFacingError("--slo takes ttft=500ms,e2e=2s,tpot=50ms") }
            return parsed
        }
        var levels: [LoadLevel] = []
        if let concurrency {
            levels += try parseList(concurrency, name: "concurrency").map {
                LoadLevel(mode: .concurrency(Int($0)), duration: durationSeconds, requests: requests, warmup: warmupSeconds)
            }
        }
        if let rate {
            levels += try parseList(rate, name: "rate").map {
                LoadLevel(mode: .rate($0, arrivalKind), duration: durationSeconds, requests: requests, warmup: warmupSeconds)
            }
        }
        if levels.isEmpty && !sweep {
            levels = [1, 8, 32].map { LoadLevel(mode: .concurrency($0), duration: durationSeconds, requests: requests, warmup: warmupSeconds) }
        }
        if suite.scoredCandidates.isEmpty { throw UserFacingError("no candidate to load") }
        let store = try storeOptions.open()
        let id = "load-" + RunID.make()
        let startedAt = Store.timestamp()
        let interactive = isInteractive(STDERR_FILENO)
        let maxSlots = max(levels.map { Int($0.target) }.max() ?? 1, sweep ? sweepConcurrency : 1)
        // Local servers get as many slots as the highest concurrency, capped at the candidate's own setting when set.
        for index in suite.candidates.indices where suite.candidates[index].provider == .local && suite.candidates[index].settings.concurrency == nil {
            suite.candidates[index].settings.concurrency = min(maxSlots, 8)
        }

        let transport = HTTPTransport()
        var results: [CandidateLoad] = []
        var warnings: [String] = []
        let loaded = suite
        do {
            try await CandidateEndpoints.with(suite: loaded, transport: transport, announce: { printError("roadtest: " + $0) }) { providers in
                for candidate in loaded.scoredCandidates {
                    guard let provider = providers[candidate.id] else { continue }
                    var requestList = loaded.cases.map { testCase -> ChatRequest in
                        let settings = loaded.settings(for: candidate, case: testCase)
                        return ChatRequest(
                            model: candidate.model, system: settings.system, messages: testCase.messages, temperature: settings.temperature,
                            maxTokens: settings.maxTokens, stream: settings.stream ?? true, extra: settings.extra,
                            timeout: settings.timeout ?? Settings.builtInTimeout)
                    }
                    if let seed {
                        var random = SplitMix64(seed: seed)
                        for index in requestList.indices.reversed() where index > 0 {
                            requestList.swapAt(index, Int(random.next() % UInt64(index + 1)))
                        }
                    }
                    let generator = LoadGenerator(provider: provider, source: RequestSource(requests: requestList), slo: objectives, seed: seed ?? 0)
                    if interactive { printError("roadtest: loading '\(candidate.id)'") }
                    var done: [LevelResult] = []
                    let announce: (LevelResult) -> Void = { level in
                        if interactive { printError(LoadReport.row(level)) }
                        if let lag = level.scheduleLag?.p99, lag > max(5, 100 / level.target) {
                            warnings.append(String(format: "'%@' at %.2f req/s: the generator fell behind its schedule (lag p99 %.1f ms); corrected latencies include it", candidate.id, level.target, lag))
                        }
                    }
                    for level in levels {
                        let result = await generator.run(level)
                        announce(result)
                        done.append(result)
                    }
                    var saturation: Saturation?
                    if sweep {
                        let swept = await generator.sweep(duration: durationSeconds ?? 10, warmup: warmupSeconds, maxConcurrency: sweepConcurrency, onLevel: announce)
                        done += swept.levels
                        saturation = swept.saturation
                    }
                    results.append(CandidateLoad(id: candidate.id, levels: done, saturation: saturation))
                }
            }
        } catch {
            await transport.shutdown()
            throw error
        }
        await transport.shutdown()
        let report = LoadReport(id: id, suite: loaded.name, startedAt: startedAt, slo: objectives, candidates: results, warnings: warnings)
        let data = try report.json()
        try store.saveLoadRun(id: id, suiteName: loaded.name, startedAt: startedAt, json: data)
        FileHandle.standardOutput.write(Data(report.terminalText().utf8))
        if let json { try OutputOptions().write(data, to: json) }
        if let html { try OutputOptions().write(Data(report.html().utf8), to: html) }
    }
}
