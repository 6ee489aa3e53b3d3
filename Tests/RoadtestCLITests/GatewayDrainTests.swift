import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import RoadtestCore
import RoadtestProviders
import RoadtestStore
import RoadtestTestSupport
import Synchronization
import Testing

/// `roadtest gateway` stopped the way an orchestrator stops it (SIGTERM): requests in flight finish, every request
/// is stored, the process leaves within its grace period, and a store that went away neither holds the process
/// nor passes silently.
@Suite(.serialized, .enabled(if: TestEnvironment.binary != nil, "build the roadtest executable first (swift build)"))
struct GatewayDrainTests {
    final class Started: Sendable {
        let count = Atomic<Int>(0)
    }

    /// Runs the gateway binary on a free port in `directory` (stderr to `gateway.log` there), calls `body` once it
    /// answers `/health`, and returns its exit status once it has exited.
    static func withGateway(
        _ arguments: [String],
        in directory: URL,
        mark: String = UUID().uuidString,
        environment: [String: String] = [:],
        errorLog: URL? = nil,
        _ body: (Int, TestProcess.Running) async throws -> Void
    ) async throws -> Int32 {
        let binary = try #require(TestEnvironment.binary)
        let log = errorLog ?? directory.appendingPathComponent("gateway.log")
        let port = await TestEnvironment.unusedPort()
        var variables: [String: String?] = ["ROADTEST_TEST_MARK": mark]
        for (name, value) in environment { variables[name] = value }
        return try await TestProcess.run(
            [binary.path, "gateway"] + arguments + ["--listen", "127.0.0.1:\(port)"],
            in: directory,
            environment: variables,
            errorLog: log
        ) { program in
            var up = false
            for _ in 0..<200 where !up {
                up = (try? await get("http://127.0.0.1:\(port)/health")) == 200
                if !up { try await Task.sleep(for: .milliseconds(50)) }
            }
            guard up else {
                throw HarnessError(
                    "the gateway did not start: \((try? String(contentsOf: log, encoding: .utf8)) ?? "")"
                )
            }
            try await body(port, program)
        }
    }

    static func get(_ url: String) async throws -> UInt {
        let response = try await HTTPClient.shared.execute(HTTPClientRequest(url: url), timeout: .seconds(2))
        _ = try await response.body.collect(upTo: 1 << 20)
        return response.status.code
    }

    static func chat(_ port: Int, stream: Bool) -> HTTPClientRequest {
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/v1/chat/completions")
        request.method = .POST
        request.headers.add(name: "content-type", value: "application/json")
        request.body = .bytes(
            ByteBuffer(
                string: #"{"model": "default", "stream": \#(stream), "messages": [{"role": "user", "content": "hi"}]}"#
            )
        )
        return request
    }

    @Test func sigtermDrainsTwoHundredStreamsAndStoresEveryRequest() async throws {
        try await withSimulator { baseURL, _ in
            try await withTemporaryDirectory { directory in
                // Each answer streams twelve words over about 2 s.
                try writeFiles(
                    [
                        "policy.yaml": """
                        candidates:
                          - {id: slow, base_url: \(baseURL), model: "slow;ttft=100ms;itl=150ms;reply=one two three four five six seven eight nine ten eleven twelve"}
                        routes:
                          - {name: default, candidate: slow}
                        """
                    ],
                    in: directory
                )
                let mark = UUID().uuidString
                var configuration = HTTPClient.Configuration()
                configuration.connectionPool = .init(
                    idleTimeout: .seconds(30),
                    concurrentHTTP1ConnectionsPerHostSoftLimit: 256
                )
                let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
                let streams = 200
                var bodies: [String] = []
                var stoppedAt = ContinuousClock.now
                let status = try await Self.withGateway(
                    ["--policy", "policy.yaml", "--store", "gw.db", "--grace", "10s"],
                    in: directory,
                    mark: mark
                ) { port, gateway in
                    let started = Started()
                    let (allStarted, signal) = AsyncStream.makeStream(of: Void.self)
                    bodies = try await withThrowingTaskGroup(of: String.self) { group in
                        for _ in 0..<streams {
                            group.addTask {
                                let response = try await client.execute(
                                    Self.chat(port, stream: true),
                                    timeout: .seconds(60)
                                )
                                var body = ""
                                var first = true
                                for try await buffer in response.body {
                                    body += String(buffer: buffer)
                                    if first {
                                        first = false
                                        if started.count.add(1, ordering: .relaxed).newValue == streams {
                                            signal.yield()
                                        }
                                    }
                                }
                                return body
                            }
                        }
                        // Every stream has begun answering: stop the gateway as an orchestrator would.
                        var waiting = allStarted.makeAsyncIterator()
                        _ = await waiting.next()
                        stoppedAt = ContinuousClock.now
                        try gateway.send(SIGTERM)
                        var bodies: [String] = []
                        for try await body in group { bodies.append(body) }
                        return bodies
                    }
                }
                let waited = ContinuousClock.now - stoppedAt
                try await client.shutdown()
                let log = try String(contentsOf: directory.appendingPathComponent("gateway.log"), encoding: .utf8)
                // Every request in flight was answered to its end.
                #expect(bodies.count == streams)
                #expect(bodies.allSatisfy { $0.contains("twelve") && $0.contains("[DONE]") })
                #expect(status == 0, "\(log)")
                #expect(waited < .seconds(10), "the gateway took \(waited) to stop")
                #expect(log.contains("every request record is stored"), "\(log)")
                // Every request is in the store.
                let records = try await StoreLocation.with(directory.appendingPathComponent("gw.db").path) { store in
                    try await store.gateway.gatewayRequests(limit: 1_000)
                }
                #expect(records.count == streams)
                #expect(records.allSatisfy { $0.outcome == .answered && $0.stream })
                // Nothing the gateway started outlives it.
                #expect(TestEnvironment.processes(marked: mark).isEmpty)
            }
        }
    }

    @Test(.enabled(if: PostgresServer.isInstalled || TestEnvironment.isCI, "install PostgreSQL first (make test does)"))
    func aStoreThatWentAwayNeitherHoldsTheGatewayNorPassesSilently() async throws {
        try await PostgresServer.with { server in
            try await withSimulator { baseURL, _ in
                try await withTemporaryDirectory { directory in
                    try writeFiles(
                        [
                            "policy.yaml": """
                            candidates: [{id: main, base_url: \(baseURL), model: main}]
                            routes: [{name: default, candidate: main}]
                            """
                        ],
                        in: directory
                    )
                    var stoppedAt = ContinuousClock.now
                    let status = try await Self.withGateway(
                        ["--policy", "policy.yaml", "--store", server.url(), "--grace", "3s"],
                        in: directory,
                        environment: server.environment
                    ) { port, gateway in
                        for _ in 0..<3 {
                            let response = try await HTTPClient.shared.execute(
                                Self.chat(port, stream: false),
                                timeout: .seconds(10)
                            )
                            #expect(response.status == .ok)
                        }
                        // Written within the recorder's 100 ms.
                        var stored = ""
                        for _ in 0..<50 where stored != "3" {
                            try await Task.sleep(for: .milliseconds(100))
                            stored = try await server.psql("SELECT count(*) FROM gateway_request")
                        }
                        #expect(stored == "3")
                        // The database goes away; the gateway keeps answering.
                        await server.stop()
                        for _ in 0..<5 {
                            let response = try await HTTPClient.shared.execute(
                                Self.chat(port, stream: false),
                                timeout: .seconds(10)
                            )
                            #expect(response.status == .ok)
                        }
                        stoppedAt = ContinuousClock.now
                        try gateway.send(SIGTERM)
                    }
                    let waited = ContinuousClock.now - stoppedAt
                    let log = try String(contentsOf: directory.appendingPathComponent("gateway.log"), encoding: .utf8)
                    #expect(waited < .seconds(8), "the gateway took \(waited) to stop: \(log)")
                    // Exit 1, the loss counted, the outage logged once.
                    #expect(status == 1, "\(log)")
                    #expect(log.contains("5 request records could not be stored"), "\(log)")
                    #expect(log.components(separatedBy: "cannot write request records").count == 2, "\(log)")
                }
            }
        }
    }
}
