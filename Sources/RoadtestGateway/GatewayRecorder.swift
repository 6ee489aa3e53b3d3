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
    /// The shared budget ledger, and what is to be settled in it: summed per route and day, so it stays small
    /// whatever the traffic, and kept until the ledger takes it.
    let ledger: (any GatewayLedger)?
    let settlements = Mutex<[SettlementKey: (reserved: Double, cost: Double)]>([:])
    let ledgerOutage = Atomic<Bool>(false)

    struct SettlementKey: Hashable {
        var route: String
        var day: Int
    }
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
        ledger: (any GatewayLedger)? = nil,
        capacity: Int = 100_000,
        interval: Duration = .milliseconds(100),
        writeTimeout: Duration = .seconds(5),
        logger: Logger = Logger(label: "roadtest.gateway")
    ) {
        self.store = store
        self.ledger = ledger
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

    /// Queues a shared reservation's settlement (never dropped: it is summed with the others of its route).
    func settle(_ settlement: Settlement) {
        settlements.withLock { pending in
            let key = SettlementKey(route: settlement.route, day: settlement.day)
            let sum = pending[key] ?? (0, 0)
            pending[key] = (sum.reserved + settlement.reserved, sum.cost + settlement.cost)
        }
    }

    /// Settlements not yet taken by the ledger (route and day, reserved and cost), for tests.
    var pendingSettlements: Int { settlements.withLock { $0.count } }

    /// Writes the pending settlements to the shared ledger, one statement per route and day; what it does not take
    /// stays pending (reserved in the ledger meanwhile: spend stays under the cap, the room comes back later).
    func settleInLedger() async {
        guard let ledger else { return }
        let batch = settlements.withLock { pending in
            defer { pending.removeAll(keepingCapacity: true) }
            return pending
        }
        guard !batch.isEmpty else { return }
        var failed: [SettlementKey: (reserved: Double, cost: Double)] = [:]
        var firstError: (any Error)?
        for (key, sum) in batch {
            do {
                try await Deadline.run(within: writeTimeout) {
                    try await ledger.settle(reserved: sum.reserved, cost: sum.cost, route: key.route, day: key.day)
                }
            } catch {
                failed[key] = sum
                firstError = firstError ?? error
            }
        }
        if failed.isEmpty {
            if ledgerOutage.exchange(false, ordering: .relaxed) {
                logger.notice("the budget ledger takes settlements again")
            }
            return
        }
        settlements.withLock { pending in
            for (key, sum) in failed {
                let now = pending[key] ?? (0, 0)
                pending[key] = (now.reserved + sum.reserved, now.cost + sum.cost)
            }
        }
        if !ledgerOutage.exchange(true, ordering: .relaxed) {
            logger.error(
                "cannot settle budgets in the shared ledger; their reservations stay held until it is back",
                metadata: ["error": "\(firstError.map { "\($0)" } ?? "")"]
            )
        }
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

    /// Writes what is buffered now, and settles what is pending in the shared ledger.
    func flush() async {
        await settleInLedger()
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
        try await value(within: limit, work)
    }

    /// The value of `work`, cancelling it and throwing `Exceeded` when it takes longer than `limit`.
    static func value<T: Sendable>(
        within limit: Duration,
        _ work: @escaping @Sendable () async throws -> T
    ) async throws -> T {
        try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask { try await work() }
            group.addTask {
                try await Task.sleep(for: limit)
                return nil
            }
            defer { group.cancelAll() }
            guard let first = try await group.next(), let value = first else { throw Exceeded(limit: limit) }
            return value
        }
    }
}
