import Foundation
import RoadtestCore

/// A trial in a distributed run's queue.
public struct QueuedTrial: Sendable, Hashable {
    public var key: TrialKey
    /// Where its case is in the run's stored suite.
    public var caseIndex: Int
    /// How many times it has been claimed (more than 1: a worker's lease expired and it was claimed again).
    public var claims: Int
    /// The case itself, as stored with the run (claims carry it: a worker never loads the whole suite's cases).
    public var testCase: Case?

    public init(key: TrialKey, caseIndex: Int, claims: Int = 0, testCase: Case? = nil) {
        self.key = key
        self.caseIndex = caseIndex
        self.claims = claims
        self.testCase = testCase
    }
}

/// Where a distributed run's queue stands.
public struct QueueState: Sendable, Hashable {
    public var total = 0
    public var pending = 0
    public var leased = 0
    public var done = 0
    /// Claims beyond the first, over every trial: work started again after a worker's lease expired.
    public var reclaims = 0
    /// Workers that sent a heartbeat within the last lease period.
    public var liveWorkers = 0

    public init() {}
}

/// The work queue of distributed runs, in the shared store: workers claim trials with
/// `SELECT … FOR UPDATE SKIP LOCKED` under a lease they renew with heartbeats; an expired lease (a worker that died)
/// makes its trials claimable again; an outcome is written only by the worker that holds the trial's lease, once.
/// Times are the database server's clock, so workers' clocks need not agree.
public protocol TrialQueue: Sendable {
    /// Adds planned trials of a run, a thousand rows per statement (already queued ones are kept as they are).
    func enqueue(runID: String, trials: some Sequence<RunPlan.Trial>) async throws
    /// Forgets a run's trials nobody has claimed (a resumed run queues what is missing again: a case removed from
    /// the suite since is not run).
    func dropPending(runID: String) async throws
    /// Claims up to `limit` claimable trials of `runID` (pending, or leased under an expired lease) for `lease`
    /// seconds. Only runs whose status is `running` give out work.
    func claim(runID: String, worker: String, limit: Int, lease: Double) async throws -> [QueuedTrial]
    /// Stores a graded trial if `worker` still holds its lease, and marks it done; false when another worker has
    /// claimed it since (the outcome is dropped: it is written once).
    func complete(_ outcome: Outcome, runID: String, worker: String) async throws -> Bool
    /// `complete` for several outcomes in one transaction; per outcome, whether it was written.
    func complete(batch outcomes: [Outcome], runID: String, worker: String) async throws -> [Bool]
    /// Renews every lease `worker` holds, and records that it is alive.
    func heartbeat(worker: String, host: String, runID: String?, lease: Double) async throws
    /// Gives back `worker`'s unfinished trials (a worker that stops cleanly) and marks it finished.
    func release(worker: String) async throws
    func queueState(runID: String) async throws -> QueueState
    /// The oldest running run with trials not yet done.
    func nextQueuedRun() async throws -> String?
}

extension TrialQueue {
    public func complete(batch outcomes: [Outcome], runID: String, worker: String) async throws -> [Bool] {
        var written: [Bool] = []
        for outcome in outcomes { written.append(try await complete(outcome, runID: runID, worker: worker)) }
        return written
    }
}
