import Foundation
import Hummingbird
import Logging
import NIOCore
import RoadtestCore
import Synchronization

/// The provider simulator: a real HTTP server speaking the OpenAI and Anthropic wire formats with scripted
/// answers, latency, capacity and faults. It is where measurement ground truth is known.
///
/// ```swift
/// let app = Simulator(profile: profile).makeApplication(host: "127.0.0.1", port: 0)
/// try await app.runService()
/// ```
public final class Simulator: Sendable {
    public let profile: SimulatorProfile
    let state: Mutex<State>
    let startedAt = Monotonic.now()

    struct State {
        var requestCounts: [String: Int] = [:]
        /// Requests per (model, last user message), for noisy models.
        var promptCounts: [String: Int] = [:]
        var slots: [String: SlotPool] = [:]
        var log: [ServedRequest] = []
        var received: [ReceivedRequest] = []
    }

    /// A request as it arrived (`GET /_sim/received`): how a test checks what a client sent. Credentials are
    /// redacted: a header that carries one keeps its name, not its value.
    public struct ReceivedRequest: Sendable, Codable {
        public var method: String
        public var path: String
        public var query: String?
        /// Header names lowercased, with their values (credentials replaced by `[redacted]`).
        public var headers: [String: String]
        public var body: JSONValue
        /// The images and documents the body carried, decoded.
        public var attachments: [ReceivedAttachment]
    }

    public static let credentialHeaders: Set<String> = [
        "authorization", "api-key", "x-api-key", "x-goog-api-key", "x-amz-security-token",
    ]

    func record(_ request: Request, body: JSONValue) {
        var headers: [String: String] = [:]
        for field in request.headers {
            let name = field.name.canonicalName
            headers[name] = Self.credentialHeaders.contains(name) ? "[redacted]" : field.value
        }
        let entry = ReceivedRequest(
            method: request.method.rawValue,
            path: request.uri.path,
            query: request.uri.query,
            headers: headers,
            body: body,
            attachments: Self.attachments(in: body)
        )
        state.withLock { state in
            if state.received.count >= 1_000 { state.received.removeFirst(100) }
            state.received.append(entry)
        }
    }

    /// What the simulator did for one request, on its own monotonic clock (nanoseconds).
    public struct ServedRequest: Sendable, Codable {
        public var model: String
        public var fault: String
        public var receivedAt: UInt64
        public var firstContentAt: UInt64?
        public var lastContentAt: UInt64?
        public var chunks: Int
    }

    public init(profile: SimulatorProfile = SimulatorProfile()) {
        self.profile = profile
        self.state = Mutex(State())
    }

    /// Requests served so far (most recent 100,000).
    public var servedRequests: [ServedRequest] { state.withLock { $0.log } }

    /// Requests as they arrived (most recent 1,000), oldest first.
    public var receivedRequests: [ReceivedRequest] { state.withLock { $0.received } }

    public func forgetReceivedRequests() { state.withLock { $0.received.removeAll() } }

    /// Builds the router: `/v1/chat/completions`, `/v1/messages`, `/v1/models`, `/health`, `/_sim/requests`.
    public func makeRouter() -> Router<BasicRequestContext> {
        let router = Router()
        router.get("/health") { _, _ in "{\"status\":\"ok\"}" }
        router.get("/v1/models") { [profile] _, _ -> Response in
            let names = profile.models.keys.sorted().map {
                JSONValue.object(["id": .string($0), "object": .string("model")])
            }
            return Self.json(.object(["object": .string("list"), "data": .array(names)]))
        }
        router.post("/v1/chat/completions") { request, _ in try await self.handle(request, format: .openAI) }
        router.post("/chat/completions") { request, _ in try await self.handle(request, format: .openAI) }
        router.post("/v1/messages") { request, _ in try await self.handle(request, format: .anthropic) }
        router.post("/v1/responses") { request, _ in try await self.handle(request, format: .responses) }
        router.post("/responses") { request, _ in try await self.handle(request, format: .responses) }
        // Azure OpenAI: a deployment's chat completions (the deployment is the model when the body names none),
        // and the v1 form.
        router.post("/openai/deployments/:deployment/chat/completions") { request, context in
            try await self.handle(request, format: .openAI, pathModel: context.parameters.get("deployment"))
        }
        router.post("/openai/v1/chat/completions") { request, _ in try await self.handle(request, format: .openAI) }
        // Gemini (and its Vertex AI form): `models/{model}:generateContent` or `:streamGenerateContent`.
        for path in [
            "/v1beta/models/:action", "/v1/models/:action",
            "/v1/projects/:project/locations/:location/publishers/google/models/:action",
            "/v1beta1/projects/:project/locations/:location/publishers/google/models/:action",
        ] {
            router.post(RouterPath(path)) { request, context in
                let action = context.parameters.get("action").map { $0.removingPercentEncoding ?? $0 } ?? ""
                guard let colon = action.lastIndex(of: ":") else {
                    return Self.error(.notFound, "expected models/MODEL:generateContent or :streamGenerateContent")
                }
                let method = action[action.index(after: colon)...]
                guard method == "generateContent" || method == "streamGenerateContent" else {
                    return Self.error(.notFound, "unknown method '\(method)'")
                }
                return try await self.handle(
                    request,
                    format: .gemini,
                    pathModel: String(action[..<colon]),
                    pathStream: method == "streamGenerateContent"
                )
            }
        }
        // AWS Bedrock: the model ID is the path's segment, the stream the path's last word.
        for (suffix, stream) in [("converse", false), ("converse-stream", true)] {
            router.post("/model/:model/\(suffix)") { request, context in
                let model = context.parameters.get("model").map { $0.removingPercentEncoding ?? $0 } ?? "default"
                return try await self.handle(request, format: .bedrock, pathModel: model, pathStream: stream)
            }
        }
        router.get("/_sim/requests") { _, _ -> Response in
            let data = (try? JSONEncoder().encode(self.servedRequests)) ?? Data("[]".utf8)
            return Response(
                status: .ok,
                headers: [.contentType: "application/json"],
                body: .init(byteBuffer: ByteBuffer(bytes: data))
            )
        }
        router.get("/_sim/received") { _, _ -> Response in
            let data = (try? JSONEncoder().encode(self.state.withLock { $0.received })) ?? Data("[]".utf8)
            return Response(
                status: .ok,
                headers: [.contentType: "application/json"],
                body: .init(byteBuffer: ByteBuffer(bytes: data))
            )
        }
        router.delete("/_sim/received") { _, _ -> HTTPResponse.Status in
            self.state.withLock { $0.received.removeAll() }
            return .noContent
        }
        router.delete("/_sim/requests") { _, _ -> HTTPResponse.Status in
            self.state.withLock { $0.log.removeAll() }
            return .noContent
        }
        return router
    }

    /// An application serving the simulator on `host:port` (port 0 picks a free port; `onRunning` gets it).
    public func makeApplication(
        host: String = "127.0.0.1",
        port: Int,
        onRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    )
        -> some ApplicationProtocol
    {
        // A test tool: any address the user names.
        HTTPServer.makeApplication(
            router: makeRouter(),
            name: "simulator",
            host: host,
            port: port,
            onRunning: onRunning
        )
    }

    enum WireFormat {
        case openAI
        case anthropic
        /// OpenAI's Responses API.
        case responses
        /// AWS Bedrock's Converse API.
        case bedrock
        /// Google's Gemini API and Vertex AI.
        case gemini
    }

    static func json(_ value: JSONValue, status: HTTPResponse.Status = .ok) -> Response {
        Response(
            status: status,
            headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(string: value.jsonText))
        )
    }

    static func error(_ status: HTTPResponse.Status, _ message: String, headers: HTTPFields = [:]) -> Response {
        var fields = headers
        fields[.contentType] = "application/json"
        let body = JSONValue.object(["error": .object(["message": .string(message), "type": .string("simulated")])])
        return Response(status: status, headers: fields, body: .init(byteBuffer: ByteBuffer(string: body.jsonText)))
    }

    // MARK: - Handling

    func handle(
        _ request: Request,
        format: WireFormat,
        pathModel: String? = nil,
        pathStream: Bool = false
    ) async throws -> Response {
        let receivedAt = Monotonic.now()
        let body = try await request.body.collect(upTo: 16 << 20)
        guard let json = JSONValue.parse(Data(body.readableBytesView)), case .object(let received) = json else {
            return Self.error(.badRequest, "request body is not a JSON object")
        }
        record(request, body: json)
        let object: [String: JSONValue]
        switch format {
        case .responses: object = Self.chatObject(fromResponses: received)
        case .bedrock:
            object = Self.chatObject(fromConverse: received, model: pathModel ?? "default", stream: pathStream)
        case .gemini:
            object = Self.chatObject(fromGemini: received, model: pathModel ?? "default", stream: pathStream)
        case .openAI, .anthropic: object = received
        }
        let model = object["model"]?.stringValue ?? pathModel ?? "default"
        var behavior: ModelBehavior
        do {
            behavior = try profile.behavior(for: model)
        } catch {
            return Self.error(.badRequest, "\(error)")
        }
        if let agent = behavior.agent {
            let (turns, tools) = SimulatorAgent.read(object)
            switch agent.decide(turns: turns, tools: tools) {
            case .call(let name, let arguments):
                behavior.toolCall = name
                behavior.toolArguments = arguments
            case .answer(let text):
                behavior.toolCall = nil
                behavior.reply = text
                behavior.rules = []
                behavior.systemRules = []
                behavior.rightOf = nil
            }
        }
        let messages = object["messages"]?.arrayValue ?? []
        let lastUser =
            messages.last(where: { $0["role"]?.stringValue == "user" }).flatMap { Self.text(of: $0["content"]) } ?? ""
        let system =
            object["system"].flatMap { Self.text(of: $0) }
            ?? messages.first(where: { $0["role"]?.stringValue == "system" }).flatMap { Self.text(of: $0["content"]) }
        let promptTokens =
            messages.map { ProviderResponse.estimateTokens(Self.text(of: $0["content"]) ?? "") }.reduce(0, +)
            + ProviderResponse.estimateTokens(system ?? "")
        let stream = object["stream"] == .bool(true)
        let includeUsage =
            format != .openAI || (object["stream_options"]?["include_usage"] == .bool(true))
            || !stream
        let maxTokens = object["max_tokens"]?.doubleValue.map { Int($0) }

        let fault = nextFault(model: model, behavior: behavior)
        let slot = slotPool(model: model, capacity: behavior.capacity)
        await slot?.acquire()
        // Latency is scripted from when a slot serves the request: time spent queued adds to it.
        let serviceStart = Monotonic.now()
        // The lease frees the slot exactly once: when the response is done, or when it is dropped unsent.
        let lease = slot.map(SlotLease.init(pool:))

        // Faults answered before any content.
        if [.http429, .http500, .http503, .http400, .timeout].contains(fault) || (fault == .malformed && !stream) {
            log(
                Plan(
                    model: model,
                    behavior: behavior,
                    fault: fault,
                    chunks: [],
                    promptTokens: promptTokens,
                    includeUsage: false,
                    receivedAt: receivedAt,
                    serviceStart: serviceStart,
                    format: format
                ),
                first: nil,
                last: nil,
                sent: 0
            )
        }
        switch fault {
        case .http429:
            return Self.error(
                .tooManyRequests,
                "simulated rate limit",
                headers: [.retryAfter: Self.format(behavior.retryAfter)]
            )
        case .http500: return Self.error(.internalServerError, "simulated server error")
        case .http503: return Self.error(.serviceUnavailable, "simulated overload")
        case .http400: return Self.error(.badRequest, "simulated bad request")
        case .timeout:
            try? await Task.sleep(nanoseconds: UInt64(behavior.hold * 1e9))
            return Self.error(.gatewayTimeout, "simulated timeout elapsed")
        case .malformed where !stream:
            await waitOutFreezes(behavior)
            return Response(
                status: .ok,
                headers: [.contentType: "application/json"],
                body: .init(byteBuffer: ByteBuffer(string: "{\"choices\": [ {not json"))
            )
        default: break
        }

        var chunks: [String]
        if behavior.toolCall != nil {
            chunks = Self.fragments(of: behavior.toolArguments)
        } else {
            chunks = Self.chunks(of: noisyAnswer(model: model, behavior: behavior, system: system, lastUser: lastUser))
            if let maxTokens, maxTokens >= 0, chunks.count > maxTokens { chunks = Array(chunks.prefix(maxTokens)) }
        }
        let plan = Plan(
            model: model,
            behavior: behavior,
            fault: fault,
            chunks: chunks,
            promptTokens: promptTokens,
            includeUsage: includeUsage,
            receivedAt: receivedAt,
            serviceStart: serviceStart,
            format: format
        )

        if !stream {
            await waitOutFreezes(behavior)
            let first = serviceStart + UInt64(behavior.timeToFirstToken * 1e9)
            let last = first + UInt64(Double(max(0, chunks.count - 1)) * behavior.interTokenLatency * 1e9)
            await Self.sleep(until: last)
            log(
                plan,
                first: chunks.isEmpty ? nil : Monotonic.now(),
                last: chunks.isEmpty ? nil : Monotonic.now(),
                sent: chunks.count
            )
            return Response(
                status: .ok,
                headers: [.contentType: "application/json"],
                body: .init(byteBuffer: ByteBuffer(bytes: plan.completeBody()))
            )
        }

        let contentType = format == .bedrock ? "application/vnd.amazon.eventstream" : "text/event-stream"
        let headers: HTTPFields = [.contentType: contentType, .cacheControl: "no-cache"]
        return Response(
            status: .ok,
            headers: headers,
            body: ResponseBody { writer in
                defer { lease?.release() }
                try await self.stream(plan, to: &writer)
            }
        )
    }

}

/// One held slot, released once: explicitly, or when the response holding it is dropped.
final class SlotLease: Sendable {
    let pool: SlotPool
    let isReleased = Atomic<Bool>(false)

    init(pool: SlotPool) {
        self.pool = pool
    }

    func release() {
        if !isReleased.exchange(true, ordering: .acquiringAndReleasing) { pool.release() }
    }

    deinit { release() }
}
