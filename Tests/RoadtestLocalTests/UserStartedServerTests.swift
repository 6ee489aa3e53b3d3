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
            // A new server's connection is reused only after it stayed open a while past its answer, so the pool
            // learns from llama-server's first close (it closes after each answer while advertising keep-alive)
            // before any request is written into a closing connection: none fail, at one stream or four.
            #expect(alone.errored == 0, "one stream: \(alone.errors)")
            #expect(alone.completed == alone.requests)
            #expect(together.errored == 0, "four streams: \(together.errors)")
            #expect(together.completed == together.requests)
        }
    }
}
