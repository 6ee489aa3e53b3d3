import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
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
    public let client: HTTPClient

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
    }

    public func shutdown() async {
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
    func send<Decoder: WireStreamDecoder>(
        _ decoder: Decoder.Type,
        url: String,
        headers: [(String, String)],
        body: Data,
        stream: Bool,
        timeout: Double
    ) async -> ProviderResponse {
        let request = Self.request(url: url, headers: headers, body: body, stream: stream)
        let client = self.client
        return await withAttemptDeadline(timeout) { expired in
            var accumulator = ResponseAccumulator()
            await Self.perform(
                Decoder.self,
                client: client,
                request: request,
                stream: stream,
                timeout: timeout,
                expired: expired,
                sink: &accumulator
            )
            return accumulator
        }.response()
    }

    /// One attempt, streamed: every event reaches `onEvent` as it arrives.
    func run<Decoder: WireStreamDecoder>(
        _ decoder: Decoder.Type,
        url: String,
        headers: [(String, String)],
        body: Data,
        stream: Bool,
        timeout: Double,
        onEvent: (ProviderEvent) -> Void
    ) async {
        let (batches, work) = start(
            Decoder.self,
            url: url,
            headers: headers,
            body: body,
            stream: stream,
            timeout: timeout
        )
        for await batch in batches {
            for event in batch { onEvent(event) }
        }
        // Cancelled callers stop reading at once; the attempt winds down before this returns.
        await work.value
    }

    /// One attempt, streamed as batches of events (`BatchSink`), run in its own task with one event-loop timer as
    /// its deadline: at the deadline, or when the reader stops reading, the attempt's task is cancelled.
    func batches<Decoder: WireStreamDecoder>(
        _ decoder: Decoder.Type,
        url: String,
        headers: [(String, String)],
        body: Data,
        stream: Bool,
        timeout: Double
    ) -> AsyncStream<[ProviderEvent]> {
        start(decoder, url: url, headers: headers, body: body, stream: stream, timeout: timeout).batches
    }

    private func start<Decoder: WireStreamDecoder>(
        _ decoder: Decoder.Type,
        url: String,
        headers: [(String, String)],
        body: Data,
        stream: Bool,
        timeout: Double
    ) -> (batches: AsyncStream<[ProviderEvent]>, work: Task<Void, Never>) {
        let request = Self.request(url: url, headers: headers, body: body, stream: stream)
        let client = self.client
        let (batches, continuation) = AsyncStream.makeStream(of: [ProviderEvent].self)
        let expired = ExpiryFlag()
        let work = Task {
            var sink = BatchSink(continuation: continuation)
            await Self.perform(
                Decoder.self,
                client: client,
                request: request,
                stream: stream,
                timeout: timeout,
                expired: expired,
                sink: &sink
            )
            sink.drain()
            continuation.finish()
        }
        let timer = client.eventLoopGroup.any().scheduleTask(in: .nanoseconds(Int64(max(0, timeout) * 1e9))) {
            expired.set()
            work.cancel()
        }
        continuation.onTermination = { _ in
            timer.cancel()
            work.cancel()
        }
        return (batches, work)
    }

    /// Runs an attempt in its own task with one event-loop timer as its deadline (no timer task per request): at
    /// the deadline, or when the caller is cancelled, the attempt's task is cancelled.
    func withAttemptDeadline<T: Sendable>(
        _ timeout: Double,
        _ attempt: @escaping @Sendable (ExpiryFlag) async -> T
    ) async -> T {
        let expired = ExpiryFlag()
        let work = Task { await attempt(expired) }
        let timer = client.eventLoopGroup.any().scheduleTask(in: .nanoseconds(Int64(max(0, timeout) * 1e9))) {
            expired.set()
            work.cancel()
        }
        let value = await withTaskCancellationHandler {
            await work.value
        } onCancel: {
            work.cancel()
        }
        timer.cancel()
        return value
    }

    static func request(url: String, headers: [(String, String)], body: Data, stream: Bool) -> HTTPClientRequest {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "Accept", value: stream ? "text/event-stream" : "application/json")
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        request.body = .bytes(ByteBuffer(bytes: body))
        return request
    }

    /// Sends the request and reports what happens as events. Timestamps are taken as each buffer arrives, before
    /// parsing.
    static func perform<Decoder: WireStreamDecoder, Sink: EventSink>(
        _ decoder: Decoder.Type,
        client: HTTPClient,
        request: HTTPClientRequest,
        stream: Bool,
        timeout: Double,
        expired: ExpiryFlag,
        sink: inout Sink
    ) async {
        func cancelled(_ status: Int?) -> ProviderEvent {
            .failed(
                .timeout,
                status: status,
                message: expired.isSet
                    ? "no complete response within \(DurationText.format(seconds: timeout))" : "cancelled",
                retryAfter: nil
            )
        }
        let sent = Monotonic.now()
        sink.add(.sent(at: sent))
        let response: HTTPClientResponse
        do {
            response = try await client.execute(request, deadline: .now() + .nanoseconds(Int64((timeout + 1) * 1e9)))
        } catch {
            if Task.isCancelled {
                sink.add(cancelled(nil))
            } else {
                sink.add(
                    .failed(classify(error, afterHead: false), status: nil, message: describe(error), retryAfter: nil)
                )
            }
            return
        }
        let status = Int(response.status.code)
        guard (200..<300).contains(status) else {
            var collected = Data()
            do {
                for try await buffer in response.body where collected.count < 65_536 {
                    collected.append(contentsOf: buffer.readableBytesView)
                }
            } catch {}
            let text = String(decoding: collected.prefix(500), as: UTF8.self)
            sink.add(
                .failed(
                    attemptClass(forStatus: status),
                    status: status,
                    message: "HTTP \(status): \(text)",
                    retryAfter: RetryAfter.seconds(response.headers.first(name: "retry-after"))
                )
            )
            return
        }
        sink.add(.head(status: status))

        if !stream {
            var collected = Data()
            var last = sent
            do {
                for try await buffer in response.body {
                    last = Monotonic.now()
                    collected.append(contentsOf: buffer.readableBytesView)
                }
            } catch {
                sink.add(
                    Task.isCancelled
                        ? cancelled(status)
                        : .failed(
                            classify(error, afterHead: true),
                            status: status,
                            message: describe(error),
                            retryAfter: nil
                        )
                )
                return
            }
            for item in Decoder.decodeBody(collected) {
                if !emit(item, at: last, status: status, sink: &sink) { return }
            }
            return
        }

        var parser = ServerSentEventParser()
        var decoder = Decoder()
        do {
            for try await buffer in response.body {
                let arrival = Monotonic.now()
                for event in parser.feed(buffer.readableBytesView) {
                    for item in decoder.decode(event) where !emit(item, at: arrival, status: status, sink: &sink) {
                        return
                    }
                }
                sink.add(.flush)
            }
            if let event = parser.finish() {
                for item in decoder.decode(event) where !emit(item, at: Monotonic.now(), status: status, sink: &sink) {
                    return
                }
            }
        } catch {
            if Task.isCancelled {
                sink.add(cancelled(status))
            } else {
                sink.add(
                    .failed(.streamCut, status: status, message: "stream broke: " + describe(error), retryAfter: nil)
                )
            }
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
        }
        return true
    }

    static func classify(_ error: any Error, afterHead: Bool) -> AttemptClass {
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
        String(describing: error).prefix(300).description
    }
}
