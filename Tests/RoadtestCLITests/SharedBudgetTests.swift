import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import RoadtestCore
import RoadtestTestSupport
import Testing

/// Three `roadtest gateway` processes on one PostgreSQL store enforce one budget per route and one rate limit per
/// client token: a burst split across them spends no more than the cap and takes no more than the limit.
@Suite(.serialized, .enabled(if: TestEnvironment.binary != nil, "build the roadtest executable first (swift build)"))
struct SharedBudgetTests {
    /// Runs `count` gateways with the same arguments, each on its own port, and calls `body` with their ports.
    static func withGateways(
        _ count: Int,
        _ arguments: [String],
        in directory: URL,
        environment: [String: String],
        ports: [Int] = [],
        _ body: ([Int]) async throws -> Void
    ) async throws {
        guard ports.count < count else { return try await body(ports) }
        let log = directory.appendingPathComponent("gateway-\(ports.count).log")
        let status = try await GatewayDrainTests.withGateway(
            arguments,
            in: directory,
            environment: environment,
            errorLog: log
        ) { port, gateway in
            try await withGateways(
                count,
                arguments,
                in: directory,
                environment: environment,
                ports: ports + [port],
                body
            )
            try gateway.send(SIGTERM)
        }
        #expect(status == 0, "gateway \(ports.count): \((try? String(contentsOf: log, encoding: .utf8)) ?? "")")
    }

    static func burst(
        _ count: Int,
        ports: [Int],
        token: String,
        client: HTTPClient
    ) async throws -> [(status: UInt, body: String, retryAfter: String?)] {
        try await withThrowingTaskGroup(of: (UInt, String, String?).self) { group in
            for index in 0..<count {
                group.addTask {
                    var request = HTTPClientRequest(
                        url: "http://127.0.0.1:\(ports[index % ports.count])/v1/chat/completions"
                    )
                    request.method = .POST
                    request.headers.add(name: "content-type", value: "application/json")
                    request.headers.add(name: "authorization", value: "Bearer " + token)
                    request.body = .bytes(
                        ByteBuffer(
                            string: #"{"model": "default", "messages": [{"role": "user", "content": "q \#(index)"}]}"#
                        )
                    )
                    let response = try await client.execute(request, timeout: .seconds(60))
                    let body = try await response.body.collect(upTo: 1 << 20)
                    return (response.status.code, String(buffer: body), response.headers.first(name: "retry-after"))
                }
            }
            var results: [(status: UInt, body: String, retryAfter: String?)] = []
            for try await result in group { results.append(result) }
            return results
        }
    }

    @Test(.enabled(if: PostgresServer.isInstalled || TestEnvironment.isCI))
    func threeReplicasShareOneBudgetAndOneRateLimit() async throws {
        #expect(PostgresServer.isInstalled, "make test installs Debian's postgresql")
        try await PostgresServer.with { server in
            try await withSimulator { baseURL, _ in
                try await withTemporaryDirectory { directory in
                    // Worst case: 10 output tokens at $1,000 per million = $0.01, so 10 fit a $0.10 cap at once; each
                    // really costs about half that. Three replicas each keeping their own budget would admit 30.
                    try writeFiles(
                        [
                            "policy.yaml": """
                            auth: {tokens_env: SHARED_TEST_TOKENS}
                            candidates:
                              - {id: priced, base_url: \(baseURL), model: "priced;ttft=1500ms;reply=one two three four five",
                                 price: {input: 0, output: 1000}, max_tokens: 10, retries: 0}
                              - {id: free, base_url: \(baseURL), model: "free;ttft=1500ms", retries: 0}
                            routes:
                              - {name: default, candidate: priced, budget: {usd_per_day: 0.1}}
                              - {name: open, candidate: free}
                            """,
                            "limited.yaml": """
                            auth: {tokens_env: SHARED_TEST_TOKENS}
                            candidates:
                              - {id: free, base_url: \(baseURL), model: "free", retries: 0}
                            routes:
                              - {name: default, candidate: free}
                            limits: {requests_per_minute: 12}
                            """,
                        ],
                        in: directory
                    )
                    var environment = server.environment
                    environment["SHARED_TEST_TOKENS"] = "alpha,beta"
                    var configuration = HTTPClient.Configuration()
                    configuration.connectionPool = .init(
                        idleTimeout: .seconds(30),
                        concurrentHTTP1ConnectionsPerHostSoftLimit: 128
                    )
                    let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
                    defer { _ = client.shutdown() }

                    try await Self.withGateways(
                        3,
                        ["--policy", "policy.yaml", "--store", server.url()],
                        in: directory,
                        environment: environment
                    ) { ports in
                        let results = try await Self.burst(100, ports: ports, token: "alpha", client: client)
                        let answered = results.filter { $0.status == 200 }.count
                        let refused = results.filter { $0.status == 429 && $0.body.contains("budget_exceeded") }
                        #expect(answered >= 10 && answered <= 20, "\(answered) answered")
                        #expect(refused.count == 100 - answered, "\(results.filter { $0.status != 200 }.prefix(3))")
                    }
                    // Every replica has stopped: its records are written and its settlements made.
                    let spent = try #require(
                        Double(
                            try await server.psql(
                                "SELECT COALESCE(SUM(cost_usd), 0) FROM gateway_request WHERE route = 'default'"
                            )
                        )
                    )
                    #expect(spent > 0 && spent <= 0.1 + 1e-9, "spent $\(spent)")
                    let ledger = try await server.psql(
                        "SELECT spent || ' ' || reserved FROM gateway_budget WHERE route = 'default'"
                    ).split(separator: " ").compactMap { Double($0) }
                    #expect(ledger.count == 2 && abs(ledger[0] - spent) < 1e-9 && abs(ledger[1]) < 1e-9, "\(ledger)")

                    // One limit of 12 a minute per token, across the three replicas.
                    try await Self.withGateways(
                        3,
                        ["--policy", "limited.yaml", "--store", server.url()],
                        in: directory,
                        environment: environment
                    ) { ports in
                        let alpha = try await Self.burst(30, ports: ports, token: "alpha", client: client)
                        let allowed = alpha.filter { $0.status == 200 }.count
                        // The bucket holds 12 and refills one every 5 s while the burst runs.
                        #expect(allowed >= 12 && allowed <= 13, "\(allowed) allowed")
                        let limited = alpha.filter { $0.status == 429 && $0.body.contains("rate_limit_exceeded") }
                        #expect(limited.count == 30 - allowed)
                        #expect(limited.allSatisfy { Int($0.retryAfter ?? "") ?? 0 >= 1 })
                        // Another token has its own bucket.
                        let beta = try await Self.burst(3, ports: ports, token: "beta", client: client)
                        #expect(beta.allSatisfy { $0.status == 200 })
                    }

                    // The ledger gone: a budgeted route fails closed (503, nothing spent unguarded), an unbudgeted one
                    // still answers, and the outage is logged once.
                    let log = directory.appendingPathComponent("gateway-outage.log")
                    _ = try await GatewayDrainTests.withGateway(
                        ["--policy", "policy.yaml", "--store", server.url(), "--grace", "2s"],
                        in: directory,
                        environment: environment,
                        errorLog: log
                    ) { port, gateway in
                        await server.stop()
                        let budgeted = try await Self.burst(3, ports: [port], token: "alpha", client: client)
                        #expect(budgeted.allSatisfy { $0.status == 503 }, "\(budgeted)")
                        #expect(budgeted.first?.body.contains("cannot be reached") == true)
                        var open = HTTPClientRequest(url: "http://127.0.0.1:\(port)/v1/chat/completions")
                        open.method = .POST
                        open.headers.add(name: "authorization", value: "Bearer alpha")
                        open.body = .bytes(
                            ByteBuffer(string: #"{"model": "open", "messages": [{"role": "user", "content": "hi"}]}"#)
                        )
                        #expect(try await client.execute(open, timeout: .seconds(30)).status == .ok)
                        try gateway.send(SIGTERM)
                    }
                    let said = try String(contentsOf: log, encoding: .utf8)
                    #expect(
                        said.components(separatedBy: "cannot reach the shared budget ledger").count == 2,
                        "\(said)"
                    )
                }
            }
        }
    }
}
