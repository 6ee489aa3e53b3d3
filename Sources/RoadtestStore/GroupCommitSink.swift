import RoadtestCore
import Synchronization

/// Group commit for outcomes: trials that finish while a write is under way are written together in the next one
/// (one transaction for the batch, at most `maxBatch` outcomes). A lone trial is written at once, so nothing waits
/// for a timer; under load, batches grow with the number of trials finishing at the same time.
///
/// By default `record` returns only once its outcome is committed, as with the sink it wraps (a worker's leases
/// need that). With `ahead`, up to that many outcomes may be queued without their trials waiting for the commit
/// (a local run: the next trial starts while the last batch is written); a write that fails is thrown by the next
/// `record` and by `flush()`, which the caller awaits before it reads the run back. The writes run in a task of
/// their own, so a cancelled run (Ctrl-C) still commits what finished; a process killed outright loses what was
/// queued, which a resumed run does again.
public final class GroupCommitSink: OutcomeSink {
    let inner: any OutcomeSink
    let maxBatch: Int
    let ahead: Int

    private struct Waiting {
        let outcome: Outcome
        let runID: String
        /// Nil for an outcome queued ahead (nobody waits for its batch).
        let continuation: CheckedContinuation<Bool, any Error>?
    }

    private struct State {
        var pending: [Waiting] = []
        var writing = false
        /// Outcomes queued ahead and not yet committed.
        var queuedAhead = 0
        /// The first write of queued-ahead outcomes that failed.
        var failure: (any Error)?
        /// Callers of `flush()` waiting for the queue to empty.
        var flushing: [CheckedContinuation<Void, Never>] = []
    }

    private let state = Mutex(State())

    public init(_ inner: any OutcomeSink, maxBatch: Int = 512, ahead: Int = 0) {
        self.inner = inner
        self.maxBatch = max(1, maxBatch)
        self.ahead = max(0, ahead)
    }

    public func record(_ outcome: Outcome, runID: String) async throws {
        enum Admission {
            case queued, wait
            case failed(any Error)
        }
        let admission = state.withLock { state -> (Admission, lead: Bool) in
            if let failure = state.failure { return (.failed(failure), false) }
            guard state.queuedAhead < ahead else { return (.wait, false) }
            state.queuedAhead += 1
            state.pending.append(Waiting(outcome: outcome, runID: runID, continuation: nil))
            guard !state.writing else { return (.queued, false) }
            state.writing = true
            return (.queued, true)
        }
        switch admission.0 {
        case .queued: if admission.lead { Task { await self.drain() } }
        case .failed(let error): throw error
        case .wait: _ = try await submit(outcome, runID: runID)
        }
    }

    /// Waits until every queued outcome is written; throws the first write of queued-ahead outcomes that failed.
    /// Not cancellable: what finished is committed before a cancelled run ends.
    public func flush() async throws {
        await withCheckedContinuation { continuation in
            let done = state.withLock { state -> Bool in
                guard state.writing || !state.pending.isEmpty else { return true }
                state.flushing.append(continuation)
                return false
            }
            if done { continuation.resume() }
        }
        if let failure = state.withLock({ $0.failure }) { throw failure }
    }

    public func record(batch outcomes: [Outcome], runID: String) async throws -> [Bool] {
        try await inner.record(batch: outcomes, runID: runID)
    }

    /// Queues an outcome and waits for the batch that writes it; true when it was written.
    func submit(_ outcome: Outcome, runID: String) async throws -> Bool {
        try await withCheckedThrowingContinuation { continuation in
            let lead = state.withLock { state -> Bool in
                state.pending.append(Waiting(outcome: outcome, runID: runID, continuation: continuation))
                guard !state.writing else { return false }
                state.writing = true
                return true
            }
            if lead { Task { await self.drain() } }
        }
    }

    /// Writes batches until nothing is pending.
    private func drain() async {
        while true {
            let (batch, flushed) = state.withLock { state -> ([Waiting], [CheckedContinuation<Void, Never>]) in
                guard !state.pending.isEmpty else {
                    state.writing = false
                    defer { state.flushing = [] }
                    return ([], state.flushing)
                }
                let count = min(maxBatch, state.pending.count)
                let batch = Array(state.pending.prefix(count))
                state.pending.removeFirst(count)
                return (batch, [])
            }
            guard !batch.isEmpty else {
                for waiter in flushed { waiter.resume() }
                return
            }
            // One write per run in the batch (a process writes one run at a time; a batch rarely holds two).
            var runs: [String: [Waiting]] = [:]
            for waiting in batch { runs[waiting.runID, default: []].append(waiting) }
            for (runID, waiting) in runs {
                let ahead = waiting.filter { $0.continuation == nil }.count
                do {
                    let written = try await inner.record(batch: waiting.map(\.outcome), runID: runID)
                    for (entry, stored) in zip(waiting, written) { entry.continuation?.resume(returning: stored) }
                } catch {
                    for entry in waiting { entry.continuation?.resume(throwing: error) }
                    if ahead > 0 { state.withLock { state in state.failure = state.failure ?? error } }
                }
                if ahead > 0 { state.withLock { $0.queuedAhead -= ahead } }
            }
        }
    }
}
