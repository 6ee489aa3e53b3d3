import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import RoadtestCore
import RoadtestProviders
import RoadtestTestSupport
import Testing

/// `roadtest gateway --metrics-listen`: the metrics a real scraper accepts. Debian's `promtool` checks the
/// exposition and Debian's `prometheus` server scrapes the listener (which needs no client token while the API
/// does) and answers PromQL with the gateway's request count.
@Suite(.serialized, .enabled(if: TestEnvironment.binary != nil, "build the roadtest executable first (swift build)"))
struct GatewayMetricsTests {
    static var prometheusInstalled: Bool {
        FileManager.default.isExecutableFile(atPath: "/usr/bin/prometheus")
            && FileManager.default.isExecutableFile(atPath: "/usr/bin/promtool")
    }

    static func get(_ url: String, token: String? = nil) async throws -> (status: UInt, body: String) {
        var request = HTTPClientRequest(url: url)
        if let token { request.headers.add(name: "authorization", value: "Bearer " + token) }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(5))
        let body = try await response.body.collect(upTo: 16 << 20)
        return (response.status.code, String(buffer: body))
    }

    static func chat(_ port: Int, token: String) async throws -> UInt {
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/v1/chat/completions")
        request.method = .POST
        request.headers.add(name: "authorization", value: "Bearer " + token)
        request.headers.add(name: "content-type", value: "application/json")
        request.body = .bytes(
            ByteBuffer(string: #"{"model": "default", "messages": [{"role": "user", "content": "hi"}]}"#)
        )
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
        _ = try await response.body.collect(upTo: 1 << 20)
        return response.status.code
    }

    @Test(.enabled(if: prometheusInstalled || TestEnvironment.isCI))
    func promtoolAcceptsTheMetricsAndPrometheusScrapesTheListener() async throws {
        #expect(Self.prometheusInstalled, "make test installs Debian's prometheus")
        try await withSimulator { baseURL, _ in
            try await withTemporaryDirectory { directory in
                try writeFiles(
                    [
                        "policy.yaml": """
                        auth: {tokens_env: METRICS_TEST_TOKENS}
                        candidates:
                          - {id: main, base_url: \(baseURL), model: main, retries: 0, price: {input: 1, output: 2}}
                          - {id: spare, base_url: \(baseURL), model: spare, price: {input: 1, output: 2}}
                        routes:
                          - {name: default, candidate: main, fallback: [spare]}
                        """
                    ],
                    in: directory
                )
                let metricsPort = await TestEnvironment.unusedPort()
                let token = "metrics-test-token"
                _ = try await GatewayDrainTests.withGateway(
                    ["--policy", "policy.yaml", "--store", "gw.db", "--metrics-listen", "127.0.0.1:\(metricsPort)"],
                    in: directory,
                    environment: ["METRICS_TEST_TOKENS": token]
                ) { port, gateway in
                    let answered = 7
                    for _ in 0..<answered { #expect(try await Self.chat(port, token: token) == 200) }
                    #expect(try await Self.chat(port, token: "wrong") == 401)
                    // The API's /metrics still wants a token; the metrics listener wants none and serves nothing else.
                    #expect(try await Self.get("http://127.0.0.1:\(port)/metrics").status == 401)
                    let scraped = try await Self.get("http://127.0.0.1:\(metricsPort)/metrics")
                    #expect(scraped.status == 200)
                    #expect(
                        scraped.body.contains(
                            #"roadtest_gateway_requests_total{route="default",candidate="main",outcome="ok"} 7"#
                        ),
                        "\(scraped.body)"
                    )
                    #expect(try await Self.get("http://127.0.0.1:\(metricsPort)/v1/models").status == 404)
                    // Every family has HELP and TYPE, and promtool finds nothing to say.
                    let families = Set(
                        scraped.body.split(separator: "\n").filter { !$0.hasPrefix("#") }.compactMap {
                            $0.split(whereSeparator: { $0 == "{" || $0 == " " }).first.map(String.init)
                        }.map { $0.replacing(/_(bucket|sum|count)$/, with: "") }
                    )
                    for family in families {
                        #expect(scraped.body.contains("# HELP \(family) "), "\(family) has no HELP")
                        #expect(scraped.body.contains("# TYPE \(family) "), "\(family) has no TYPE")
                    }
                    let exposition = directory.appendingPathComponent("metrics.txt")
                    try scraped.body.write(to: exposition, atomically: true, encoding: .utf8)
                    let check = try await ProcessRunner.run(
                        ["/bin/sh", "-c", "/usr/bin/promtool check metrics < '\(exposition.path)'"],
                        timeout: 30
                    )
                    let said =
                        String(decoding: check.standardOutput, as: UTF8.self)
                        + String(decoding: check.standardError, as: UTF8.self)
                    #expect(
                        check.status == 0 && said.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty,
                        "\(said)"
                    )

                    // A real Prometheus server scrapes the listener; PromQL reads the count back.
                    let prometheusPort = await TestEnvironment.unusedPort()
                    try writeFiles(
                        [
                            "prometheus.yml": """
                            global: {scrape_interval: 1s, scrape_timeout: 1s}
                            scrape_configs:
                              - job_name: roadtest
                                static_configs: [{targets: ["127.0.0.1:\(metricsPort)"]}]
                            """
                        ],
                        in: directory
                    )
                    try await TestProcess.run(
                        [
                            "/usr/bin/prometheus", "--config.file=prometheus.yml",
                            "--storage.tsdb.path=\(directory.appendingPathComponent("tsdb").path)",
                            "--web.listen-address=127.0.0.1:\(prometheusPort)",
                        ],
                        in: directory,
                        errorLog: directory.appendingPathComponent("prometheus.log")
                    ) { prometheus in
                        defer { try? prometheus.send(SIGTERM) }
                        let query =
                            "http://127.0.0.1:\(prometheusPort)/api/v1/query?query="
                            + "sum(roadtest_gateway_requests_total%7Broute%3D%22default%22%2Coutcome%3D%22ok%22%7D)"
                        var value: String?
                        let found = try await eventually(timeout: .seconds(60), every: .milliseconds(500)) {
                            guard let answer = try? await Self.get(query), answer.status == 200,
                                let json = JSONValue.parse(Data(answer.body.utf8)),
                                let result = json["data"]?["result"]?.arrayValue?.first,
                                let sample = result["value"]?.arrayValue, sample.count == 2
                            else { return false }
                            value = sample[1].stringValue
                            return true
                        }
                        let log =
                            (try? String(
                                contentsOf: directory.appendingPathComponent("prometheus.log"),
                                encoding: .utf8
                            )) ?? ""
                        #expect(found, "Prometheus never returned the series: \(log.suffix(2000))")
                        #expect(value == "\(answered)")
                        // The scrape target is up.
                        let up = try await Self.get(
                            "http://127.0.0.1:\(prometheusPort)/api/v1/query?query=up%7Bjob%3D%22roadtest%22%7D"
                        )
                        #expect(up.body.contains(#""value":["#) && up.body.contains(#","1"]"#), "\(up.body)")
                    }
                    try gateway.send(SIGTERM)
                }
            }
        }
    }
}
