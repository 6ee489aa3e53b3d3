import Foundation
import RoadtestCore
import RoadtestLoad
import RoadtestLocal
import RoadtestProviders
import RoadtestTestSupport
import Testing

/// llama-server started the way a user starts it (not a managed candidate: no `Connection: close` from Roadtest),
/// loaded through a plain OpenAI-compatible candidate. llama-server closes the connection after each answer while
/// advertising keep-alive; the client must learn that, so its own stale connections stop failing requests.
@Suite(
    .serialized,
    .enabled(if: TestEnvironment.localModelsInstalled || TestEnvironment.isCI, "run `roadtest models install` first")
)
struct UserStartedServerTests {
    @Test func loadingAUserStartedLlamaServerCountsNoConnectionErrors() async throws {
        let options = try LlamaServer.Options.resolve(
            model: "smollm2-135m-instruct",
            gguf: nil,
            llamaServer: nil,
            home: RoadtestHome(),
            slots: 4,
            extraArguments: []
        )
        try await LlamaServer.with(options, timeout: 60) { server in
            let transport = HTTPTransport()
            let provider = OpenAIProvider(baseURL: server.baseURL, apiKey: nil, transport: transport)
            let requests = (1...4).map { index in
                ChatRequest(
                    model: "smollm2",
                    messages: [Message(role: "user", content: "Name a colour. Request \(index).")],
                    temperature: 0,
                    maxTokens: 8,
                    timeout: 60
                )
            }
            let generator = LoadGenerator(
                provider: provider,
                source: RequestSource(requests: requests),
                executors: transport.executors
            )
            let alone = await generator.run(LoadLevel(mode: .concurrency(1), requests: 24, warmup: 0))
            let together = await generator.run(LoadLevel(mode: .concurrency(4), requests: 48, warmup: 0))
            await transport.shutdown()
            // The pool learns the server from its first close after an answer. The first reuse can race that close
            // once (a request written into a connection the server is closing), so the first level may count one
            // `connection` error; the pool never sends that request again (the server may have read it). From
            // then on each request has a connection of its own: none fail.
            #expect(alone.errored <= 1, "one stream: \(alone.errors)")
            #expect(alone.completed + alone.errored == alone.requests)
            #expect(together.errored == 0, "four streams: \(together.errors)")
            #expect(together.completed == together.requests)
        }
    }
}
