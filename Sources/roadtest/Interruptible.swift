import Foundation
import RoadtestLocal
import RoadtestProviders
import RoadtestRunner
import UnixSignals

/// Runs work that Ctrl-C (SIGINT) or SIGTERM cancels, drawing progress on the terminal meanwhile. What the work
/// returns or throws is passed on: cancellation is the work's to turn into an ending (a run session returns
/// `.interrupted`), and a failure stays a failure.
enum Interruptible {
    static func run<T: Sendable>(
        progress: RunProgress?,
        _ work: @escaping @Sendable () async throws -> T
    ) async throws -> T {
        signal(SIGINT, SIG_IGN)
        signal(SIGTERM, SIG_IGN)
        let task = Task { try await work() }
        let signals = await UnixSignalsSequence(trapping: .sigint, .sigterm)
        let watcher = Task {
            var received = 0
            for await _ in signals {
                received += 1
                if received == 1 {
                    task.cancel()
                } else {
                    // A second Ctrl-C: stop now.
                    printError("\nroadtest: stopped")
                    LlamaServer.terminateAll()
                    exit(ExitStatus.interrupted)
                }
            }
        }
        let drawer = progress.map { progress in Task { await ProgressBar(progress: progress).draw() } }
        let result = await task.result
        drawer?.cancel()
        _ = await drawer?.result
        watcher.cancel()
        signal(SIGINT, SIG_DFL)
        signal(SIGTERM, SIG_DFL)
        if case .failure(let error) = result, error is CancellationError {
            throw RoadtestInterrupted()
        }
        return try result.get()
    }
}

/// Interrupted before there was anything to keep (while starting up).
struct RoadtestInterrupted: Error, CustomStringConvertible {
    var description: String { "interrupted" }
}

/// A one-line progress bar on standard error, redrawn five times a second.
struct ProgressBar {
    let progress: RunProgress
    let start = ContinuousClock.now

    func draw() async {
        while !Task.isCancelled {
            let elapsed = ContinuousClock.now - start
            FileHandle.standardError.write(Data(("\r\u{1B}[2K" + progress.snapshot.line(elapsed: elapsed)).utf8))
            try? await Task.sleep(for: .milliseconds(200))
        }
        FileHandle.standardError.write(Data("\r\u{1B}[2K".utf8))
    }
}
