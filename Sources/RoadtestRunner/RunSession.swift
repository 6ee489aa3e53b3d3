import Foundation
import RoadtestCore
import RoadtestLocal
import RoadtestProviders
import RoadtestStore
import RoadtestSuite
import Tracing

/// One `roadtest run`, start to end: loads the suite, applies the command line's overrides, creates or resumes the
/// stored run, starts the candidates' endpoints (managed local servers included), runs every trial not yet stored,
/// and folds the stored records into the report. The CLI and the tests drive this same entry point.
///
/// Endings are typed: `.finished` (every trial ran), `.interrupted` (the task was cancelled: Ctrl-C or SIGTERM;
/// stored work is kept and `--resume` continues), or a thrown error (the run could not go on, e.g. the store failed;
/// the run is marked `failed`, stored work is kept and `--resume` continues it too).
///
/// ```swift
/// let session = RunSession(store: store, options: .init(suitePath: "suite.yaml"))
/// switch try await session.execute() {
/// case .finished(let report): print(report.barsMet)
/// case .interrupted(let runID, let stored, let total): print("\(runID): \(stored)/\(total)")
/// }
/// ```
public struct RunSession: Sendable {
    /// What the command line chose.
    public struct Options: Sendable {
        public var suitePath: String
        /// Continue the latest unfinished run of this suite instead of starting a new one.
        public var resume: Bool
        /// The candidate that grades `judge` checks (it is not scored).
        public var judge: String?
        /// Only these candidates (judges are kept); all when empty.
        public var candidates: [String]
        /// Overrides every candidate's concurrency.
        public var concurrency: Int?
        /// Recorded with the run.
        public var version: String
        /// A security drill to add to (or put in place of) the suite's own `attacks:`.
        public var attacks: AttackConfig?
        /// Queue the trials in the shared store for `roadtest worker`s and follow their progress.
        public var distributed: Bool

        public init(
            suitePath: String,
            resume: Bool = false,
            judge: String? = nil,
            candidates: [String] = [],
            concurrency: Int? = nil,
            version: String = "dev",
            attacks: AttackConfig? = nil,
            distributed: Bool = false
        ) {
            self.attacks = attacks
            self.distributed = distributed
            self.suitePath = suitePath
            self.resume = resume
            self.judge = judge
            self.candidates = candidates
            self.concurrency = concurrency
            self.version = version
        }
    }

    /// How a session ended without an error.
    public enum Ending: Sendable {
        /// Every trial ran; the report folds every stored record.
        case finished(RunReport)
        /// Cancelled; `stored` of `total` trials are in the store under `runID`.
        case interrupted(runID: String, stored: Int, total: Int)
    }

    public let store: any RunStore
    /// The shared queue for `--distributed` (a PostgreSQL store's; nil otherwise).
    public let queue: (any TrialQueue)?
    public let options: Options
    public let progress: RunProgress
    public let home: RoadtestHome
    /// Notes for the user (resuming, starting a local server).
    public let announce: @Sendable (String) -> Void
    /// Puts something in front of candidates' endpoints (a drill's chaos proxies).
    public let interpose: CandidateEndpoints.Interpose?
    /// Called with the run's id once it is created or resumed.
    public let onRunID: @Sendable (String) -> Void

    public init(
        store: any RunStore,
        queue: (any TrialQueue)? = nil,
        options: Options,
        progress: RunProgress = RunProgress(total: 0),
        home: RoadtestHome = RoadtestHome(),
        announce: @escaping @Sendable (String) -> Void = { _ in },
        interpose: CandidateEndpoints.Interpose? = nil,
        onRunID: @escaping @Sendable (String) -> Void = { _ in }
    ) {
        self.interpose = interpose
        self.onRunID = onRunID
        self.store = store
        self.queue = queue
        self.options = options
        self.progress = progress
        self.home = home
        self.announce = announce
    }

    /// Runs the session; see the type's documentation for how it ends.
    public func execute() async throws -> Ending {
        let suite = try Self.applyOverrides(options, to: try SuiteLoader().load(path: options.suitePath))
        guard TelemetryTracing.isEnabled else { return try await execute(suite, span: nil) }
        // The run's span: each trial's span is its child, each attempt's a grandchild.
        return try await withSpan("run \(suite.name)") { span in
            span.attributes["roadtest.suite"] = suite.name
            let ending = try await execute(suite, span: span)
            RunSpan.finish(ending, span: span)
            return ending
        }
    }

    func execute(_ suite: Suite, span: (any Span)?) async throws -> Ending {
        if options.distributed { return try await coordinate(suite) }
        let (runID, completed, casesStored) = try await startOrResume(suite)
        span?.attributes["roadtest.run_id"] = runID
        onRunID(runID)
        let (total, done) = RunPlan.count(suite: suite, completed: completed)
        progress.start(total: total, alreadyDone: done)

        let transport = HTTPTransport()
        let store = self.store
        // Trials that finish together are committed together (one transaction per batch); a trial's task ends
        // when its outcome is queued, up to 256 ahead of the writes, and everything queued is committed (`flush`)
        // before the run is read back or ends.
        let sink = GroupCommitSink(store, ahead: 256)
        do {
            try await withThrowingTaskGroup { group in
                // A new run's cases are written while its first trials run (they are read back only by reports).
                if !casesStored { group.addTask { try await store.storeCases(runID: runID, suite: suite) } }
                group.addTask {
                    try await CandidateEndpoints.with(
                        suite: suite,
                        transport: transport,
                        home: home,
                        announce: announce,
                        interpose: interpose
                    ) { providers in
                        let runner = Runner(
                            suite: suite,
                            sink: sink,
                            runID: runID,
                            providers: providers,
                            progress: progress,
                            defaultJudge: options.judge,
                            executors: transport.executors
                        )
                        try await runner.run(skipping: completed)
                    }
                    try await sink.flush()
                }
                try await group.waitForAll()
            }
        } catch {
            // What finished is committed before the run's ending is told (a failed write stays the error).
            try? await sink.flush()
            await transport.shutdown()
            return try await ending(runID: runID, total: total, after: error)
        }
        await transport.shutdown()
        return try await finish(runID: runID)
    }

    /// How a run that stopped early ends: `.interrupted` when it was cancelled (Ctrl-C, SIGTERM), else the run is
    /// marked `failed` and the error rethrown. Finished trials stay stored either way.
    func ending(runID: String, total: Int, after error: any Error) async throws -> Ending {
        // The bookkeeping runs in a task of its own: the session's task may be cancelled, the store is not.
        let store = self.store
        if error is CancellationError || Task.isCancelled {
            let stored = try await Task {
                try await store.setStatus(runID: runID, status: .interrupted, finishedAt: nil)
                return try await store.outcomeCount(runID: runID)
            }.value
            return .interrupted(runID: runID, stored: stored, total: total)
        }
        _ = await Task { try? await store.setStatus(runID: runID, status: .failed, finishedAt: nil) }.value
        throw error
    }

    /// Marks the run finished and folds its report from the store.
    func finish(runID: String) async throws -> Ending {
        try await store.setStatus(runID: runID, status: .finished, finishedAt: RunRecord.timestamp())
        guard let report = try await store.report(runID: runID) else {
            throw RoadtestError(.store, "run \(runID) vanished from the store")
        }
        return .finished(report)
    }

    /// The run to write into, the trials it already holds, and whether its cases are all stored (a new run is
    /// created without them: the caller writes them with `storeCases`).
    func startOrResume(_ suite: Suite) async throws -> (String, Set<TrialKey>, casesStored: Bool) {
        let suitePath = URL(fileURLWithPath: options.suitePath).standardizedFileURL.path
        if options.resume, let previous = try await store.latestUnfinishedRun(suitePath: suitePath) {
            let completed = try await store.completedTrials(runID: previous.id)
            let hash = suite.fingerprint
            if previous.suiteHash != hash {
                // An empty hash: the run stopped before its cases were all written; they are written now.
                if !previous.suiteHash.isEmpty {
                    announce(
                        "note: the suite changed since run \(previous.id) started; finished trials are kept, new and "
                            + "changed cases run now"
                    )
                }
                try await store.updateSuite(runID: previous.id, suite: suite, hash: hash)
            }
            try await store.setStatus(runID: previous.id, status: .running, finishedAt: nil)
            announce(
                "resuming run \(previous.id): \(completed.count) trial\(completed.count == 1 ? "" : "s") already done"
            )
            return (previous.id, completed, true)
        }
        if options.resume { announce("no unfinished run of \(options.suitePath) to resume; starting a new run") }
        let runID = RunRecord.makeID()
        try await store.createRun(
            RunRecord(
                id: runID,
                suiteName: suite.name,
                suitePath: suitePath,
                // The store fingerprints the suite as it writes its cases.
                suiteHash: "",
                status: .running,
                startedAt: RunRecord.timestamp(),
                version: options.version
            ),
            suite: suite.withoutCases
        )
        return (runID, [], false)
    }

    /// The suite with the command line's judge, candidate filter and concurrency applied.
    public static func applyOverrides(_ options: Options, to suite: Suite) throws -> Suite {
        var suite = suite
        let known = suite.candidates.map(\.id).joined(separator: ", ")
        if let judge = options.judge {
            guard let index = suite.candidates.firstIndex(where: { $0.id == judge }) else {
                throw RoadtestError(
                    .invalidArgument,
                    "--judge \(judge): no candidate has that id (candidates: \(known))"
                )
            }
            suite.candidates[index].isJudge = true
        }
        if !options.candidates.isEmpty {
            for id in options.candidates where !suite.candidates.contains(where: { $0.id == id }) {
                throw RoadtestError(
                    .invalidArgument,
                    "--candidate \(id): no candidate has that id (candidates: \(known))"
                )
            }
            // Judges stay, and so does every candidate a chosen one falls back on.
            var keep = Set(options.candidates)
            for candidate in suite.candidates where keep.contains(candidate.id) { keep.formUnion(candidate.fallback) }
            suite.candidates = suite.candidates.filter { keep.contains($0.id) || $0.isJudge }
            // A scored candidate kept only as a chosen one's fallback is not scored in this run.
            for index in suite.candidates.indices
            where !options.candidates.contains(suite.candidates[index].id) && !suite.candidates[index].isJudge {
                suite.candidates[index].isFallbackOnly = true
            }
        }
        if let concurrency = options.concurrency {
            guard concurrency > 0 else { throw RoadtestError(.invalidArgument, "--concurrency must be above 0") }
            for index in suite.candidates.indices { suite.candidates[index].settings.concurrency = concurrency }
        }
        if suite.scoredCandidates.isEmpty { throw RoadtestError(.invalidArgument, "no candidate left to evaluate") }
        if let attacks = options.attacks {
            let skipped = suite.addAttacks(attacks)
            if skipped.count == attacks.packs.count {
                throw RoadtestError(
                    .invalidArgument,
                    "no attack to run: "
                        + skipped.sorted { $0.key.rawValue < $1.key.rawValue }.map { "\($0.key.rawValue): \($0.value)" }
                        .joined(separator: "; "),
                    hint:
                        "excessive-agency needs cases with forbidden_tools, cross-user cases with session_user and tools"
                )
            }
        }
        return suite
    }
}
