import Foundation
import Subprocess

#if canImport(System)
import System
#else
import SystemPackage
#endif

/// A program the tests start and signal as a user's shell would (`roadtest run` then Ctrl-C, say), run through
/// swift-subprocess: the child starts with an empty signal mask and default dispositions on Linux and macOS alike,
/// whatever the test process's threads block. Its output is discarded.
public enum TestProcess {
    /// The running program, for the body to signal.
    public struct Running: Sendable {
        /// Its process id.
        public let processIdentifier: Int32
        let signal: @Sendable (Int32) throws -> Void

        /// Sends `signal` (`SIGINT`, `SIGTERM`, `SIGKILL`...) to the program.
        public func send(_ signal: Int32) throws {
            try self.signal(signal)
        }
    }

    /// Starts `arguments` (the first is the program: a path, or a name looked up on PATH) in `directory`, calls
    /// `body` with it, then waits for it to exit. Returns its exit status, 128 + the signal's number when a signal
    /// ended it. If `body` throws, the program is killed.
    ///
    /// ```swift
    /// let status = try await TestProcess.run([binary.path, "run", "suite.yaml"], in: directory) { program in
    ///     try await Task.sleep(for: .seconds(1))
    ///     try program.send(SIGINT)
    /// }
    /// ```
    ///
    /// `environment` adds to (or, with a nil value, removes from) the test process's environment; the program's
    /// standard error goes to `errorLog` when given (else it is discarded).
    @discardableResult
    public static func run(
        _ arguments: [String],
        in directory: URL? = nil,
        environment: [String: String?] = [:],
        errorLog: URL? = nil,
        _ body: (Running) async throws -> Void
    ) async throws -> Int32 {
        precondition(!arguments.isEmpty)
        let executable: Executable = arguments[0].contains("/") ? .path(FilePath(arguments[0])) : .name(arguments[0])
        var updates: [Environment.Key: String?] = [:]
        for (name, value) in environment {
            if let key = Environment.Key(rawValue: name) { updates[key] = value }
        }
        let log = try FileDescriptor.open(
            FilePath(errorLog?.path ?? "/dev/null"),
            .writeOnly,
            options: [.create, .truncate],
            permissions: [.ownerReadWrite]
        )
        let outcome = try await Subprocess.run(
            executable,
            arguments: Arguments(Array(arguments.dropFirst())),
            environment: .inherit.updating(updates),
            workingDirectory: directory.map { FilePath($0.path) },
            input: .none,
            output: .discarded,
            error: .fileDescriptor(log, closeAfterSpawningProcess: true)
        ) { execution in
            try await body(
                Running(processIdentifier: execution.processIdentifier.value) { signal in
                    try execution.send(signal: Signal(rawValue: signal))
                }
            )
        }
        switch outcome.terminationStatus {
        case .exited(let code): return Int32(code)
        case .signaled(let signal): return 128 + Int32(signal)
        }
    }
}
