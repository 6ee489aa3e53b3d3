import Foundation
import RoadtestCore
import RoadtestTestSupport
import Testing

/// Every provider as a gateway route's upstream: a client speaking OpenAI chat completions gets the answer the
/// simulator gave in the Responses, Azure, Gemini or Bedrock format, whole and streamed.
@Suite(.serialized) struct GatewayUpstreamFormatsTests {
    @Test func everyProviderServesAGatewayRoute() async throws {
        setenv("ROADTEST_GATEWAY_BEDROCK_TOKEN", "bedrock-api-key", 1)
        try await withSimulator { upstream, _ in
            let root = String(upstream.dropLast("/v1".count))
            try await GatewayTests.withGateway(
                """
                candidates:
                  - {id: responses, provider: openai-responses, base_url: BASE_URL, model: "r;reply=from responses api"}
                  - id: azure
                    provider: azure
                    endpoint: \(root)
                    deployment: chat
                    api_version: "2024-10-21"
                    model: "a;reply=from azure openai"
                  - {id: gemini, provider: gemini, base_url: \(root)/v1beta, model: "g;reply=from gemini api"}
                  - id: bedrock
                    provider: bedrock
                    base_url: \(root)
                    region: us-east-1
                    token_env: ROADTEST_GATEWAY_BEDROCK_TOKEN
                    model: "b;reply=from bedrock converse"
                routes:
                  - {name: responses, candidate: responses}
                  - {name: azure, candidate: azure}
                  - {name: gemini, candidate: gemini}
                  - {name: bedrock, candidate: bedrock}
                """,
                upstream: upstream
            ) { url, _ in
                for (route, answer) in [
                    ("responses", "from responses api"), ("azure", "from azure openai"), ("gemini", "from gemini api"),
                    ("bedrock", "from bedrock converse"),
                ] {
                    let whole = try await GatewayTests.send(
                        url + "/v1/chat/completions",
                        body: GatewayTests.chat(route, "hi")
                    )
                    #expect(whole.status == 200, "\(route): \(whole.body)")
                    #expect(
                        whole.json?["choices"]?.arrayValue?.first?["message"]?["content"] == .string(answer),
                        "\(route): \(whole.body)"
                    )
                    let streamed = try await GatewayTests.send(
                        url + "/v1/chat/completions",
                        body: GatewayTests.chat(route, "hi", stream: true)
                    )
                    #expect(streamed.status == 200, "\(route): \(streamed.body)")
                    let pieces = streamed.body.split(separator: "\n").compactMap { line -> String? in
                        guard line.hasPrefix("data: {") else { return nil }
                        return JSONValue.parse(String(line.dropFirst(6)))?["choices"]?.arrayValue?.first?["delta"]?[
                            "content"
                        ]?.stringValue
                    }
                    #expect(pieces.joined() == answer, "\(route): \(streamed.body)")
                    #expect(streamed.body.contains("[DONE]"), "\(route)")
                }
            }
        }
    }
}
