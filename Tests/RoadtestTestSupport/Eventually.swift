import Synchronization

/// Polls `condition` until it holds or `timeout` passes, and says whether it held: a test waits for the event it
/// needs (a row stored, a server up) instead of sleeping a fixed time that a loaded machine may not keep.
public func eventually(
    timeout: Duration = .seconds(60),
    every interval: Duration = .milliseconds(50),
    _ condition: () async throws -> Bool
) async throws -> Bool {
    let deadline = ContinuousClock.now + timeout
    while true {
        if try await condition() { return true }
        if ContinuousClock.now >= deadline { return false }
        try await Task.sleep(for: interval)
    }
}

/// Counts outcomes as a store wrapper writes them, so a test can act once `n` are stored: an event, not a sleep.
///
/// ```swift
/// let task = Task { defer { counter.finish() }; return try await session.execute() }
/// #expect(await counter.wait(for: 3))
/// task.cancel()
/// ```
public final class OutcomeCounter: Sendable {
    private let count = Mutex(0)
    private let counts: AsyncStream<Int>
    private let continuation: AsyncStream<Int>.Continuation

    public init() {
        (counts, continuation) = AsyncStream.makeStream(of: Int.self)
    }

    /// One more outcome is stored.
    public func add() {
        continuation.yield(
            count.withLock { value in
                value += 1
                return value
            }
        )
    }

    /// Nothing more will be stored (the run ended).
    public func finish() {
        continuation.finish()
    }

    /// Waits until `n` outcomes are stored; false when the run ended first. One waiter at a time.
    public func wait(for n: Int) async -> Bool {
        for await stored in counts where stored >= n { return true }
        return false
    }
}
