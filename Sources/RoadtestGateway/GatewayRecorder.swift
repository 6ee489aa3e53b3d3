import Foundation
import RoadtestCore
import RoadtestStore
import Synchronization

/// Writes every request record to the store off the client's path: records queue (bounded; drops are counted),
/// a background task writes them in batches.
public final class GatewayRecorder: Sendable {
    let continuation: AsyncStream<GatewayRecord>.Continuation
    let writer: Task<Void, Never>
    let dropped = Counter()
    let failures = Counter()

    final class Counter: Sendable {
        let value = Atomic<Int>(0)
        func add() { value.add(1, ordering: .relaxed) }
        var count: Int { value.load(ordering: .relaxed) }
    }

    public init(store: (any RunStore)?, capacity: Int = 100_000) {
        let (stream, continuation) = AsyncStream.makeStream(
            of: GatewayRecord.self,
            bufferingPolicy: .bufferingOldest(capacity)
        )
        self.continuation = continuation
        let failures = self.failures
        writer = Task {
            guard let store else {
                for await _ in stream {}
                return
            }
            var batch: [GatewayRecord] = []
            for await record in stream {
                batch.append(record)
                if batch.count >= 64 {
                    if (try? await store.recordGatewayRequests(batch)) == nil { failures.add() }
                    batch.removeAll(keepingCapacity: true)
                }
                // Write what has arrived so far once the queue is momentarily empty.
                if batch.count > 0 {
                    if (try? await store.recordGatewayRequests(batch)) == nil { failures.add() }
                    batch.removeAll(keepingCapacity: true)
                }
            }
        }
    }

    /// Queues a record; false when the queue was full and it was dropped.
    @discardableResult
    public func record(_ record: GatewayRecord) -> Bool {
        if case .dropped = continuation.yield(record) {
            dropped.add()
            return false
        }
        return true
    }

    /// Records dropped because the queue was full.
    public var droppedCount: Int { dropped.count }

    /// Batches the store refused to write.
    public var failedWrites: Int { failures.count }

    /// Flushes what is queued and stops.
    public func finish() async {
        continuation.finish()
        await writer.value
    }
}
