import AsyncHTTPClient
import Foundation
import Hummingbird
import Logging
import NIOCore
import NIOHTTP1
import RoadtestCore
import RoadtestWire
import Synchronization

/// A scenario's time zero: set when created, or by the first request through any proxy that shares it.
public final class ChaosClock: Sendable {
    private let zero = Mutex<(monotonic: UInt64, wall: Double)?>(nil)

    public init(startingNow: Bool) {
        if startingNow { _ = start(at: Monotonic.now()) }
    }

    /// Time zero in monotonic nanoseconds, set to `now` if not set yet.
    public func start(at now: UInt64) -> UInt64 {
        zero.withLock { zero in
            if zero == nil { zero = (now, Date().timeIntervalSince1970) }
            return zero!.monotonic
        }
    }

    /// Time zero as wall-clock seconds since 1970, once set.
    public var wallClockZero: Double? { zero.withLock { $0?.wall } }
}

/// A request context that keeps the connection's channel, so the proxy can drop a connection (a reset, a cut
/// stream) the way a failing network does.
public struct ChaosRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    public let channel: any Channel

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        channel = source.channel
    }
}

/// The fault-injecting reverse proxy behind `roadtest chaos` and `roadtest drill`. Every request is forwarded to
/// the upstream origin with its path unchanged, and its response streamed back as it arrives (no buffering),
/// unless the fault plan picks a fault for it: an HTTP error answered by the proxy (429 with Retry-After, 500,
/// 503), a stall, a reset connection, a stream cut after some events, a corrupted event, an error event, or a
/// response slowed down by a factor. Every request is logged as one `ChaosLogEntry`.
///
/// ```swift
/// let proxy = ChaosProxy(options: .init(upstream: "http://127.0.0.1:8080", plan: plan))
/// let app = proxy.makeApplication(port: 0) { port in print("listening on \(port)") }
/// try await app.runService()
/// ```
public final class ChaosProxy: Sendable {
    public struct Options: Sendable {
        /// The upstream origin, `http://host:port` (a path, if any, is ignored: paths are forwarded unchanged).
        public var upstream: String
        public var plan: FaultPlan
        /// The candidate this proxy stands in front of (drills), recorded in the log.
        public var candidate: String?
        /// Largest request body accepted.
        public var maxBodySize: Int

        public init(upstream: String, plan: FaultPlan, candidate: String? = nil, maxBodySize: Int = 64 << 20) {
            self.upstream = upstream
            self.plan = plan
            self.candidate = candidate
            self.maxBodySize = maxBodySize
        }
    }

    struct State {
        var holds: [Int: @Sendable () -> Void] = [:]
        var released = false
        var nextID = 0
        var occurrences: [UInt64: Int] = [:]
        var entries: [ChaosLogEntry] = []
    }

    public let options: Options
    /// The scenario clock (shared by the proxies of one drill).
    public let clock: ChaosClock
    let origin: String
    let client: HTTPClient
    let ownsClient: Bool
    let state = Mutex(State())
    let onLog: @Sendable (ChaosLogEntry) -> Void

    /// - Parameters:
    ///   - clock: the scenario's clock; several proxies of one drill share it.
    ///   - onLog: called with each request's log entry when its response ends.
    public init(
        options: Options,
        clock: ChaosClock = ChaosClock(startingNow: true),
        client: HTTPClient? = nil,
        onLog: @escaping @Sendable (ChaosLogEntry) -> Void = { _ in }
    ) throws {
        guard let url = URL(string: options.upstream), let scheme = url.scheme, let host = url.host,
            scheme == "http" || scheme == "https"
        else {
            throw RoadtestError(
                .invalidArgument,
                "upstream '\(options.upstream)' is not an http(s) origin",
                hint: "for example --upstream http://127.0.0.1:8080"
            )
        }
        self.origin = "\(scheme)://\(host)" + (url.port.map { ":\($0)" } ?? "")
        self.options = options
        self.clock = clock
        self.onLog = onLog
        if let client {
            self.client = client
            ownsClient = false
        } else {
            var configuration = HTTPClient.Configuration()
            configuration.decompression = .disabled
            configuration.connectionPool = .init(
                idleTimeout: .seconds(4),
                concurrentHTTP1ConnectionsPerHostSoftLimit: 1024
            )
            configuration.connectionPool.retryConnectionEstablishment = false
            configuration.timeout = .init(connect: .seconds(10), read: nil)
            configuration.httpVersion = .http1Only
            self.client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
            ownsClient = true
        }
    }

    /// Every request logged so far, in the order their responses ended.
    public var entries: [ChaosLogEntry] { state.withLock { $0.entries } }

    public func shutdown() async {
        releaseHolds()
        if ownsClient { try? await client.shutdown() }
    }

    /// The proxy as a Hummingbird application on `host:port` (port 0 picks a free port; `onRunning` gets it).
    public func makeApplication(
        host: String = "127.0.0.1",
        port: Int,
        onRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) -> some ApplicationProtocol {
        // A test tool: any address the user names.
        HTTPServer.makeApplication(
            responder: Responder(proxy: self),
            name: "chaos",
            host: host,
            port: port,
            onRunning: onRunning
        )
    }

    struct Responder: HTTPResponder {
        let proxy: ChaosProxy

        func respond(to request: Request, context: ChaosRequestContext) async throws -> Response {
            try await proxy.handle(request, context: context)
        }
    }

    /// The connection was dropped on purpose (a reset, a stall's end, a cut).
    struct Dropped: Error {}

    // MARK: - Handling

    func handle(_ request: Request, context: ChaosRequestContext) async throws -> Response {
        let arrival = Monotonic.now()
        let body = try await request.body.collect(upTo: options.maxBodySize)
        let hash = FaultPlan.hash(body.readableBytesView)
        let (id, occurrence) = state.withLock { state -> (Int, Int) in
            state.nextID += 1
            let occurrence = state.occurrences[hash, default: 0]
            state.occurrences[hash] = occurrence + 1
            return (state.nextID, occurrence)
        }
        let elapsed = Monotonic.seconds(from: clock.start(at: arrival), to: arrival)
        let decision = options.plan.decide(bodyHash: hash, occurrence: occurrence, elapsed: elapsed)
        let path = request.uri.description
        var entry = ChaosLogEntry(
            time: "",
            t: (elapsed * 1000).rounded() / 1000,
            id: id,
            method: request.method.rawValue,
            path: path,
            fault: decision?.rule.kind.rawValue,
            kind: decision?.rule.kind.category,
            window: decision?.window,
            candidate: options.candidate
        )
        let format = WireFormat(path: request.uri.path)
        let rule = decision?.rule

        switch rule?.kind {
        case .http429:
            finish(&entry, status: 429, arrival: arrival)
            return Self.error(
                .tooManyRequests,
                format: format,
                type: format == .anthropic ? "rate_limit_error" : "rate_limit_exceeded",
                message: "rate limit injected by roadtest chaos",
                retryAfter: rule?.retryAfter
            )
        case .http500:
            finish(&entry, status: 500, arrival: arrival)
            return Self.error(
                .internalServerError,
                format: format,
                type: "api_error",
                message: "server error injected by roadtest chaos"
            )
        case .http503:
            finish(&entry, status: 503, arrival: arrival)
            return Self.error(
                .serviceUnavailable,
                format: format,
                type: "overloaded_error",
                message: "overload injected by roadtest chaos"
            )
        case .reset:
            finish(&entry, status: nil, arrival: arrival)
            await Self.reset(context.channel)
            throw Dropped()
        case .stall:
            await hold(id: id, channel: context.channel, seconds: rule?.stallHold ?? 120)
            finish(&entry, status: nil, arrival: arrival)
            await Self.reset(context.channel)
            throw Dropped()
        default:
            break
        }

        var upstreamRequest = HTTPClientRequest(url: origin + path)
        upstreamRequest.method = HTTPMethod(rawValue: request.method.rawValue)
        for field in request.headers where !Self.hopByHop.contains(field.name.canonicalName) {
            upstreamRequest.headers.add(name: field.name.rawName, value: field.value)
        }
        upstreamRequest.body = .bytes(body)
        let upstream: HTTPClientResponse
        do {
            upstream = try await client.execute(upstreamRequest, timeout: .hours(24))
        } catch {
            entry.fault = nil
            entry.kind = nil
            finish(&entry, status: 502, arrival: arrival)
            return Self.error(.badGateway, format: format, type: "api_error", message: "upstream unreachable: \(error)")
        }
        let status = Int(upstream.status.code)
        entry.upstreamStatus = status
        var headers = HTTPFields()
        for header in upstream.headers where !Self.hopByHop.contains(header.name.lowercased()) {
            if let name = HTTPFields.Element.Name(header.name) {
                headers.append(HTTPFields.Element(name: name, value: header.value))
            }
        }
        // Body faults strike answers, not upstream errors (those pass through unchanged and are not counted).
        let bodyRule = (200..<300).contains(status) ? rule : nil
        if rule != nil && bodyRule == nil {
            entry.fault = nil
            entry.kind = nil
            entry.window = nil
        }
        let contentType = upstream.headers.first(name: "content-type") ?? ""
        let isStream =
            contentType.contains("text/event-stream") || contentType.contains("application/vnd.amazon.eventstream")
        let factor = bodyRule?.slowFactor ?? 1
        // Slowing down: each piece leaves the proxy at `factor` times the time it took to reach it. The upstream is
        // read as fast as it sends, so pieces are stamped with their true arrival.
        if factor > 1 { await Self.sleep(until: Self.scaled(arrival, Monotonic.now(), factor)) }
        let channel = context.channel
        return Response(
            status: HTTPResponse.Status(code: status),
            headers: headers,
            body: ResponseBody { [entry] writer in
                var entry = entry
                var relay = Relay(rule: bodyRule, format: format, isStream: isStream)
                do {
                    var dropped = false
                    if factor > 1 {
                        for try await (buffer, stamp) in Self.stamped(upstream.body) {
                            await Self.sleep(until: Self.scaled(arrival, stamp, factor))
                            dropped = try await Self.write(relay.feed(buffer), to: &writer)
                            if dropped { break }
                        }
                    } else {
                        for try await buffer in upstream.body {
                            dropped = try await Self.write(relay.feed(buffer), to: &writer)
                            if dropped { break }
                        }
                    }
                    if !dropped { dropped = try await Self.write(relay.finish(), to: &writer) }
                    entry.events = relay.events
                    if dropped {
                        self.finish(&entry, status: status, arrival: arrival)
                        // A cut ends the stream in order (FIN after the pending writes, no final chunk): every
                        // event written before it reaches the client, so the same seed cuts at the same byte.
                        try? await channel.close(mode: .output)
                        throw Dropped()
                    }
                    try await writer.finish(nil)
                    // Logged once the client has the whole response: the log is never on its path.
                    self.finish(&entry, status: status, arrival: arrival)
                } catch let error as Dropped {
                    throw error
                } catch {
                    // The client went away (or the upstream broke): log what was passed on.
                    entry.events = relay.events
                    self.finish(&entry, status: status, arrival: arrival)
                    throw error
                }
            }
        )
    }

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
