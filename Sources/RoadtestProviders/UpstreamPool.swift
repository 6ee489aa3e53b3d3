import NIOCore
import NIOHTTP1
import NIOPosix
import RoadtestCore
import Synchronization

/// Where a plain-HTTP request goes: the connection key, the `Host` header and the request target.
struct UpstreamTarget: Sendable {
    let key: UpstreamPool.Key
    let authority: String
    let path: String

    /// `http://host[:port][/path]` (IPv6 hosts in brackets); nil for anything else (HTTPS, credentials in the URL),
    /// which the HTTP client takes.
    init?(url: String) {
        guard url.hasPrefix("http://") else { return nil }
        let rest = url.utf8.dropFirst(7)
        let slash = rest.firstIndex(of: UInt8(ascii: "/")) ?? rest.endIndex
        guard let authority = String(rest[..<slash]), !authority.isEmpty, !authority.contains("@"),
            !authority.contains("?"), !authority.contains("#")
        else { return nil }
        var host = Substring(authority)
        var port = 80
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { return nil }
            host = authority[authority.index(after: authority.startIndex)..<close]
            let after = authority[authority.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":"), let number = Int(after.dropFirst()) else { return nil }
                port = number
            }
        } else if let colon = authority.lastIndex(of: ":") {
            guard let number = Int(authority[authority.index(after: colon)...]) else { return nil }
            host = authority[..<colon]
            port = number
        }
        guard !host.isEmpty, (1...65_535).contains(port) else { return nil }
        var path = slash == rest.endIndex ? "/" : String(Substring(rest[slash...]))
        if let fragment = path.firstIndex(of: "#") { path = String(path[..<fragment]) }
        key = UpstreamPool.Key(host: String(host), port: port)
        self.authority = authority
        self.path = path
    }
}

/// Keep-alive HTTP/1.1 connections to upstream servers over plain HTTP: the gateway's, the runner's and the load
/// generator's path to a model server. A request's head and body leave in one write; its response is read on the
/// connection's event loop straight into a `ResponseReceiver` (no task hop per read); a connection goes back to
/// the pool when its response ended and the server keeps it alive. An idle connection is reused on the caller's own
/// event loop when one is there, and never after `idleTimeout` (servers close theirs: llama-server after 5 s). A
/// server's first reuse waits until one of its connections stayed open `proofDelay` after an answer.
final class UpstreamPool: Sendable {
    struct Key: Hashable, Sendable {
        let host: String
        let port: Int
        /// Hashed once: a key is looked up on every request.
        private let hash: Int

        init(host: String, port: Int) {
            self.host = host
            self.port = port
            var hasher = Hasher()
            hasher.combine(host)
            hasher.combine(port)
            hash = hasher.finalize()
        }

        static func == (left: Key, right: Key) -> Bool {
            left.hash == right.hash && left.port == right.port && left.host == right.host
        }

        func hash(into hasher: inout Hasher) { hasher.combine(hash) }
    }

    let group: any EventLoopGroup
    private let loops: [any EventLoop]
    let idleTimeout: UInt64
    let connectTimeout: TimeAmount
    /// Idle connections per server and event loop (an index into `loops`).
    private let idle = Mutex<[IdleKey: [UpstreamConnection]]>([:])
    struct IdleKey: Hashable {
        let key: Key
        let loop: Int
    }
    /// Servers seen closing a connection right after answering on it, while advertising keep-alive (llama-server
    /// does): their connections are never reused, so no request is written into a connection they are closing.
    private let closingHosts = Mutex<Set<Key>>([])
    /// Servers known to keep connections: one of their connections stayed open `proofDelay` past its answer, or
    /// answered a second request. Until then no connection of theirs is reused, so a server that closes after each
    /// answer while advertising keep-alive is learned from its close before any request is written into a
    /// connection it is closing (that request may have reached it, and is never sent twice).
    private let keepAliveHosts = Mutex<Set<Key>>([])
    /// How long a connection must stay open after an answer before its server is trusted to keep connections
    /// (llama-server's close follows its answer within microseconds on loopback).
    static let proofDelay: UInt64 = 20_000_000
    /// Idle connections kept per server; more are closed.
    static let idleLimit = 1024

    init(group: any EventLoopGroup, idleTimeout: Double = 4, connectTimeout: TimeAmount = .seconds(10)) {
        self.group = group
        loops = Array(group.makeIterator())
        self.idleTimeout = UInt64(idleTimeout * 1e9)
        self.connectTimeout = connectTimeout
    }

    /// What a request to a server does for a connection.
    enum Checkout {
        /// Reuse this idle connection.
        case reuse(UpstreamConnection)
        /// Open a new one.
        case open
        /// Wait this many nanoseconds and ask again: the server is not yet known to keep connections, and one of its
        /// connections will have stayed open long enough past its answer by then (or will have been closed).
        case wait(UInt64)
    }

    /// An idle connection to `key` that is still open and fresh, on the caller's event loop when the caller runs on
    /// one of the pool's loops (a load generator's pinned virtual user: a connection read on another loop would hop
    /// every response across threads and pile the work on one loop); otherwise on any loop.
    ///
    /// A server is first trusted to keep connections when one of them stayed open `proofDelay` after its answer;
    /// until then a request that finds only younger idle connections waits for that (once per server), so no
    /// request is written into a connection that a server closing after each answer is about to close, and no burst
    /// of new connections is opened meanwhile.
    func checkout(_ key: Key) -> Checkout {
        if closesAfterEachAnswer(key) { return .open }
        let now = Monotonic.now()
        var expired: [UpstreamConnection] = []
        defer { for connection in expired { connection.channel.close(promise: nil) } }
        let current = MultiThreadedEventLoopGroup.currentEventLoop.flatMap { loop in
            loops.firstIndex { $0 === loop }
        }
        if !keepAliveHosts.withLock({ $0.contains(key) }) {
            // Not yet trusted: the oldest idle connection decides.
            let oldest = idle.withLock { idle in
                loops.indices.compactMap { idle[IdleKey(key: key, loop: $0)]?.first?.idleSince }.min()
            }
            guard let oldest else { return .open }
            let age = now > oldest ? now - oldest : 0
            guard age >= Self.proofDelay else { return .wait(Self.proofDelay - age) }
            let survived = idle.withLock { idle in
                loops.indices.contains { loop in
                    idle[IdleKey(key: key, loop: loop)]?.contains { connection in
                        connection.channel.isActive && now > connection.idleSince
                            && now - connection.idleSince >= Self.proofDelay
                    } ?? false
                }
            }
            guard survived else { return .open }
            markKeepsAlive(key)
        }
        let connection = idle.withLock { idle -> UpstreamConnection? in
            // The most recently used first (in place: the lists are never copied).
            func take(_ list: inout [UpstreamConnection]) -> UpstreamConnection? {
                while let connection = list.popLast() {
                    if connection.channel.isActive
                        && !(now > connection.idleSince && now - connection.idleSince > idleTimeout)
                    {
                        return connection
                    }
                    expired.append(connection)
                }
                return nil
            }
            if let current { return take(&idle[IdleKey(key: key, loop: current), default: []]) }
            for loop in loops.indices {
                if let connection = take(&idle[IdleKey(key: key, loop: loop), default: []]) { return connection }
            }
            return nil
        }
        return connection.map(Checkout.reuse) ?? .open
    }

    /// A response ended on `connection` and the server keeps it open: it serves the next request.
    /// True once the server at `key` was seen closing connections after its answers.
    func closesAfterEachAnswer(_ key: Key) -> Bool {
        closingHosts.withLock { $0.contains(key) }
    }

    /// The server at `key` closed a connection right after an answer (or a request written on a reused connection
    /// met a closed connection): from now on each of its requests gets a connection of its own.
    func markClosesAfterEachAnswer(_ key: Key) {
        closingHosts.withLock { _ = $0.insert(key) }
    }

    /// The server at `key` keeps connections alive.
    func markKeepsAlive(_ key: Key) {
        keepAliveHosts.withLock { _ = $0.insert(key) }
    }

    func release(_ connection: UpstreamConnection) {
        guard !closesAfterEachAnswer(connection.key) else {
            connection.channel.close(promise: nil)
            return
        }
        connection.idleSince = Monotonic.now()
        let surplus = idle.withLock { idle -> UpstreamConnection? in
            let key = IdleKey(key: connection.key, loop: connection.loop)
            idle[key, default: []].append(connection)
            guard idle[key]!.count > Self.idleLimit else { return nil }
            return idle[key]!.removeFirst()
        }
        surplus?.channel.close(promise: nil)
    }

    /// A new connection on the caller's event loop (or the group's next). Cancelling the caller abandons the
    /// attempt at once (the connection, if it still opens, is closed).
    func connect(_ key: Key) async throws -> UpstreamConnection {
        let handler = UpstreamHandler()
        let bootstrap = ClientBootstrap(group: group.any())
            .connectTimeout(connectTimeout)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    try channel.pipeline.syncOperations.addHandler(handler)
                }
            }
        let future = bootstrap.connect(host: key.host, port: key.port)
        let channel = try await Self.cancellable(future)
        let connection = UpstreamConnection(
            channel: channel,
            handler: handler,
            key: key,
            loop: loops.firstIndex { $0 === channel.eventLoop } ?? 0
        )
        handler.release = { [weak self, weak connection] in
            if let self, let connection { self.release(connection) }
        }
        handler.closedAfterAnswer = { [weak self] in self?.markClosesAfterEachAnswer(key) }
        handler.keptAlive = { [weak self] in self?.markKeepsAlive(key) }
        return connection
    }

    /// Waits for a connect that the caller's cancellation abandons at once.
    private static func cancellable(_ future: EventLoopFuture<any Channel>) async throws -> any Channel {
        let state = Mutex<(continuation: CheckedContinuation<any Channel, any Error>?, settled: Bool)>((nil, false))
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                state.withLock { $0.continuation = continuation }
                future.whenComplete { result in
                    let waiter = state.withLock { state -> CheckedContinuation<any Channel, any Error>? in
                        guard !state.settled else { return nil }
                        state.settled = true
                        return state.continuation
                    }
                    guard let waiter else {
                        if case .success(let channel) = result { channel.close(promise: nil) }
                        return
                    }
                    waiter.resume(with: result)
                }
            }
        } onCancel: {
            let waiter = state.withLock { state -> CheckedContinuation<any Channel, any Error>? in
                guard !state.settled, let continuation = state.continuation else { return nil }
                state.settled = true
                return continuation
            }
            waiter?.resume(throwing: CancellationError())
        }
    }

    /// Closes every idle connection.
    func shutdown() {
        let all = idle.withLock { idle -> [UpstreamConnection] in
            defer { idle = [:] }
            return idle.values.flatMap { $0 }
        }
        for connection in all { connection.channel.close(promise: nil) }
    }
}

/// A pooled connection was handed out while a response was still on it (a bug: reported, never hidden).
struct ConnectionInUse: Error, CustomStringConvertible {
    var description: String { "the connection was still in use by another request" }
}

/// One keep-alive connection and its handler.
final class UpstreamConnection: @unchecked Sendable {
    let channel: any Channel
    let handler: UpstreamHandler
    let key: UpstreamPool.Key
    /// Its event loop's index in the pool's group.
    let loop: Int
    /// When it last went idle (guarded by the pool's lock while pooled).
    var idleSince: UInt64 = 0

    init(channel: any Channel, handler: UpstreamHandler, key: UpstreamPool.Key, loop: Int) {
        self.channel = channel
        self.handler = handler
        self.key = key
        self.loop = loop
    }

    /// Sends a request (head, body and end in one write) whose response goes to `receiver`.
    func send(_ head: HTTPRequestHead, body: ByteBuffer, to receiver: any ResponseReceiver) {
        let channel = self.channel
        let handler = self.handler
        let work: @Sendable () -> Void = {
            guard handler.receiver == nil else {
                return receiver.fail(ConnectionInUse(), unsent: false)
            }
            // Cancelled before it went out: it does not go.
            guard !receiver.isCancelled else { return receiver.fail(CancellationError(), unsent: false) }
            guard channel.isActive else { return receiver.fail(ChannelError.ioOnClosedChannel, unsent: true) }
            handler.start(receiver)
            channel.write(HTTPClientRequestPart.head(head), promise: nil)
            channel.write(HTTPClientRequestPart.body(.byteBuffer(body)), promise: nil)
            let written = channel.eventLoop.makePromise(of: Void.self)
            written.futureResult.whenFailure { error in handler.failed(error, unsent: true) }
            channel.writeAndFlush(HTTPClientRequestPart.end(nil), promise: written)
        }
        if channel.eventLoop.inEventLoop { work() } else { channel.eventLoop.execute(work) }
    }

    /// Ends `receiver`'s response if it is still in progress (closing the connection); a connection whose response
    /// already ended is left alone (it may be serving another request by now).
    func abort(_ receiver: any ResponseReceiver) {
        let handler = self.handler
        let work: @Sendable () -> Void = {
            if handler.receiver === receiver { handler.failed(CancellationError()) }
        }
        if channel.eventLoop.inEventLoop { work() } else { channel.eventLoop.execute(work) }
    }
}

/// Reads responses on one connection and hands them to the request's receiver; confined to the channel's event loop.
final class UpstreamHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = HTTPClientResponsePart

    var receiver: (any ResponseReceiver)?
    var release: () -> Void = {}
    /// The server closed this connection while it was idle, right after an answer.
    var closedAfterAnswer: () -> Void = {}
    /// The connection answered a second request: the server keeps connections alive.
    var keptAlive: () -> Void = {}
    private var keepAlive = true
    /// Answers that ended on this connection.
    private var answers = 0
    /// When the last answer on this connection ended, while the connection waits for its next request.
    private var answeredAt: UInt64?
    private var context: ChannelHandlerContext?

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    func start(_ receiver: any ResponseReceiver) {
        self.receiver = receiver
        keepAlive = true
        answeredAt = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            // An interim response (100 Continue) is not the answer.
            guard head.status.code >= 200 else { return }
            keepAlive = head.isKeepAlive
            receiver?.head(status: Int(head.status.code), retryAfter: head.headers.first(name: "retry-after"))
        case .body(let buffer):
            receiver?.body(buffer)
        case .end:
            let receiver = self.receiver
            self.receiver = nil
            if keepAlive, context.channel.isActive, receiver?.abandoned != true {
                answers += 1
                if answers == 2 { keptAlive() }
                answeredAt = Monotonic.now()
                release()
            } else {
                context.close(promise: nil)
            }
            receiver?.end()
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        // Closed by the server within a second of an answer, with no request on it: a server that closes after
        // each answer (the pool's own closes come only after 4 s idle, or with a request on the connection).
        if receiver == nil, let answeredAt, Monotonic.now() - answeredAt < 1_000_000_000 { closedAfterAnswer() }
        failed(ChannelError.eof)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        failed(error)
        context.close(promise: nil)
    }

    /// The response in progress failed: the connection broke, or (`unsent`) the request could not be written.
    func failed(_ error: any Error, unsent: Bool = false) {
        guard let receiver else { return }
        self.receiver = nil
        context?.close(promise: nil)
        receiver.fail(error, unsent: unsent)
    }
}
