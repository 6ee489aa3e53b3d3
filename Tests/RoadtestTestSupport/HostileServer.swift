import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import Synchronization

/// A server that answers exactly what a test scripts, bytes and all: the hostile provider for fuzz and bug tests.
/// Every request to any path takes the next scripted response (the last one repeats).
public final class HostileServer: Sendable {
    /// One scripted response.
    public struct Reply: Sendable {
        public var status: Int
        public var headers: [(String, String)]
        /// Body pieces, written one by one (flushed separately).
        public var pieces: [[UInt8]]
        /// Drop the connection after the chunks instead of ending the body.
        public var abort: Bool

        public init(status: Int = 200, headers: [(String, String)] = [], chunks: [String], abort: Bool = false) {
            self.init(status: status, headers: headers, bytes: chunks.map { Array($0.utf8) }, abort: abort)
        }

        /// A reply of raw bytes (binary framings, broken UTF-8).
        public init(status: Int = 200, headers: [(String, String)] = [], bytes: [[UInt8]], abort: Bool = false) {
            self.status = status
            self.headers = headers
            self.pieces = bytes
            self.abort = abort
        }
    }

    private let replies: Mutex<[Reply]>

    public init(_ replies: [Reply] = []) {
        self.replies = Mutex(replies)
    }

    /// Replaces the script.
    public func script(_ replies: [Reply]) {
        self.replies.withLock { $0 = replies }
    }

    func next() -> Reply {
        replies.withLock { queue in
            guard let first = queue.first else { return Reply(status: 500, chunks: ["no reply scripted"]) }
            if queue.count > 1 { queue.removeFirst() }
            return first
        }
    }

    struct Aborted: Error {}

    /// Runs the server on a free loopback port for the duration of `body`, which gets its `/v1` base URL.
    public func run<T: Sendable>(_ body: @Sendable (String) async throws -> T) async throws -> T {
        let router = Router()
        let handler: @Sendable (Request, BasicRequestContext) async throws -> Response = { _, _ in
            let reply = self.next()
            var fields = HTTPFields()
            for (name, value) in reply.headers {
                if let field = HTTPField.Name(name) { fields[field] = value }
            }
            return Response(
                status: HTTPResponse.Status(code: reply.status),
                headers: fields,
                body: ResponseBody { writer in
                    for piece in reply.pieces { try await writer.write(ByteBuffer(bytes: piece)) }
                    if reply.abort { throw Aborted() }
                    try await writer.finish(nil)
                }
            )
        }
        router.post("/**", use: handler)
        var logger = Logger(label: "roadtest.hostile")
        logger.logLevel = .critical
        let (stream, continuation) = AsyncStream.makeStream(of: Int.self)
        let app = Application(
            router: router,
            configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in continuation.yield(channel.localAddress?.port ?? 0) },
            logger: logger
        )
        let server = Task { try await app.run() }
        var iterator = stream.makeAsyncIterator()
        guard let port = await iterator.next() else { throw CancellationError() }
        defer { server.cancel() }
        return try await body("http://127.0.0.1:\(port)/v1")
    }
}
