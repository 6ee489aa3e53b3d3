import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import RoadtestCore
import RoadtestProviders

/// A managed `llama-server` process: started on a free loopback port, healthy before use, and never orphaned.
///
/// The server runs under a small supervisor in its own session (so a terminal's Ctrl-C reaches Roadtest, which
/// stops it in order) whose standard input is a pipe from Roadtest: when Roadtest exits for any reason, crashes
/// and `kill -9` included, the pipe closes and the supervisor stops the server.
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
    public let processIdentifier: Int32
    let process: ChildProcess
    let stopped = NSLock()
    nonisolated(unsafe) var isStopped = false

    /// `http://127.0.0.1:PORT/v1`
    public var baseURL: String { "http://127.0.0.1:\(port)/v1" }

    private init(port: Int, logPath: String, process: ChildProcess) {
        self.port = port
        self.logPath = logPath
        self.process = process
        self.processIdentifier = process.pid
        Self.registry.withLock { $0.insert(process.pid) }
    }

    deinit { stop() }

    static let supervisor = """
        log="$1"; shift
        exec 3<&0
        "$@" >"$log" 2>&1 </dev/null &
        child=$!
        ( while read -r _ <&3; do :; done; kill -TERM "$child" 2>/dev/null; sleep 5; kill -KILL "$child" 2>/dev/null ) &
        watcher=$!
        exec 3<&-
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
        let process: ChildProcess
        do {
            // Its own session: a terminal's Ctrl-C goes to Roadtest, which stops the server in order.
            process = try ChildProcess(
                ["/bin/sh", "-c", supervisor, "roadtest-llama-supervisor", logPath] + options.arguments(port: port),
                pipeStandardInput: true,
                newSession: true
            )
        } catch {
            throw RoadtestError(.localModel, "cannot start llama-server: \(error)")
        }
        let server = LlamaServer(port: port, logPath: logPath, process: process)
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if !process.isRunning {
                server.stop()
                let tail =
                    (try? String(contentsOfFile: logPath, encoding: .utf8))?.split(separator: "\n").suffix(6).joined(
                        separator: "\n"
                    ) ?? ""
                throw RoadtestError(.localModel, "llama-server exited while starting (\(logPath)):\n\(tail)")
            }
            if await healthStatus(port: port) == 200 { return server }
            try? await Task.sleep(nanoseconds: 50_000_000)
            if Task.isCancelled {
                server.stop()
                throw CancellationError()
            }
        }
        server.stop()
        throw RoadtestError(.localModel, "llama-server did not become healthy within \(Int(timeout))s (\(logPath))")
    }

    /// Stops the server (idempotent): closes the lifeline, signals the group, waits, and kills if needed.
    public func stop() {
        let first = stopped.withLock { () -> Bool in
            defer { isStopped = true }
            return !isStopped
        }
        guard first else { return }
        // Closing the lifeline makes the supervisor stop the server and reap it; signals are the fallback.
        try? process.standardInput?.close()
        let group = processIdentifier
        var deadline = Date().addingTimeInterval(8)
        while process.isRunning && Date() < deadline { usleep(10_000) }
        if process.isRunning { process.send(SIGTERM, toGroup: true) }
        deadline = Date().addingTimeInterval(3)
        while process.isRunning && Date() < deadline { usleep(10_000) }
        if process.isRunning { process.send(SIGKILL, toGroup: true) }
        _ = process.blockingWait()
        Self.registry.withLock { _ = $0.remove(group) }
    }

    /// Waits until the server process exits (it should not, until stopped).
    public func waitUntilExit() async throws {
        while process.isRunning {
            try await Task.sleep(nanoseconds: 200_000_000)
        }
    }

    /// Supervisors still running, to stop on an abrupt exit path.
    static let registry = LockedSet()

    /// Signals every managed server's group (for exit paths that skip normal cleanup).
    public static func terminateAll() {
        for group in registry.withLock({ $0 }) { kill(-group, SIGTERM) }
    }

    // MARK: - Helpers

    static func freePort() throws -> Int {
        let socket = Foundation.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socket >= 0 else { throw RoadtestError(.localModel, "cannot open a socket to find a free port") }
        defer { close(socket) }
        var address = sockaddr_in()
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

/// A set of process ids behind a lock.
final class LockedSet: @unchecked Sendable {
    private let lock = NSLock()
    private var values = Set<Int32>()

    func withLock<T>(_ body: (inout Set<Int32>) -> T) -> T {
        lock.lock()
        defer { lock.unlock() }
        return body(&values)
    }
}
