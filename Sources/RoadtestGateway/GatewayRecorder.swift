import Foundation
import Logging
import RoadtestCore
import RoadtestStore
import ServiceLifecycle
import Synchronization

/// Writes every request record (and each kept body) to the store off the client's path: they gather in a bounded
/// buffer (a full buffer drops the record and counts it) that the recorder writes in one transaction every 100 ms.
///
/// A `Service`: it runs in the gateway's `ServiceGroup`, after the HTTP server in shutdown order, so the records of
/// drained requests are written before it stops. A write that fails or takes longer than `writeTimeout` (a store
/// that went away) counts its records as lost: the outage is logged once, and once more when the store is back.
public final class GatewayRecorder: Service, Sendable {
    final class Counter: Sendable {
        let value = Atomic<Int>(0)
        func add(_ amount: Int = 1) { value.add(amount, ordering: .relaxed) }
        var count: Int { value.load(ordering: .relaxed) }
    }

    enum Item: Sendable {
        case request(GatewayRecord)
        case body(FeedbackSubject)
    }

    let buffer = Mutex<[Item]>([])
    let store: (any GatewayStore)?
    let capacity: Int
    let interval: Duration
    let writeTimeout: Duration
    let logger: Logger
    let dropped = Counter()
    let lost = Counter()
    let stored = Counter()
    let outage = Atomic<Bool>(false)

    public init(
        store: (any GatewayStore)?,
        capacity: Int = 100_000,
        interval: Duration = .milliseconds(100),
        writeTimeout: Duration = .seconds(5),
        logger: Logger = Logger(label: "roadtest.gateway")
    ) {
        self.store = store
        self.capacity = capacity
        self.interval = interval
        self.writeTimeout = writeTimeout
        self.logger = logger
    }

    /// Queues a record; false when the buffer was full and it was dropped.
    @discardableResult
    public func record(_ record: GatewayRecord) -> Bool {
        enqueue(.request(record))
    }

    /// Queues a kept request body (redacted); false when the buffer was full.
    @discardableResult
    func keep(_ body: FeedbackSubject) -> Bool {
        enqueue(.body(body))
    }

    func enqueue(_ item: Item) -> Bool {
        let kept = buffer.withLock { items -> Bool in
            guard items.count < capacity else { return false }
            items.append(item)
            return true
        }
        if !kept { dropped.add() }
        return kept
    }

    /// Writes every 100 ms until the group shuts down, then writes what is buffered and returns. Cancelled (the
    /// grace period ran out), it returns at once; what was not written is counted as lost.
    public func run() async {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: self.interval) }
            await flush()
        }
        await flush()
        let unwritten = buffer.withLock { items in
            defer { items.removeAll() }
            return items.filter { if case .request = $0 { true } else { false } }.count
        }
        if unwritten > 0 { lost.add(unwritten) }
    }

    /// Writes what is buffered now.
    func flush() async {
        let batch = buffer.withLock { items in
            defer { items.removeAll(keepingCapacity: true) }
            return items
        }
        guard let store, !batch.isEmpty, !Task.isCancelled else {
            if !batch.isEmpty, store != nil { buffer.withLock { $0.insert(contentsOf: batch, at: 0) } }
            return
        }
        var requests: [GatewayRecord] = []
        var bodies: [FeedbackSubject] = []
        for item in batch {
            switch item {
            case .request(let record): requests.append(record)
            case .body(let body): bodies.append(body)
            }
        }
        let (writtenRequests, writtenBodies) = (requests, bodies)
        do {
            try await Deadline.run(within: writeTimeout) {
                try await store.recordGatewayRequests(writtenRequests)
                for body in writtenBodies { try await store.recordGatewayBody(body) }
            }
            stored.add(requests.count)
            if outage.exchange(false, ordering: .relaxed) {
                logger.notice("the store takes request records again")
            }
        } catch {
            lost.add(requests.count)
            if !outage.exchange(true, ordering: .relaxed) {
                logger.error(
                    "cannot write request records to the store; counting the records lost until it is back",
                    metadata: ["error": "\(error)"]
                )
            }
        }
    }

    /// Records dropped because the buffer was full.
    public var droppedCount: Int { dropped.count }
    /// Request records the store did not take (it failed, was too slow, or the gateway stopped first).
    public var lostCount: Int { lost.count }
    /// Request records written.
    public var storedCount: Int { stored.count }
}

/// Runs work with a time limit.
enum Deadline {
    struct Exceeded: Error, CustomStringConvertible {
        var limit: Duration
        var description: String { "no answer within \(limit)" }
    }

    /// Runs `work`, cancelling it and throwing `Exceeded` when it takes longer than `limit`.
    static func run(within limit: Duration, _ work: @escaping @Sendable () async throws -> Void) async throws {
        try await withThrowingTaskGroup(of: Bool.self) { group in
            group.addTask {
                try await work()
                return true
            }
            group.addTask {
                try await Task.sleep(for: limit)
                return false
            }
            defer { group.cancelAll() }
            guard let finished = try await group.next(), finished else { throw Exceeded(limit: limit) }
        }
    }
}
