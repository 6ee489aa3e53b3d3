import RoadtestCore
import Synchronization

/// Group commit for outcomes: trials that finish while a write is under way are written together in the next one
/// (one transaction for the batch, at most `maxBatch` outcomes). A lone trial is written at once, so nothing waits
/// for a timer; under load, batches grow with the number of trials finishing at the same time.
///
/// `record` returns only once its outcome is committed, as with the sink it wraps: a finished trial is stored when
/// its task ends. The writes run in a task of their own, so a cancelled run (Ctrl-C) still commits what finished;
/// a process killed outright loses at most the batch being written, which a resumed run does again.
public final class GroupCommitSink: OutcomeSink {
    let inner: any OutcomeSink
    let maxBatch: Int

    private struct Waiting {
        let outcome: Outcome
        let runID: String
        let continuation: CheckedContinuation<Bool, any Error>
    }

    private struct State {
        var pending: [Waiting] = []
        var writing = false
    }

    private let state = Mutex(State())

    public init(_ inner: any OutcomeSink, maxBatch: Int = 512) {
        self.inner = inner
        self.maxBatch = max(1, maxBatch)
    }

    public func record(_ outcome: Outcome, runID: String) async throws {
        _ = try await submit(outcome, runID: runID)
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
            let batch = state.withLock { state -> [Waiting] in
                guard !state.pending.isEmpty else {
                    state.writing = false
                    return []
                }
                let count = min(maxBatch, state.pending.count)
                let batch = Array(state.pending.prefix(count))
                state.pending.removeFirst(count)
                return batch
            }
            guard !batch.isEmpty else { return }
            // One write per run in the batch (a process writes one run at a time; a batch rarely holds two).
            var runs: [String: [Waiting]] = [:]
            for waiting in batch { runs[waiting.runID, default: []].append(waiting) }
            for (runID, waiting) in runs {
                do {
                    let written = try await inner.record(batch: waiting.map(\.outcome), runID: runID)
                    for (entry, stored) in zip(waiting, written) { entry.continuation.resume(returning: stored) }
                } catch {
                    for entry in waiting { entry.continuation.resume(throwing: error) }
                }
            }
        }
    }
}
