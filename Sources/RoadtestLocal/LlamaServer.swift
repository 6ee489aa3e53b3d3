import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import RoadtestCore
import RoadtestProviders
import Subprocess

#if canImport(System)
import System
#else
import SystemPackage
#endif

/// A managed `llama-server` process: started on a free loopback port, healthy before use, and never orphaned.
///
/// The server runs under a small supervisor in its own session (so a terminal's Ctrl-C reaches Roadtest, which
/// stops it in order) whose standard input is a pipe from Roadtest: when Roadtest exits for any reason, crashes
/// and `kill -9` included, the pipe closes and the supervisor stops the server. The supervisor runs through
/// swift-subprocess (a clean signal mask and default dispositions in the child, on Linux and macOS alike) inside a
/// task the server owns; `stop()` awaits its end.
public final class LlamaServer: Sendable {
    public struct Options: Sendable, Hashable {
        public var binary: URL
        public var model: URL
        public var name: String
        /// Parallel slots (the candidate's concurrency).
        public var slots: Int
        /// Context tokens per slot.
        public var contextPerSlot: Int
        public var threads: Int
        public var extraArguments: [String]
        /// A Jinja chat template file, for catalogue models whose GGUF lacks a template.
        public var chatTemplate: URL?

        public init(
            binary: URL,
            model: URL,
            name: String,
            slots: Int,
            contextPerSlot: Int = 2048,
            threads: Int = ProcessInfo.processInfo.activeProcessorCount,
            extraArguments: [String] = [],
            chatTemplate: URL? = nil
        ) {
            self.chatTemplate = chatTemplate
            self.binary = binary
            self.model = model
            self.name = name
            self.slots = max(1, slots)
            self.contextPerSlot = contextPerSlot
            self.threads = max(1, threads)
            self.extraArguments = extraArguments
        }

        /// Resolves a known model name or an explicit GGUF, and the server binary (explicit, Roadtest home, or PATH).
        public static func resolve(
            model name: String?,
            gguf: String?,
            llamaServer: String?,
            home: RoadtestHome,
            slots: Int,
            extraArguments: [String]
        ) throws -> Options {
            let modelURL: URL
            let label: String
            var template: URL?
            if let gguf {
                modelURL = URL(fileURLWithPath: gguf)
                label = modelURL.deletingPathExtension().lastPathComponent
                guard FileManager.default.fileExists(atPath: modelURL.path) else {
                    throw RoadtestError(.localModel, "GGUF file not found: \(gguf)")
                }
            } else if let name {
                guard let model = LocalModel.named(name) else {
                    throw RoadtestError(
                        .localModel,
                        "unknown local model '\(name)'; known: \(LocalModel.all.map(\.name).joined(separator: ", ")), or give 'gguf: /path/model.gguf'"
                    )
                }
                modelURL = home.modelFile(model)
                label = model.name
                if let source = model.chatTemplate {
                    let file = home.root.appendingPathComponent("templates/\(model.name).jinja")
                    if (try? String(contentsOf: file, encoding: .utf8)) != source {
                        try? FileManager.default.createDirectory(
                            at: file.deletingLastPathComponent(),
                            withIntermediateDirectories: true
                        )
                        try source.write(to: file, atomically: true, encoding: .utf8)
                    }
                    template = file
                }
                guard FileManager.default.fileExists(atPath: modelURL.path) else {
                    throw RoadtestError(
                        .localModel,
                        "local model '\(model.name)' is not installed; run `roadtest models install` (or `make demo`)"
                    )
                }
            } else {
                throw RoadtestError(.localModel, "a local candidate needs 'local: NAME' or 'gguf: PATH'")
            }
            var binary: URL?
            if let llamaServer {
                binary = URL(fileURLWithPath: llamaServer)
                guard FileManager.default.isExecutableFile(atPath: llamaServer) else {
                    throw RoadtestError(.localModel, "llama_server \(llamaServer) is not an executable file")
                }
            } else if FileManager.default.isExecutableFile(atPath: home.llamaServer.path) {
                binary = home.llamaServer
            } else if let onPath = LocalModelInstaller.which("llama-server") {
                binary = URL(fileURLWithPath: onPath)
            }
            guard let binary else {
                throw RoadtestError(
                    .localModel,
                    "llama-server is not installed; run `roadtest models install`, or set 'llama_server: /path/to/llama-server'"
                )
            }
            return Options(
                binary: binary,
                model: modelURL,
                name: label,
                slots: slots,
                extraArguments: extraArguments,
                chatTemplate: template
            )
        }

        /// The llama-server command line for `port`.
        public func arguments(port: Int) -> [String] {
            [
                binary.path, "--model", model.path, "--host", "127.0.0.1", "--port", String(port), "--parallel",
                String(slots),
                "--ctx-size", String(contextPerSlot * slots), "--threads", String(threads), "--no-webui",
            ] + templateArguments + extraArguments
        }

        /// `--chat-template-file FILE` unless the user chose a template of their own in `server_args`.
        var templateArguments: [String] {
            let own = ["--chat-template", "--chat-template-file", "--no-jinja"]
            guard let chatTemplate, !extraArguments.contains(where: { own.contains($0) }) else { return [] }
            return ["--jinja", "--chat-template-file", chatTemplate.path]
        }
    }

    public let port: Int
    public let logPath: String
    /// The supervisor's process id, which is also its session's and process group's.
    public let processIdentifier: Int32
    /// Asks the task that owns the supervisor to stop it (a value, or the end of the stream).
    private let stopRequests: AsyncStream<Void>.Continuation
    /// Runs the supervisor through swift-subprocess until it is stopped or exits; ends with how it ended.
    private let lifetime: Task<Ending, Never>
    private let ending: Locked<Ending?>

    /// How the supervisor ended.
    enum Ending: Sendable, Equatable {
        case exited(Int32)
        case failed(String)
    }

    /// How long the server has to exit after SIGTERM before its process group gets SIGKILL.
    static let stopGrace: Duration = .seconds(5)

    /// `http://127.0.0.1:PORT/v1`
    public var baseURL: String { "http://127.0.0.1:\(port)/v1" }

    private init(
        port: Int,
        logPath: String,
        processIdentifier: Int32,
        stopRequests: AsyncStream<Void>.Continuation,
        lifetime: Task<Ending, Never>,
        ending: Locked<Ending?>
    ) {
        self.port = port
        self.logPath = logPath
        self.processIdentifier = processIdentifier
        self.stopRequests = stopRequests
        self.lifetime = lifetime
        self.ending = ending
        Self.registry.withLock { $0.insert(processIdentifier) }
    }

    /// A server dropped without `stop()` is still stopped, by the task that owns it (nothing waits here).
    deinit { stopRequests.finish() }

    /// The supervisor: runs the server with its output in `log`, and stops it when its standard input (a pipe from
    /// Roadtest, the lifeline) closes. It ignores SIGTERM itself so that it outlives the server: a SIGTERM to the
    /// group reaches the server, the supervisor reaps it and exits, and while the supervisor lives its group does,
    /// so the SIGKILL that follows a missed deadline reaches whatever is left.
    static let supervisor = """
        log="$1"; shift
        exec 3<&0
        "$@" >"$log" 2>&1 </dev/null &
        child=$!
        ( while read -r _ <&3; do :; done; kill -TERM "$child" 2>/dev/null; sleep 5; kill -KILL "$child" 2>/dev/null ) \
            >/dev/null 2>&1 &
        watcher=$!
        exec 3<&-
        trap '' TERM
        wait "$child"
        status=$?
        kill "$watcher" 2>/dev/null
        exit $status
        """

    /// Starts a server and waits until `/health` answers 200 (the model is loaded).
    public static func start(
        _ options: Options,
        port requested: Int? = nil,
        timeout: Double = 120
    ) async throws -> LlamaServer {
        let port = try requested ?? freePort()
        let logs = RoadtestHome().logs
        try? FileManager.default.createDirectory(at: logs, withIntermediateDirectories: true)
        let logPath = logs.appendingPathComponent("llama-server-\(options.name)-\(port).log").path
        let (stopRequests, stopContinuation) = AsyncStream<Void>.makeStream()
        let (started, startedContinuation) = AsyncStream<Int32>.makeStream()
        let ending = Locked<Ending?>(nil)
        let arguments = ["-c", supervisor, "roadtest-llama-supervisor", logPath] + options.arguments(port: port)
        let lifetime = Task {
            let result = await supervise(arguments, started: startedContinuation, stopRequests: stopRequests)
            ending.withLock { $0 = result }
            return result
        }
        var iterator = started.makeAsyncIterator()
        guard let processIdentifier = await iterator.next() else {
            // It could not start, or this task was cancelled while it did: then the task stops what it started.
            stopContinuation.finish()
            let ended = await lifetime.value
            try Task.checkCancellation()
            let reason: String
            switch ended {
            case .failed(let message): reason = message
            case .exited(let status): reason = "it exited with status \(status)"
            }
            throw RoadtestError(.localModel, "cannot start llama-server: \(reason)")
        }
        let server = LlamaServer(
            port: port,
            logPath: logPath,
            processIdentifier: processIdentifier,
            stopRequests: stopContinuation,
            lifetime: lifetime,
            ending: ending
        )
        let deadline = ContinuousClock.now + .seconds(timeout)
        while ContinuousClock.now < deadline {
            if server.hasExited {
                await server.stop()
                let tail =
                    (try? String(contentsOfFile: logPath, encoding: .utf8))?.split(separator: "\n").suffix(6).joined(
                        separator: "\n"
                    ) ?? ""
                throw RoadtestError(.localModel, "llama-server exited while starting (\(logPath)):\n\(tail)")
            }
            if await healthStatus(port: port) == 200 { return server }
            try? await Task.sleep(for: .milliseconds(50))
            if Task.isCancelled {
                await server.stop()
                throw CancellationError()
            }
        }
        await server.stop()
        throw RoadtestError(.localModel, "llama-server did not become healthy within \(Int(timeout))s (\(logPath))")
    }

    /// Runs the supervisor in its own session (so a terminal's Ctrl-C goes to Roadtest, which stops the server in
    /// order, and its process group is the server's) until a stop is requested or it exits by itself. Stopping is
    /// SIGTERM to the group, an await of the supervisor's exit up to `stopGrace`, then SIGKILL to the group.
    private static func supervise(
        _ arguments: [String],
        started: AsyncStream<Int32>.Continuation,
        stopRequests: AsyncStream<Void>
    ) async -> Ending {
        var platform = PlatformOptions()
        platform.createSession = true
        // Also what swift-subprocess does if this task is cancelled or the body throws.
        platform.teardownSequence = [.gracefulShutDown(toProcessGroup: true, allowedDurationToNextStep: stopGrace)]
        let teardown = platform.teardownSequence
        defer { started.finish() }
        do {
            let outcome = try await Subprocess.run(
                .path(FilePath("/bin/sh")),
                arguments: Arguments(arguments),
                platformOptions: platform,
                // The lifeline: its write end is Roadtest's alone (close-on-exec), so it closes when Roadtest exits,
                // `kill -9` included, and the supervisor then stops the server.
                input: .inputWriter,
                // Nothing writes here; the pipe ends when the supervisor exits, which is how the body learns of it.
                output: .sequence,
                error: .discarded
            ) { execution in
                started.yield(execution.processIdentifier.value)
                started.finish()
                await withTaskGroup(of: Void.self) { group in
                    group.addTask {
                        do { for try await _ in execution.standardOutput {} } catch {}
                    }
                    group.addTask {
                        for await _ in stopRequests { break }
                        guard !Task.isCancelled else { return }
                        await execution.teardown(using: teardown)
                    }
                    // Whichever comes first: the supervisor exited by itself (then stop waiting for a request), or a
                    // stop was requested (then the teardown ends the supervisor and its output).
                    _ = await group.next()
                    group.cancelAll()
                }
            }
            switch outcome.terminationStatus {
            case .exited(let code): return .exited(Int32(code))
            case .signaled(let signal): return .exited(128 + Int32(signal))
            }
        } catch {
            return .failed("\(error)")
        }
    }

    /// True once the supervisor (and so the server) has exited.
    var hasExited: Bool { ending.withLock { $0 != nil } }

    /// Stops the server (idempotent): SIGTERM to its process group, then an await of its exit (up to `stopGrace`),
    /// then SIGKILL to the group. Nothing blocks a thread: the waits are awaits.
    public func stop() async {
        stopRequests.yield()
        stopRequests.finish()
        _ = await lifetime.value
        Self.registry.withLock { _ = $0.remove(processIdentifier) }
    }

    /// Waits until the server process exits (it should not, until stopped); throws `CancellationError` when the
    /// calling task is cancelled.
    public func waitUntilExit() async throws {
        while !hasExited { try await Task.sleep(for: .milliseconds(200)) }
    }

    /// Starts a server, calls `body` with it, and stops it however `body` ends.
    ///
    /// ```swift
    /// let models = try await LlamaServer.with(options) { server in try await list(server.baseURL) }
    /// ```
    public static func with<T>(
        _ options: Options,
        port: Int? = nil,
        timeout: Double = 120,
        _ body: (LlamaServer) async throws -> T
    ) async throws -> T {
        let server = try await start(options, port: port, timeout: timeout)
        do {
            let result = try await body(server)
            await server.stop()
            return result
        } catch {
            await server.stop()
            throw error
        }
    }

    /// Supervisors still running, to stop on an abrupt exit path.
    static let registry = Locked<Set<Int32>>([])

    /// Signals every managed server's group (for exit paths that skip normal cleanup).
    public static func terminateAll() {
        for group in registry.withLock({ $0 }) { kill(-group, SIGTERM) }
    }

    // MARK: - Helpers

    static func freePort() throws -> Int {
        #if canImport(Darwin)
        let streamType = SOCK_STREAM
        #else
        let streamType = Int32(SOCK_STREAM.rawValue)  // Glibc imports the socket types as an enum
        #endif
        let socket = Foundation.socket(AF_INET, streamType, 0)
        guard socket >= 0 else { throw RoadtestError(.localModel, "cannot open a socket to find a free port") }
        defer { close(socket) }
        var address = sockaddr_in()
        #if canImport(Darwin)
        address.sin_len = UInt8(MemoryLayout<sockaddr_in>.size)
        #endif
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        let bound = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0 else { throw RoadtestError(.localModel, "cannot bind a loopback socket to find a free port") }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(socket, $0, &length) }
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// The HTTP status of `GET /health`, or nil when nothing answers.
    public static func healthStatus(port: Int) async -> Int? {
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/health")
        request.method = .GET
        // A new connection per probe: a starting server may drop kept-alive ones.
        request.headers.add(name: "Connection", value: "close")
        guard let response = try? await HTTPClient.shared.execute(request, timeout: .seconds(2)) else { return nil }
        _ = try? await response.body.collect(upTo: 1 << 16)
        return Int(response.status.code)
    }
}

/// A value behind a lock.
final class Locked<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Value

    init(_ value: Value) { self.value = value }

    @discardableResult
    func withLock<T>(_ body: (inout Value) -> T) -> T {
        lock.lock()
        defer { lock.unlock() }
        return body(&value)
    }
}
