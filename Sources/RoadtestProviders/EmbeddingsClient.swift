import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import RoadtestCore
import RoadtestWire

/// Embeddings from an OpenAI-compatible `/v1/embeddings` endpoint: for the `similar` check and for majority votes
/// that group answers by meaning.
public struct EmbeddingsClient: Sendable {
    public struct Result: Sendable {
        /// One vector per input text, in order; nil when the call failed.
        public var vectors: [[Double]]?
        /// The call as an attempt's response (class, status, input tokens, timing), to be recorded and charged.
        public var response: ProviderResponse
    }

    public let url: String
    public let model: String?
    public let headers: [(String, String)]
    public let transport: HTTPTransport

    /// The client for the endpoint an OpenAI-compatible provider talks to.
    public init(provider: OpenAIProvider, model: String?) {
        var base = provider.url
        if base.hasSuffix("/chat/completions") { base.removeLast("/chat/completions".count) }
        self.url = base + "/embeddings"
        self.model = model
        self.headers = provider.requestHeaders
        self.transport = provider.transport
    }

    /// Embeds `texts` in one request.
    public func embed(_ texts: [String], timeout: Double = 60) async -> Result {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        request.body = .bytes(ByteBuffer(bytes: WireJSON.data(OpenAIEmbeddings.Request(model: model, input: texts))))
        let start = Monotonic.now()
        var response = ProviderResponse(attemptClass: .ok)
        response.sentAt = start
        do {
            let reply = try await transport.client.execute(request, timeout: .nanoseconds(Int64(timeout * 1e9)))
            let body = try await reply.body.collect(upTo: 64 << 20)
            response.endToEnd = Monotonic.seconds(from: start, to: Monotonic.now())
            response.httpStatus = Int(reply.status.code)
            guard (200..<300).contains(Int(reply.status.code)) else {
                response.attemptClass = attemptClass(forStatus: Int(reply.status.code))
                response.message =
                    "embeddings: HTTP \(reply.status.code): "
                    + String(decoding: body.readableBytesView.prefix(300), as: UTF8.self)
                return Result(vectors: nil, response: response)
            }
            switch WireJSON.decode(OpenAIEmbeddings.Response.self, from: Data(body.readableBytesView)) {
            case .failure(let error):
                response.attemptClass = .malformed
                response.message = "embeddings: unusable response (\(error.reason))"
                return Result(vectors: nil, response: response)
            case .success(let decoded):
                let items = decoded.data.enumerated().sorted { a, b in
                    (a.element.index ?? a.offset) < (b.element.index ?? b.offset)
                }
                guard items.count == texts.count else {
                    response.attemptClass = .malformed
                    response.message = "embeddings: \(items.count) vectors for \(texts.count) texts"
                    return Result(vectors: nil, response: response)
                }
                response.inputTokens = decoded.usage?.prompt_tokens?.value ?? 0
                return Result(vectors: items.map { $0.element.embedding }, response: response)
            }
        } catch {
            response.attemptClass =
                error is HTTPClientError ? HTTPTransport.classify(error, afterHead: false) : .connection
            response.message = "embeddings: \(error)"
            return Result(vectors: nil, response: response)
        }
    }
}
