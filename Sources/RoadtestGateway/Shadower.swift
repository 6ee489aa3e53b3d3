import Foundation
import RoadtestCore
import RoadtestProviders
import RoadtestStore
import Synchronization

/// Sends copies of live requests to shadow candidates, never on the client's path: jobs queue (bounded; a full
/// queue drops the job and counts it), a background task runs a few at a time and stores each pair.
final class Shadower: Sendable {
    struct Job: Sendable {
        var pair: ShadowPair
        var link: ChainLink
    }

    let continuation: AsyncStream<Job>.Continuation
    let worker: Task<Void, Never>
    let dropped = GatewayRecorder.Counter()
    let completed = GatewayRecorder.Counter()

    init(store: (any RunStore)?, capacity: Int, concurrency: Int = 2, breakers: CircuitBreakers) {
        let (stream, continuation) = AsyncStream.makeStream(of: Job.self, bufferingPolicy: .bufferingOldest(capacity))
        self.continuation = continuation
        let completed = self.completed
        worker = Task { [store] in
            await withTaskGroup(of: Void.self) { group in
                var running = 0
                for await job in stream {
                    if running >= concurrency {
                        await group.next()
                        running -= 1
                    }
                    running += 1
                    group.addTask {
                        var pair = job.pair
                        let result = try? await FallbackChain(links: [job.link], breakers: breakers).send(role: .task)
                        if let result {
                            pair.shadowOutput = result.response.attemptClass == .ok ? result.response.output : ""
                            pair.shadowOutcome = result.response.attemptClass.rawValue
                            pair.shadowEndToEnd = result.elapsed
                            pair.shadowCostUSD = result.attempts.reduce(0) { $0 + $1.costUSD }
                        } else {
                            pair.shadowOutcome = "cancelled"
                        }
                        try? await store?.recordShadowPair(pair)
                        completed.add()
                    }
                }
            }
        }
    }

    /// Queues a job; false when the queue was full and it was dropped.
    func submit(_ job: Job) -> Bool {
        if case .dropped = continuation.yield(job) {
            dropped.add()
            return false
        }
        return true
    }

    var droppedCount: Int { dropped.count }
    var completedCount: Int { completed.count }

    /// Lets queued jobs finish, then stops.
    func finish() async {
        continuation.finish()
        await worker.value
    }
}
