import Foundation
import RoadtestCore
import RoadtestProviders
import RoadtestReport
import RoadtestRunner
import RoadtestStore
import RoadtestSuite

/// One `roadtest load`: loads the suite, builds each candidate's load plan (its cases as requests), starts the
/// endpoints, runs every level (and the sweep), and stores the report. The CLI and tests share this entry point.
public struct LoadSession: Sendable {
    /// What the command line chose.
    public struct Options: Sendable {
        public var suitePath: String
        /// Only these candidates; every scored candidate when empty.
        public var candidates: [String]
        public var levels: [LoadLevel]
        /// Find the saturation point after the given levels.
        public var sweep: Bool
        public var sweepConcurrency: Int
        /// Measured seconds per sweep level.
        public var sweepDuration: Double
        public var warmup: Double
        public var slo: SLO?
        /// Shuffles the cases (and Poisson arrivals).
        public var seed: UInt64?
        /// Measure the generator's own ceiling and added latency before the levels (about 1.5 s).
        public var calibrate: Bool

        public init(
            suitePath: String,
            candidates: [String] = [],
            levels: [LoadLevel],
            sweep: Bool = false,
            sweepConcurrency: Int = 64,
            sweepDuration: Double = 10,
            warmup: Double = 2,
            slo: SLO? = nil,
            seed: UInt64? = nil,
            calibrate: Bool = true
        ) {
            self.calibrate = calibrate
            self.suitePath = suitePath
            self.candidates = candidates
            self.levels = levels
            self.sweep = sweep
            self.sweepConcurrency = sweepConcurrency
            self.sweepDuration = sweepDuration
            self.warmup = warmup
            self.slo = slo
            self.seed = seed
        }
    }

    /// Where the load report is kept.
    public let store: any DocumentStore
    public let options: Options
    /// Notes for the user (starting a local server, a candidate's turn).
    public let announce: @Sendable (String) -> Void
    /// Each finished level, as it finishes.
    public let onLevel: @Sendable (String, LevelResult) -> Void

    public init(
        store: any DocumentStore,
        options: Options,
        announce: @escaping @Sendable (String) -> Void = { _ in },
        onLevel: @escaping @Sendable (String, LevelResult) -> Void = { _, _ in }
    ) {
        self.store = store
        self.options = options
        self.announce = announce
        self.onLevel = onLevel
    }

    /// Runs every level for every candidate and stores the report.
    public func execute() async throws -> LoadReport {
        let suite = try plannedSuite()
        let id = "load-" + RunRecord.makeID()
        let startedAt = RunRecord.timestamp()
        let transport = HTTPTransport()
        var results: [CandidateLoad] = []
        var warnings: [String] = []
        var generatorReport: GeneratorReport?
        do {
            if options.calibrate {
                announce("measuring the generator's own ceiling")
                do {
                    generatorReport = try await GeneratorCalibration.measure(
                        transport: transport,
                        concurrency: calibrationConcurrency
                    )
                } catch {
                    warnings.append("the generator's calibration did not run: \(error)")
                }
            }
            try await CandidateEndpoints.with(suite: suite, transport: transport, announce: announce) { providers in
                for candidate in suite.scoredCandidates {
                    guard let provider = providers[candidate.id] else { continue }
                    let generator = LoadGenerator(
                        provider: provider,
                        source: RequestSource(requests: Self.requests(suite, candidate, options.seed)),
                        slo: options.slo,
                        seed: options.seed ?? 0,
                        executors: transport.executors
                    )
                    announce("loading '\(candidate.id)'")
                    let record: @Sendable (LevelResult) -> Void = { level in onLevel(candidate.id, level) }
                    var levels: [LevelResult] = []
                    for level in options.levels {
                        let result = await generator.run(level)
                        record(result)
                        levels.append(result)
                    }
                    var saturation: Saturation?
                    if options.sweep {
                        let swept = await generator.sweep(
                            duration: options.sweepDuration,
                            warmup: options.warmup,
                            maxConcurrency: options.sweepConcurrency,
                            onLevel: record
                        )
                        levels += swept.levels
                        saturation = swept.saturation
                    }
                    for level in levels {
                        if let lag = level.scheduleLag?.p99, lag > 1 {
                            warnings.append(
                                String(
                                    format: "'%@' at %.2f req/s: the generator fell behind its schedule (lag p99 %.1f "
                                        + "ms); corrected latencies include it",
                                    candidate.id,
                                    level.target,
                                    lag
                                )
                            )
                        }
                        warnings += generatorReport?.warnings(candidate: candidate.id, level: level) ?? []
                    }
                    results.append(
                        CandidateLoad(id: candidate.id, levels: levels, saturation: saturation, slo: options.slo)
                    )
                }
            }
        } catch {
            await transport.shutdown()
            throw error
        }
        await transport.shutdown()
        let report = LoadReport(
            id: id,
            suite: suite.name,
            startedAt: startedAt,
            slo: options.slo,
            candidates: results,
            warnings: warnings,
            generator: generatorReport
        )
        try await store.saveLoadRun(id: id, suiteName: suite.name, startedAt: startedAt, json: try report.json())
        return report
    }

    /// Streams for the calibration's ceiling: the highest closed-loop level (16 to 256), 64 for open-loop levels.
    var calibrationConcurrency: Int {
        let streams = options.levels.compactMap { level -> Int? in
            if case .concurrency(let streams) = level.mode { return streams }
            return nil
        }
        let highest = max(streams.max() ?? 64, options.sweep ? options.sweepConcurrency : 0)
        return min(256, max(16, highest))
    }

    /// The suite narrowed to the chosen candidates, local servers sized for the highest concurrency.
    func plannedSuite() throws -> Suite {
        var suite = try SuiteLoader().load(path: options.suitePath)
        let known = suite.candidates.map(\.id).joined(separator: ", ")
        for id in options.candidates where !suite.candidates.contains(where: { $0.id == id }) {
            throw RoadtestError(.invalidArgument, "--candidate \(id): no candidate has that id (candidates: \(known))")
        }
        if !options.candidates.isEmpty {
            suite.candidates = suite.candidates.filter { options.candidates.contains($0.id) }
        }
        if suite.scoredCandidates.isEmpty { throw RoadtestError(.invalidArgument, "no candidate to load") }
        let maxSlots = max(
            options.levels.map { Int($0.target) }.max() ?? 1,
            options.sweep ? options.sweepConcurrency : 1
        )
        // Local servers get as many slots as the highest concurrency (at most 8), unless the candidate sets its own.
        for index in suite.candidates.indices
        where suite.candidates[index].provider == .local && suite.candidates[index].settings.concurrency == nil {
            suite.candidates[index].settings.concurrency = min(maxSlots, 8)
        }
        return suite
    }

    /// The load plan of one candidate: its cases as requests, shuffled with `seed` when given.
    static func requests(_ suite: Suite, _ candidate: Candidate, _ seed: UInt64?) -> [ChatRequest] {
        var requests = suite.cases.map { testCase -> ChatRequest in
            let settings = suite.settings(for: candidate, case: testCase)
            return ChatRequest(
                model: candidate.model,
                system: settings.system,
                messages: testCase.messages,
                temperature: settings.temperature,
                maxTokens: settings.maxTokens,
                stream: settings.stream ?? true,
                extra: settings.extra,
                timeout: settings.timeout ?? Settings.builtInTimeout
            )
        }
        if let seed {
            var random = SplitMix64(seed: seed)
            for index in requests.indices.reversed() where index > 0 {
                requests.swapAt(index, Int(random.next() % UInt64(index + 1)))
            }
        }
        return requests
    }
}
