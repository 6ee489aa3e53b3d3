import AsyncHTTPClient
import Foundation
import Hummingbird
import Logging
import NIOCore
import NIOHTTP1
import RoadtestCore
import RoadtestWire
import Synchronization

extension ChaosProxy {
    /// Writes a relay's output; true when it said to drop the connection (nothing after that is written).
    static func write(_ outputs: [Relay.Output], to writer: inout any ResponseBodyWriter) async throws -> Bool {
        for output in outputs {
            switch output {
            case .bytes(let bytes): try await writer.write(bytes)
            case .drop: return true
            }
        }
        return false
    }

    func finish(_ entry: inout ChaosLogEntry, status: Int?, arrival: UInt64) {
        entry.status = status
        if entry.time.isEmpty {
            // The wall-clock time of arrival: now minus the monotonic time since.
            let since = Monotonic.seconds(from: arrival, to: Monotonic.now())
            entry.time = Self.timestamp(Date(timeIntervalSinceNow: -since))
        }
        entry.durationMS = (Monotonic.seconds(from: arrival, to: Monotonic.now()) * 1e6).rounded() / 1000
        let done = entry
        state.withLock { state in
            if state.entries.count >= 1_000_000 { state.entries.removeFirst(100_000) }
            state.entries.append(done)
        }
        onLog(done)
    }

    static let formatter = Mutex<ISO8601DateFormatter>(
        {
            let formatter = ISO8601DateFormatter()
            formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
            return formatter
        }()
    )

    static func timestamp(_ date: Date) -> String { formatter.withLock { $0.string(from: date) } }

    /// Headers that belong to one connection, not to the message (RFC 9110 section 7.6.1), and the length, which
    /// the proxy's own framing sets.
    static let hopByHop: Set<String> = [
        "connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "trailer", "upgrade", "host",
        "content-length", "proxy-authenticate", "proxy-authorization",
    ]

    /// The time a piece that reached the proxy at `stamp` leaves it when slowed down by `factor`.
    static func scaled(_ arrival: UInt64, _ stamp: UInt64, _ factor: Double) -> UInt64 {
        arrival + UInt64(Double(stamp &- arrival) * factor)
    }

    /// The body's buffers with their arrival times, read ahead by a task of their own.
    static func stamped(_ body: HTTPClientResponse.Body) -> AsyncThrowingStream<(ByteBuffer, UInt64), any Error> {
        AsyncThrowingStream { continuation in
            let reader = Task {
                do {
                    for try await buffer in body { continuation.yield((buffer, Monotonic.now())) }
                    continuation.finish()
                } catch {
                    continuation.finish(throwing: error)
                }
            }
            continuation.onTermination = { _ in reader.cancel() }
        }
    }

    static func sleep(until deadline: UInt64) async {
        let now = Monotonic.now()
        guard deadline > now else { return }
        try? await Task.sleep(nanoseconds: deadline - now)
    }

    /// Closes the connection with a TCP reset (SO_LINGER 0), as a dying server or middlebox does.
    static func reset(_ channel: any Channel) async {
        if let provider = channel as? any SocketOptionProvider {
            _ = try? await provider.setSoLinger(linger(l_onoff: 1, l_linger: 0)).get()
        }
        try? await channel.close()
    }

    /// Waits until the client closes the connection, `seconds` pass, or the proxy releases every hold (it is
    /// stopping), sending nothing.
    func hold(id: Int, channel: any Channel, seconds: Double) async {
        let once = Mutex<CheckedContinuation<Void, Never>?>(nil)
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            once.withLock { $0 = continuation }
            let resume: @Sendable () -> Void = { once.withLock { $0.take() }?.resume() }
            let released = state.withLock { state -> Bool in
                state.holds[id] = resume
                return state.released
            }
            if released { resume() }
            channel.closeFuture.whenComplete { _ in resume() }
            channel.eventLoop.scheduleTask(in: .nanoseconds(Int64(max(0, seconds) * 1e9))) { resume() }
        }
        state.withLock { _ = $0.holds.removeValue(forKey: id) }
    }

    /// Ends every stall now and any later one at once: call before stopping the server, which waits for requests
    /// in flight.
    public func releaseHolds() {
        let holds = state.withLock { state -> [@Sendable () -> Void] in
            state.released = true
            return Array(state.holds.values)
        }
        for resume in holds { resume() }
    }

    /// The wire format of a request, from its path: errors and error events are written in it.
    public enum WireFormat: Sendable {
        /// OpenAI chat completions.
        case openAI
        /// Anthropic Messages (`/messages`).
        case anthropic
        /// OpenAI's Responses API (`/responses`).
        case responses
        /// AWS Bedrock's Converse API (`/converse`, `/converse-stream`): streams in event-stream messages.
        case bedrock

        init(path: String) {
            if path.hasSuffix("/converse") || path.hasSuffix("/converse-stream") {
                self = .bedrock
            } else if path.hasSuffix("/messages") {
                self = .anthropic
            } else if path.hasSuffix("/responses") {
                self = .responses
            } else {
                self = .openAI
            }
        }
    }

    static func error(
        _ status: HTTPResponse.Status,
        format: WireFormat,
        type: String,
        message: String,
        retryAfter: Double? = nil
    ) -> Response {
        var headers: HTTPFields = [.contentType: "application/json"]
        if let retryAfter {
            headers[.retryAfter] = retryAfter.rounded() == retryAfter ? String(Int(retryAfter)) : String(retryAfter)
        }
        let body =
            format == .anthropic
            ? WireJSON.data(AnthropicMessages.ErrorBody(type: type, message: message))
            : WireJSON.data(OpenAIChat.ErrorBody(message: message, type: type))
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }
}
