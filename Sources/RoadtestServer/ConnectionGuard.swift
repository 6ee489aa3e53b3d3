import HTTPTypes
import NIOCore
import NIOHTTPTypes
import Synchronization

/// Enforces `ConnectionLimits` on one HTTP/1 connection: closes it when a request head or body is not complete in
/// time or when it idles too long between requests (`ConnectionDeadlines` decides when), and closes it as soon as it
/// opens when its client address already holds its share of connections. Nothing times out while the server is
/// producing or writing an answer, however long it streams.
///
/// It sits after HTTP decoding (Hummingbird's `additionalChannelHandlers`): a head that never completes shows as no
/// `.head` before the deadline, and bytes that start the next request on an idle connection show as a read that
/// completed. One timer per connection at most, re-armed only when it fires early or a nearer deadline appears.
///
/// ```swift
/// let app = Application(router: router, server: .http1(guardedBy: ConnectionLimits()))
/// ```
public final class ConnectionGuard: ChannelDuplexHandler, RemovableChannelHandler {
    public typealias InboundIn = HTTPRequestPart
    public typealias InboundOut = HTTPRequestPart
    public typealias OutboundIn = HTTPResponsePart
    public typealias OutboundOut = HTTPResponsePart

    /// What the guards of one server's connections share: the limits and the open connections per client.
    public final class Shared: Sendable {
        let timeouts: ConnectionDeadlines.Timeouts
        let counts: ClientConnectionCounts?
        let tally: ConnectionTally?

        public init(_ limits: ConnectionLimits) {
            timeouts = ConnectionDeadlines.Timeouts(limits)
            counts = limits.maxConnectionsPerClient.map(ClientConnectionCounts.init(limit:))
            tally = limits.tally
        }
    }

    private let shared: Shared
    private var deadlines: ConnectionDeadlines?
    private var context: ChannelHandlerContext?
    /// The client address this connection is counted under, once admitted.
    private var client: SocketAddress?
    private var timer: NIOScheduledCallback?
    private var timerDeadline: NIODeadline?

    public init(shared: Shared) {
        self.shared = shared
    }

    // MARK: - Lifecycle

    public func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        if context.channel.isActive { start(context) }
    }

    public func handlerRemoved(context: ChannelHandlerContext) {
        stop()
        self.context = nil
    }

    public func channelActive(context: ChannelHandlerContext) {
        context.fireChannelActive()
        start(context)
    }

    public func channelInactive(context: ChannelHandlerContext) {
        stop()
        context.fireChannelInactive()
    }

    private func start(_ context: ChannelHandlerContext) {
        guard deadlines == nil else { return }
        deadlines = ConnectionDeadlines(timeouts: shared.timeouts, openedAt: .now())
        if let counts = shared.counts, let client = ClientConnectionCounts.client(of: context.channel.remoteAddress) {
            guard counts.open(client) else {
                shared.tally?.refusedCount.add(1, ordering: .relaxed)
                context.close(promise: nil)
                return
            }
            self.client = client
        }
        arm(context)
    }

    private func stop() {
        // Nothing is armed again once the connection is gone (a late write still passes through `write`).
        deadlines = nil
        if let client {
            shared.counts?.close(client)
            self.client = nil
        }
        timer?.cancel()
        timer = nil
        timerDeadline = nil
    }

    // MARK: - Events

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head:
            deadlines?.readHead(at: .now())
            arm(context)
        case .end:
            deadlines?.readEnd(at: .now())
        case .body:
            break
        }
        context.fireChannelRead(data)
    }

    public func channelReadComplete(context: ChannelHandlerContext) {
        if case .idle? = deadlines?.phase {
            deadlines?.readBytes(at: .now())
            arm(context)
        }
        context.fireChannelReadComplete()
    }

    public func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .head(let head) where head.status.kind != .informational:
            deadlines?.wroteHead()
        case .end:
            deadlines?.wroteEnd(at: .now())
            arm(context)
        case .head, .body:
            break
        }
        context.write(data, promise: promise)
    }

    // MARK: - Timer

    /// Makes sure a timer fires no later than the current deadline. A timer set for an earlier time is left alone:
    /// when it fires it looks again (deadlines mostly move later, so this rarely reschedules).
    private func arm(_ context: ChannelHandlerContext) {
        guard let deadline = deadlines?.deadline else { return }
        if let timerDeadline, timerDeadline <= deadline { return }
        timer?.cancel()
        timer = try? context.eventLoop.assumeIsolatedUnsafeUnchecked().scheduleCallback(at: deadline, handler: self)
        timerDeadline = timer == nil ? nil : deadline
    }
}

extension ConnectionGuard: NIOScheduledCallbackHandler {
    public func handleScheduledCallback(eventLoop: some EventLoop) {
        timer = nil
        timerDeadline = nil
        guard let context, let deadline = deadlines?.deadline else { return }
        if deadline <= .now() {
            shared.tally?.timedOutCount.add(1, ordering: .relaxed)
            context.close(promise: nil)
        } else {
            arm(context)
        }
    }
}

@available(*, unavailable)
extension ConnectionGuard: Sendable {}
