import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import RoadtestCore
import RoadtestGateway
import RoadtestTestSupport
import Testing

/// A budgeted route under a burst of concurrent requests: each request reserves its worst-case cost when admitted,
/// so the requests in flight together can never spend more than the cap.
@Suite struct BudgetAdmissionTests {
    @Test func aBurstOfConcurrentRequestsNeverSpendsPastTheCap() async throws {
        try await withSimulator { upstream, _ in
            // Worst case: 10 output tokens at $1,000 per million = $0.01 a request, so at most 10 fit a $0.10 cap at
            // once; each really costs about half that (five words).
            try await GatewayTests.withGateway(
                """
                candidates:
                  - {id: priced, base_url: BASE_URL, model: "priced;ttft=1500ms;reply=one two three four five",
                     price: {input: 0, output: 1000}, max_tokens: 10, retries: 0}
                routes:
                  - {name: default, candidate: priced, budget: {usd_per_day: 0.1}}
                """,
                upstream: upstream
            ) { url, _ in
                var configuration = HTTPClient.Configuration()
                configuration.connectionPool = .init(
                    idleTimeout: .seconds(30),
                    concurrentHTTP1ConnectionsPerHostSoftLimit: 128
                )
                let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
                let statuses = try await withThrowingTaskGroup(of: (UInt, String).self) { group in
                    for index in 0..<100 {
                        group.addTask {
                            var request = HTTPClientRequest(url: url + "/v1/chat/completions")
                            request.method = .POST
                            request.headers.add(name: "content-type", value: "application/json")
                            request.body = .bytes(ByteBuffer(string: GatewayTests.chat("default", "question \(index)")))
                            let response = try await client.execute(request, timeout: .seconds(60))
                            let body = try await response.body.collect(upTo: 1 << 20)
                            return (response.status.code, String(buffer: body))
                        }
                    }
                    var statuses: [(UInt, String)] = []
                    for try await status in group { statuses.append(status) }
                    return statuses
                }
                try await client.shutdown()
                let answered = statuses.filter { $0.0 == 200 }.count
                let refused = statuses.filter { $0.0 == 429 && $0.1.contains("budget_exceeded") }
                // Without reservations every one of the 100 was admitted ($0.50 spent against $0.10).
                #expect(answered >= 10 && answered <= 20, "\(answered) answered")
                #expect(refused.count == 100 - answered)
                let status = try await GatewayTests.send(url + "/_roadtest/status", method: "GET")
                let spent = try #require(status.json?["routes"]?.arrayValue?.first?["spent_today_usd"]?.doubleValue)
                #expect(spent > 0 && spent <= 0.1 + 1e-9, "spent $\(spent)")
            }
        }
    }

    @Test(arguments: [
        // (reservations of 0.01 against a cap of 0.1, then settled at) -> spent
        (10, 0.01, 0.1),
        (10, 0.005, 0.05),
    ])
    func reservationsAreCheckedAndSettledAtomically(count: Int, settleAt: Double, spent: Double) {
        let budgets = BudgetTracker(spentToday: [:])
        for _ in 0..<count { #expect(budgets.reserve(0.01, on: "r", cap: 0.1)) }
        // The eleventh does not fit, whatever has been spent so far.
        #expect(!budgets.reserve(0.01, on: "r", cap: 0.1))
        for _ in 0..<count { budgets.settle(reserved: 0.01, cost: settleAt, on: "r") }
        #expect(abs(budgets.spent("r") - spent) < 1e-12 && budgets.reserved("r") == 0)
        // What a settled request did not spend is free again.
        #expect(budgets.reserve(0.01, on: "r", cap: 0.1) == (spent + 0.01 <= 0.1 + 1e-12))
    }
}
