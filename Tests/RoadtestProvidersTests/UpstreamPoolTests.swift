import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import RoadtestCore
import RoadtestProviders
import Synchronization
import Testing

/// The transport's own keep-alive connections against a plain NIO HTTP/1.1 server that counts connections and
/// requests: reuse, servers that close (with and without saying so), cancellation and the attempt deadline.
@Suite struct UpstreamPoolTests {
    static let completion =
        #"{"choices":[{"index":0,"message":{"role":"assistant","content":"ok"},"finish_reason":"stop"}],"usage":{"prompt_tokens":3,"completion_tokens":1}}"#

    func request(timeout: Double = 5) -> ChatRequest {
        ChatRequest(model: "m", messages: [Message(role: "user", content: "hi")], stream: false, timeout: timeout)
    }

    /// A new server's connection is first reused once it stayed open `proofDelay` past its answer (the second
    /// request waits for that); from then on requests share it at once.
    @Test func sequentialRequestsShareOneConnection() async throws {
        try await CountingServer.with(.keepAlive) { server, baseURL in
            try await HTTPTransport.with { transport in
                let provider = OpenAIProvider(baseURL: baseURL, apiKey: "sk-test", transport: transport)
                for _ in 0..<20 {
                    let response = await provider.send(request())
                    #expect(response.attemptClass == .ok, "\(response.message ?? "")")
                    #expect(response.output == "ok")
                }
            }
            #expect(server.requests == 20)
            #expect(server.connections == 1, "\(server.connections) connections for 20 sequential requests")
            // The request as it left: one head with the host, the length and the key, then the body.
            let head = try #require(server.lastHead)
            #expect(head.headers["host"].first == "127.0.0.1:\(server.port)")
            #expect(head.headers["content-length"].first.flatMap(Int.init) == server.lastBodyBytes)
            #expect(head.headers["authorization"].first == "Bearer sk-test")
        }
    }

    /// `Connection: close`, and a server that closes after every answer without saying so (llama-server does): every
    /// request is answered, each on its own connection.
    @Test(arguments: [CountingServer.Mode.closeHeader, .silentClose])
    func serversThatCloseAfterEachAnswerAreNotBlamed(mode: CountingServer.Mode) async throws {
        try await CountingServer.with(mode) { server, baseURL in
            try await HTTPTransport.with { transport in
                let provider = OpenAIProvider(baseURL: baseURL, apiKey: nil, transport: transport)
                for _ in 0..<10 {
                    let response = await provider.send(request())
                    #expect(response.attemptClass == .ok, "\(mode): \(response.message ?? "")")
                    // The server's close reaches the client before its next request (as between real requests).
                    try await Task.sleep(for: .milliseconds(20))
                }
            }
            #expect(server.requests == 10)
            #expect(server.connections == 10)
        }
    }

    /// Back to back, with no pause for the server's close to arrive: no request is written into a connection the
    /// server is closing (a new server's connection is reused only after it stayed open a while), the client learns
    /// from the close that the server closes after each answer, and every request is answered.
    @Test func aServerThatClosesAfterEachAnswerIsLearned() async throws {
        try await CountingServer.with(.silentClose) { server, baseURL in
            var failures = 0
            try await HTTPTransport.with { transport in
                let provider = OpenAIProvider(baseURL: baseURL, apiKey: nil, transport: transport)
                for _ in 0..<30 where await provider.send(request()).attemptClass != .ok { failures += 1 }
            }
            #expect(failures == 0, "\(failures) of 30 requests failed")
            #expect(server.requests == 30)
            #expect(server.connections == 30)
        }
    }

    /// An answer that never ends: the attempt's deadline ends it as a timeout and closes its connection; the next
    /// request goes on a new connection and is answered.
    @Test func aStalledAnswerTimesOutAndItsConnectionIsNotReused() async throws {
        try await CountingServer.with(.stallFirst) { server, baseURL in
            try await HTTPTransport.with { transport in
                let provider = OpenAIProvider(baseURL: baseURL, apiKey: nil, transport: transport)
                let stalled = await provider.send(request(timeout: 0.3))
                #expect(stalled.attemptClass == .timeout)
                #expect(stalled.message?.contains("no complete response within") == true, "\(stalled.message ?? "")")
                let next = await provider.send(request())
                #expect(next.attemptClass == .ok, "\(next.message ?? "")")
            }
            #expect(server.connections == 2)
            #expect(server.closedByClient >= 1)
        }
    }

    /// A server that is not there: a connection failure, reported as such, quickly.
    @Test func aRefusedConnectionIsAConnectionFailure() async throws {
        let port = try CountingServer.unusedPort()
        try await HTTPTransport.with { transport in
            let provider = OpenAIProvider(baseURL: "http://127.0.0.1:\(port)/v1", apiKey: nil, transport: transport)
            let response = await provider.send(request())
            #expect(response.attemptClass == .connection)
            #expect(response.message?.contains("127.0.0.1:\(port)") == true, "\(response.message ?? "")")
        }
    }
}

/// A minimal HTTP/1.1 server on NIO (no framework in between), counting what it sees.
final class CountingServer: Sendable {
    enum Mode: Sendable, CustomTestStringConvertible {
        case keepAlive, closeHeader, silentClose, stallFirst
        var testDescription: String { "\(self)" }
    }

    struct State {
        var connections = 0
        var requests = 0
        var closedByClient = 0
        var lastHead: HTTPRequestHead?
        var lastBodyBytes = 0
    }

    let mode: Mode
    let state = Mutex(State())
    private(set) nonisolated(unsafe) var port = 0

    init(mode: Mode) {
        self.mode = mode
    }

    var connections: Int { state.withLock { $0.connections } }
    var requests: Int { state.withLock { $0.requests } }
    var closedByClient: Int { state.withLock { $0.closedByClient } }
    var lastHead: HTTPRequestHead? { state.withLock { $0.lastHead } }
    var lastBodyBytes: Int { state.withLock { $0.lastBodyBytes } }

    static func with(_ mode: Mode, _ body: (CountingServer, String) async throws -> Void) async throws {
        let server = CountingServer(mode: mode)
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(Handler(server: server))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        server.port = channel.localAddress?.port ?? 0
        do {
            try await body(server, "http://127.0.0.1:\(server.port)/v1")
        } catch {
            try? await channel.close()
            throw error
        }
        try? await channel.close()
    }

    /// A loopback port nothing listens on (bound, then released).
    static func unusedPort() throws -> Int {
        let channel = try ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .bind(host: "127.0.0.1", port: 0).wait()
        let port = channel.localAddress?.port ?? 1
        try channel.close().wait()
        return port
    }

    final class Handler: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart
        let server: CountingServer
        var body = 0
        var answered = false

        init(server: CountingServer) {
            self.server = server
        }

        func channelActive(context: ChannelHandlerContext) {
            server.state.withLock { $0.connections += 1 }
            context.fireChannelActive()
        }

        func channelInactive(context: ChannelHandlerContext) {
            if server.mode == .stallFirst, !answered { server.state.withLock { $0.closedByClient += 1 } }
            context.fireChannelInactive()
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head(let head):
                body = 0
                server.state.withLock { $0.lastHead = head }
            case .body(let buffer):
                body += buffer.readableBytes
            case .end:
                let (number, bytes) = server.state.withLock { state -> (Int, Int) in
                    state.requests += 1
                    state.lastBodyBytes = body
                    return (state.requests, body)
                }
                _ = bytes
                answer(context: context, number: number)
            }
        }

        func answer(context: ChannelHandlerContext, number: Int) {
            var head = HTTPResponseHead(version: .http1_1, status: .ok)
            head.headers.add(name: "Content-Type", value: "application/json")
            if server.mode == .stallFirst, number == 1 {
                // A head and half a body, then nothing.
                head.headers.add(name: "Content-Length", value: "1000")
                context.write(wrapOutboundOut(.head(head)), promise: nil)
                context.writeAndFlush(
                    wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: "{\"choices\"")))),
                    promise: nil
                )
                return
            }
            answered = true
            let body = ByteBuffer(string: UpstreamPoolTests.completion)
            head.headers.add(name: "Content-Length", value: String(body.readableBytes))
            if server.mode == .closeHeader { head.headers.add(name: "Connection", value: "close") }
            context.write(wrapOutboundOut(.head(head)), promise: nil)
            context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
            let done = context.eventLoop.makePromise(of: Void.self)
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: done)
            if server.mode == .closeHeader || server.mode == .silentClose {
                done.futureResult.whenComplete { _ in context.close(promise: nil) }
            }
        }
    }
}
