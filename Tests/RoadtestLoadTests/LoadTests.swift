import Foundation
import RoadtestCore
import RoadtestLoad
import RoadtestProviders
import RoadtestReport
import RoadtestServer
import RoadtestStore
import RoadtestTestSupport
import Testing

/// The load generator against the simulator, where the truth is scripted.
@Suite(.serialized) struct LoadTests {
    func generator(_ baseURL: String, model: String, transport: HTTPTransport, slo: SLO? = nil) -> LoadGenerator {
        let provider = OpenAIProvider(baseURL: baseURL, apiKey: nil, transport: transport)
        let requests = (1...4).map {
            ChatRequest(model: model, messages: [Message(role: "user", content: "prompt \($0)")], timeout: 30)
        }
        return LoadGenerator(
            provider: provider,
            source: RequestSource(requests: requests),
            slo: slo,
            executors: transport.executors
        )
    }

    @Test func closedLoopAt32StreamsMatchesTheScriptedTiming() async throws {
        try await withSimulator { baseURL, simulator in
            let transport = HTTPTransport()
            let model = "timed;ttft=100ms;itl=20ms;reply=one two three four five"
            let load = generator(baseURL, model: model, transport: transport, slo: SLO(ttft: 0.2, e2e: 0.5))
            let level = await load.run(LoadLevel(mode: .concurrency(32), requests: 128, warmup: 0.5))
            await transport.shutdown()
            #expect(level.mode == "concurrency")
            #expect(level.target == 32)
            #expect(level.requests == 128)
            #expect(level.completed == 128)
            #expect(level.errored == 0)
            #expect(level.warmupExcluded > 0)
            let ttft = try #require(level.ttft.p50)
            let e2e = try #require(level.e2e.p50)
            // Against the script, and against what the simulator itself recorded sending (the harness's own bias).
            let served = simulator.servedRequests
            let serverTTFT = served.compactMap { request in
                request.firstContentAt.map { Double($0 - request.receivedAt) / 1e6 }
            }.sorted()
            let serverE2E = served.compactMap { request in
                request.lastContentAt.map { Double($0 - request.receivedAt) / 1e6 }
            }.sorted()
            let serverTTFTMedian = serverTTFT[serverTTFT.count / 2]
            let serverE2EMedian = serverE2E[serverE2E.count / 2]
            #expect(
                abs(ttft - 100) < 2,
                "TTFT p50 \(ttft) ms; the simulator sent its first chunk at p50 \(serverTTFTMedian) ms"
            )
            #expect(
                abs(e2e - 180) < 2,
                "E2E p50 \(e2e) ms; the simulator sent its last chunk at p50 \(serverE2EMedian) ms"
            )
            #expect(abs(ttft - serverTTFTMedian) < 2, "TTFT bias \(ttft - serverTTFTMedian) ms")
            #expect(abs(e2e - serverE2EMedian) < 2, "E2E bias \(e2e - serverE2EMedian) ms")
            let tpot = try #require(level.tpot.p50)
            #expect(abs(tpot - 20) < 1, "TPOT p50 \(tpot) ms")
            #expect(level.interChunk.count == 128 * 4)
            // 32 streams, one request each ~180 ms: at most about 178 requests/s.
            #expect(level.achievedRPS > 32 / 0.25 && level.achievedRPS < 32 / 0.18 * 1.05, "\(level.achievedRPS) req/s")
            #expect(level.attainment == 1)
            #expect(level.correctedE2E == nil && level.scheduleLag == nil)
        }
    }

    /// Every newer format under load: each request of a Bedrock load signed when sent, and the scripted timing read
    /// through each format's decoder (Responses events, Gemini chunks, Bedrock event-stream messages).
    @Test(arguments: ["openai-responses", "azure", "gemini", "bedrock"])
    func theNewerFormatsKeepTheScriptedTimingUnderLoad(format: String) async throws {
        try await withSimulator { baseURL, _ in
            let root = String(baseURL.dropLast("/v1".count))
            let transport = HTTPTransport()
            var candidate = Candidate(id: "c", provider: try #require(ProviderKind(rawValue: format)), model: "m")
            candidate.baseURL = format == "openai-responses" ? baseURL : format == "gemini" ? root + "/v1beta" : root
            candidate.region = "us-east-1"
            let factory = ProviderFactory(
                transport: transport,
                environment: ["AWS_ACCESS_KEY_ID": "AKID", "AWS_SECRET_ACCESS_KEY": "secret"]
            )
            let model = "timed;ttft=60ms;itl=10ms;reply=one two three four"
            let requests = (1...4).map {
                ChatRequest(model: model, messages: [Message(role: "user", content: "prompt \($0)")], timeout: 30)
            }
            let load = LoadGenerator(
                provider: try factory.makeProvider(for: candidate),
                source: RequestSource(requests: requests),
                slo: nil,
                executors: transport.executors
            )
            let level = await load.run(LoadLevel(mode: .concurrency(8), requests: 48, warmup: 0))
            await transport.shutdown()
            #expect(level.completed == 48 && level.errored == 0, "\(format): \(level.errors)")
            let ttft = try #require(level.ttft.p50)
            let e2e = try #require(level.e2e.p50)
            #expect(abs(ttft - 60) < 3, "\(format): TTFT p50 \(ttft) ms")
            #expect(abs(e2e - 90) < 3, "\(format): E2E p50 \(e2e) ms")
        }
    }

    @Test func aServerFreezeShowsInTheCorrectedP99() async throws {
        var frozen = ModelBehavior()
        frozen.timeToFirstToken = 0.01
        frozen.reply = "ok"
        frozen.freezes = [(at: 1.0, duration: 1.0)]
        try await withSimulator(profile: SimulatorProfile(models: ["frozen": frozen])) { baseURL, _ in
            let transport = HTTPTransport()
            let load = generator(baseURL, model: "frozen", transport: transport, slo: SLO(e2e: 0.1))
            let level = await load.run(LoadLevel(mode: .rate(40, .constant), duration: 3, warmup: 0))
            await transport.shutdown()
            #expect(level.mode == "rate")
            #expect(level.arrival == "constant")
            #expect(level.requests >= 118 && level.requests <= 121, "\(level.requests) sent")
            #expect(level.completed + level.errored + level.inFlightAtEnd == level.requests)
            let corrected = try #require(level.correctedE2E)
            #expect((corrected.p99 ?? 0) > 850, "corrected p99 \(corrected.p99 ?? 0) ms")
            #expect((corrected.p50 ?? 1000) < 100, "most requests were unaffected")
            let lag = try #require(level.scheduleLag)
            #expect((lag.p99 ?? 1000) < 20, "the generator kept its schedule (lag p99 \(lag.p99 ?? 0) ms)")
            // Requests caught in the freeze miss the 100 ms SLO: about a third of them.
            let attainment = try #require(level.attainment)
            #expect(attainment > 0.5 && attainment < 0.8, "attainment \(attainment)")
        }
    }

    @Test func throttlingIsItsOwnSeriesAndInFlightRequestsAreCounted() async throws {
        try await withSimulator { baseURL, _ in
            let transport = HTTPTransport()
            let throttled = generator(baseURL, model: "t;faults=429,ok;cycle=true;retry_after=2", transport: transport)
            // One stream: the simulator's alternation follows the order requests arrive in, and with two streams
            // a measured request and an unmeasured cool-down one can reach it in either order (21 and 19, rarely).
            let level = await throttled.run(LoadLevel(mode: .concurrency(1), requests: 40))
            #expect(level.throttled == 20)
            #expect(level.errors["http_429"] == 20)
            #expect(level.completed == 20)
            #expect(level.maxRetryAfter == 2)
            #expect(level.throttledPerSecond.reduce(0, +) == 20)
            let slow = generator(baseURL, model: "slow;ttft=5s", transport: transport)
            let cut = await slow.run(LoadLevel(mode: .concurrency(3), duration: 0.5))
            #expect(cut.requests == 3)
            #expect(cut.completed == 0)
            #expect(cut.inFlightAtEnd == 3)
            #expect(abs(cut.durationSeconds - 0.5) < 0.05)
            await transport.shutdown()
        }
    }

    @Test func poissonArrivalsAreSeededAndSweepFindsSaturation() async throws {
        try await withSimulator { baseURL, _ in
            let transport = HTTPTransport()
            // Capacity 2, 100 ms per request: the endpoint serves at most 20 requests/s.
            let load = generator(baseURL, model: "cap;ttft=100ms;reply=x;capacity=2", transport: transport)
            let poisson = await load.run(LoadLevel(mode: .rate(10, .poisson), duration: 1.5))
            #expect(poisson.arrival == "poisson")
            #expect(poisson.requests > 5 && poisson.requests < 30)
            let swept = await load.sweep(duration: 1.5, warmup: 0.3, maxConcurrency: 8)
            await transport.shutdown()
            let saturation = swept.saturation
            let maxThroughput = try #require(saturation.maxThroughputRPS)
            #expect(maxThroughput > 17 && maxThroughput < 23, "max throughput \(maxThroughput)")
            #expect(swept.levels.first?.target == 1)
            #expect(saturation.firstUnservedRPS != nil || saturation.rateRPS != nil)
            if let served = saturation.rateRPS { #expect(served <= 23) }
        }
    }

    /// Every load measures the generator first: its ceiling against its own zero-latency endpoint and the latency
    /// it adds, in the report beside the levels; a level's percentiles carry 95% intervals where there were enough
    /// requests to bound them.
    @Test func theReportStatesTheGeneratorsCeilingAndPercentileIntervals() async throws {
        try await withSimulator { baseURL, _ in
            try await withTemporaryDirectory { directory in
                let suite = directory.appendingPathComponent("suite.yaml")
                try Data(
                    """
                    name: calibrated
                    candidates: [{id: sim, base_url: \(baseURL), model: "fixed;ttft=2ms;reply=ok"}]
                    cases: [{id: a, prompt: one}]
                    """.utf8
                ).write(to: suite)
                let report = try await StoreLocation.with(directory.appendingPathComponent("s.db").path) { store in
                    try await LoadSession(
                        store: store.documents,
                        options: .init(
                            suitePath: suite.path,
                            levels: [LoadLevel(mode: .concurrency(4), requests: 400, warmup: 0.2)]
                        )
                    ).execute()
                }
                let generator = try #require(report.generator)
                #expect(generator.ceilingConcurrency == 16)
                // Loopback and this process: far above what a 2 ms server at 4 streams can take (about 2,000 req/s).
                #expect(generator.ceilingRPS > 2000, "\(generator.ceilingRPS) req/s")
                let added = try #require(generator.addedLatency.p50)
                #expect(added > 0 && added < 2, "\(added) ms")
                let level = try #require(report.candidates.first?.levels.first)
                #expect(level.completed == 400)
                // 400 requests bound the p50, p90 and p95, and the p99 too (368 are enough).
                let intervals = try #require(level.e2e.ci95)
                let p50 = try #require(intervals.p50)
                let median = try #require(level.e2e.p50)
                #expect(p50[0] <= median && median <= p50[1], "\(p50) around \(median)")
                #expect(intervals.p99 != nil)
                // Far below the ceiling: no warning about the generator.
                #expect(!report.warnings.contains { $0.contains("ceiling") }, "\(report.warnings)")
                let json = String(decoding: try report.json(), as: UTF8.self)
                #expect(json.contains("\"ceiling_rps\"") && json.contains("\"added_latency_ms\""))
            }
        }
    }

    /// A level within 2x of the generator's ceiling is flagged; one well below it is not.
    @Test func aLevelNearTheGeneratorsCeilingIsFlagged() {
        let generator = GeneratorReport(
            ceilingRPS: 10_000,
            ceilingConcurrency: 64,
            addedLatency: .init(p50: 0.1, p99: 0.3)
        )
        func level(_ rps: Double) -> LevelResult {
            LevelResult(
                mode: "concurrency",
                target: 64,
                requests: 1,
                completed: 1,
                errored: 0,
                inFlightAtEnd: 0,
                warmupExcluded: 0,
                durationSeconds: 1,
                achievedRPS: rps,
                outputTokensPerSecond: 0,
                ttft: Percentiles(),
                tpot: Percentiles(),
                interChunk: Percentiles(),
                e2e: Percentiles(),
                errors: [:],
                throttled: 0,
                throttledPerSecond: [],
                goodputRPS: 0
            )
        }
        #expect(generator.warnings(candidate: "a", level: level(6_000)).count == 1)
        #expect(generator.warnings(candidate: "a", level: level(4_000)).isEmpty)
    }

    /// The frontier walks the open-loop levels upward: the highest rate whose p99 TTFT and E2E stayed under each
    /// bound, the first rate that did not, and the highest held with the p99s' 95% upper bounds under it too.
    @Test func theThroughputFrontierBracketsEachBound() {
        func level(_ rate: Double, p99: Double, upper: Double?, errored: Int = 0) -> LevelResult {
            var latency = Percentiles(count: 1000, p50: p99 / 2, p90: p99, p95: p99, p99: p99, max: p99)
            latency.ci95 = PercentileIntervals(
                p50: [0, p99],
                p90: [0, p99],
                p95: [0, p99],
                p99: upper.map { [0, $0] }
            )
            return LevelResult(
                mode: "rate",
                target: rate,
                requests: 1000,
                completed: 1000 - errored,
                errored: errored,
                inFlightAtEnd: 0,
                warmupExcluded: 0,
                durationSeconds: 1,
                achievedRPS: rate,
                outputTokensPerSecond: 0,
                ttft: latency,
                tpot: Percentiles(),
                interChunk: Percentiles(),
                e2e: latency,
                correctedTTFT: latency,
                correctedE2E: latency,
                errors: [:],
                throttled: 0,
                throttledPerSecond: [],
                goodputRPS: rate
            )
        }
        let levels = [
            level(400, p99: 3, upper: 4), level(100, p99: 0.8, upper: 0.9), level(200, p99: 2, upper: 6),
            level(800, p99: 40, upper: 45), level(1600, p99: 30, upper: 35, errored: 100),
        ]
        let frontier = ThroughputBound.frontier(levels: levels, slo: SLO(ttft: 0.02, e2e: 0.05))
        let byBound = Dictionary(uniqueKeysWithValues: frontier.map { ($0.bound, $0) })
        #expect(frontier.map(\.bound) == ["1 ms", "5 ms", "10 ms", "50 ms", "100 ms", "slo"])
        #expect(byBound["1 ms"]?.rateRPS == 100 && byBound["1 ms"]?.firstOverRPS == 200)
        #expect(byBound["1 ms"]?.confidentRateRPS == 100)
        // 200 req/s held 5 ms by its p99 (2 ms) but not by its upper bound (6 ms): confidence stops at 100.
        #expect(byBound["5 ms"]?.rateRPS == 400 && byBound["5 ms"]?.firstOverRPS == 800)
        #expect(byBound["5 ms"]?.confidentRateRPS == 100)
        // 1,600 req/s failed 6% of its requests: not served, whatever its latency.
        #expect(byBound["50 ms"]?.rateRPS == 800 && byBound["50 ms"]?.firstOverRPS == 1600)
        // The SLO: TTFT under 20 ms and E2E under 50 ms.
        #expect(byBound["slo"]?.rateRPS == 400 && byBound["slo"]?.firstOverRPS == 800)
        #expect(ThroughputBound.frontier(levels: [], slo: nil).isEmpty)
    }

    @Test func sloParsing() {
        #expect(SLO.parse("ttft=500ms,e2e=2s,tpot=50ms") == SLO(ttft: 0.5, e2e: 2, tpot: 0.05))
        #expect(SLO.parse("latency=1s") == nil)
        #expect(SLO(ttft: 0.5).isMet(ttft: 0.4, e2e: 9, tpot: nil))
        #expect(!SLO(ttft: 0.5).isMet(ttft: 0.6, e2e: 1, tpot: nil))
    }
}
