import Foundation
import RoadtestCore
import RoadtestGateway
import RoadtestProviders
import RoadtestStore
import RoadtestTestSupport
import Testing

/// The Python with the official clients, when `make pyclients` has installed them.
let pythonClients = OfficialSDK.python

/// The official OpenAI Python client (installed by `make test` into .build/pyclients) pointed at the gateway.
@Suite(
    .serialized,
    .enabled(if: pythonClients != nil || TestEnvironment.isCI, "run `make pyclients` first")
)
struct OfficialClientTests {
    static var python: String? { pythonClients }

    static func environment(_ python: String) -> [String: String] { ProcessInfo.processInfo.environment }

    static let script = """
        import json, sys
        import openai
        client = openai.OpenAI(base_url=sys.argv[1] + "/v1", api_key=sys.argv[2], max_retries=0)
        result = {}
        raw = client.chat.completions.with_raw_response.create(
            model="default", messages=[{"role": "user", "content": "hello from python"}])
        completion = raw.parse()
        result["whole"] = completion.choices[0].message.content
        result["served_by"] = raw.headers.get("x-roadtest-served-by")
        result["request_id"] = raw.headers.get("x-roadtest-request-id")
        result["usage"] = completion.usage.completion_tokens
        chunks = list(client.chat.completions.create(
            model="default", messages=[{"role": "user", "content": "streamed \\"to\\" py\\\\thon é\\u2028ok"}], stream=True,
            stream_options={"include_usage": True}))
        result["stream"] = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
        result["stream_usage"] = [c.usage.completion_tokens for c in chunks if c.usage]
        result["models"] = [m.id for m in client.models.list()]
        try:
            openai.OpenAI(base_url=sys.argv[1] + "/v1", api_key="wrong", max_retries=0).chat.completions.create(
                model="default", messages=[{"role": "user", "content": "hi"}])
            result["bad_token"] = "accepted"
        except openai.AuthenticationError as error:
            result["bad_token"] = error.status_code
        try:
            client.chat.completions.create(model="nope", messages=[{"role": "user", "content": "hi"}])
        except openai.NotFoundError as error:
            result["unknown_model"] = error.status_code
        print(json.dumps(result))
        """

    /// Runs a client script (`python -c SCRIPT GATEWAY_URL TOKEN`) against a gateway whose route `default` is
    /// `main` (always 503) falling back on `spare`, and returns the JSON the script printed.
    static func runClient(_ script: String, token: String) async throws -> JSONValue {
        let python = try #require(Self.python, "CI installs the Python clients (make pyclients)")
        return try await withSimulator { upstream, _ in
            try await GatewayTests.withGateway(
                """
                candidates:
                  - {id: main, base_url: BASE_URL, model: "main;faults=503", retries: 0}
                  - {id: spare, base_url: BASE_URL, model: spare}
                routes:
                  - {name: default, candidate: main, fallback: [spare]}
                auth: {tokens_env: TOKENS}
                """,
                upstream: upstream,
                tokens: token
            ) { url, _ in
                let outcome = try await ProcessRunner.run(
                    [python, "-c", script, url, token],
                    timeout: 60,
                    environment: Self.environment(python)
                )
                let stdout = String(decoding: outcome.standardOutput, as: UTF8.self)
                let stderr = String(decoding: outcome.standardError, as: UTF8.self)
                #expect(outcome.status == 0, "\(stderr)")
                return try #require(JSONValue.parse(Data(stdout.utf8)), "\(stdout) \(stderr)")
            }
        }
    }

    @Test func theOpenAIClientGetsAnswersStreamsAndErrors() async throws {
        let result = try await Self.runClient(Self.script, token: "secret-1")
        #expect(result["whole"] == .string("hello from python"))
        // The first request met main's 503 and was served by the fallback.
        #expect(result["served_by"] == .string("spare"))
        #expect(result["request_id"]?.stringValue?.hasPrefix("rt-") == true)
        #expect(result["usage"] == .number(3))
        // Quotes, a backslash, non-ASCII and U+2028 survive the gateway's re-encoding of every chunk.
        #expect(result["stream"] == .string("streamed \"to\" py\\thon é\u{2028}ok"), "\(result)")
        #expect(result["stream_usage"] == .array([.number(4)]))
        #expect(result["models"] == .array([.string("default")]))
        #expect(result["bad_token"] == .number(401))
        #expect(result["unknown_model"] == .number(404))
    }

    static let anthropicScript = """
        import json, sys
        import anthropic
        client = anthropic.Anthropic(base_url=sys.argv[1], api_key=sys.argv[2], max_retries=0)
        result = {}
        raw = client.messages.with_raw_response.create(
            model="default", max_tokens=64, messages=[{"role": "user", "content": "hello from claude client"}])
        message = raw.parse()
        result["whole"] = "".join(block.text for block in message.content if block.type == "text")
        result["stop_reason"] = message.stop_reason
        result["served_by"] = raw.headers.get("x-roadtest-served-by")
        result["output_tokens"] = message.usage.output_tokens
        with client.messages.stream(model="default", max_tokens=64,
                                    messages=[{"role": "user", "content": "streamed \\"to\\" claude"}]) as stream:
            result["stream"] = "".join(stream.text_stream)
            final = stream.get_final_message()
            result["stream_output_tokens"] = final.usage.output_tokens
        try:
            anthropic.Anthropic(base_url=sys.argv[1], api_key="wrong", max_retries=0).messages.create(
                model="default", max_tokens=8, messages=[{"role": "user", "content": "hi"}])
            result["bad_token"] = "accepted"
        except anthropic.AuthenticationError as error:
            result["bad_token"] = error.status_code
        try:
            client.messages.create(model="nope", max_tokens=8, messages=[{"role": "user", "content": "hi"}])
        except anthropic.NotFoundError as error:
            result["unknown_model"] = error.status_code
        print(json.dumps(result))
        """

    @Test func theAnthropicClientGetsAnswersStreamsAndErrors() async throws {
        let result = try await Self.runClient(Self.anthropicScript, token: "secret-2")
        #expect(result["whole"] == .string("hello from claude client"))
        #expect(result["stop_reason"] == .string("end_turn"))
        #expect(result["served_by"] == .string("spare"))
        #expect(result["output_tokens"] == .number(4))
        #expect(result["stream"] == .string("streamed \"to\" claude"), "\(result)")
        #expect(result["stream_output_tokens"] == .number(3))
        #expect(result["bad_token"] == .number(401))
        #expect(result["unknown_model"] == .number(404))
    }
}
