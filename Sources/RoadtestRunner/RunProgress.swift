import Foundation
import Synchronization

/// Live counters of a run, shared between the runner and whoever displays progress.
public final class RunProgress: Sendable {
    public struct Snapshot: Sendable {
        public var total: Int
        public var done: Int
        public var passed: Int
        public var failedAttempts: Int
        public var inFlight: Int
    }

    private let state: Mutex<Snapshot>

    public init(total: Int, alreadyDone: Int = 0) {
        state = Mutex(Snapshot(total: total, done: alreadyDone, passed: 0, failedAttempts: 0, inFlight: 0))
    }

    public var snapshot: Snapshot { state.withLock { $0 } }

    /// Starts counting a plan of `total` trials of which `alreadyDone` are stored (a resumed run).
    public func start(total: Int, alreadyDone: Int) {
        state.withLock { $0 = Snapshot(total: total, done: alreadyDone, passed: 0, failedAttempts: 0, inFlight: 0) }
    }

    /// Sets what others did (a distributed run's coordinator follows the queue in the store).
    public func update(done: Int, inFlight: Int) {
        state.withLock {
            $0.done = done
            $0.inFlight = inFlight
        }
    }

    func started() { state.withLock { $0.inFlight += 1 } }

    func finished(passed: Bool, failedAttempts: Int) {
        state.withLock {
            $0.inFlight -= 1
            $0.done += 1
            if passed { $0.passed += 1 }
            $0.failedAttempts += failedAttempts
        }
    }

    func abandoned() { state.withLock { $0.inFlight -= 1 } }
}

extension RunProgress.Snapshot {
    /// The progress as one terminal line: a bar, trials done, passed, failed attempts, in flight, elapsed.
    public func line(elapsed: Duration, barWidth: Int = 28) -> String {
        let fraction = total > 0 ? Double(done) / Double(total) : 1
        let filled = max(0, min(barWidth, Int(fraction * Double(barWidth))))
        let bar = String(repeating: "█", count: filled) + String(repeating: "░", count: barWidth - filled)
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        return "\(bar) \(done)/\(total) trials · \(passed) passed · \(failedAttempts) failed attempts · "
            + "\(inFlight) in flight · " + String(format: "%.1fs", seconds)
    }
}
