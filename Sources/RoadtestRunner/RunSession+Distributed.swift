import Foundation
import RoadtestCore
import RoadtestStore

extension RunSession {
    /// `run --distributed`: creates (or resumes) the run, queues every trial not yet stored in the shared store,
    /// and follows the queue until workers have done them all; then folds the report as a single process would.
    /// Cancelled (Ctrl-C), it marks the run interrupted: workers stop taking its trials, finish the ones in flight,
    /// and `--resume` queues what is left.
    func coordinate(_ suite: Suite) async throws -> Ending {
        guard let queue else {
            throw RoadtestError(
                .invalidArgument,
                "--distributed needs a PostgreSQL store that workers share",
                hint: "pass --store postgres://USER@HOST:PORT/DB (password in PGPASSWORD)"
            )
        }
        let (runID, completed, casesStored) = try await startOrResume(suite)
        onRunID(runID)
        // Workers read the cases from the store: they are all written before any trial is queued.
        if !casesStored { try await store.storeCases(runID: runID, suite: suite) }
        let plan = RunPlan(suite: suite)
        let total = plan.trials.count
        do {
            if options.resume { try await queue.dropPending(runID: runID) }
            try await queue.enqueue(runID: runID, trials: plan.trials.lazy.filter { !completed.contains($0.key) })
            progress.start(total: total, alreadyDone: completed.count)
            announce("run \(runID): \(total - completed.count) trials queued; workers take them from the store")
            var announcedWorkers = -1
            while true {
                let state = try await queue.queueState(runID: runID)
                progress.update(done: total - state.pending - state.leased, inFlight: state.leased)
                if state.liveWorkers != announcedWorkers && (state.liveWorkers == 0 || announcedWorkers <= 0) {
                    announce(
                        state.liveWorkers == 0
                            ? "waiting for workers: roadtest worker --store URL"
                            : "\(state.liveWorkers) worker\(state.liveWorkers == 1 ? "" : "s") at work"
                    )
                    announcedWorkers = state.liveWorkers
                }
                if state.pending + state.leased == 0 { break }
                try await Task.sleep(for: .milliseconds(500))
            }
        } catch {
            return try await ending(runID: runID, total: total, after: error)
        }
        return try await finish(runID: runID)
    }
}
