import Foundation
import RoadtestCore
import RoadtestProviders
import RoadtestServer
import RoadtestTestSupport
import RoadtestWire
import Testing

/// AWS Bedrock's Converse API held to the official boto3 client: the same request for the same call (path with the
/// model ID encoded as botocore encodes it, signed headers, body), the same Signature V4 `Authorization` as botocore
/// computes live for the exact bytes Roadtest sends, and boto3 reading the simulator's Converse answers and
/// ConverseStream event-stream messages to the text, tool calls and usage Roadtest reads from them.
@Suite(.serialized, .enabled(if: OfficialSDK.python != nil || TestEnvironment.isCI, "run `make pyclients` first"))
struct BedrockParityTests {
    static let environment = [
        "AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
        "AWS_SESSION_TOKEN": "session-token-example",
    ]
    static let model = "anthropic.claude-3-haiku-20240307-v1:0"

    static func candidate(_ endpoint: String) -> Candidate {
        var candidate = Candidate(id: "bedrock", provider: .bedrock, baseURL: endpoint, model: model)
        candidate.region = "us-east-1"
        return candidate
    }

    static let request = ChatRequest(
        model: model,
        system: "Be brief.",
        messages: [
            Message(role: "user", content: "Weather in Paris?"),
            Message(
                role: "assistant",
                content: "",
                toolCalls: [ToolCall(id: "tool_1", name: "get_weather", arguments: #"{"city":"Paris"}"#)]
            ),
            Message(role: "tool", content: "sunny", toolCallID: "tool_1"),
        ],
        temperature: 0.5,
        maxTokens: 64,
        stream: true,
        tools: [OpenAIResponsesParityTests.weatherTool],
        toolChoice: .object(["type": .string("function"), "function": .object(["name": .string("get_weather")])])
    )

    static let boto3Client = """
        import json, sys, boto3
        client = boto3.client("bedrock-runtime", region_name="us-east-1", endpoint_url=sys.argv[1],
                              aws_access_key_id="AKIDEXAMPLE",
                              aws_secret_access_key="wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
                              aws_session_token="session-token-example")
        """

    @Test func aConverseRequestIsTheOneBoto3Sends() async throws {
        try await withSimulator { baseURL, simulator in
            let endpoint = String(baseURL.dropLast("/v1".count))
            let transport = HTTPTransport()
            let provider = try ProviderFactory(transport: transport, environment: Self.environment)
                .makeProvider(for: Self.candidate(endpoint))
            var request = Self.request
            #expect(await provider.send(request).attemptClass == .ok)
            request.stream = false
            #expect(await provider.send(request).attemptClass == .ok)
            await transport.shutdown()
            let script =
                Self.boto3Client + """

                    messages = [{"role": "user", "content": [{"text": "Weather in Paris?"}]},
                                {"role": "assistant", "content": [{"toolUse": {"toolUseId": "tool_1", "name": "get_weather",
                                                                               "input": {"city": "Paris"}}}]},
                                {"role": "user", "content": [{"toolResult": {"toolUseId": "tool_1",
                                                                             "content": [{"text": "sunny"}]}}]}]
                    tools = {"tools": [{"toolSpec": {"name": "get_weather", "description": "Weather for a city",
                              "inputSchema": {"json": {"type": "object", "properties": {"city": {"type": "string"}},
                                                       "required": ["city"]}}}}],
                             "toolChoice": {"tool": {"name": "get_weather"}}}
                    arguments = dict(modelId=sys.argv[2], messages=messages, system=[{"text": "Be brief."}],
                                     inferenceConfig={"maxTokens": 64, "temperature": 0.5}, toolConfig=tools)
                    list(client.converse_stream(**arguments)["stream"])
                    client.converse(**arguments)
                    print(json.dumps({"ok": True}))
                    """
            _ = try await OfficialSDK.run(script, [endpoint, Self.model])
            let received = simulator.receivedRequests
            try #require(received.count == 4)
            #expect(received[0].path == "/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse-stream")
            #expect(received[1].path == "/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse")
            for index in 0..<2 {
                let ours = OpenAIResponsesParityTests.essentials(received[index])
                let theirs = OpenAIResponsesParityTests.essentials(received[index + 2])
                #expect(ours == theirs, "\(Golden.firstDifference(expected: theirs, actual: ours) ?? "")")
                // The same headers signed, in the same order.
                let signed = { (request: Simulator.ReceivedRequest) in
                    request.headers["x-amz-date"] != nil && request.headers["x-amz-security-token"] != nil
                }
                #expect(signed(received[index]) && signed(received[index + 2]))
            }
        }
    }

    /// botocore signs, live, the exact request Roadtest builds (URL, body bytes, time); the two `Authorization`
    /// headers must be equal.
    @Test func theSignatureIsBotocoresForTheSameBytes() async throws {
        let date = Date(timeIntervalSince1970: 1_764_900_000)
        let url =
            "https://bedrock-runtime.us-east-1.amazonaws.com/model/\(Self.model.replacingOccurrences(of: ":", with: "%3A"))/converse"
        let body = WireJSON.data(BedrockProvider.wireRequest(for: Self.request))
        let signer = SigV4Signer(
            credentials: try #require(AWSCredentials.fromEnvironment(Self.environment)),
            region: "us-east-1",
            service: "bedrock"
        )
        let ours = signer.signedHeaders(
            method: "POST",
            url: url,
            headers: [("Content-Type", "application/json")],
            body: body,
            date: date
        )
        let script = """
            import base64, datetime, json, sys
            from unittest import mock
            import botocore.auth, botocore.credentials
            from botocore.awsrequest import AWSRequest
            request = AWSRequest(method="POST", url=sys.argv[1], data=base64.b64decode(sys.argv[2]),
                                 headers={"Content-Type": "application/json"})
            credentials = botocore.credentials.Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
                                                           "session-token-example")
            frozen = datetime.datetime.fromtimestamp(int(sys.argv[3]), datetime.timezone.utc).replace(tzinfo=None)
            # add_auth reads the clock through botocore.auth.get_current_datetime.
            with mock.patch.object(botocore.auth, "get_current_datetime", return_value=frozen):
                botocore.auth.SigV4Auth(credentials, "bedrock", "us-east-1").add_auth(request)
            print(json.dumps({k: request.headers[k] for k in ["Authorization", "X-Amz-Date", "X-Amz-Security-Token"]}))
            """
        let theirs = try await OfficialSDK.run(
            script,
            [url, body.base64EncodedString(), String(Int(date.timeIntervalSince1970))]
        )
        let mine = Dictionary(ours, uniquingKeysWith: { first, _ in first })
        #expect(theirs["X-Amz-Date"]?.stringValue == mine["X-Amz-Date"])
        #expect(theirs["X-Amz-Security-Token"]?.stringValue == mine["X-Amz-Security-Token"])
        #expect(theirs["Authorization"]?.stringValue == mine["Authorization"], "\(theirs) \(mine)")
    }

    @Test func boto3ReadsTheSimulatorsAnswersAsRoadtestDoes() async throws {
        try await withSimulator { baseURL, _ in
            let endpoint = String(baseURL.dropLast("/v1".count))
            let transport = HTTPTransport()
            let factory = ProviderFactory(transport: transport, environment: Self.environment)
            let answer = "echo;reasoning=2;cache_read=3;reply=the answer is 42"
            let tool = #"tool;tool_call=get_weather;tool_args={"city":"Paris"}"#
            var ours: [String: JSONValue] = [:]
            for (name, model, stream) in [
                ("whole", answer, false), ("stream", answer, true), ("tool", tool, false), ("tool_stream", tool, true),
                ("cut", "cut;finish=length;reply=one two three", true),
            ] {
                var candidate = Self.candidate(endpoint)
                candidate.model = model
                let response = await (try factory.makeProvider(for: candidate)).send(
                    ChatRequest(model: model, messages: [Message(role: "user", content: "hi")], stream: stream)
                )
                #expect(response.attemptClass == .ok, "\(response.message ?? "")")
                ours[name] = .object([
                    "text": .string(response.output),
                    "reasoning": .string(response.reasoning),
                    "input": .number(Double(response.inputTokens)),
                    "output": .number(Double(response.outputTokens)),
                    "cached": .number(Double(response.cachedInputTokens)),
                    "calls": .array(response.toolCalls.map { .array([.string($0.name), .string($0.arguments)]) }),
                    "finish": .string(response.finishReason?.rawValue ?? ""),
                ])
            }
            await transport.shutdown()
            let script =
                Self.boto3Client + """

                    finishes = {"end_turn": "stop", "max_tokens": "length", "tool_use": "tool_calls"}
                    def summary(text, reasoning, calls, usage, stop):
                        cached = usage.get("cacheReadInputTokens", 0)
                        return {"text": text, "reasoning": reasoning, "calls": calls,
                                "input": usage["inputTokens"] + cached + usage.get("cacheWriteInputTokens", 0),
                                "output": usage["outputTokens"], "cached": cached, "finish": finishes[stop]}
                    result = {}
                    messages = [{"role": "user", "content": [{"text": "hi"}]}]
                    for name, model, stream in [("whole", sys.argv[2], False), ("stream", sys.argv[2], True),
                                                ("tool", sys.argv[3], False), ("tool_stream", sys.argv[3], True),
                                                ("cut", "cut;finish=length;reply=one two three", True)]:
                        if not stream:
                            answer = client.converse(modelId=model, messages=messages)
                            blocks = answer["output"]["message"]["content"]
                            text = "".join(b.get("text", "") for b in blocks)
                            reasoning = "".join(b["reasoningContent"]["reasoningText"]["text"]
                                                for b in blocks if "reasoningContent" in b)
                            calls = [[b["toolUse"]["name"], json.dumps(b["toolUse"]["input"], separators=(",", ":"))]
                                     for b in blocks if "toolUse" in b]
                            result[name] = summary(text, reasoning, calls, answer["usage"], answer["stopReason"])
                            continue
                        text, reasoning, calls, usage, stop = "", "", {}, None, None
                        for event in client.converse_stream(modelId=model, messages=messages)["stream"]:
                            if "contentBlockStart" in event:
                                start = event["contentBlockStart"]
                                calls[start["contentBlockIndex"]] = [start["start"]["toolUse"]["name"], ""]
                            if "contentBlockDelta" in event:
                                delta = event["contentBlockDelta"]["delta"]
                                text += delta.get("text", "")
                                reasoning += delta.get("reasoningContent", {}).get("text", "")
                                if "toolUse" in delta:
                                    calls[event["contentBlockDelta"]["contentBlockIndex"]][1] += delta["toolUse"]["input"]
                            if "messageStop" in event:
                                stop = event["messageStop"]["stopReason"]
                            if "metadata" in event:
                                usage = event["metadata"]["usage"]
                        result[name] = summary(text, reasoning, list(calls.values()), usage, stop)
                    print(json.dumps(result))
                    """
            let theirs = try await OfficialSDK.run(script, [endpoint, answer, tool])
            #expect(theirs == .object(ours), "\(Golden.firstDifference(expected: theirs, actual: .object(ours)) ?? "")")
            #expect(ours["stream"]?["text"] == .string("the answer is 42"))
            #expect(ours["stream"]?["cached"] == .number(3))
            #expect(
                ours["tool_stream"]?["calls"]
                    == .array([.array([.string("get_weather"), .string(#"{"city":"Paris"}"#)])])
            )
        }
    }
}
