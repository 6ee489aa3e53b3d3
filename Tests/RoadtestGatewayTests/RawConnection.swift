import Foundation
import NIOCore
import NIOPosix
import Synchronization

/// A plain TCP connection to a test server that writes whatever bytes a test gives it (half a request head, a
/// stalled body) and records what comes back and when the server closed it: the slow client that HTTP clients
/// cannot be made to be.
final class RawConnection: Sendable {
    private struct State {
        var received: [UInt8] = []
        var closedAt: ContinuousClock.Instant?
    }

    private final class Recorder: ChannelInboundHandler, Sendable {
        typealias InboundIn = ByteBuffer
        let state = Mutex(State())

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let buffer = unwrapInboundIn(data)
            state.withLock { $0.received += buffer.readableBytesView }
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            context.close(promise: nil)
        }
    }

    private let recorder: Recorder
    private let channel: any Channel
    /// When connecting started: the server cannot have opened its end before.
    let startedAt: ContinuousClock.Instant
    /// When the connection was established (client side).
    let openedAt: ContinuousClock.Instant

    private init(channel: any Channel, recorder: Recorder, startedAt: ContinuousClock.Instant) {
        self.channel = channel
        self.recorder = recorder
        self.startedAt = startedAt
        openedAt = .now
        channel.closeFuture.whenComplete { _ in recorder.state.withLock { $0.closedAt = .now } }
    }

    /// Connects to `host:port`, from `source` when given (another loopback address, say).
    static func open(host: String = "127.0.0.1", port: Int, from source: String? = nil) async throws -> RawConnection {
        let startedAt = ContinuousClock.now
        let recorder = Recorder()
        var bootstrap = ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(recorder) }
            }
        if let source { bootstrap = bootstrap.bind(to: try SocketAddress(ipAddress: source, port: 0)) }
        let channel = try await bootstrap.connect(host: host, port: port).get()
        return RawConnection(channel: channel, recorder: recorder, startedAt: startedAt)
    }

    /// Writes `text` as it is.
    func send(_ text: String) async throws {
        try await channel.writeAndFlush(ByteBuffer(string: text))
    }

    /// Closes the connection from this side.
    func close() async {
        try? await channel.close()
    }

    /// Everything received so far, as text.
    var received: String { String(decoding: recorder.state.withLock { $0.received }, as: UTF8.self) }

    /// When the connection closed (by the server, or by `close`); nil while open.
    var closedAt: ContinuousClock.Instant? { recorder.state.withLock { $0.closedAt } }

    var isOpen: Bool { closedAt == nil }

    /// Waits until the received text contains `text` (`count` times); false after `timeout` or when the connection
    /// closed first.
    func waitFor(_ text: String, count: Int = 1, timeout: Duration = .seconds(10)) async throws -> Bool {
        let deadline = ContinuousClock.now + timeout
        func found() -> Bool { received.components(separatedBy: text).count > count }
        while ContinuousClock.now < deadline {
            if found() { return true }
            if !isOpen { return found() }
            try await Task.sleep(for: .milliseconds(5))
        }
        return false
    }

    /// Waits until the server closes the connection; when it did, or nil after `timeout`.
    func waitForClose(timeout: Duration) async throws -> ContinuousClock.Instant? {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let closedAt { return closedAt }
            try await Task.sleep(for: .milliseconds(5))
        }
        return closedAt
    }
}

/// Raises this process's soft limit on open files to `wanted` (or to the hard limit, if lower); returns the limit
/// now in force. A test that holds a thousand connections needs two descriptors for each (both ends are here).
func raiseOpenFileLimit(to wanted: Int) -> Int {
    var limit = rlimit()
    #if canImport(Glibc)
    let resource = __rlimit_resource_t(RLIMIT_NOFILE.rawValue)
    #else
    let resource = RLIMIT_NOFILE
    #endif
    guard getrlimit(resource, &limit) == 0 else { return 0 }
    if limit.rlim_cur < rlim_t(wanted) {
        limit.rlim_cur = min(rlim_t(wanted), limit.rlim_max)
        _ = setrlimit(resource, &limit)
        _ = getrlimit(resource, &limit)
    }
    return Int(clamping: limit.rlim_cur)
}
