import Foundation
import RoadtestCore
import RoadtestStore
import Synchronization
import Testing

/// Group commit with outcomes queued ahead of their writes: how many, and a failed write is never lost.
@Suite struct GroupCommitSinkTests {
    /// A sink whose writes wait for a gate, or fail.
    final class GatedSink: OutcomeSink, Sendable {
        struct Full: Error {}
        let stored = Mutex<[String]>([])
        let open = Mutex(false)
        let fails: Bool

        init(fails: Bool = false) { self.fails = fails }

        func record(_ outcome: Outcome, runID: String) async throws {
            while !open.withLock({ $0 }) { try await Task.sleep(for: .milliseconds(5)) }
            if fails { throw Full() }
            stored.withLock { $0.append(outcome.key.caseID) }
        }
    }

    static func outcome(_ id: String) -> Outcome {
        StoreTests.outcome(id, .original, passed: true, sample: 0, e2e: 0.1)
    }

    @Test func recordsReturnBeforeTheirWriteUpToTheLimitAndFlushWritesThemAll() async throws {
        let inner = GatedSink()
        let sink = GroupCommitSink(inner, ahead: 3)
        // While the first write is held, three outcomes are queued without waiting...
        for id in ["a", "b", "c"] { try await sink.record(Self.outcome(id), runID: "r") }
        #expect(inner.stored.withLock { $0 }.isEmpty)
        // ...and a fourth waits for its own commit.
        let fourth = Task { try await sink.record(Self.outcome("d"), runID: "r") }
        try await Task.sleep(for: .milliseconds(50))
        #expect(inner.stored.withLock { $0 }.isEmpty)
        inner.open.withLock { $0 = true }
        try await fourth.value
        #expect(inner.stored.withLock { $0 }.contains("d"))
        try await sink.flush()
        #expect(inner.stored.withLock { $0 }.sorted() == ["a", "b", "c", "d"])
    }

    @Test func aFailedWriteOfQueuedOutcomesIsThrownByFlushAndTheNextRecord() async throws {
        let inner = GatedSink(fails: true)
        inner.open.withLock { $0 = true }
        let sink = GroupCommitSink(inner, ahead: 8)
        try await sink.record(Self.outcome("a"), runID: "r")
        await #expect(throws: GatedSink.Full.self) { try await sink.flush() }
        await #expect(throws: GatedSink.Full.self) { try await sink.record(Self.outcome("b"), runID: "r") }
    }
}
