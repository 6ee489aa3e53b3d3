import NIOCore
import NIOHTTP1
import NIOPosix
import RoadtestCore
import RoadtestProviders

/// Measures the load generator against itself before a load's levels: an endpoint in this process answers every
/// request at once with a canned OpenAI stream (two chunks and `[DONE]`, as a zero-latency server would), and the
/// generator loads it through the same transport, event loops and code as the real levels. What it reaches is the
/// most this process can send on this machine (the endpoint shares the CPU, as a server on the same machine would);
/// its latency at one stream is the time the generator itself adds to every measurement.
public enum GeneratorCalibration {
    /// Measures the ceiling at `concurrency` streams for `duration` seconds and the added latency at one stream.
    public static func measure(
        transport: HTTPTransport,
        concurrency: Int,
        duration: Double = 1
    ) async throws -> GeneratorReport {
        let endpoint = try await CalibrationEndpoint.start(group: transport.eventLoopGroup)
        defer { endpoint.close() }
        let provider = OpenAIProvider(
            baseURL: "http://127.0.0.1:\(endpoint.port)/v1",
            apiKey: nil,
            transport: transport
        )
        let request = ChatRequest(
            model: "calibration",
            messages: [Message(role: "user", content: "calibration")],
            maxTokens: 16,
            timeout: 10
        )
        let generator = LoadGenerator(
            provider: provider,
            source: RequestSource(requests: [request]),
            executors: transport.executors
        )
        let alone = await generator.run(LoadLevel(mode: .concurrency(1), duration: duration / 2, warmup: 0.1))
        let loaded = await generator.run(
            LoadLevel(mode: .concurrency(concurrency), duration: duration, warmup: min(0.25, duration / 4))
        )
        let errors = alone.errored + loaded.errored
        guard errors == 0 else {
            throw RoadtestError(
                .providerSetup,
                "the generator's calibration against its own endpoint failed (\(errors) errors): \(loaded.errors)"
            )
        }
        return GeneratorReport(
            ceilingRPS: loaded.achievedRPS,
            ceilingConcurrency: concurrency,
            addedLatency: GeneratorReport.Latency(p50: alone.e2e.p50, p99: alone.e2e.p99)
        )
    }
}

/// A zero-latency OpenAI-compatible endpoint on loopback: every request gets the same streamed answer, written in
/// one piece as soon as the request has been read.
final class CalibrationEndpoint: Sendable {
    let channel: any Channel
    var port: Int { channel.localAddress?.port ?? 0 }

    private init(channel: any Channel) {
        self.channel = channel
    }

    static func start(group: any EventLoopGroup) async throws -> CalibrationEndpoint {
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 1024)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        ByteToMessageHandler(HTTPRequestDecoder(leftOverBytesStrategy: .dropBytes))
                    )
                    try channel.pipeline.syncOperations.addHandler(CannedAnswer())
                }
            }
            .bind(host: "127.0.0.1", port: 0)
            .get()
        return CalibrationEndpoint(channel: channel)
    }

    func close() { channel.close(promise: nil) }
}

/// Answers each request, once it has been read, with the same bytes.
private final class CannedAnswer: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = ByteBuffer

    static let body =
        #"data: {"id":"c","object":"chat.completion.chunk","created":0,"model":"calibration","choices":[{"index":0,"delta":{"role":"assistant","content":"ok"},"finish_reason":null}]}"#
        + "\n\n"
        + #"data: {"id":"c","object":"chat.completion.chunk","created":0,"model":"calibration","choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"usage":{"prompt_tokens":3,"completion_tokens":1,"total_tokens":4}}"#
        + "\n\ndata: [DONE]\n\n"
    static let answer =
        "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nContent-Length: \(body.utf8.count)\r\n\r\n" + body

    private var buffer: ByteBuffer?

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard case .end = unwrapInboundIn(data) else { return }
        if buffer == nil { buffer = context.channel.allocator.buffer(string: Self.answer) }
        context.writeAndFlush(wrapOutboundOut(buffer!), promise: nil)
    }
}
