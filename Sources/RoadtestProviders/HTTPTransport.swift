import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import RoadtestCore
import RoadtestWire
import Synchronization

/// Set once when an attempt's deadline passes.
final class ExpiryFlag: Sendable {
    private let state = Mutex(false)
    func set() { state.withLock { $0 = true } }
    var isSet: Bool { state.withLock { $0 } }
}

/// Where an attempt's events go: an accumulator (buffered) or a stream's continuation (streamed).
protocol EventSink {
    mutating func add(_ event: ProviderEvent)
}

extension ResponseAccumulator: EventSink {}

/// Hands a stream's events on in batches: what one read from the network produced leaves together (at `flush`),
/// and the events that change an attempt's state (sent, head, end, failure) leave at once. One hop per read
/// instead of one per event.
struct BatchSink: EventSink {
    let continuation: AsyncStream<[ProviderEvent]>.Continuation
    var pending: [ProviderEvent] = []

    mutating func add(_ event: ProviderEvent) {
        pending.append(event)
        switch event {
        case .flush, .sent, .head, .end, .failed: drain()
        default: break
        }
    }

    mutating func drain() {
        guard !pending.isEmpty else { return }
        continuation.yield(pending)
        pending.removeAll(keepingCapacity: true)
    }
}

/// The shared HTTP client every HTTP provider uses, sized for high concurrency to one host.
public final class HTTPTransport: Sendable {
    /// HTTPS, and everything that is not a model request (embeddings, downloads).
    public let client: HTTPClient
    /// Plain-HTTP model requests: the hot path of the gateway, `run` and `load`.
    let pool: UpstreamPool

    public init(maximumConnectionsPerHost: Int = 1024) {
        var configuration = HTTPClient.Configuration()
        // Idle connections are dropped before common servers' keep-alive timeouts (llama-server's is 5 s), so a
        // request is not sent on a connection the server is closing.
        configuration.connectionPool = .init(
            idleTimeout: .seconds(4),
            concurrentHTTP1ConnectionsPerHostSoftLimit: maximumConnectionsPerHost
        )
        // A refused connection is an attempt's `connection` error; Roadtest's own retry policy decides what next.
        configuration.connectionPool.retryConnectionEstablishment = false
        configuration.timeout = .init(connect: .seconds(10), read: nil)
        configuration.decompression = .disabled
        configuration.httpVersion = .http1Only
        client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        pool = UpstreamPool(group: client.eventLoopGroup)
        executors = client.eventLoopGroup.makeIterator().map { EventLoopExecutor(loop: $0) }
    }

    /// The event loops the transport's connections live on.
    public var eventLoopGroup: any EventLoopGroup { client.eventLoopGroup }

    /// One task executor per event loop of the transport's connections (one per core).
    public let executors: [EventLoopExecutor]

    /// The executor of the event loop this thread runs, if it is one of the transport's: an attempt started there
    /// stays there (a virtual user pinned to a loop keeps its attempts on it).
    var currentExecutor: EventLoopExecutor? {
        guard let loop = MultiThreadedEventLoopGroup.currentEventLoop else { return nil }
        return executors.first { $0.loop === loop }
    }

    public func shutdown() async {
        pool.shutdown()
        try? await client.shutdown()
    }

    /// Runs `body` with a new transport and shuts the transport down when `body` returns or throws (its connections
    /// close before this returns).
    public static func with<Result>(
        maximumConnectionsPerHost: Int = 1024,
        _ body: (HTTPTransport) async throws -> Result
    ) async throws -> Result {
        let transport = HTTPTransport(maximumConnectionsPerHost: maximumConnectionsPerHost)
        do {
            let result = try await body(transport)
            await transport.shutdown()
            return result
        } catch {
            await transport.shutdown()
            throw error
        }
    }

    /// One attempt, buffered: the events fold into a `ResponseAccumulator` inside the attempt's own task (no event
    /// crosses tasks).
    func send<Decoder: WireStreamDecoder>(_ decoder: Decoder.Type, _ request: Outgoing) async -> ProviderResponse {
        let expired = ExpiryFlag()
        let work = Task(executorPreference: currentExecutor) {
            var accumulator = ResponseAccumulator()
            await Self.perform(Decoder.self, transport: self, request: request, expired: expired, sink: &accumulator)
            return accumulator
        }
        let timer = deadline(request.timeout, expired: expired, work: work)
        let accumulator = await withTaskCancellationHandler {
            await work.value
        } onCancel: {
            work.cancel()
        }
        timer.cancel()
        return accumulator.response()
    }

    /// One attempt, streamed: every event reaches `onEvent` as it arrives.
    func run<Decoder: WireStreamDecoder>(
        _ decoder: Decoder.Type,
        _ request: Outgoing,
        onEvent: (ProviderEvent) -> Void
    ) async {
        let (batches, work) = start(Decoder.self, request)
        for await batch in batches {
            for event in batch { onEvent(event) }
        }
        // Cancelled callers stop reading at once; the attempt winds down before this returns.
        await work.value
    }

    /// One attempt, streamed as batches of events (`BatchSink`), run in its own task: at its deadline, or when the
    /// reader stops reading, the attempt's task is cancelled.
    func batches<Decoder: WireStreamDecoder>(
        _ decoder: Decoder.Type,
        _ request: Outgoing
    ) -> AsyncStream<[ProviderEvent]> {
        start(decoder, request).batches
    }

    private func start<Decoder: WireStreamDecoder>(
        _ decoder: Decoder.Type,
        _ request: Outgoing
    ) -> (batches: AsyncStream<[ProviderEvent]>, work: Task<Void, Never>) {
        let (batches, continuation) = AsyncStream.makeStream(of: [ProviderEvent].self)
        let expired = ExpiryFlag()
        let work = Task(executorPreference: currentExecutor) {
            var sink = BatchSink(continuation: continuation)
            await Self.perform(Decoder.self, transport: self, request: request, expired: expired, sink: &sink)
            sink.drain()
            continuation.finish()
        }
        let timer = deadline(request.timeout, expired: expired, work: work)
        continuation.onTermination = { _ in
            timer.cancel()
            work.cancel()
        }
        return (batches, work)
    }

    /// An attempt's deadline: one event-loop timer (no timer task per request) that marks the attempt expired and
    /// cancels its task.
    private func deadline<T>(_ timeout: Double, expired: ExpiryFlag, work: Task<T, Never>) -> Scheduled<Void> {
        client.eventLoopGroup.any().scheduleTask(in: .nanoseconds(Int64(max(0, timeout) * 1e9))) {
            expired.set()
            work.cancel()
        }
    }

    /// A model request, ready for either path: the transport's own connections (plain HTTP) or the HTTP client.
    struct Outgoing: Sendable {
        let url: String
        var headers: HTTPHeaders
        let body: ByteBuffer
        let stream: Bool
        /// The attempt's deadline, in seconds.
        let timeout: Double
        /// Where a plain-HTTP URL goes on the transport's own connections (parsed once); nil for HTTPS.
        let target: UpstreamTarget?

        /// A JSON POST to `url`, answered as a stream or as one body. `accepts` is false where the request is
        /// signed as an official SDK sends it (Bedrock's SDKs send no `Accept`).
        init(url: String, headers: [(String, String)], body: Data, stream: Bool, timeout: Double, accepts: Bool = true)
        {
            var fields = HTTPHeaders()
            fields.reserveCapacity(headers.count + 4)
            fields.add(name: "Content-Type", value: "application/json")
            if accepts { fields.add(name: "Accept", value: stream ? "text/event-stream" : "application/json") }
            for (name, value) in headers { fields.add(name: name, value: value) }
            self.url = url
            self.headers = fields
            self.body = ByteBuffer(bytes: body)
            self.stream = stream
            self.timeout = timeout
            self.target = UpstreamTarget(url: url)
        }

        var clientRequest: HTTPClientRequest {
            var request = HTTPClientRequest(url: url)
            request.method = .POST
            request.headers = headers
            request.body = .bytes(body)
            return request
        }
    }

    /// Sends the request and reports what happens as events. Timestamps are taken as each buffer arrives, before
    /// parsing.
    static func perform<Decoder: WireStreamDecoder, Sink: EventSink>(
        _ decoder: Decoder.Type,
        transport: HTTPTransport,
        request: Outgoing,
        expired: ExpiryFlag,
        sink: inout Sink
    ) async {
        let sent = Monotonic.now()
        sink.add(.sent(at: sent))
        let reader = ResponseReader<Decoder, Sink>(
            sink: sink,
            stream: request.stream,
            timeout: request.timeout,
            expired: expired,
            sent: sent
        )
        if let target = request.target {
            await send(request, to: target, pool: transport.pool, reader: reader)
        } else {
            await send(request, client: transport.client, reader: reader)
        }
        sink = reader.sink
    }

    /// Plain HTTP on the transport's own connections (a pooled one when one is idle and fresh). A request is sent
    /// again (once, on a new connection) only when it could not be written at all; one that failed after it left is
    /// reported, never re-sent: the server may have it, and a model request sent twice can cost twice.
    static func send<Decoder, Sink>(
        _ request: Outgoing,
        to target: UpstreamTarget,
        pool: UpstreamPool,
        reader: ResponseReader<Decoder, Sink>
    ) async {
        var head = HTTPRequestHead(version: .http1_1, method: .POST, uri: target.path, headers: request.headers)
        if !head.headers.contains(name: "host") { head.headers.add(name: "Host", value: target.authority) }
        head.headers.add(name: "Content-Length", value: String(request.body.readableBytes))
        var fresh = false
        while true {
            let connection: UpstreamConnection
            var reused = false
            var checkout = fresh ? UpstreamPool.Checkout.open : pool.checkout(target.key)
            if case .wait(let nanoseconds) = checkout {
                try? await Task.sleep(nanoseconds: nanoseconds)
                checkout = pool.checkout(target.key)
                if case .wait = checkout { checkout = .open }
            }
            if case .reuse(let idle) = checkout {
                connection = idle
                reused = true
            } else {
                do {
                    connection = try await pool.connect(target.key)
                } catch {
                    if Task.isCancelled { reader.markCancelled() }
                    reader.fail(error, unsent: false)
                    return
                }
            }
            let receiver: any ResponseReceiver = reader
            await withTaskCancellationHandler {
                connection.send(head, body: request.body, to: reader)
                await reader.finished()
            } onCancel: {
                receiver.markCancelled()
                connection.abort(receiver)
            }
            if reader.abandoned { connection.channel.close(promise: nil) }
            // A reused connection that broke before any answer: its server closes connections after answering.
            if reused, reader.failedBeforeAnswer { pool.markClosesAfterEachAnswer(target.key) }
            guard let unsent = reader.unsentFailure else { return }
            // The connection closed before the request could be written (the server dropped an idle connection as
            // it was reused): the request never left, so it goes once more, on a new connection.
            reader.reset()
            guard !fresh else {
                reader.fail(unsent, unsent: false)
                return
            }
            fresh = true
        }
    }

    /// HTTPS (and any URL the transport's own connections do not take) through the HTTP client.
    static func send<Decoder, Sink>(
        _ request: Outgoing,
        client: HTTPClient,
        reader: ResponseReader<Decoder, Sink>
    ) async {
        let response: HTTPClientResponse
        do {
            response = try await client.execute(
                request.clientRequest,
                deadline: .now() + .nanoseconds(Int64((request.timeout + 1) * 1e9))
            )
        } catch {
            if Task.isCancelled { reader.markCancelled() }
            reader.fail(error, unsent: false)
            return
        }
        reader.head(status: Int(response.status.code), retryAfter: response.headers.first(name: "retry-after"))
        do {
            for try await buffer in response.body {
                reader.body(buffer)
                if reader.isDone { return }
            }
            reader.end()
        } catch {
            if Task.isCancelled { reader.markCancelled() }
            reader.fail(error, unsent: false)
        }
    }

    /// Passes one decoded item on, stamped; false when it ended the attempt (unusable input).
    static func emit<Sink: EventSink>(_ item: StreamItem, at time: UInt64, status: Int, sink: inout Sink) -> Bool {
        switch item {
        case .text(let text): sink.add(.text(text, at: time))
        case .reasoning(let text): sink.add(.reasoning(text, at: time))
        case .toolCall(let delta): sink.add(.toolCall(delta, at: time))
        case .usage(let usage): sink.add(.usage(usage))
        case .finish(let reason): sink.add(.finish(reason))
        case .end: sink.add(.end(at: time))
        case .malformed(let reason):
            sink.add(.failed(.malformed, status: status, message: reason, retryAfter: nil))
            return false
        case .refused(let reason):
            sink.add(.failed(.contentFilter, status: status, message: reason, retryAfter: nil))
            return false
        }
        return true
    }

    static func classify(_ error: any Error, afterHead: Bool) -> AttemptClass {
        if let error = error as? ChannelError, case .connectTimeout = error { return .timeout }
        if let error = error as? HTTPClientError {
            switch error {
            case .readTimeout, .deadlineExceeded, .connectTimeout, .writeTimeout, .getConnectionFromPoolTimeout:
                return .timeout
            case .cancelled:
                return .timeout
            case .remoteConnectionClosed, .bodyLengthMismatch:
                return afterHead ? .streamCut : .connection
            default:
                return afterHead ? .streamCut : .connection
            }
        }
        if error is CancellationError { return .timeout }
        return afterHead ? .streamCut : .connection
    }

    static func describe(_ error: any Error) -> String {
        if let error = error as? NIOConnectionError {
            let reason =
                error.connectionErrors.first.map { String(describing: $0.error) }
                ?? error.dnsAError.map { String(describing: $0) } ?? "no address"
            return "connection to \(error.host):\(error.port) failed: \(reason)".prefix(300).description
        }
        if let error = error as? ChannelError, case .eof = error { return "the server closed the connection" }
        return String(describing: error).prefix(300).description
    }
}
