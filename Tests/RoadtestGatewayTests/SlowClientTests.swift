import Foundation
import RoadtestTestSupport
import Testing

/// Slow and idle clients against the real gateway on loopback (the simulator upstream): connections that send half a
/// head, stall a body or idle are closed on time by the policy's `limits`, a long stream is never cut, and one client
/// address cannot hold more than its share of connections.
@Suite(.serialized) struct SlowClientTests {
    static let halfHead = "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n"
    static let health = "GET /health HTTP/1.1\r\nHost: x\r\n\r\n"
    /// How late a close may come on this 2-core machine while other work runs.
    static let margin = 3.0

    static func port(of url: String) -> Int { Int(url.split(separator: ":").last!)! }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) * 1e-18
    }

    static func policy(limits: String, model: String = "main") -> String {
        """
        candidates:
          - {id: main, base_url: BASE_URL, model: "\(model)", retries: 0}
        routes:
          - {name: default, candidate: main}
        limits: \(limits)
        """
    }

    /// The p-th fraction of sorted values (0...1).
    static func percentile(_ sorted: [Double], _ p: Double) -> Double {
        sorted[min(sorted.count - 1, Int(Double(sorted.count - 1) * p))]
    }

    @Test func aThousandHalfHeadsAreClosedOnTimeWhileRealClientsAreServed() async throws {
        let count = 1000
        // The default. Opening 1,000 connections takes 2-3 s here, over 6 s while other suites run in parallel: the
        // timeout must leave room for all of them to be open at once.
        let timeout = 10.0
        // Both ends of every connection are in this process.
        let files = raiseOpenFileLimit(to: 2 * count + 1024)
        try #require(files >= 2 * count + 256, "the open-file limit is \(files); 1,000 connections need about 2,300")
        try await withSimulator { upstream, _ in
            try await GatewayTests.withGateway(
                Self.policy(limits: "{header_timeout: 10s, max_connections_per_client: 2000}"),
                upstream: upstream
            ) { url, _ in
                let port = Self.port(of: url)
                func realClientIsAnswered(_ index: Int) async throws -> Bool {
                    let reply = try await GatewayTests.send(
                        url + "/v1/chat/completions",
                        body: GatewayTests.chat("default", "real \(index)")
                    )
                    return reply.status == 200 && reply.body.contains("real \(index)")
                }
                // Given 1,000 connections that each sent half a request head (opened 100 at a time), while a real
                // client is answered after each hundred
                var slow: [RawConnection] = []
                for batch in 0..<(count / 100) {
                    slow += try await withThrowingTaskGroup(of: RawConnection.self) { group in
                        for _ in 0..<100 {
                            group.addTask {
                                let connection = try await RawConnection.open(port: port)
                                try await connection.send(Self.halfHead)
                                return connection
                            }
                        }
                        return try await group.reduce(into: []) { $0.append($1) }
                    }
                    let answered = try await realClientIsAnswered(batch)
                    #expect(answered, "a real client was not answered with \(slow.count) slow connections open")
                }
                let opening = Self.seconds(slow.map(\.openedAt).max()! - slow.map(\.startedAt).min()!)
                // When more real clients ask, they are answered while every slow connection is still held
                for index in 1...5 {
                    let answered = try await realClientIsAnswered(100 + index)
                    #expect(answered)
                }
                let held = slow.filter(\.isOpen).count
                #expect(
                    held == count,
                    "\(held) of \(count) slow connections were open when real clients were served (opening took \(opening) s)"
                )
                // Then each slow connection is closed 10 s after it opened: not before, and not much later
                for connection in slow {
                    _ = try await connection.waitForClose(timeout: .seconds(timeout + Self.margin + opening + 5))
                }
                let still = slow.filter(\.isOpen).count
                #expect(still == 0, "\(still) slow connections are still open")
                // From when connecting started (the server cannot have opened its end before) ...
                let sinceStart = slow.compactMap { connection in
                    connection.closedAt.map { Self.seconds($0 - connection.startedAt) }
                }.sorted()
                #expect(sinceStart.first ?? 0 >= timeout, "closed early: \(sinceStart.prefix(5))")
                // ... and from when the connection was established (the server opens its end just after).
                let sinceOpen = slow.compactMap { connection in
                    connection.closedAt.map { Self.seconds($0 - connection.openedAt) }
                }.sorted()
                #expect(sinceOpen.last ?? .infinity <= timeout + Self.margin, "closed late: \(sinceOpen.suffix(5))")
                #expect(slow.allSatisfy { $0.received.isEmpty })
                print(
                    String(
                        format: "slow clients: %d opened in %.2f s; closed %.3f s (min) %.3f (p50) %.3f (p99) "
                            + "%.3f (max) after they opened (header_timeout 10 s)",
                        count,
                        opening,
                        sinceOpen.first ?? 0,
                        Self.percentile(sinceOpen, 0.5),
                        Self.percentile(sinceOpen, 0.99),
                        sinceOpen.last ?? 0
                    )
                )
                // And the gateway goes on serving.
                let after = try await realClientIsAnswered(200)
                #expect(after)
                // Each one is counted in the metrics.
                let metrics = try await GatewayTests.send(url + "/metrics", method: "GET")
                #expect(
                    metrics.body.contains(#"roadtest_gateway_connections_closed_total{reason="timed_out"} \#(count)"#),
                    "\(metrics.body.suffix(600))"
                )
            }
        }
    }

    @Test func aStalledBodyIsClosedAfterTheBodyTimeout() async throws {
        try await withSimulator { upstream, _ in
            try await GatewayTests.withGateway(
                Self.policy(limits: "{header_timeout: 5s, body_timeout: 1s}"),
                upstream: upstream
            ) { url, _ in
                let connection = try await RawConnection.open(port: Self.port(of: url))
                let sending = ContinuousClock.now
                try await connection.send(
                    "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                        + "Content-Length: 200\r\n\r\n{\"model\": \"default\", "
                )
                let closedAt = try await connection.waitForClose(timeout: .seconds(1 + Self.margin + 5))
                let lifetime = try #require(closedAt.map { Self.seconds($0 - sending) })
                #expect(lifetime >= 1.0 && lifetime <= 1.0 + Self.margin, "closed \(lifetime) s after the head")
                #expect(!connection.received.contains("200 OK"))
                print(String(format: "stalled body: closed %.3f s after its head (body_timeout 1 s)", lifetime))
            }
        }
    }

    @Test func anIdleKeptAliveConnectionIsClosedAfterTheIdleTimeout() async throws {
        try await withSimulator { upstream, _ in
            try await GatewayTests.withGateway(
                Self.policy(limits: "{header_timeout: 1s, idle_timeout: 4s}"),
                upstream: upstream
            ) { url, _ in
                let port = Self.port(of: url)
                async let idle: (Bool, Double) = {
                    // Given a kept-alive connection that waits longer than the header timeout between requests
                    let connection = try await RawConnection.open(port: port)
                    try await connection.send(Self.health)
                    let answered = try await connection.waitFor("\"ok\"")
                    #expect(answered)
                    try await Task.sleep(for: .milliseconds(1500))
                    // When it asks again, it is answered on the same connection (idle is not a slow head)
                    let sending = ContinuousClock.now
                    try await connection.send(Self.health)
                    let again = try await connection.waitFor("HTTP/1.1 200 OK\r\n", count: 2)
                    // Then it is closed when it has idled 4 s after that answer
                    let closedAt = try await connection.waitForClose(timeout: .seconds(4 + Self.margin + 5))
                    return (again, closedAt.map { Self.seconds($0 - sending) } ?? .infinity)
                }()
                async let partial: Double = {
                    // Given a kept-alive connection whose next request stops half-way through its head
                    let connection = try await RawConnection.open(port: port)
                    try await connection.send(Self.health)
                    let answered = try await connection.waitFor("\"ok\"")
                    #expect(answered)
                    try await Task.sleep(for: .milliseconds(300))
                    let sending = ContinuousClock.now
                    try await connection.send(Self.halfHead)
                    // Then the header timeout (1 s from its first byte) closes it, not the idle one (4 s)
                    let closedAt = try await connection.waitForClose(timeout: .seconds(4 + Self.margin + 5))
                    return closedAt.map { Self.seconds($0 - sending) } ?? .infinity
                }()
                let (answeredAgain, idleLifetime) = try await idle
                let partialLifetime = try await partial
                #expect(answeredAgain, "the second request on the kept-alive connection was not answered")
                #expect(
                    idleLifetime >= 4.0 && idleLifetime <= 4.0 + Self.margin,
                    "idle: closed after \(idleLifetime) s"
                )
                #expect(
                    partialLifetime >= 1.0 && partialLifetime < 2.5,
                    "half a head: closed after \(partialLifetime) s"
                )
                print(
                    String(
                        format: "idle: closed %.3f s after the last request (idle_timeout 4 s); "
                            + "half a second head: %.3f s (header_timeout 1 s)",
                        idleLifetime,
                        partialLifetime
                    )
                )
            }
        }
    }

    @Test func aLongAnswerIsNeverCutByTheTimeouts() async throws {
        // 1.5 s to the first token, then ten tokens 250 ms apart: longer than all three timeouts together.
        let model = "long;ttft=1500ms;itl=250ms;reply=one two three four five six seven eight nine ten"
        try await withSimulator { upstream, _ in
            try await GatewayTests.withGateway(
                Self.policy(limits: "{header_timeout: 1s, body_timeout: 1s, idle_timeout: 1s}", model: model),
                upstream: upstream
            ) { url, _ in
                let start = ContinuousClock.now
                async let streamed = GatewayTests.send(
                    url + "/v1/chat/completions",
                    body: GatewayTests.chat("default", "go", stream: true)
                )
                async let whole = GatewayTests.send(
                    url + "/v1/chat/completions",
                    body: GatewayTests.chat("default", "go")
                )
                let (stream, answer) = try await (streamed, whole)
                let elapsed = Self.seconds(ContinuousClock.now - start)
                #expect(
                    stream.status == 200 && stream.body.contains("ten") && stream.body.hasSuffix("data: [DONE]\n\n")
                )
                #expect(answer.status == 200 && answer.body.contains("nine ten"), "\(answer.body)")
                #expect(elapsed > 3.0, "the answers took \(elapsed) s, not longer than the timeouts")
                print(String(format: "long answers: both complete after %.2f s with 1 s timeouts", elapsed))
            }
        }
    }

    @Test func connectionsBeyondAClientsShareAreRefused() async throws {
        try await withSimulator { upstream, _ in
            try await GatewayTests.withGateway(
                Self.policy(limits: "{header_timeout: 10s, max_connections_per_client: 3}"),
                upstream: upstream
            ) { url, _ in
                let port = Self.port(of: url)
                // Given three kept-alive connections from 127.0.0.1, each answered
                var held: [RawConnection] = []
                for _ in 0..<3 {
                    let connection = try await RawConnection.open(port: port)
                    try await connection.send(Self.health)
                    let answered = try await connection.waitFor("\"ok\"")
                    #expect(answered)
                    held.append(connection)
                }
                // When a fourth opens, it is closed at once, unanswered
                let extra = try await RawConnection.open(port: port)
                try? await extra.send(Self.health)
                let closedAt = try await extra.waitForClose(timeout: .seconds(5))
                let refusedAfter = try #require(closedAt.map { Self.seconds($0 - extra.startedAt) })
                #expect(refusedAfter < 1, "refused after \(refusedAfter) s")
                #expect(extra.received.isEmpty)
                #expect(held.allSatisfy { $0.isOpen })
                #if os(Linux)
                // Another address has its own share (Linux answers on all of 127.0.0.0/8).
                let other = try await RawConnection.open(port: port, from: "127.0.0.2")
                try await other.send(Self.health)
                let answered = try await other.waitFor("\"ok\"")
                #expect(answered)
                #endif
                // Then once one closes, a new connection is admitted
                await held[0].close()
                let admitted = try await eventually(timeout: .seconds(5)) {
                    let connection = try await RawConnection.open(port: port)
                    try? await connection.send(Self.health)
                    return try await connection.waitFor("\"ok\"", timeout: .seconds(1))
                }
                #expect(admitted)
                for connection in held { await connection.close() }
                let metrics = try await GatewayTests.send(url + "/metrics", method: "GET")
                #expect(metrics.body.contains(#"roadtest_gateway_connections_closed_total{reason="refused"} "#))
                #expect(!metrics.body.contains(#"roadtest_gateway_connections_closed_total{reason="refused"} 0"#))
                print(String(format: "per-client limit: the fourth connection was closed after %.3f s", refusedAfter))
            }
        }
    }
}
