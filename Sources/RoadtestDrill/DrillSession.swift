import Foundation
import Hummingbird
import RoadtestCore
import RoadtestLocal
import RoadtestRunner
import RoadtestServer
import RoadtestStore
import RoadtestSuite
import Synchronization

/// One `roadtest drill`, start to end: a clean run of the suite (or a stored one), then the same suite with a chaos
/// proxy in front of each drilled candidate's real endpoint (a managed llama-server's included; candidates reached
/// only as fallbacks stay clean unless drilled too), then the resilience figures folded from both runs and the
/// proxies' logs. Both runs are stored like any run; the drill report is stored under the faulted run's id.
///
/// ```swift
/// let session = DrillSession(store: store, options: .init(suitePath: "suite.yaml", faults: try .parse("429:30%")))
/// if case .finished(let report) = try await session.execute() { print(report.lost) }
/// ```
public struct DrillSession: Sendable {
    public struct Options: Sendable {
        public var suitePath: String
        /// Candidates to put faults in front of; every scored candidate when empty.
        public var candidates: [String]
        public var faults: FaultSpec
        public var windows: [FaultWindow]
        public var seed: UInt64
        /// A stored run to compare with instead of running the suite clean first (`latest` works).
        public var cleanRun: String?
        public var judge: String?
        public var concurrency: Int?
        public var version: String

        public init(
            suitePath: String,
            candidates: [String] = [],
            faults: FaultSpec = .none,
            windows: [FaultWindow] = [],
            seed: UInt64 = 0,
            cleanRun: String? = nil,
            judge: String? = nil,
            concurrency: Int? = nil,
            version: String = "dev"
        ) {
            self.suitePath = suitePath
            self.candidates = candidates
            self.faults = faults
            self.windows = windows
            self.seed = seed
            self.cleanRun = cleanRun
            self.judge = judge
            self.concurrency = concurrency
            self.version = version
        }
    }

    public enum Ending: Sendable {
        case finished(DrillReport)
        /// Cancelled during the clean or the faulted run; what finished is stored under `runID`.
        case interrupted(runID: String, stored: Int, total: Int)
    }

    public let store: any RunStore
    /// Where the drill report is kept.
    public let documents: any DocumentStore
    public let options: Options
    public let progress: RunProgress
    public let home: RoadtestHome
    public let announce: @Sendable (String) -> Void
    /// Each proxied request's log line, as its response ends.
    public let onLog: @Sendable (ChaosLogEntry) -> Void

    public init(
        store: any RunStore,
        documents: any DocumentStore,
        options: Options,
        progress: RunProgress = RunProgress(total: 0),
        home: RoadtestHome = RoadtestHome(),
        announce: @escaping @Sendable (String) -> Void = { _ in },
        onLog: @escaping @Sendable (ChaosLogEntry) -> Void = { _ in }
    ) {
        self.store = store
        self.documents = documents
        self.options = options
        self.progress = progress
        self.home = home
        self.announce = announce
        self.onLog = onLog
    }

    public func execute() async throws -> Ending {
        guard !options.faults.rules.isEmpty || !options.windows.isEmpty else {
            throw RoadtestError(
                .invalidArgument,
                "a drill needs faults",
                hint: "pass --faults 429:20%,cut:5% or --scenario outage.yaml"
            )
        }
        let runOptions = RunSession.Options(
            suitePath: options.suitePath,
            judge: options.judge,
            candidates: options.candidates,
            concurrency: options.concurrency,
            version: options.version
        )
        let suite = try RunSession.applyOverrides(runOptions, to: try SuiteLoader().load(path: options.suitePath))
        let drilled = suite.scoredCandidates.map(\.id)
        for candidate in suite.scoredCandidates where candidate.provider == .command {
            throw RoadtestError(
                .invalidArgument,
                "candidate '\(candidate.id)' runs a command; a drill puts faults in front of HTTP endpoints",
                hint: "drill an openai, anthropic or local candidate (--candidate ID)"
            )
        }

        // 1. The clean baseline.
        let cleanRunID: String
        if let reference = options.cleanRun {
            guard let id = try await store.resolveRunID(reference) else {
                throw RoadtestError(
                    .notFound,
                    "--clean \(reference): no such run in the store",
                    hint: "list runs with: roadtest runs"
                )
            }
            cleanRunID = id
            let path = URL(fileURLWithPath: options.suitePath).standardizedFileURL.path
            if let run = try await store.run(id: id), run.suitePath != path {
                announce("note: clean run \(id) is of \(run.suitePath), not \(path); figures compare different suites")
            }
        } else {
            announce("clean run: the suite without faults")
            switch try await RunSession(
                store: store,
                options: runOptions,
                progress: progress,
                home: home,
                announce: announce
            )
            .execute()
            {
            case .finished(let report): cleanRunID = report.runID
            case .interrupted(let runID, let stored, let total):
                return .interrupted(runID: runID, stored: stored, total: total)
            }
        }

        // 2. The same suite with faults in front of the drilled candidates.
        announce(
            "drill run: faults \(options.faults.text.isEmpty ? "from the scenario" : options.faults.text) in front of \(drilled.joined(separator: ", "))"
        )
        let plan = FaultPlan(spec: options.faults, windows: options.windows, seed: options.seed)
        let fleet = ProxyFleet(plan: plan, clock: ChaosClock(startingNow: false), onLog: onLog)
        let drilledSet = Set(drilled)
        let session = RunSession(
            store: store,
            options: runOptions,
            progress: progress,
            home: home,
            announce: announce,
            interpose: { candidate, url in
                guard drilledSet.contains(candidate.id) else { return url }
                return try await fleet.start(candidate: candidate.id, upstream: url)
            }
        )
        // The proxies' servers are children of this scope: they end when the faulted run does, however it ends.
        let ending: RunSession.Ending
        do {
            ending = try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { await fleet.run() }
                defer {
                    fleet.releaseHolds()
                    group.cancelAll()
                }
                return try await session.execute()
            }
        } catch {
            await fleet.shutdown()
            throw error
        }
        await fleet.shutdown()
        guard case .finished(let report) = ending else {
            if case .interrupted(let runID, let stored, let total) = ending {
                return .interrupted(runID: runID, stored: stored, total: total)
            }
            fatalError("unreachable")
        }

        // 3. The figures.
        let entries = fleet.entries
        let epoch = fleet.clock.wallClockZero ?? Date().timeIntervalSince1970
        var fold = ResilienceFold(epoch: epoch, windows: options.windows)
        var outcomes: [DrillReport.Event] = []
        try await store.forEachOutcome(runID: report.runID) { record in
            fold.addFaulted(record)
            let outcome = record.outcome
            if let started = outcome.startedAt, let elapsed = outcome.elapsed, outcomes.count < 50_000 {
                outcomes.append(
                    DrillReport.Event(
                        t: ((started + elapsed - epoch) * 1000).rounded() / 1000,
                        candidate: outcome.key.candidate,
                        type: "outcome",
                        passed: outcome.passed,
                        servedBy: outcome.servedBy
                    )
                )
            }
        }
        try await store.forEachOutcome(runID: cleanRunID) { fold.addClean($0) }
        for entry in entries { fold.addLog(entry) }
        let planned = Dictionary(grouping: RunPlan(suite: suite).trials, by: \.key.candidate).mapValues(\.count)
        let faults = entries.filter { $0.fault != nil }.prefix(50_000).map {
            DrillReport.Event(t: $0.t, candidate: $0.candidate ?? "", type: "fault", fault: $0.fault)
        }
        let drill = DrillReport(
            runID: report.runID,
            cleanRunID: cleanRunID,
            suite: report.suite,
            faults: options.faults.text,
            seed: options.seed,
            windows: options.windows,
            drilled: drilled,
            startedAt: report.startedAt,
            candidates: report.candidates.map { card in
                DrillReport.Candidate(
                    scorecard: card,
                    resilience: drilledSet.contains(card.id)
                        ? fold.resilience(for: card.id, planned: planned[card.id] ?? 0) : nil
                )
            },
            timeline: (faults + outcomes).sorted { $0.t < $1.t }
        )
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        try await documents.saveDrill(
            runID: report.runID,
            cleanRunID: cleanRunID,
            startedAt: report.startedAt,
            json: try encoder.encode(drill)
        )
        return .finished(drill)
    }
}

/// The chaos proxies of one drill: one per drilled candidate, on loopback, sharing the scenario clock. Their servers
/// run as children of `run()` (the drill runs it beside the faulted run and cancels it when the run ends).
final class ProxyFleet: Sendable {
    let plan: FaultPlan
    let clock: ChaosClock
    let onLog: @Sendable (ChaosLogEntry) -> Void
    private let proxies = Mutex<[ChaosProxy]>([])
    private let launches: AsyncStream<@Sendable () async -> Void>
    private let launcher: AsyncStream<@Sendable () async -> Void>.Continuation

    init(plan: FaultPlan, clock: ChaosClock, onLog: @escaping @Sendable (ChaosLogEntry) -> Void) {
        self.plan = plan
        self.clock = clock
        self.onLog = onLog
        (launches, launcher) = AsyncStream.makeStream(of: (@Sendable () async -> Void).self)
    }

    /// Runs every proxy server `start` asks for, until cancelled.
    func run() async {
        await withDiscardingTaskGroup { group in
            for await launch in launches { group.addTask { await launch() } }
        }
    }

    /// Starts a proxy in front of `upstream` (a base URL) and returns the base URL to use instead.
    func start(candidate: String, upstream: String) async throws -> String {
        let proxy = try ChaosProxy(
            options: .init(upstream: upstream, plan: plan, candidate: candidate),
            clock: clock,
            onLog: onLog
        )
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        let app = proxy.makeApplication(host: "127.0.0.1", port: 0) { port in continuation.yield(port) }
        proxies.withLock { $0.append(proxy) }
        launcher.yield {
            try? await app.run()
            continuation.finish()
        }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next() else {
            throw RoadtestError(.providerSetup, "could not start the chaos proxy for candidate '\(candidate)'")
        }
        return "http://127.0.0.1:\(port)" + (URL(string: upstream)?.path ?? "")
    }

    /// Lets requests the proxies hold go (before their servers stop).
    func releaseHolds() {
        for proxy in proxies.withLock({ $0 }) { proxy.releaseHolds() }
    }

    /// Closes the proxies' upstream clients (after `run()` has ended).
    func shutdown() async {
        launcher.finish()
        for proxy in proxies.withLock({ $0 }) { await proxy.shutdown() }
    }

    var entries: [ChaosLogEntry] { proxies.withLock { $0.flatMap(\.entries) } }
}
