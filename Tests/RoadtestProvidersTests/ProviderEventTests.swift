import Foundation
import RoadtestCore
import RoadtestProviders
import RoadtestServer
import RoadtestTestSupport
import Testing

/// Streamed provider events against the simulator's ground truth: tool calls, reasoning, cache usage.
@Suite(.serialized) struct ProviderEventTests {
    func providers(_ baseURL: String, _ transport: HTTPTransport) -> [(String, any ModelProvider)] {
        [
            ("openai", OpenAIProvider(baseURL: baseURL, apiKey: nil, transport: transport)),
            ("anthropic", AnthropicProvider(baseURL: baseURL, apiKey: nil, transport: transport)),
        ]
    }

    func request(_ model: String, stream: Bool) -> ChatRequest {
        ChatRequest(
            model: model,
            messages: [Message(role: "user", content: "What is the weather in Paris?")],
            maxTokens: 64,
            stream: stream,
            timeout: 5,
            tools: [
                .object([
                    "type": .string("function"),
                    "function": .object([
                        "name": .string("get_weather"), "description": .string("Current weather"),
                        "parameters": .object([
                            "type": .string("object"),
                            "properties": .object(["city": .object(["type": .string("string")])]),
                        ]),
                    ]),
                ])
            ]
        )
    }

    @Test func toolCallDeltasAreJoinedIntoTheCallAndTimeTheFirstToken() async throws {
        try await withSimulator { baseURL, _ in
            let transport = HTTPTransport()
            let model =
                #"tools;ttft=60ms;itl=15ms;tool_call=get_weather;tool_args={"city": "Paris", "unit": "celsius"}"#
            for (name, provider) in providers(baseURL, transport) {
                for stream in [true, false] {
                    // The streamed events: tool-call fragments, no text.
                    var fragments = 0
                    for await batch in provider.eventBatches(for: request(model, stream: stream)) {
                        for event in batch {
                            if case .toolCall = event { fragments += 1 }
                            if case .text(let text, _) = event { Issue.record("\(name) sent text '\(text)'") }
                        }
                    }
                    #expect(
                        stream ? fragments >= 3 : fragments == 1,
                        "\(name) stream \(stream): \(fragments) fragments"
                    )
                    // The buffered response: one complete call.
                    let response = await provider.send(request(model, stream: stream))
                    #expect(response.attemptClass == .ok, "\(name) \(response.message ?? "")")
                    #expect(response.output.isEmpty)
                    let call = try #require(response.toolCalls.first, "\(name) stream \(stream)")
                    #expect(response.toolCalls.count == 1)
                    #expect(call.name == "get_weather")
                    #expect(
                        JSONValue.parse(call.arguments) == JSONValue.parse(#"{"city": "Paris", "unit": "celsius"}"#)
                    )
                    #expect(call.id.hasPrefix("call_"))
                    let ttft = try #require(response.timeToFirstToken)
                    #expect(ttft >= 0.055 && ttft < 0.2, "\(name) TTFT \(ttft)")
                    if stream {
                        // Fragments arrive 15 ms apart: E2E is the last fragment, after TTFT.
                        #expect(try #require(response.endToEnd) >= ttft + 0.025)
                    }
                }
            }
            await transport.shutdown()
        }
    }

    @Test func reasoningIsTimedApartAndNeverCountsAsContent() async throws {
        try await withSimulator { baseURL, _ in
            let transport = HTTPTransport()
            // Five reasoning deltas from the start of service, 10 ms apart; the answer starts at 150 ms.
            let model = "thinker;ttft=150ms;itl=10ms;reasoning=5;reply=forty two"
            for (name, provider) in providers(baseURL, transport) {
                let response = await provider.send(request(model, stream: true))
                #expect(response.attemptClass == .ok, "\(name) \(response.message ?? "")")
                #expect(response.output == "forty two", "\(name)")
                #expect(response.reasoning.hasPrefix("thinking step 1."), "\(name) reasoning \(response.reasoning)")
                #expect(!response.output.contains("thinking"))
                let ttft = try #require(response.timeToFirstToken)
                let ttfr = try #require(response.timeToFirstReasoningToken)
                #expect(ttft >= 0.145, "\(name): TTFT \(ttft) must be the answer's, not the reasoning's")
                #expect(ttfr < 0.05, "\(name): time to first reasoning \(ttfr)")
                let buffered = await provider.send(request(model, stream: false))
                #expect(buffered.output == "forty two" && buffered.reasoning.contains("thinking step 5."), "\(name)")
            }
            await transport.shutdown()
        }
    }

    @Test func anthropicCacheTokensAreCountedAndPriced() async throws {
        try await withSimulator { baseURL, _ in
            let transport = HTTPTransport()
            let anthropic = AnthropicProvider(baseURL: baseURL, apiKey: nil, transport: transport)
            let openAI = OpenAIProvider(baseURL: baseURL, apiKey: nil, transport: transport)
            let model = "cached;cache_read=1000;cache_write=200;reply=ok"
            for stream in [true, false] {
                let viaAnthropic = await anthropic.send(request(model, stream: stream))
                let viaOpenAI = await openAI.send(request(model, stream: stream))
                // The whole prompt is the uncached part plus cache reads and writes, in both formats.
                #expect(viaAnthropic.inputTokens == viaOpenAI.inputTokens, "stream \(stream)")
                #expect(viaAnthropic.inputTokens > 1200)
                #expect(viaAnthropic.cachedInputTokens == 1000 && viaAnthropic.cacheWriteInputTokens == 200)
                let uncached = viaAnthropic.inputTokens - 1200
                let price = Price(input: 3, output: 15, cachedInput: 0.3, cacheWrite: 3.75)
                let cost = price.cost(
                    inputTokens: viaAnthropic.inputTokens,
                    outputTokens: viaAnthropic.outputTokens,
                    cachedInputTokens: viaAnthropic.cachedInputTokens,
                    cacheWriteTokens: viaAnthropic.cacheWriteInputTokens
                )
                let expected =
                    (Double(uncached) * 3 + 1000 * 0.3 + 200 * 3.75 + Double(viaAnthropic.outputTokens) * 15) / 1e6
                #expect(abs(cost - expected) < 1e-12)
            }
            await transport.shutdown()
        }
    }
}
