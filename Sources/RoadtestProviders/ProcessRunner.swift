import Foundation
import RoadtestCore

#if canImport(Glibc)
import Glibc
#endif

/// Runs a program with bytes on stdin and collects stdout and stderr, with a timeout.
///
/// The program runs in its own process group. At the deadline (or when the calling task is cancelled) the whole
/// group gets SIGTERM, then SIGKILL after a short grace period, so a hung program and every child it started
/// (`sh -c "sleep 30"`) are stopped and the caller moves on at the deadline.
public enum ProcessRunner {
    public struct Result: Sendable {
        public var status: Int32
        public var standardOutput: Data
        public var standardError: Data
        public var timedOut: Bool
        /// Nanosecond timestamp (monotonic) when the first stdout byte arrived, if any.
        public var firstOutputAt: UInt64?
    }

    /// Runs `arguments` (the first is the program, looked up on PATH) with `input` on stdin.
    /// `onOutput` sees stdout and stderr bytes as they arrive.
    public static func run(
        _ arguments: [String],
        input: Data = Data(),
        timeout: Double,
        environment: [String: String]? = nil,
        workingDirectory: String? = nil,
        onOutput: (@Sendable (Data) -> Void)? = nil
    ) async throws -> Result {
        let output = try makePipe()
        let errors = try makePipe()
        let child: ChildProcess
        do {
            child = try ChildProcess(
                arguments,
                environment: environment,
                pipeStandardInput: true,
                standardOutput: .fileDescriptor(output.write),
                standardError: .fileDescriptor(errors.write),
                newProcessGroup: true,
                workingDirectory: workingDirectory
            )
        } catch {
            for fd in [output.read, output.write, errors.read, errors.write] { close(fd) }
            throw error
        }
        close(output.write)
        close(errors.write)
        let collector = Collector()
        let readers = DispatchGroup()
        for (fd, isError) in [(output.read, false), (errors.read, true)] {
            readers.enter()
            DispatchQueue.global().async {
                var buffer = [UInt8](repeating: 0, count: 65_536)
                while true {
                    let count = read(fd, &buffer, buffer.count)
                    if count < 0 && errno == EINTR { continue }
                    if count <= 0 { break }
                    let data = Data(buffer[0..<count])
                    collector.append(data, isError: isError)
                    onOutput?(data)
                }
                close(fd)
                readers.leave()
            }
        }
        if let stdin = child.standardInput {
            DispatchQueue.global().async {
                signal(SIGPIPE, SIG_IGN)
                try? stdin.write(contentsOf: input)
                try? stdin.close()
            }
        }
        let stopGroup: @Sendable () -> Void = {
            child.send(SIGTERM, toGroup: true)
            // Children that ignore SIGTERM, or keep our pipes open after the leader exited, are killed.
            DispatchQueue.global().asyncAfter(deadline: .now() + killGrace) { child.send(SIGKILL, toGroup: true) }
        }
        let timer = DispatchWorkItem {
            collector.markTimedOut()
            stopGroup()
        }
        DispatchQueue.global().asyncAfter(deadline: .now() + max(0, timeout), execute: timer)
        let status = await withTaskCancellationHandler {
            await child.waitForExit()
        } onCancel: {
            stopGroup()
        }
        // A child left behind with our pipes open keeps the readers waiting until the deadline stops the group.
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            readers.notify(queue: .global()) { continuation.resume() }
        }
        timer.cancel()
        let snapshot = collector.snapshot()
        return Result(
            status: status,
            standardOutput: snapshot.output,
            standardError: snapshot.error,
            timedOut: snapshot.timedOut,
            firstOutputAt: snapshot.first
        )
    }

    /// How long a stopped program's process group has between SIGTERM and SIGKILL.
    static let killGrace: Double = 0.5

    /// A pipe whose ends are not inherited by other children.
    static func makePipe() throws -> (read: Int32, write: Int32) {
        var fds: [Int32] = [-1, -1]
        guard pipe(&fds) == 0 else { throw ChildProcess.SpawnError(description: "cannot create a pipe") }
        for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        return (fds[0], fds[1])
    }
}

private final class Collector: @unchecked Sendable {
    private let lock = NSLock()
    private var output = Data()
    private var error = Data()
    private var timedOut = false
    private var first: UInt64?

    func append(_ data: Data, isError: Bool) {
        let now = Monotonic.now()
        lock.withLock {
            if isError {
                if error.count < 1 << 20 { error.append(data) }
            } else {
                if first == nil { first = now }
                output.append(data)
            }
        }
    }

    func markTimedOut() { lock.withLock { timedOut = true } }

    func snapshot() -> (output: Data, error: Data, timedOut: Bool, first: UInt64?) {
        lock.withLock { (output, error, timedOut, first) }
    }
}
