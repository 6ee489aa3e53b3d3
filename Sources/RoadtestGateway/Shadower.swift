import Foundation
import RoadtestCore
import RoadtestProviders
import RoadtestStore
import ServiceLifecycle
import Synchronization

/// Sends copies of live requests to shadow candidates, never on the client's path: jobs queue (bounded; a full
/// queue drops the job and counts it) and run a few at a time; each pair is stored.
///
/// A `Service` in the gateway's group: on graceful shutdown it takes no new job and lets the queued ones finish
/// (the group's grace period bounds that; cancelled, the jobs in flight end as `cancelled`).
final class Shadower: Service, Sendable {
    struct Job: Sendable {
        var pair: ShadowPair
        var link: ChainLink
    }

    let stream: AsyncStream<Job>
    let continuation: AsyncStream<Job>.Continuation
    let store: (any GatewayStore)?
    let concurrency: Int
    let breakers: CircuitBreakers
    let dropped = GatewayRecorder.Counter()
    let completed = GatewayRecorder.Counter()
    let submitted = GatewayRecorder.Counter()

    init(store: (any GatewayStore)?, capacity: Int, concurrency: Int = 2, breakers: CircuitBreakers) {
        (stream, continuation) = AsyncStream.makeStream(of: Job.self, bufferingPolicy: .bufferingOldest(capacity))
        self.store = store
        self.concurrency = concurrency
        self.breakers = breakers
    }

    func run() async {
        await withGracefulShutdownHandler {
            await withDiscardingTaskGroup { group in
                let slots = SlotPool(capacity: concurrency)
                for await job in stream {
                    await slots.acquire()
                    group.addTask {
                        defer { slots.release() }
                        await self.perform(job)
                    }
                }
            }
        } onGracefulShutdown: {
            self.continuation.finish()
        }
    }

    func perform(_ job: Job) async {
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

    /// Queues a job; false when the queue was full (or the gateway is stopping) and it was dropped.
    func submit(_ job: Job) -> Bool {
        switch continuation.yield(job) {
        case .enqueued:
            submitted.add()
            return true
        case .dropped, .terminated:
            dropped.add()
            return false
        @unknown default:
            return false
        }
    }

    var droppedCount: Int { dropped.count }
    var completedCount: Int { completed.count }
    /// Jobs queued or running.
    var pending: Int { submitted.count - completed.count }
}
