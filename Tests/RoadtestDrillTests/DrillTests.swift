import Foundation
import RoadtestCore
import RoadtestDrill
import RoadtestStore
import RoadtestTestSupport
import Testing

/// Drills against the simulator, whose answers are known: the proxy log, the client's attempt classes and the
/// drill's counts must agree exactly.
@Suite(.serialized) struct DrillTests {
    /// A suite of `cases` distinct cases (so request bodies differ), `samples` each.
    func suite(
        _ baseURL: String,
        cases: Int = 10,
        samples: Int = 3,
        primary: String,
        backup: String? = nil,
        primaryModel: String = "echo;ttft=5ms;itl=1ms",
        in directory: URL
    ) throws -> String {
        let lines = (1...cases).map { "  - {id: c\($0), prompt: case \($0) says hello, checks: [{contains: hello}]}" }
        var candidates = """
              - id: primary
                base_url: \(baseURL)
                model: "\(primaryModel)"
                price: {input: 1, output: 2}
            \(primary)
            """
        if let backup {
            candidates += """

                  - id: backup
                    base_url: \(baseURL)
                    model: "echo;ttft=5ms;itl=1ms;reply=backup says hello"
                    fallback_only: true
                    price: {input: 10, output: 20}
                \(backup)
                """
        }
        try writeFiles(
            [
                "suite.yaml": """
                name: drill
                samples: \(samples)
                candidates:
                \(candidates)
                cases:
                \(lines.joined(separator: "\n"))
                """
            ],
            in: directory
        )
        return directory.appendingPathComponent("suite.yaml").path
    }

    func drill(
        _ path: String,
        _ store: Store,
        faults: String,
        windows: [FaultWindow] = [],
        seed: UInt64 = 1
    )
        async throws -> DrillReport
    {
        let session = DrillSession(
            store: store.runs,
            documents: store.documents,
            options: .init(
                suitePath: path,
                candidates: ["primary"],
                faults: try FaultSpec.parse(faults),
                windows: windows,
                seed: seed
            )
        )
        guard case .finished(let report) = try await session.execute() else { throw CancellationError() }
        return report
    }

    @Test func everyFaultKindIsCountedTheSameByTheProxyTheClientAndTheDrill() async throws {
        try await withSimulator { baseURL, _ in
            try await withTemporaryDirectory { directory in
                // No retries, no fallback: each faulted request is a failed trial, except `slow` which only delays.
                let path = try suite(
                    baseURL,
                    cases: 20,
                    samples: 4,
                    primary: "    retries: 0\n    timeout: 1s",
                    in: directory
                )
                let store = try Store.sqlite(path: directory.appendingPathComponent("store.db").path)
                let report = try await drill(
                    path,
                    store,
                    faults: "429:8%,500:6%,503:6%,stall:6%@2s,cut:8%@1,malformed:6%,error_event:6%,reset:6%,slow:8%x2"
                )
                let card = try #require(report.candidates.first { $0.scorecard.id == "primary" })
                let resilience = try #require(card.resilience)
                #expect(resilience.trials == 80 && resilience.lost == 0 && resilience.requests == 80)
                // The drill's fault counts are the proxy's (categories and kinds agree with each other)...
                #expect(resilience.faults.values.reduce(0, +) == resilience.faultsByKind.values.reduce(0, +))
                for kind in FaultKind.allCases {
                    let injected = resilience.faultsByKind[kind.rawValue, default: 0]
                    #expect(injected > 0, "no \(kind.rawValue) was injected in 80 requests")
                }
                // ...and the client classified exactly those attempts as the fault's class.
                let classes = resilience.attemptClasses
                #expect(classes["http_429", default: 0] == resilience.faults["http_429"])
                #expect(classes["http_5xx", default: 0] == resilience.faults["http_5xx"])
                #expect(classes["stream_cut", default: 0] == resilience.faults["stream_cut"])
                #expect(classes["timeout", default: 0] == resilience.faults["timeout"])
                #expect(classes["malformed", default: 0] == resilience.faults["malformed"])
                #expect(classes["connection", default: 0] == resilience.faults["reset"])
                // Slowed requests still succeed: ok attempts = requests without a failing fault.
                let failing = resilience.faults.filter { $0.key != "slow" }.values.reduce(0, +)
                #expect(classes["ok", default: 0] == 80 - failing)
                // Without retries or fallback, success rate = 1 - faulted trials / trials, exactly.
                #expect(resilience.succeeded == 80 - failing)
                #expect(resilience.successRate == Double(80 - failing) / 80)
                #expect(resilience.cleanSuccessRate == 1)
                #expect(resilience.retries == 0 && resilience.servedByFallback == 0)
                // The stored drill report is the one returned.
                let stored = try #require(try await store.documents.drillJSON(runID: report.runID))
                #expect(try JSONDecoder().decode(DrillReport.self, from: stored).lost == 0)
            }
        }
    }

    /// The newer formats through the chaos proxy: a Responses stream (its own error event), Azure's deployment
    /// URL (its query kept) and Bedrock's event-stream messages (cut between messages, a checksum broken, an
    /// exception message) and Gemini's chunks (no end marker but the finish reason), each fault counted by the proxy
    /// as the client classified it.
    @Test(arguments: ["openai-responses", "azure", "bedrock", "gemini"])
    func theNewerFormatsAreDrilledLikeChatCompletions(provider: String) async throws {
        // A Bedrock API key, read from the environment as any credential is.
        setenv("ROADTEST_DRILL_BEDROCK_TOKEN", "bedrock-api-key", 1)
        try await withSimulator { baseURL, _ in
            try await withTemporaryDirectory { directory in
                let extra =
                    switch provider {
                    case "azure": "\n    deployment: chat\n    api_version: 2024-10-21"
                    case "bedrock": "\n    region: us-east-1\n    token_env: ROADTEST_DRILL_BEDROCK_TOKEN"
                    default: ""
                    }
                let root = String(baseURL.dropLast("/v1".count))
                let path = try suite(
                    provider == "openai-responses" ? baseURL : provider == "gemini" ? root + "/v1beta" : root,
                    cases: 20,
                    samples: 2,
                    primary: "    provider: \(provider)\n    retries: 0\n    timeout: 1s" + extra,
                    in: directory
                )
                let store = try Store.sqlite(path: directory.appendingPathComponent("store.db").path)
                let report = try await drill(
                    path,
                    store,
                    faults: "429:10%,500:10%,cut:10%@1,malformed:10%,error_event:10%"
                )
                let card = try #require(report.candidates.first { $0.scorecard.id == "primary" })
                let resilience = try #require(card.resilience)
                #expect(resilience.trials == 40 && resilience.lost == 0 && resilience.requests == 40)
                let classes = resilience.attemptClasses
                #expect(classes["http_429", default: 0] == resilience.faults["http_429"])
                #expect(classes["http_5xx", default: 0] == resilience.faults["http_5xx"])
                #expect(classes["stream_cut", default: 0] == resilience.faults["stream_cut"])
                #expect(classes["malformed", default: 0] == resilience.faults["malformed"])
                let failing = resilience.faults.values.reduce(0, +)
                #expect(failing > 0)
                #expect(classes["ok", default: 0] == 40 - failing)
                #expect(resilience.succeeded == 40 - failing)
            }
        }
    }

    @Test func aFallbackChainLosesNothingAndSucceedsOnEveryTrial() async throws {
        try await withSimulator { baseURL, _ in
            try await withTemporaryDirectory { directory in
                let path = try suite(
                    baseURL,
                    cases: 20,
                    samples: 3,
                    primary: "    retries: 1\n    retry_backoff: 10ms\n    fallback: [backup]",
                    backup: "    retries: 0",
                    in: directory
                )
                let store = try Store.sqlite(path: directory.appendingPathComponent("store.db").path)
                let report = try await drill(path, store, faults: "429:30%@0s,cut:10%")
                let resilience = try #require(report.candidates.first?.resilience)
                #expect(resilience.trials == 60 && resilience.lost == 0)
                #expect(resilience.succeeded == 60 && resilience.successRate == 1)
                #expect(
                    resilience.faults["http_429", default: 0] > 0 && resilience.faults["stream_cut", default: 0] > 0
                )
                // Cut streams are not retried: they go to the fallback; 429s are retried first.
                #expect(resilience.servedByFallback >= resilience.faults["stream_cut", default: 0])
                #expect(resilience.retries > 0)
                // Every trial served by the backup is charged at the backup's price: cost per success went up.
                #expect((resilience.costIncrease ?? 0) > 0)
                // The scorecard names who served what; the backup is not scored on its own.
                #expect(report.candidates.map(\.scorecard.id) == ["primary"])
                let fallback = try #require(report.candidates.first?.scorecard.fallback)
                #expect(fallback.servedByFallback == resilience.servedByFallback)
                #expect(fallback.servedBy["backup"] == resilience.servedByFallback)
                // Stored attempts say which candidate each went to.
                var backupAttempts = 0
                try await store.runs.forEachOutcome(runID: report.runID) { record in
                    backupAttempts += record.outcome.attempts.filter { $0.candidate == "backup" }.count
                    if record.outcome.servedBy == "backup" {
                        #expect(record.outcome.attempts.last?.candidate == "backup")
                    }
                }
                #expect(backupAttempts == resilience.servedByFallback)
            }
        }
    }

    @Test func theSameSeedInjectsTheSameFaults() async throws {
        try await withSimulator { baseURL, _ in
            try await withTemporaryDirectory { directory in
                let path = try suite(baseURL, cases: 15, samples: 2, primary: "    retries: 0", in: directory)
                let store = try Store.sqlite(path: directory.appendingPathComponent("store.db").path)
                let first = try await drill(path, store, faults: "429:20%,500:10%,cut:10%", seed: 42)
                let second = try await drill(path, store, faults: "429:20%,500:10%,cut:10%", seed: 42)
                let other = try await drill(path, store, faults: "429:20%,500:10%,cut:10%", seed: 43)
                let a = try #require(first.candidates.first?.resilience)
                let b = try #require(second.candidates.first?.resilience)
                let c = try #require(other.candidates.first?.resilience)
                #expect(a.faultsByKind == b.faultsByKind && a.succeeded == b.succeeded)
                // Which trials failed is the same too.
                var failedA: Set<String> = []
                var failedB: Set<String> = []
                try await store.runs.forEachOutcome(runID: first.runID) {
                    if !$0.outcome.passed { failedA.insert("\($0.outcome.key.caseID)#\($0.outcome.key.sample)") }
                }
                try await store.runs.forEachOutcome(runID: second.runID) {
                    if !$0.outcome.passed { failedB.insert("\($0.outcome.key.caseID)#\($0.outcome.key.sample)") }
                }
                #expect(failedA.count == failedB.count)
                #expect(a.faultsByKind != c.faultsByKind || a.succeeded != c.succeeded || failedA.isEmpty)
            }
        }
    }

    @Test func aCooldownSkipsAFailingCandidateAndRecoveryIsTimed() async throws {
        try await withSimulator { baseURL, _ in
            try await withTemporaryDirectory { directory in
                // An outage for the first 0.6 s; the primary's circuit opens after 3 failures for 30 s, so every
                // later trial goes straight to the backup (concurrency 1 makes the count exact).
                let path = try suite(
                    baseURL,
                    cases: 12,
                    samples: 1,
                    primary:
                        "    concurrency: 1\n    retries: 0\n    fallback: [backup]\n    cooldown: {after: 3, for: 30s}",
                    backup: "    retries: 0",
                    in: directory
                )
                let store = try Store.sqlite(path: directory.appendingPathComponent("store.db").path)
                let outage = FaultWindow(at: 0, duration: 0.6, rule: FaultRule(kind: .http503, rate: 1))
                let session = DrillSession(
                    store: store.runs,
                    documents: store.documents,
                    options: .init(suitePath: path, candidates: ["primary"], windows: [outage], seed: 1)
                )
                guard case .finished(let report) = try await session.execute() else { throw CancellationError() }
                let resilience = try #require(report.candidates.first?.resilience)
                #expect(resilience.succeeded == 12 && resilience.lost == 0)
                #expect(resilience.requests == 3, "the primary was asked \(resilience.requests) times")
                #expect(resilience.servedByFallback == 12)
                #expect(resilience.windows.count == 1)
            }
        }
    }

    @Test func recoveryIsTheTimeFromTheWindowsEndToTheFirstSuccess() async throws {
        try await withSimulator { baseURL, _ in
            try await withTemporaryDirectory { directory in
                let path = try suite(
                    baseURL,
                    cases: 30,
                    samples: 1,
                    primary: "    concurrency: 1\n    retries: 0",
                    primaryModel: "echo;ttft=40ms",
                    in: directory
                )
                let store = try Store.sqlite(path: directory.appendingPathComponent("store.db").path)
                // Stalled requests are dropped after 100 ms, so the failing trials take time, as in a real outage.
                let outage = FaultWindow(at: 0.2, duration: 0.4, rule: FaultRule(kind: .stall, rate: 1, parameter: 0.1))
                let session = DrillSession(
                    store: store.runs,
                    documents: store.documents,
                    options: .init(suitePath: path, candidates: ["primary"], windows: [outage], seed: 1)
                )
                guard case .finished(let report) = try await session.execute() else { throw CancellationError() }
                let resilience = try #require(report.candidates.first?.resilience)
                #expect(resilience.faults["timeout", default: 0] > 0)
                #expect(resilience.succeeded == 30 - resilience.faults["timeout", default: 0])
                let recovery = try #require(resilience.recoveryS)
                // The next request after the window answers in about 40 ms.
                #expect(recovery >= 0 && recovery < 0.5, "recovery \(recovery)")
                #expect(
                    report.timeline.contains { $0.type == "fault" } && report.timeline.contains { $0.type == "outcome" }
                )
            }
        }
    }
}
