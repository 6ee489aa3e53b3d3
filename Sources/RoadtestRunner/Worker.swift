import Foundation
import RoadtestCore
import RoadtestLocal
import RoadtestProviders
import RoadtestStore
import RoadtestSuite
import Synchronization

/// `roadtest worker`: takes trials of distributed runs from the shared store's queue, runs them with the run's
/// stored suite (starting local models itself), and writes each outcome once, while it holds the trial's lease.
///
/// A worker renews its leases with heartbeats (every third of the lease). If it dies (SIGKILL, a lost node), its
/// leases expire and other workers claim those trials again. Stopped cleanly (Ctrl-C, SIGTERM), it gives its
/// unfinished trials back at once. It exits when no running run has work left, after waiting up to `idle` for
/// one to appear.
///
/// ```swift
/// let worker = Worker(store: store.runs, queue: queue, options: .init(concurrency: 8))
/// let summary = try await worker.execute()
/// ```
public struct Worker: Sendable {
    public struct Options: Sendable {
        /// Trials claimed at once, across candidates (each candidate's own `concurrency` also holds per worker).
        public var concurrency: Int
        /// Seconds a claim stays this worker's without a heartbeat.
        public var lease: Double
        /// Seconds to wait for work before exiting (also how long it waits for a first run to appear).
        public var idle: Double
        /// Work on this run only.
        public var runID: String?
        /// The suite file, for what the store does not keep: header values (stored redacted).
        public var suitePath: String?
        /// How this worker is known in the store (default: host-pid-random).
        public var id: String?

        public init(
            concurrency: Int = 8,
            lease: Double = 30,
            idle: Double = 60,
            runID: String? = nil,
            suitePath: String? = nil,
            id: String? = nil
        ) {
            self.concurrency = concurrency
            self.lease = lease
            self.idle = idle
            self.runID = runID
            self.suitePath = suitePath
            self.id = id
        }
    }

    /// What a worker did.
    public struct Summary: Sendable {
        public var workerID: String
        /// Outcomes it wrote.
        public var completed: Int
        /// Trials it ran whose lease another worker had taken over by the time they finished (not written).
        public var dropped: Int
        public var runs: [String]
    }

    public let store: any RunStore
    /// The shared store's queue.
    public let queue: any TrialQueue
    public let options: Options
    public let home: RoadtestHome
    public let announce: @Sendable (String) -> Void
    public let progress: RunProgress

    public init(
        store: any RunStore,
        queue: any TrialQueue,
        options: Options,
        home: RoadtestHome = RoadtestHome(),
        progress: RunProgress = RunProgress(total: 0),
        announce: @escaping @Sendable (String) -> Void = { _ in }
    ) {
        self.store = store
        self.queue = queue
        self.options = options
        self.home = home
        self.progress = progress
        self.announce = announce
    }

    static var host: String { ProcessInfo.processInfo.hostName }

    /// Works until no run has work left (or the task is cancelled: then it gives its claims back and rethrows).
    public func execute() async throws -> Summary {
        guard options.concurrency > 0 else { throw RoadtestError(.invalidArgument, "--concurrency must be above 0") }
        guard options.lease >= 1 else { throw RoadtestError(.invalidArgument, "--lease must be at least 1s") }
        let workerID =
            options.id ?? "\(Self.host)-\(getpid())-\(String(format: "%04x", UInt16.random(in: 0...UInt16.max)))"
        let counts = WorkerCounters()
        var runs: [String] = []
        announce("worker \(workerID): looking for work in the store")
        do {
            var idleSince = ContinuousClock.now
            while true {
                try Task.checkCancellation()
                let next: String?
                if let only = options.runID {
                    let state = try await queue.queueState(runID: only)
                    next = state.done < state.total ? only : nil
                } else {
                    next = try await queue.nextQueuedRun()
                }
                guard let runID = next else {
                    if ContinuousClock.now - idleSince > .seconds(options.idle)
                        || (options.runID != nil && !runs.isEmpty)
                    {
                        break
                    }
                    try await Task.sleep(for: .milliseconds(500))
                    continue
                }
                if !runs.contains(runID) { runs.append(runID) }
                try await work(on: runID, workerID: workerID, counts: counts)
                idleSince = ContinuousClock.now
                if options.runID != nil { break }
            }
        } catch {
            // Stopped (or failed): whatever this worker holds goes back to the queue now, not at lease expiry.
            let queue = self.queue
            _ = await Task { try? await queue.release(worker: workerID) }.value
            // Stopped by Ctrl-C or SIGTERM, whatever the cancelled call happened to throw.
            if Task.isCancelled { throw CancellationError() }
            throw error
        }
        try await queue.release(worker: workerID)
        return Summary(
            workerID: workerID,
            completed: counts.completed.load(ordering: .relaxed),
            dropped: counts.dropped.load(ordering: .relaxed),
            runs: runs
        )
    }

    /// Claims and runs trials of one run until none is left to claim and none is in flight.
    func work(on runID: String, workerID: String, counts: WorkerCounters) async throws {
        // The suite without its cases: each claim brings its own case.
        guard var suite = try await store.suiteHeader(runID: runID) else {
            throw RoadtestError(.notFound, "run \(runID) has no stored suite")
        }
        suite = try restoreSecrets(suite)
        let state = try await queue.queueState(runID: runID)
        progress.start(total: state.total, alreadyDone: state.done)
        announce("worker \(workerID): run \(runID), \(state.total - state.done) of \(state.total) trials left")
        // Trials that finish together are committed together (one transaction per batch, each still under its lease).
        let sink = GroupCommitSink(LeasedSink(queue: queue, worker: workerID, counts: counts))
        try await queue.heartbeat(worker: workerID, host: Self.host, runID: runID, lease: options.lease)
        try await HTTPTransport.with { transport in
            try await CandidateEndpoints.with(suite: suite, transport: transport, home: home, announce: announce) {
                providers in
                let runner = Runner(suite: suite, sink: sink, runID: runID, providers: providers, progress: progress)
                // A candidate's own `concurrency` holds per worker, as in a single process (provider rate limits).
                var slots: [String: SlotPool] = [:]
                for candidate in suite.scoredCandidates {
                    slots[candidate.id] = SlotPool(
                        capacity: max(
                            1,
                            candidate.settings.concurrency ?? suite.defaults.concurrency ?? Settings.builtInConcurrency
                        )
                    )
                }
                let candidateSlots = slots
                // A discarding group: finished trials are let go at once (a worker runs for hours). Children never
                // throw; the first failure is kept here and thrown by the loop.
                let failure = FirstFailure()
                let capacity = SlotPool(capacity: options.concurrency)
                try await withThrowingDiscardingTaskGroup { group in
                    let lease = options.lease
                    let queue = self.queue
                    group.addTask {
                        while !Task.isCancelled {
                            try? await Task.sleep(for: .seconds(lease / 3))
                            if Task.isCancelled { break }
                            do {
                                try await queue.heartbeat(worker: workerID, host: Self.host, runID: runID, lease: lease)
                            } catch {
                                failure.record(error)
                            }
                        }
                    }
                    while true {
                        if let error = failure.error {
                            group.cancelAll()
                            throw error
                        }
                        try Task.checkCancellation()
                        // Claim as soon as a slot frees (a trial may take milliseconds), as many as are free.
                        await capacity.acquire()
                        var free = 1
                        while free < options.concurrency, capacity.tryAcquire() { free += 1 }
                        let claimed: [QueuedTrial]
                        do {
                            try Task.checkCancellation()
                            claimed = try await queue.claim(runID: runID, worker: workerID, limit: free, lease: lease)
                        } catch {
                            for _ in 0..<free { capacity.release() }
                            throw error
                        }
                        for _ in claimed.count..<free { capacity.release() }
                        for trial in claimed {
                            counts.inFlight.add(1, ordering: .relaxed)
                            group.addTask {
                                defer {
                                    counts.inFlight.subtract(1, ordering: .relaxed)
                                    capacity.release()
                                }
                                guard let testCase = trial.testCase else {
                                    let missing = RoadtestError(
                                        .store,
                                        "run \(runID) has no stored case '\(trial.key.caseID)'"
                                    )
                                    failure.record(missing)
                                    return
                                }
                                let pool = candidateSlots[trial.key.candidate]
                                await pool?.acquire()
                                defer { pool?.release() }
                                do {
                                    try await runner.run(trial: trial.key, testCase: testCase)
                                } catch {
                                    failure.record(error)
                                }
                            }
                        }
                        if !claimed.isEmpty { continue }
                        if counts.inFlight.load(ordering: .relaxed) == 0 {
                            // Nothing to claim and nothing running here: done when nothing is left anywhere, or the run
                            // stopped; otherwise other workers hold the rest (their leases may yet expire).
                            let state = try await queue.queueState(runID: runID)
                            let running = try await store.run(id: runID)?.status == .running
                            if state.done == state.total || !running { break }
                        }
                        try await Task.sleep(for: .milliseconds(200))
                    }
                    // Every trial task has finished; the heartbeat ends by cancellation.
                    group.cancelAll()
                }
                if let error = failure.error { throw error }
            }
        }
    }

    /// Header values are stored redacted; the suite file given with `--suite` supplies them.
    func restoreSecrets(_ stored: Suite) throws -> Suite {
        let redacted = stored.candidates.filter { $0.headers.values.contains(Suite.redacted) }
        guard !redacted.isEmpty else { return stored }
        guard let path = options.suitePath else {
            throw RoadtestError(
                .invalidArgument,
                "candidate \(redacted[0].id) sends headers whose values the store does not keep",
                hint: "give the worker the suite file too: roadtest worker --suite FILE (values from the environment)"
            )
        }
        let file = try SuiteLoader().load(path: path)
        var suite = stored
        for index in suite.candidates.indices {
            guard let source = file.candidates.first(where: { $0.id == suite.candidates[index].id }) else { continue }
            suite.candidates[index].headers = source.headers
        }
        return suite
    }
}

/// The worker's outcome sink: writes an outcome only while the worker holds the trial's lease.
struct LeasedSink: OutcomeSink {
    let queue: any TrialQueue
    let worker: String
    let counts: WorkerCounters

    func record(_ outcome: Outcome, runID: String) async throws {
        _ = try await record(batch: [outcome], runID: runID)
    }

    func record(batch outcomes: [Outcome], runID: String) async throws -> [Bool] {
        let written = try await queue.complete(batch: outcomes, runID: runID, worker: worker)
        for stored in written {
            if stored {
                counts.completed.add(1, ordering: .relaxed)
            } else {
                counts.dropped.add(1, ordering: .relaxed)
            }
        }
        return written
    }
}

/// The first error of a worker's concurrent trials.
final class FirstFailure: Sendable {
    private let value = Mutex<(any Error)?>(nil)

    func record(_ error: any Error) { value.withLock { $0 = $0 ?? error } }
    var error: (any Error)? { value.withLock { $0 } }
}

final class WorkerCounters: Sendable {
    let completed = Atomic<Int>(0)
    let dropped = Atomic<Int>(0)
    let inFlight = Atomic<Int>(0)
}
