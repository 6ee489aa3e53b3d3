import Foundation
import RoadtestCore
import RoadtestProviders
import RoadtestServer
import RoadtestTestSupport
import Testing

/// OpenAI's Responses API and Azure OpenAI held to the official `openai` Python SDK: for the same call both send the
/// same method, path, query, credential header and body to the simulator; and the SDK parses the simulator's answers
/// to the text, tool calls and usage Roadtest reads from them (so the simulator's ground truth is the real format).
@Suite(.serialized, .enabled(if: OfficialSDK.python != nil || TestEnvironment.isCI, "run `make pyclients` first"))
struct OpenAIResponsesParityTests {
    static let weatherTool: JSONValue = .object([
        "type": .string("function"),
        "function": .object([
            "name": .string("get_weather"),
            "description": .string("Weather for a city"),
            "parameters": .object([
                "type": .string("object"),
                "properties": .object(["city": .object(["type": .string("string")])]),
                "required": .array([.string("city")]),
            ]),
        ]),
    ])

    /// The parts of a received request that must agree: everything but the client's own headers (user agent,
    /// `x-stainless-*`, connection) and the credential's value.
    static func essentials(_ request: Simulator.ReceivedRequest) -> JSONValue {
        let credentials = request.headers.keys.filter { Simulator.credentialHeaders.contains($0) }.sorted()
        return .object([
            "method": .string(request.method),
            "path": .string(request.path),
            "query": request.query.map(JSONValue.string) ?? .null,
            "credential_headers": .array(credentials.map(JSONValue.string)),
            "content_type": request.headers["content-type"].map(JSONValue.string) ?? .null,
            "body": request.body,
        ])
    }

    @Test func aResponsesRequestIsTheOneTheOfficialClientSends() async throws {
        try await withSimulator { baseURL, simulator in
            let transport = HTTPTransport()
            let provider = OpenAIResponsesProvider(baseURL: baseURL, apiKey: "sk-test", transport: transport)
            var history = ChatRequest(
                model: "echo",
                system: "Be brief.",
                messages: [
                    Message(role: "user", content: "Weather in Paris?"),
                    Message(
                        role: "assistant",
                        content: "",
                        toolCalls: [ToolCall(id: "call_1", name: "get_weather", arguments: #"{"city":"Paris"}"#)]
                    ),
                    Message(role: "tool", content: "sunny", toolCallID: "call_1"),
                ],
                temperature: 0.2,
                maxTokens: 64,
                stream: true,
                extra: ["reasoning_effort": .string("low")],
                tools: [Self.weatherTool],
                toolChoice: .object([
                    "type": .string("function"), "function": .object(["name": .string("get_weather")]),
                ])
            )
            #expect(await provider.send(history).attemptClass == .ok)
            history.stream = false
            history.toolChoice = .string("auto")
            #expect(await provider.send(history).attemptClass == .ok)
            await transport.shutdown()
            let script = """
                import json, sys, openai
                client = openai.OpenAI(base_url=sys.argv[1], api_key="sk-test", max_retries=0)
                tool = {"type": "function", "name": "get_weather", "description": "Weather for a city",
                        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}
                items = [{"role": "user", "content": "Weather in Paris?"},
                         {"type": "function_call", "call_id": "call_1", "name": "get_weather", "arguments": '{"city":"Paris"}'},
                         {"type": "function_call_output", "call_id": "call_1", "output": "sunny"}]
                for stream, choice in [(True, {"type": "function", "name": "get_weather"}), (False, "auto")]:
                    result = client.responses.create(model="echo", instructions="Be brief.", input=items, temperature=0.2,
                        max_output_tokens=64, stream=stream, reasoning={"effort": "low"}, tools=[tool], tool_choice=choice)
                    if stream:
                        list(result)
                print(json.dumps({"ok": True}))
                """
            _ = try await OfficialSDK.run(script, [baseURL])
            let received = simulator.receivedRequests
            try #require(received.count == 4)
            for index in 0..<2 {
                let ours = Self.essentials(received[index])
                let theirs = Self.essentials(received[index + 2])
                #expect(ours == theirs, "\(Golden.firstDifference(expected: theirs, actual: ours) ?? "")")
            }
            #expect(received[0].headers["authorization"] == "[redacted]")
        }
    }

    @Test func theOfficialClientReadsTheSimulatorsResponsesAsRoadtestDoes() async throws {
        try await withSimulator { baseURL, _ in
            let transport = HTTPTransport()
            let provider = OpenAIResponsesProvider(baseURL: baseURL, apiKey: nil, transport: transport)
            let answer = "echo;reasoning=2;cache_read=3;reply=the answer is 42"
            let tool = #"tool;tool_call=get_weather;tool_args={"city":"Paris"}"#
            var ours: [String: JSONValue] = [:]
            for (name, model, stream) in [
                ("whole", answer, false), ("stream", answer, true), ("tool", tool, false), ("tool_stream", tool, true),
                ("cut", "cut;finish=length;reply=one two three", true),
            ] {
                let response = await provider.send(
                    ChatRequest(model: model, messages: [Message(role: "user", content: "hi")], stream: stream)
                )
                #expect(response.attemptClass == .ok, "\(response.message ?? "")")
                ours[name] = .object([
                    "text": .string(response.output),
                    "input": .number(Double(response.inputTokens)),
                    "output": .number(Double(response.outputTokens)),
                    "cached": .number(Double(response.cachedInputTokens)),
                    "calls": .array(
                        response.toolCalls.map { .array([.string($0.name), .string($0.arguments)]) }
                    ),
                    "finish": .string(response.finishReason?.rawValue ?? ""),
                ])
            }
            await transport.shutdown()
            let script = """
                import json, sys, openai
                client = openai.OpenAI(base_url=sys.argv[1], api_key="k", max_retries=0)
                def summary(response):
                    calls = [[o.name, o.arguments] for o in response.output if o.type == "function_call"]
                    reason = (response.incomplete_details.reason if response.incomplete_details else None)
                    finish = {"max_output_tokens": "length"}.get(reason, "tool_calls" if calls else "stop")
                    return {"text": response.output_text, "input": response.usage.input_tokens,
                            "output": response.usage.output_tokens,
                            "cached": response.usage.input_tokens_details.cached_tokens, "calls": calls, "finish": finish}
                result = {}
                for name, model, stream in [("whole", sys.argv[2], False), ("stream", sys.argv[2], True),
                                            ("tool", sys.argv[3], False), ("tool_stream", sys.argv[3], True),
                                            ("cut", "cut;finish=length;reply=one two three", True)]:
                    if stream and name != "cut":
                        with client.responses.stream(model=model, input=[{"role": "user", "content": "hi"}]) as events:
                            deltas = "".join(e.delta for e in events if e.type == "response.output_text.delta")
                            final = events.get_final_response()
                        assert deltas == final.output_text, (deltas, final.output_text)
                        result[name] = summary(final)
                    elif stream:
                        # An incomplete response ends with `response.incomplete` (the stream helper wants `completed`).
                        events = list(client.responses.create(model=model, input=[{"role": "user", "content": "hi"}],
                                                              stream=True))
                        assert events[-1].type == "response.incomplete", events[-1].type
                        result[name] = summary(events[-1].response)
                    else:
                        result[name] = summary(client.responses.create(model=model, input=[{"role": "user", "content": "hi"}]))
                print(json.dumps(result))
                """
            let theirs = try await OfficialSDK.run(script, [baseURL, answer, tool])
            #expect(theirs == .object(ours), "\(Golden.firstDifference(expected: theirs, actual: .object(ours)) ?? "")")
            #expect(ours["whole"]?["text"] == .string("the answer is 42"))
            #expect(
                ours["tool"]?["calls"] == .array([.array([.string("get_weather"), .string(#"{"city":"Paris"}"#)])])
            )
        }
    }

    /// Azure OpenAI's deployment form against the official `AzureOpenAI` client (same URL, `api-version` query,
    /// `api-key` header and body), and its v1 form (`/openai/v1/chat/completions`, the model in the body).
    @Test func anAzureRequestIsTheOneTheOfficialAzureClientSends() async throws {
        try await withSimulator { baseURL, simulator in
            let endpoint = String(baseURL.dropLast("/v1".count))
            let transport = HTTPTransport()
            let factory = ProviderFactory(transport: transport, environment: ["AZ_KEY": "azure-secret"])
            var deployment = Candidate(id: "az", provider: .azure, baseURL: endpoint, model: "echo")
            deployment.deployment = "echo"
            deployment.apiVersion = "2024-10-21"
            deployment.apiKeyEnvironmentVariable = "AZ_KEY"
            var v1 = Candidate(id: "az1", provider: .azure, baseURL: endpoint, model: "echo")
            v1.apiKeyEnvironmentVariable = "AZ_KEY"
            let request = ChatRequest(
                model: "echo",
                system: "Be brief.",
                messages: [Message(role: "user", content: "hello")],
                maxTokens: 32,
                stream: false
            )
            for candidate in [deployment, v1] {
                let response = await (try factory.makeProvider(for: candidate)).send(request)
                #expect(response.attemptClass == .ok && response.output == "hello", "\(response.message ?? "")")
            }
            await transport.shutdown()
            let script = """
                import json, sys, openai
                messages = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "hello"}]
                azure = openai.AzureOpenAI(azure_endpoint=sys.argv[1], api_key="azure-secret", api_version="2024-10-21",
                                           max_retries=0)
                whole = azure.chat.completions.create(model="echo", messages=messages, max_tokens=32, stream=False)
                v1 = openai.OpenAI(base_url=sys.argv[1] + "/openai/v1", api_key="azure-secret", max_retries=0,
                                   default_headers={"api-key": "azure-secret"})
                other = v1.chat.completions.create(model="echo", messages=messages, max_tokens=32, stream=False)
                print(json.dumps({"whole": whole.choices[0].message.content, "v1": other.choices[0].message.content}))
                """
            let answers = try await OfficialSDK.run(script, [endpoint])
            #expect(answers == .object(["whole": .string("hello"), "v1": .string("hello")]))
            let received = simulator.receivedRequests
            try #require(received.count == 4)
            #expect(received[0].path == "/openai/deployments/echo/chat/completions")
            #expect(received[0].query == "api-version=2024-10-21")
            #expect(received[0].headers["api-key"] == "[redacted]" && received[0].headers["authorization"] == nil)
            #expect(received[1].path == "/openai/v1/chat/completions" && received[1].query == nil)
            for index in 0..<2 {
                var ours = Self.essentials(received[index])
                var theirs = Self.essentials(received[index + 2])
                // The v1 client also sends the key as a bearer token; Azure takes either, Roadtest sends `api-key`.
                if index == 1 {
                    theirs = theirs.removing("credential_headers")
                    ours = ours.removing("credential_headers")
                }
                #expect(ours == theirs, "\(Golden.firstDifference(expected: theirs, actual: ours) ?? "")")
            }
        }
    }
}

extension JSONValue {
    fileprivate func removing(_ key: String) -> JSONValue {
        guard case .object(var members) = self else { return self }
        members[key] = nil
        return .object(members)
    }
}
