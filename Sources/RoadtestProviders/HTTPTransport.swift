import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import RoadtestCore
import Synchronization

/// Set once when an attempt's deadline passes.
final class ExpiryFlag: Sendable {
    private let state = Mutex(false)
    func set() { state.withLock { $0 = true } }
    var isSet: Bool { state.withLock { $0 } }
}

/// The shared HTTP client every HTTP provider uses, sized for high concurrency to one host.
public final class HTTPTransport: Sendable {
    public let client: HTTPClient

    public init(maximumConnectionsPerHost: Int = 1024) {
        var configuration = HTTPClient.Configuration()
        // Idle connections are dropped before common servers' keep-alive timeouts (llama-server's is 5 s), so a
        // request is not sent on a connection the server is closing.
        configuration.connectionPool = .init(idleTimeout: .seconds(4), concurrentHTTP1ConnectionsPerHostSoftLimit: maximumConnectionsPerHost)
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

    /// What the stream interpreter is told about each event.
    typealias Interpret = @Sendable (inout StreamState, ServerSentEvent) -> StreamStep

    struct StreamState: Sendable {
        var openAI = OpenAIStreamInterpreter()
        var anthropic = AnthropicStreamInterpreter()
    }

    /// Sends a JSON POST and reads the reply: as an SSE stream when `stream`, else as one JSON body.
    /// Timestamps are taken as each buffer arrives, before parsing.
    func post(
        url: String, headers: [(String, String)], body: Data, stream: Bool, timeout: Double,
        interpret: @escaping Interpret,
        finish: @escaping @Sendable (StreamState) -> (input: Int?, output: Int?, cached: Int?),
        parseBody: @escaping @Sendable (Data) -> (content: String, input: Int?, output: Int?, cached: Int?)?
    ) async -> ProviderResponse {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "Accept", value: stream ? "text/event-stream" : "application/json")
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        request.body = .bytes(ByteBuffer(bytes: body))
        let client = self.client
        let prepared = request
        // The attempt's deadline is one event-loop timer that cancels the attempt's task (no timer task per request).
        let work = Task {
            await Self.perform(
                client: client, request: prepared, stream: stream, timeout: timeout, interpret: interpret, finish: finish,
                parseBody: parseBody)
        }
        let expired = ExpiryFlag()
        let timer = client.eventLoopGroup.any().scheduleTask(in: .nanoseconds(Int64(max(0, timeout) * 1e9))) {
            expired.set()
            work.cancel()
        }
        let response = await withTaskCancellationHandler { await work.value } onCancel: { work.cancel() }
        timer.cancel()
        if expired.isSet {
            var late = ProviderResponse(
                attemptClass: .timeout, message: "no complete response within \(DurationText.format(seconds: timeout))")
            late.sentAt = response.sentAt
            return late
        }
        return response
    }

    private static func perform(
        client: HTTPClient, request: HTTPClientRequest, stream: Bool, timeout: Double, interpret: Interpret,
        finish: (StreamState) -> (input: Int?, output: Int?, cached: Int?),
        parseBody: (Data) -> (content: String, input: Int?, output: Int?, cached: Int?)?
    ) async -> ProviderResponse {
        let sent = Monotonic.now()
        let response: HTTPClientResponse
        do {
            response = try await client.execute(request, deadline: .now() + .nanoseconds(Int64((timeout + 1) * 1e9)))
        } catch {
            return ProviderResponse(attemptClass: classify(error, afterHead: false), message: describe(error))
        }
        let status = Int(response.status.code)
        if !(200..<300).contains(status) {
            var collected = Data()
            do {
                for try await buffer in response.body {
                    if collected.count < 65_536 { collected.append(contentsOf: buffer.readableBytesView) }
                }
            } catch {}
            let text = String(decoding: collected.prefix(500), as: UTF8.self)
            return ProviderResponse(
                attemptClass: attemptClass(forStatus: status), httpStatus: status,
                retryAfter: RetryAfter.seconds(response.headers.first(name: "retry-after")), message: "HTTP \(status): \(text)")
        }
        if !stream {
            var collected = Data()
            var last = sent
            do {
                for try await buffer in response.body {
                    last = Monotonic.now()
                    collected.append(contentsOf: buffer.readableBytesView)
                }
            } catch {
                return ProviderResponse(attemptClass: classify(error, afterHead: true), httpStatus: status, message: describe(error))
            }
            guard let parsed = parseBody(collected) else {
                return ProviderResponse(
                    attemptClass: .malformed, httpStatus: status,
                    message: "unparseable response body: " + String(decoding: collected.prefix(200), as: UTF8.self))
            }
            let elapsed = Monotonic.seconds(from: sent, to: last)
            var result = ProviderResponse(
                attemptClass: .ok, httpStatus: status, output: parsed.content, inputTokens: parsed.input ?? 0,
                outputTokens: parsed.output ?? ProviderResponse.estimateTokens(parsed.content), cachedInputTokens: parsed.cached ?? 0,
                isTokenCountEstimated: parsed.output == nil, timeToFirstToken: elapsed, endToEnd: elapsed,
                contentEvents: parsed.content.isEmpty ? 0 : 1)
            result.sentAt = sent
            return result
        }

        var parser = ServerSentEventParser()
        var state = StreamState()
        var output = ""
        var first: UInt64?
        var last: UInt64?
        var events = 0
        var gaps: [Double] = []
        var ended = false
        var failure: (AttemptClass, String)?
        do {
            reading: for try await buffer in response.body {
                let arrival = Monotonic.now()
                for event in parser.feed(buffer.readableBytesView) {
                    let step = interpret(&state, event)
                    if let error = step.error {
                        failure = (.malformed, error)
                        break reading
                    }
                    if let content = step.content {
                        if first == nil { first = arrival }
                        if let previous = last { gaps.append(Monotonic.seconds(from: previous, to: arrival)) }
                        last = arrival
                        output += content
                        events += 1
                    }
                    if step.isEnd { ended = true }
                }
            }
            if failure == nil, let event = parser.finish() {
                let step = interpret(&state, event)
                if let error = step.error { failure = (.malformed, error) }
                if step.isEnd { ended = true }
            }
        } catch {
            if Task.isCancelled { return ProviderResponse(attemptClass: .timeout, httpStatus: status, message: "cancelled") }
            failure = (.streamCut, "stream broke: " + describe(error))
        }
        if failure == nil && !ended { failure = (.streamCut, "stream ended before its end marker") }
        let usage = finish(state)
        var result = ProviderResponse(
            attemptClass: failure?.0 ?? .ok, httpStatus: status, output: output, inputTokens: usage.input ?? 0,
            outputTokens: usage.output ?? ProviderResponse.estimateTokens(output), cachedInputTokens: usage.cached ?? 0,
            isTokenCountEstimated: usage.output == nil, timeToFirstToken: first.map { Monotonic.seconds(from: sent, to: $0) },
            endToEnd: last.map { Monotonic.seconds(from: sent, to: $0) }, message: failure?.1, contentEvents: events)
        result.sentAt = sent
        result.interChunkGaps = gaps
        if result.attemptClass == .ok && first == nil {
            // A stream with no content at all: the model answered with nothing.
            result.endToEnd = Monotonic.seconds(from: sent, to: Monotonic.now())
        }
        return result
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
