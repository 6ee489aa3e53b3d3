import Foundation

/// Runs a program with bytes on stdin and collects stdout and stderr, with a timeout.
public enum ProcessRunner {
    public struct Result: Sendable {
        public var status: Int32
        public var standardOutput: Data
        public var standardError: Data
        public var timedOut: Bool
        /// Nanosecond timestamp when the first stdout byte arrived, if any.
        public var firstOutputAt: UInt64?
    }

    public struct LaunchError: Error, CustomStringConvertible {
        public var description: String
    }

    /// Runs `arguments` (the first is the program, looked up on PATH) with `input` on stdin.
    public static func run(_ arguments: [String], input: Data, timeout: Double, environment: [String: String]? = nil) async throws -> Result {
        let process = Process()
        let program = arguments[0]
        if program.contains("/") {
            process.executableURL = URL(fileURLWithPath: program)
            process.arguments = Array(arguments.dropFirst())
        } else {
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = arguments
        }
        if let environment { process.environment = environment }
        let stdin = Pipe()
        let stdout = Pipe()
        let stderr = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = stderr
        let collector = OutputCollector()
        let finished = DispatchGroup()
        finished.enter()
        finished.enter()
        finished.enter()
        process.terminationHandler = { _ in finished.leave() }
        DispatchQueue.global().async {
            var data = Data()
            while true {
                let chunk = stdout.fileHandleForReading.availableData
                if chunk.isEmpty { break }
                collector.markFirstOutput()
                data.append(chunk)
            }
            collector.setOutput(data)
            finished.leave()
        }
        DispatchQueue.global().async {
            collector.setError(stderr.fileHandleForReading.readDataToEndOfFile())
            finished.leave()
        }
        do {
            try process.run()
        } catch {
            throw LaunchError(description: "cannot start \(program): \(error.localizedDescription)")
        }
        DispatchQueue.global().async {
            try? stdin.fileHandleForWriting.write(contentsOf: input)
            try? stdin.fileHandleForWriting.close()
        }
        let timer = DispatchWorkItem {
            collector.markTimedOut()
            process.terminate()
            DispatchQueue.global().asyncAfter(deadline: .now() + 2) {
                if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            }
        }
        DispatchQueue.global().asyncAfter(deadline: .now() + timeout, execute: timer)
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                finished.notify(queue: .global()) { continuation.resume() }
            }
        } onCancel: {
            if process.isRunning { process.terminate() }
        }
        timer.cancel()
        let snapshot = collector.snapshot()
        return Result(
            status: process.terminationStatus, standardOutput: snapshot.output, standardError: snapshot.error,
            timedOut: snapshot.timedOut, firstOutputAt: snapshot.first)
    }
}

private final class OutputCollector: @unchecked Sendable {
    private let lock = NSLock()
    private var output = Data()
    private var error = Data()
    private var timedOut = false
    private var first: UInt64?

    func setOutput(_ data: Data) { lock.withLock { output = data } }
    func setError(_ data: Data) { lock.withLock { error = data } }
    func markTimedOut() { lock.withLock { timedOut = true } }
    func markFirstOutput() {
        let now = DispatchTime.now().uptimeNanoseconds
        lock.withLock { if first == nil { first = now } }
    }
    func snapshot() -> (output: Data, error: Data, timedOut: Bool, first: UInt64?) {
        lock.withLock { (output, error, timedOut, first) }
    }
}
