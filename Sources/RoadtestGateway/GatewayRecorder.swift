import Foundation
import RoadtestCore
import RoadtestStore
import Synchronization

/// Writes every request record to the store off the client's path: records gather in a bounded buffer (a full
/// buffer drops the record and counts it) that a background task writes in one transaction every 100 ms.
public final class GatewayRecorder: Sendable {
    final class Counter: Sendable {
        let value = Atomic<Int>(0)
        func add() { value.add(1, ordering: .relaxed) }
        var count: Int { value.load(ordering: .relaxed) }
    }

    final class Buffer: Sendable {
        let state = Mutex<(records: [GatewayRecord], finished: Bool)>(([], false))
    }

    let buffer = Buffer()
    let capacity: Int
    let writer: Task<Void, Never>
    let dropped = Counter()
    let failures = Counter()

    public init(store: (any RunStore)?, capacity: Int = 100_000, interval: Duration = .milliseconds(100)) {
        self.capacity = capacity
        let buffer = self.buffer
        let failures = self.failures
        writer = Task {
            while true {
                let (batch, finished) = buffer.state.withLock { state -> ([GatewayRecord], Bool) in
                    let batch = state.records
                    state.records.removeAll(keepingCapacity: true)
                    return (batch, state.finished)
                }
                if let store, !batch.isEmpty {
                    if (try? await store.recordGatewayRequests(batch)) == nil { failures.add() }
                }
                if finished { return }
                try? await Task.sleep(for: interval)
            }
        }
    }

    /// Queues a record; false when the buffer was full and it was dropped.
    @discardableResult
    public func record(_ record: GatewayRecord) -> Bool {
        let kept = buffer.state.withLock { state -> Bool in
            guard state.records.count < capacity else { return false }
            state.records.append(record)
            return true
        }
        if !kept { dropped.add() }
        return kept
    }

    /// Records dropped because the buffer was full.
    public var droppedCount: Int { dropped.count }

    /// Batches the store refused to write.
    public var failedWrites: Int { failures.count }

    /// Writes what is buffered and stops.
    public func finish() async {
        buffer.state.withLock { $0.finished = true }
        await writer.value
    }
}
