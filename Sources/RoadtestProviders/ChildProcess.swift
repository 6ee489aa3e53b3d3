import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A child process spawned with `posix_spawn` and a clean signal state: an empty signal mask and default
/// dispositions. (Threads of a Swift process block most signals, and a child inherits that mask; a child
/// that cannot see SIGCHLD or SIGTERM hangs in `wait` or ignores being stopped, which is how build tools and
/// supervisors hang. Foundation's `Process` does not reset it.)
public final class ChildProcess: @unchecked Sendable {
    public let pid: pid_t
    /// Write end of the child's stdin, when `pipeStandardInput` was set.
    public let standardInput: FileHandle?
    private let lock = NSLock()
    private var exitStatus: Int32?

    public struct SpawnError: Error, CustomStringConvertible {
        public var description: String
    }

    /// Where a child's stdout/stderr go.
    public enum Output {
        case null
        case fileDescriptor(Int32)
    }

    /// Spawns `arguments` (the first is looked up on PATH when it has no `/`).
    public init(
        _ arguments: [String],
        environment: [String: String]? = nil,
        pipeStandardInput: Bool = false,
        standardOutput: Output = .null,
        standardError: Output = .null,
        newSession: Bool = false,
        newProcessGroup: Bool = false,
        workingDirectory: String? = nil
    ) throws {
        precondition(!arguments.isEmpty)
        // posix_spawn has no portable chdir; a shell changes directory and execs the program.
        let arguments =
            workingDirectory.map { ["/bin/sh", "-c", "cd \"$0\" && exec \"$@\"", $0] + arguments } ?? arguments
        var fileActions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&fileActions)
        defer { posix_spawn_file_actions_destroy(&fileActions) }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }

        var inputPipe: [Int32] = [-1, -1]
        if pipeStandardInput {
            guard pipe(&inputPipe) == 0 else { throw SpawnError(description: "cannot create a pipe") }
            for fd in inputPipe { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
            posix_spawn_file_actions_adddup2(&fileActions, inputPipe[0], 0)
        } else {
            posix_spawn_file_actions_addopen(&fileActions, 0, "/dev/null", O_RDONLY, 0)
        }
        for (fd, output) in [(Int32(1), standardOutput), (Int32(2), standardError)] {
            switch output {
            case .null: posix_spawn_file_actions_addopen(&fileActions, fd, "/dev/null", O_WRONLY, 0)
            case .fileDescriptor(let source): posix_spawn_file_actions_adddup2(&fileActions, source, fd)
            }
        }
        var emptyMask = sigset_t()
        sigemptyset(&emptyMask)
        posix_spawnattr_setsigmask(&attributes, &emptyMask)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPIPE, SIGCHLD, SIGUSR1, SIGUSR2, SIGALRM] {
            sigaddset(&defaults, signal)
        }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        var flags = Int32(POSIX_SPAWN_SETSIGMASK) | Int32(POSIX_SPAWN_SETSIGDEF)
        if newSession {
            flags |= 0x80  // POSIX_SPAWN_SETSID (glibc): its own session and process group
        } else if newProcessGroup {
            // Its own process group (id = its pid), so a timeout can stop the program and every child it started.
            posix_spawnattr_setpgroup(&attributes, 0)
            flags |= Int32(POSIX_SPAWN_SETPGROUP)
        }
        posix_spawnattr_setflags(&attributes, Int16(flags))

        let environmentValues = (environment ?? ProcessInfo.processInfo.environment).map { "\($0.key)=\($0.value)" }
        let argv = arguments.map { strdup($0) } + [nil]
        let envp = environmentValues.map { strdup($0) } + [nil]
        defer {
            for pointer in argv { free(pointer) }
            for pointer in envp { free(pointer) }
        }
        var pid: pid_t = 0
        let result = posix_spawnp(&pid, arguments[0], &fileActions, &attributes, argv, envp)
        if pipeStandardInput { close(inputPipe[0]) }
        guard result == 0 else {
            if pipeStandardInput { close(inputPipe[1]) }
            throw SpawnError(description: "cannot start \(arguments[0]): \(String(cString: strerror(result)))")
        }
        self.pid = pid
        self.standardInput = pipeStandardInput ? FileHandle(fileDescriptor: inputPipe[1], closeOnDealloc: true) : nil
    }

    /// True until the child has exited (reaps it when it has).
    public var isRunning: Bool {
        lock.lock()
        defer { lock.unlock() }
        if exitStatus != nil { return false }
        var status: Int32 = 0
        let result = waitpid(pid, &status, WNOHANG)
        if result == pid {
            exitStatus = Self.decode(status)
            return false
        }
        return result == 0
    }

    /// Waits for the child to exit; returns its exit status (128 + signal when killed by one).
    public func waitForExit() async -> Int32 {
        if let status = lock.withLock({ exitStatus }) { return status }
        return await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(returning: self.blockingWait())
            }
        }
    }

    /// Blocks until the child exits.
    public func blockingWait() -> Int32 {
        lock.lock()
        defer { lock.unlock() }
        if let exitStatus { return exitStatus }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
        let decoded = Self.decode(status)
        exitStatus = decoded
        return decoded
    }

    /// Sends a signal to the child, or to its whole process group.
    public func send(_ signal: Int32, toGroup: Bool = false) {
        kill(toGroup ? -pid : pid, signal)
    }

    static func decode(_ status: Int32) -> Int32 {
        let signal = status & 0x7f
        return signal == 0 ? (status >> 8) & 0xff : 128 + signal
    }
}
