import Foundation
import RoadtestCore
import RoadtestProviders
import RoadtestServer
import RoadtestTestSupport
import Testing

/// Providers against the real simulator on loopback: wire formats, timing truth and fault classes.
@Suite(.serialized) struct ProviderTests {
    func request(
        _ model: String,
        stream: Bool = true,
        timeout: Double = 5,
        prompt: String = "one two three"
    ) -> ChatRequest {
        ChatRequest(
            model: model,
            messages: [Message(role: "user", content: prompt)],
            maxTokens: 64,
            stream: stream,
            timeout: timeout
        )
    }

    /// Without a base_url a candidate reaches its provider where the official SDK would: `OPENAI_BASE_URL` or
    /// api.openai.com, `ANTHROPIC_BASE_URL` or api.anthropic.com, Azure's `AZURE_OPENAI_ENDPOINT`.
    @Test func candidatesWithoutABaseURLUseTheOfficialSDKsDefaults() async throws {
        let transport = HTTPTransport()
        let bare = ProviderFactory(transport: transport, environment: [:])
        let set = ProviderFactory(
            transport: transport,
            environment: [
                "OPENAI_BASE_URL": "http://127.0.0.1:9/v1", "ANTHROPIC_BASE_URL": "http://127.0.0.1:9",
                "AZURE_OPENAI_ENDPOINT": "https://r.openai.azure.com",
            ]
        )
        for kind in [ProviderKind.openai, .openaiResponses] {
            #expect(bare.endpoint(for: Candidate(id: "a", provider: kind)) == "https://api.openai.com/v1")
            #expect(set.endpoint(for: Candidate(id: "a", provider: kind)) == "http://127.0.0.1:9/v1")
        }
        #expect(bare.endpoint(for: Candidate(id: "a", provider: .anthropic)) == "https://api.anthropic.com")
        #expect(set.endpoint(for: Candidate(id: "a", provider: .anthropic)) == "http://127.0.0.1:9")
        #expect(bare.endpoint(for: Candidate(id: "a", provider: .azure)) == nil)
        #expect(set.endpoint(for: Candidate(id: "a", provider: .azure)) == "https://r.openai.azure.com")
        #expect(
            (set.endpoint(for: Candidate(id: "a", provider: .openai, baseURL: "http://x/v1"))) == "http://x/v1"
        )
        let openAI = try #require(try set.makeProvider(for: Candidate(id: "a", provider: .openai)) as? OpenAIProvider)
        #expect(openAI.url == "http://127.0.0.1:9/v1/chat/completions")
        // Gemini, Vertex AI and Bedrock: their SDKs' endpoints.
        #expect(
            bare.endpoint(for: Candidate(id: "a", provider: .gemini))
                == "https://generativelanguage.googleapis.com/v1beta"
        )
        var vertex = Candidate(id: "a", provider: .gemini, model: "m")
        vertex.project = "p"
        vertex.location = "europe-west4"
        #expect(bare.endpoint(for: vertex) == "https://europe-west4-aiplatform.googleapis.com/v1")
        var bedrock = Candidate(id: "b", provider: .bedrock, model: "m")
        #expect(bare.endpoint(for: bedrock) == nil)
        #expect(
            ProviderFactory(transport: transport, environment: ["AWS_REGION": "eu-west-1"]).endpoint(for: bedrock)
                == "https://bedrock-runtime.eu-west-1.amazonaws.com"
        )
        bedrock.region = "us-east-2"
        #expect(bare.endpoint(for: bedrock) == "https://bedrock-runtime.us-east-2.amazonaws.com")
        // Bedrock without AWS credentials says which variables to export.
        do {
            _ = try bare.makeProvider(for: bedrock)
            Issue.record("a Bedrock candidate without credentials was made")
        } catch let error as RoadtestError {
            #expect(error.message.contains("AWS_ACCESS_KEY_ID"), "\(error.message)")
        }
        // A missing credential variable is named.
        var keyed = Candidate(id: "a", provider: .azure, model: "m")
        keyed.tokenEnvironmentVariable = "AZ_TOKEN"
        #expect(throws: RoadtestError.self) { try set.makeProvider(for: keyed) }
        await transport.shutdown()
    }

    @Test func streamingTimingMatchesTheScriptWithinTwoMilliseconds() async throws {
        try await withSimulator { baseURL, _ in
            let transport = HTTPTransport()
            let openAI = OpenAIProvider(baseURL: baseURL, apiKey: nil, transport: transport)
            let anthropic = AnthropicProvider(
                baseURL: baseURL.replacingOccurrences(of: "/v1", with: ""),
                apiKey: nil,
                transport: transport
            )
            let model = "timed;ttft=80ms;itl=20ms;reply=alpha beta gamma delta epsilon"
            // Warm the connection so the measurement is of steady state.
            _ = await openAI.send(request(model))
            _ = await anthropic.send(request(model))
            for provider in [openAI, anthropic] as [any ModelProvider] {
                // The median of several sequential requests, so one scheduling hiccup on a busy machine does not decide.
                var ttfts: [Double] = []
                var e2es: [Double] = []
                for _ in 0..<7 {
                    let response = await provider.send(request(model))
                    #expect(response.attemptClass == .ok)
                    #expect(response.output == "alpha beta gamma delta epsilon")
                    #expect(response.outputTokens == 5)
                    #expect(!response.isTokenCountEstimated)
                    #expect(response.contentEvents == 5)
                    ttfts.append(try #require(response.timeToFirstToken))
                    e2es.append(try #require(response.endToEnd))
                }
                let ttft = ttfts.sorted()[3]
                let e2e = e2es.sorted()[3]
                #expect(abs(ttft - 0.080) < 0.002, "median TTFT \(ttft) of \(ttfts)")
                #expect(abs(e2e - 0.160) < 0.002, "median E2E \(e2e) of \(e2es)")
            }
            await transport.shutdown()
        }
    }

    @Test func nonStreamingAndMissingUsage() async throws {
        try await withSimulator { baseURL, _ in
            let transport = HTTPTransport()
            let provider = OpenAIProvider(baseURL: baseURL, apiKey: "secret", transport: transport)
            let plain = await provider.send(request("plain;ttft=30ms;reply=hello there", stream: false))
            #expect(plain.attemptClass == .ok)
            #expect(plain.output == "hello there")
            #expect(plain.outputTokens == 2)
            #expect((plain.endToEnd ?? 0) >= 0.030)
            let noUsage = await provider.send(request("nousage;usage=false;reply=one two three four"))
            #expect(noUsage.attemptClass == .ok)
            #expect(noUsage.isTokenCountEstimated)
            #expect(noUsage.outputTokens == 4)
            await transport.shutdown()
        }
    }

    @Test func everyFaultIsClassified() async throws {
        try await withSimulator { baseURL, _ in
            let transport = HTTPTransport()
            let provider = OpenAIProvider(baseURL: baseURL, apiKey: nil, transport: transport)
            let cases: [(String, Bool, AttemptClass, Int?)] = [
                ("f429;faults=429;retry_after=3", true, .http429, 429),
                ("f500;faults=500", true, .http5xx, 500),
                ("f503;faults=503", false, .http5xx, 503),
                ("f400;faults=400", true, .http4xx, 400),
                ("fcut;faults=cut;cut_after=2", true, .streamCut, 200),
                ("fabrupt;faults=cut_abrupt;cut_after=1", true, .streamCut, 200),
                ("fmal;faults=malformed", true, .malformed, 200),
                ("fmal2;faults=malformed", false, .malformed, 200),
                ("ferr;faults=error_event", true, .malformed, 200),
            ]
            for (model, stream, expected, status) in cases {
                let response = await provider.send(request(model + ";reply=a b c d e", stream: stream))
                #expect(response.attemptClass == expected, "\(model)")
                #expect(response.httpStatus == status, "\(model)")
            }
            let throttled = await provider.send(request("again429;faults=429;retry_after=3"))
            #expect(throttled.retryAfter == 3)
            let cut = await provider.send(request("cut2;faults=cut;cut_after=2;reply=a b c d e"))
            #expect(cut.output == "a b ")
            let slow = await provider.send(request("slow;faults=timeout;hold=2s", timeout: 0.3))
            #expect(slow.attemptClass == .timeout)
            await transport.shutdown()
        }
    }

    @Test func refusedConnectionIsAConnectionError() async throws {
        let transport = HTTPTransport()
        let provider = OpenAIProvider(baseURL: "http://127.0.0.1:9/v1", apiKey: nil, transport: transport)
        let response = await provider.send(request("x"))
        #expect(response.attemptClass == .connection)
        await transport.shutdown()
    }

    @Test func commandProviderRunsTheTeamsProgram() async throws {
        try await withTemporaryDirectory { directory in
            let script = directory.appendingPathComponent("app.py")
            try """
            import json, sys
            request = json.load(sys.stdin)
            last = request["messages"][-1]["content"]
            if last == "crash":
                sys.exit(3)
            if last == "garbage":
                print("not json")
            else:
                print(json.dumps({"output": "echo: " + last, "usage": {"input_tokens": 5, "output_tokens": 2}}))
            """.write(to: script, atomically: true, encoding: .utf8)
            let provider = CommandProvider(arguments: ["python3", script.path])
            let ok = await provider.send(request("x", prompt: "hi"))
            #expect(ok.attemptClass == .ok)
            #expect(ok.output == "echo: hi")
            #expect(ok.inputTokens == 5 && ok.outputTokens == 2)
            #expect((ok.timeToFirstToken ?? 0) > 0)
            #expect(await provider.send(request("x", prompt: "crash")).attemptClass == .commandFailed)
            #expect(await provider.send(request("x", prompt: "garbage")).attemptClass == .malformed)
        }
    }
}
