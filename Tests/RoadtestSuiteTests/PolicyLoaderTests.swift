import Foundation
import RoadtestCore
import RoadtestSuite
import RoadtestTestSupport
import Testing

@Suite struct PolicyLoaderTests {
    static let head = """
        candidates:
          - {id: a, base_url: http://127.0.0.1:1/v1, model: m}
        routes:
          - {name: default, candidate: a}

        """

    func load(_ yaml: String) async throws -> GatewayPolicy {
        try await withTemporaryDirectory { directory in
            try writeFiles(["policy.yaml": yaml], in: directory)
            return try PolicyLoader().load(path: directory.appendingPathComponent("policy.yaml").path)
        }
    }

    /// The problems `yaml` has, as `policy.yaml:LINE: message`.
    func diagnostics(_ yaml: String) async -> [String] {
        do {
            _ = try await load(yaml)
            return []
        } catch let error as RoadtestError {
            return error.diagnostics.map { diagnostic in
                var text = diagnostic.description
                if let range = text.range(of: "policy.yaml:") { text = "policy.yaml:" + text[range.upperBound...] }
                return text
            }
        } catch {
            return ["unexpected: \(error)"]
        }
    }

    @Test func connectionLimitsHaveDefaults() async throws {
        let policy = try await load(Self.head)
        #expect(policy.headerTimeout == 10)
        #expect(policy.bodyTimeout == 30)
        #expect(policy.idleTimeout == 60)
        #expect(policy.maxConnectionsPerClient == 1024)
    }

    @Test func connectionLimitsLoad() async throws {
        let policy = try await load(
            Self.head + """
                limits: {header_timeout: 2s, body_timeout: 1500ms, idle_timeout: 2m, max_connections_per_client: 8}
                """
        )
        #expect(policy.headerTimeout == 2)
        #expect(policy.bodyTimeout == 1.5)
        #expect(policy.idleTimeout == 120)
        #expect(policy.maxConnectionsPerClient == 8)
        let unlimited = try await load(Self.head + "limits: {max_connections_per_client: 0}\n")
        #expect(unlimited.maxConnectionsPerClient == nil)
    }

    @Test func badConnectionLimitsNameTheirLine() async {
        let problems = await diagnostics(
            Self.head + """
                limits:
                  header_timeout: soon
                  body_timeout: 0s
                  idle_timeout: 60s
                  max_connections_per_client: -1
                  header_timout: 5s
                """
        )
        #expect(problems.count == 4, "\(problems)")
        #expect(
            problems.contains { $0.hasPrefix("policy.yaml:6:") && $0.contains("'header_timeout' must be a duration") }
        )
        #expect(
            problems.contains {
                $0.hasPrefix("policy.yaml:7:") && $0.contains("'body_timeout' must be a duration above 0")
            }
        )
        #expect(
            problems.contains {
                $0.hasPrefix("policy.yaml:9:") && $0.contains("'max_connections_per_client' must be a whole number")
            }
        )
        #expect(problems.contains { $0.hasPrefix("policy.yaml:10:") && $0.contains("header_timout") })
    }
}
