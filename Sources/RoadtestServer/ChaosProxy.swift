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

}
