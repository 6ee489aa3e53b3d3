import Foundation
import Hummingbird
import RoadtestCore
import RoadtestGateway
import RoadtestProviders
import RoadtestRunner
import RoadtestServer
import RoadtestStore
import RoadtestSuite
import RoadtestTestSupport
import ServiceLifecycle
import Testing

/// The example policy on the real local models, through the official OpenAI Python client: SmolLM2 answers;
/// when its llama-server fails (a chaos proxy answering 503 in front of it), Gemma 3 does.
@Suite(
    .serialized,
    .enabled(
        if: (TestEnvironment.localModelsInstalled && pythonClients != nil) || TestEnvironment.isCI,
        "run `roadtest models install` and `make pyclients` first"
    )
)
struct LocalGatewayTests {
    static let script = """
        import json, sys
        import openai
        client = openai.OpenAI(base_url=sys.argv[1] + "/v1", api_key="unused", max_retries=0)
        out = []
        for prompt in ["What is the capital of France?", "Say hello."]:
            raw = client.chat.completions.with_raw_response.create(
                model="default", messages=[{"role": "user", "content": prompt}], max_tokens=24)
            answer = raw.parse().choices[0].message.content
            out.append({"served_by": raw.headers.get("x-roadtest-served-by"), "answer": answer})
        stream = client.chat.completions.create(
            model="default", messages=[{"role": "user", "content": "Count to three."}], max_tokens=24, stream=True)
        out.append({"streamed": "".join(c.choices[0].delta.content or "" for c in stream if c.choices)})
        print(json.dumps(out))
        """

    func serve(faulty: Bool) async throws -> JSONValue {
        let python = try #require(pythonClients, "CI installs the Python clients (make pyclients)")
        let example = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../examples/gateway-local.yaml").standardizedFileURL.path
        let policy = try PolicyLoader().load(path: example)
        let transport = HTTPTransport()
        let proxies = ProxyBox()
        let interpose: CandidateEndpoints.Interpose = { candidate, url in
            guard faulty, candidate.id == "smollm2" else { return url }
            return try await proxies.start(upstream: url, faults: "503:100%")
        }
        let result = try await CandidateEndpoints.with(
            suite: policy.suite,
            transport: transport,
            interpose: interpose
        ) { providers in
            let gateway = try Gateway(policy: policy, providers: providers, tokens: nil, store: nil)
            let (stream, continuation) = AsyncStream.makeStream(of: Int.self)
            let app = try gateway.makeApplication(port: 0) { continuation.yield($0) }
            let group = gateway.makeServiceGroup(app: app, signals: false)
            let server = Task { try await group.run() }
            var ports = stream.makeAsyncIterator()
            guard let port = await ports.next() else { throw CancellationError() }
            let outcome = try await ProcessRunner.run(
                [python, "-c", Self.script, "http://127.0.0.1:\(port)"],
                timeout: 300,
                environment: ProcessInfo.processInfo.environment
            )
            await group.triggerGracefulShutdown()
            _ = await server.result
            let stdout = String(decoding: outcome.standardOutput, as: UTF8.self)
            #expect(outcome.status == 0, "\(String(decoding: outcome.standardError, as: UTF8.self))")
            return JSONValue.parse(Data(stdout.utf8)) ?? .null
        }
        await proxies.shutdown()
        await transport.shutdown()
        return result
    }

    @Test func smolLM2AnswersAndGemmaTakesOverWhenItFails() async throws {
        let clean = try await serve(faulty: false)
        let answers = try #require(clean.arrayValue, "\(clean)")
        #expect(answers.count == 3)
        #expect(answers.prefix(2).allSatisfy { $0["served_by"] == .string("smollm2") }, "\(answers)")
        let texts = answers.prefix(2).map { $0["answer"]?.stringValue ?? "" }
        #expect(texts.allSatisfy { $0.isEmpty == false }, "\(answers)")
        let streamed = answers.last?["streamed"]?.stringValue ?? ""
        #expect(streamed.isEmpty == false)
        let failing = try await serve(faulty: true)
        let served = try #require(failing.arrayValue, "\(failing)")
        #expect(served.prefix(2).allSatisfy { $0["served_by"] == .string("gemma3") }, "\(served)")
        let streamedByGemma = served.last?["streamed"]?.stringValue ?? ""
        #expect(streamedByGemma.isEmpty == false)
    }
}

/// Chaos proxies started for a test, shut down at its end.
final class ProxyBox: @unchecked Sendable {
    var running: [(ChaosProxy, Task<Void, any Error>)] = []
    let lock = NSLock()

    func start(upstream: String, faults: String) async throws -> String {
        let proxy = try ChaosProxy(
            options: .init(upstream: upstream, plan: FaultPlan(spec: try FaultSpec.parse(faults), windows: [], seed: 1))
        )
        let (stream, continuation) = AsyncStream.makeStream(of: Int.self)
        let app = proxy.makeApplication(port: 0) { continuation.yield($0) }
        let task = Task { try await app.run() }
        var ports = stream.makeAsyncIterator()
        guard let port = await ports.next() else { throw CancellationError() }
        lock.withLock { running.append((proxy, task)) }
        let path = URL(string: upstream)?.path ?? ""
        return "http://127.0.0.1:\(port)" + path
    }

    func shutdown() async {
        let all = lock.withLock { running }
        for (proxy, task) in all {
            task.cancel()
            _ = await task.result
            await proxy.shutdown()
        }
    }
}
