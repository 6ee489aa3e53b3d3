import Foundation
import RoadtestProviders
import RoadtestRunner

/// Runs work that Ctrl-C (SIGINT) or SIGTERM cancels promptly, drawing progress on the terminal meanwhile.
enum Interruptible {
    /// Returns true when the work was interrupted.
    static func run(progress: RunProgress?, _ work: @escaping @Sendable () async throws -> Void) async -> Bool {
        signal(SIGINT, SIG_IGN)
        signal(SIGTERM, SIG_IGN)
        let task = Task { try await work() }
        let sources = [SIGINT, SIGTERM].map { number -> any DispatchSourceSignal in
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler {
                if task.isCancelled {
                    // A second Ctrl-C: stop now.
                    printError("\nroadtest: stopped")
                    LlamaServer.terminateAll()
                    exit(ExitStatus.interrupted)
                }
                task.cancel()
            }
            source.resume()
            return source
        }
        let drawer = progress.map { progress in Task { await ProgressBar(progress: progress).draw(until: task) } }
        let result = await task.result
        drawer?.cancel()
        _ = await drawer?.result
        for source in sources { source.cancel() }
        signal(SIGINT, SIG_DFL)
        signal(SIGTERM, SIG_DFL)
        switch result {
        case .success: return task.isCancelled
        case .failure(let error):
            if error is CancellationError || task.isCancelled { return true }
            printError("roadtest: run failed: \(error)")
            return true
        }
    }
}

/// A one-line progress bar on standard error.
struct ProgressBar {
    let progress: RunProgress
    let start = Date()

    func draw(until task: Task<Void, any Error>) async {
        while !Task.isCancelled {
            render()
            try? await Task.sleep(nanoseconds: 200_000_000)
        }
        FileHandle.standardError.write(Data("\r\u{1B}[2K".utf8))
    }

    func render() {
        let snapshot = progress.snapshot
        let width = 28
        let fraction = snapshot.total > 0 ? Double(snapshot.done) / Double(snapshot.total) : 1
        let filled = Int(fraction * Double(width))
        let bar = String(repeating: "█", count: filled) + String(repeating: "░", count: width - filled)
        let elapsed = Date().timeIntervalSince(start)
        let line = String(
            format: "\r\u{1B}[2K%@ %d/%d trials · %d passed · %d failed attempts · %d in flight · %.1fs",
            bar, snapshot.done, snapshot.total, snapshot.passed, snapshot.failedAttempts, snapshot.inFlight, elapsed)
        FileHandle.standardError.write(Data(line.utf8))
    }
}
