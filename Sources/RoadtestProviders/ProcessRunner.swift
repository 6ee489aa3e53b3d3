import Foundation
import RoadtestCore
import Subprocess
import Synchronization

#if canImport(System)
import System
#else
import SystemPackage
#endif

/// Runs a program with bytes on stdin and collects stdout and stderr, with a timeout (swift-subprocess).
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

    /// How long a stopped program's process group has between SIGTERM and SIGKILL.
    static let killGrace: Duration = .milliseconds(500)
    /// Standard error kept (its tail is what errors quote).
    static let errorLimit = 1 << 20

    /// Runs `arguments` (the first is the program, looked up on PATH unless it has a `/`) with `input` on stdin.
    /// `onOutput` sees stdout and stderr bytes as they arrive.
    public static func run(
        _ arguments: [String],
        input: Data = Data(),
        timeout: Double,
        environment: [String: String]? = nil,
        workingDirectory: String? = nil,
        onOutput: (@Sendable (Data) -> Void)? = nil
    ) async throws -> Result {
        precondition(!arguments.isEmpty)
        let executable: Executable = arguments[0].contains("/") ? .path(FilePath(arguments[0])) : .name(arguments[0])
        var platform = PlatformOptions()
        // Its own process group (id = its pid): a deadline stops the program and everything it started.
        platform.processGroupID = 0
        let timedOut = ExpiryFlag()
        let outcome = try await Subprocess.run(
            executable,
            arguments: Arguments(Array(arguments.dropFirst())),
            // Each entry ends with its NUL: swift-subprocess hands raw entries to strdup, which would otherwise read
            // past the end of the array (and copy whatever memory follows into the child's environment).
            environment: environment.map { values in .custom(values.map { Array("\($0.key)=\($0.value)".utf8) + [0] }) }
                ?? .inherit,
            workingDirectory: workingDirectory.map { FilePath($0) },
            platformOptions: platform,
            input: .data(input),
            output: .sequence,
            error: .sequence
        ) { execution -> (Data, Data, UInt64?) in
            let stop: @Sendable () -> Void = {
                try? execution.send(signal: .terminate, toProcessGroup: true)
            }
            return try await withThrowingTaskGroup(of: Captured.self) { group in
                group.addTask {
                    var collected = Data()
                    var first: UInt64?
                    for try await buffer in execution.standardOutput {
                        if first == nil { first = Monotonic.now() }
                        let data = buffer.withUnsafeBytes { Data($0) }
                        collected.append(data)
                        onOutput?(data)
                    }
                    return .output(collected, first)
                }
                group.addTask {
                    var collected = Data()
                    for try await buffer in execution.standardError {
                        let data = buffer.withUnsafeBytes { Data($0) }
                        if collected.count < errorLimit { collected.append(data) }
                        onOutput?(data)
                    }
                    return .error(collected)
                }
                // The deadline: stop the group, then kill whatever is left of it. It also ends the readers when a
                // child left behind keeps the pipes open.
                group.addTask {
                    try await withTaskCancellationHandler {
                        try await Task.sleep(for: .nanoseconds(Int64(max(0, timeout) * 1e9)))
                    } onCancel: {
                    }
                    timedOut.set()
                    stop()
                    try? await Task.sleep(for: killGrace)
                    try? execution.send(signal: .kill, toProcessGroup: true)
                    return .deadline
                }
                var output = Data()
                var errors = Data()
                var first: UInt64?
                var readers = 2
                do {
                    while readers > 0, let captured = try await group.next() {
                        switch captured {
                        case .output(let data, let at):
                            output = data
                            first = at
                            readers -= 1
                        case .error(let data):
                            errors = data
                            readers -= 1
                        case .deadline: break
                        }
                    }
                } catch {
                    // Cancelled (Ctrl-C, or the caller's own deadline): stop the program's group too.
                    stop()
                    try? execution.send(signal: .kill, toProcessGroup: true)
                    throw error
                }
                group.cancelAll()
                return (output, errors, first)
            }
        }
        let (output, errors, first) = outcome.closureResult
        let status: Int32
        switch outcome.terminationStatus {
        case .exited(let code): status = Int32(code)
        case .signaled(let signal): status = 128 + Int32(signal)
        }
        return Result(
            status: status,
            standardOutput: output,
            standardError: errors,
            timedOut: timedOut.isSet,
            firstOutputAt: first
        )
    }

    enum Captured: Sendable {
        case output(Data, UInt64?)
        case error(Data)
        case deadline
    }
}
