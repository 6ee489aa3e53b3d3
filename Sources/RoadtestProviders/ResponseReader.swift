import Foundation
import NIOCore
import RoadtestCore
import RoadtestWire
import Synchronization

/// What an HTTP connection tells about one response, in order: its head, each body read, then its end or a failure.
protocol ResponseReceiver: AnyObject, Sendable {
    func head(status: Int, retryAfter: String?)
    func body(_ buffer: ByteBuffer)
    func end()
    /// The response failed: the connection broke, or (`unsent`) the request could not be written at all, so the
    /// server cannot have it.
    func fail(_ error: any Error, unsent: Bool)
    /// The attempt was cancelled: what ends it now is reported as that.
    func markCancelled()
    var isCancelled: Bool { get }
    /// The receiver stopped reading before the response ended: its connection cannot serve another request.
    var abandoned: Bool { get }
}

/// Turns one attempt's response into events as its bytes arrive: a 2xx stream parsed and decoded read by read (each
/// read stamped when it arrived, before parsing), a 2xx body decoded whole at its end, anything else a classified
/// failure with the server's words. Fed by the transport's own connections on their event loop, or by the HTTP
/// client's body sequence; `finished` returns once the reader wants nothing more.
final class ResponseReader<Decoder: WireStreamDecoder, Sink: EventSink>: ResponseReceiver, @unchecked Sendable {
    // Touched only by whoever feeds the reader (one event loop, or one task), then read by the waiter once
    // `finished` returned.
    private(set) var sink: Sink
    private let stream: Bool
    private let timeout: Double
    private let expired: ExpiryFlag
    private var status: Int?
    private var retryAfter: String?
    private var collected: [UInt8] = []
    private var last: UInt64
    private var parser = ServerSentEventParser()
    private var frames = EventStreamDecoder()
    private var decoder = Decoder()
    private var done = false
    /// The reader stopped before the response ended (an unusable event, or enough of an error body): the rest is
    /// not wanted, and its connection cannot serve another request.
    private(set) var abandoned = false
    /// The request could not be written (its connection was closed as it went out): nothing was reported, and the
    /// waiter may send it on a new connection.
    private(set) var unsentFailure: (any Error)?
    /// The connection failed after the request was written and before any answer (not cancelled).
    private(set) var failedBeforeAnswer = false

    private let cancelled = ExpiryFlag()
    private let completion = Mutex<Completion>(.waiting(nil))

    private enum Completion {
        case waiting(CheckedContinuation<Void, Never>?)
        case finished
    }

    init(sink: Sink, stream: Bool, timeout: Double, expired: ExpiryFlag, sent: UInt64) {
        self.sink = sink
        self.stream = stream
        self.timeout = timeout
        self.expired = expired
        last = sent
    }

    /// The attempt was cancelled (its deadline, or its caller): what ends it now is reported as that.
    func markCancelled() { cancelled.set() }

    var isCancelled: Bool { cancelled.isSet }

    var isDone: Bool { done }

    /// Ready to try again after an `unsentFailure` (nothing was reported).
    func reset() {
        unsentFailure = nil
        done = false
        completion.withLock { $0 = .waiting(nil) }
    }

    func head(status: Int, retryAfter: String?) {
        guard !done else { return }
        self.status = status
        self.retryAfter = retryAfter
        if (200..<300).contains(status) { sink.add(.head(status: status)) }
    }

    func body(_ buffer: ByteBuffer) {
        guard !done, let status else { return }
        guard (200..<300).contains(status) else {
            collected.append(contentsOf: buffer.readableBytesView)
            // What a server says about a failure is in its first bytes; the rest is not read.
            if collected.count >= 65_536 {
                abandoned = true
                end()
            }
            return
        }
        let arrival = Monotonic.now()
        guard stream else {
            last = arrival
            collected.append(contentsOf: buffer.readableBytesView)
            return
        }
        if Decoder.framing == .eventStream {
            let messages: [EventStreamMessage]
            do {
                messages = try frames.feed(buffer.readableBytesView)
            } catch {
                _ = HTTPTransport.emit(.malformed("\(error)"), at: arrival, status: status, sink: &sink)
                abandoned = true
                return finish()
            }
            for message in messages {
                for item in decoder.decode(message)
                where !HTTPTransport.emit(item, at: arrival, status: status, sink: &sink) {
                    abandoned = true
                    return finish()
                }
            }
            sink.add(.flush)
            return
        }
        for event in parser.feed(buffer.readableBytesView) {
            for item in decoder.decode(event) where !HTTPTransport.emit(item, at: arrival, status: status, sink: &sink)
            {
                abandoned = true
                return finish()
            }
        }
        sink.add(.flush)
    }

    func end() {
        guard !done, let status else { return }
        defer { finish() }
        guard (200..<300).contains(status) else { return reportStatus(status) }
        if !stream {
            for item in Decoder.decodeBody(Data(collected)) {
                if !HTTPTransport.emit(item, at: last, status: status, sink: &sink) { return }
            }
            return
        }
        if let event = parser.finish() {
            for item in decoder.decode(event)
            where !HTTPTransport.emit(item, at: Monotonic.now(), status: status, sink: &sink) {
                return
            }
        }
    }

    func fail(_ error: any Error, unsent: Bool = false) {
        guard !done else { return }
        if unsent, !cancelled.isSet, status == nil {
            unsentFailure = error
            return finish()
        }
        defer { finish() }
        if cancelled.isSet {
            sink.add(
                .failed(
                    .timeout,
                    status: status,
                    message: expired.isSet
                        ? "no complete response within \(DurationText.format(seconds: timeout))" : "cancelled",
                    retryAfter: nil
                )
            )
            return
        }
        guard let status else {
            failedBeforeAnswer = true
            sink.add(
                .failed(
                    HTTPTransport.classify(error, afterHead: false),
                    status: nil,
                    message: HTTPTransport.describe(error),
                    retryAfter: nil
                )
            )
            return
        }
        // What arrived of an error body is enough to report the status.
        guard (200..<300).contains(status) else { return reportStatus(status) }
        if stream {
            sink.add(
                .failed(
                    .streamCut,
                    status: status,
                    message: "stream broke: " + HTTPTransport.describe(error),
                    retryAfter: nil
                )
            )
        } else {
            sink.add(
                .failed(
                    HTTPTransport.classify(error, afterHead: true),
                    status: status,
                    message: HTTPTransport.describe(error),
                    retryAfter: nil
                )
            )
        }
    }

    /// A status that is not a success, with the server's words.
    private func reportStatus(_ status: Int) {
        let text = String(decoding: collected.prefix(500), as: UTF8.self)
        // A prompt refused by the provider's content filter (Azure answers 400 with the code `content_filter`).
        let filtered =
            status == 400 && String(decoding: collected.prefix(4096), as: UTF8.self).contains("content_filter")
        sink.add(
            .failed(
                filtered ? .contentFilter : attemptClass(forStatus: status),
                status: status,
                message: "HTTP \(status): \(text)",
                retryAfter: RetryAfter.seconds(retryAfter)
            )
        )
    }

    private func finish() {
        done = true
        let waiter = completion.withLock { state -> CheckedContinuation<Void, Never>? in
            defer { state = .finished }
            if case .waiting(let continuation) = state { return continuation }
            return nil
        }
        waiter?.resume()
    }

    /// Returns once the reader has what it needs (the response ended, failed, or went bad).
    func finished() async {
        await withCheckedContinuation { continuation in
            let ready = completion.withLock { state -> Bool in
                if case .finished = state { return true }
                state = .waiting(continuation)
                return false
            }
            if ready { continuation.resume() }
        }
    }
}
