import Foundation
import RoadtestCore
import RoadtestSuite
import RoadtestTestSupport
import Testing

/// A fuzz target for the suite loader: seeded mutations of valid suites (YAML, JSONL, CSV) must load or fail with
/// diagnostics that name file:line, never trap or hang.
@Suite struct SuiteLoaderFuzzTests {
    static let seedSuite = """
        name: fuzz
        candidates:
          - {id: a, base_url: "http://127.0.0.1:1/v1", model: m, price: {input: 1, output: 2}}
          - {id: j, base_url: "http://127.0.0.1:1/v1", model: m, judge: true}
        defaults: {temperature: 0, max_tokens: 16, timeout: 5s, retries: 1}
        robustness: {perturbations: [typos, case], variants: 2, seed: 3}
        prompts: [Be brief.]
        cases:
          - id: c1
            tags: [x]
            prompt: "Hello {{name}}"
            vars: {name: Ada}
            checks:
              - contains: Ada
              - not-icontains: bye
                weight: 2
              - is-json: {type: object, required: [a]}
              - judge: {rubric: polite, judge: j}
            threshold: 0.5
          - file: cases.jsonl
          - file: cases.csv
            prompt: "Ticket: {{ticket}}"
        bars: {pass_rate: 0.9, p95_latency: 2s, cost_per_success: 0.01}
        """
    static let jsonl = """
        {"id": "j1", "prompt": "one", "checks": [{"equals": "1"}]}
        {"id": "j2", "messages": [{"role": "user", "content": "two"}], "checks": [{"number": {"value": 2, "tolerance": 0}}]}
        """
    static let csv = "id,ticket,icontains\nr1,refund please,refund\nr2,\"a, b\",b\n"

    /// Seeded mutations: delete, duplicate or swap characters, insert YAML-significant bytes, cut the file.
    static func mutate(_ text: String, _ random: inout SplitMix64) -> String {
        var bytes = Array(text.utf8)
        let specials: [UInt8] = Array(":-[]{}\"',#|>&*!%@`\t\n ".utf8) + [0xC3, 0xA9, 0xFF, 0x00]
        for _ in 0..<(1 + Int(random.next() % 4)) where !bytes.isEmpty {
            let index = Int(random.next() % UInt64(bytes.count))
            switch random.next() % 5 {
            case 0: bytes.remove(at: index)
            case 1: bytes.insert(specials[Int(random.next() % UInt64(specials.count))], at: index)
            case 2: bytes.insert(contentsOf: bytes[index..<min(bytes.count, index + 12)], at: index)
            case 3: bytes.swapAt(index, Int(random.next() % UInt64(bytes.count)))
            default: bytes = Array(bytes[..<index])
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    @Test func mutatedSuitesLoadOrFailWithLocatedDiagnostics() async throws {
        try await withTemporaryDirectory { directory in
            var random = SplitMix64(seed: 2026)
            var failures = 0
            for iteration in 0..<400 {
                let target = iteration % 3
                try writeFiles(
                    [
                        "suite.yaml": target == 0 ? Self.mutate(Self.seedSuite, &random) : Self.seedSuite,
                        "cases.jsonl": target == 1 ? Self.mutate(Self.jsonl, &random) : Self.jsonl,
                        "cases.csv": target == 2 ? Self.mutate(Self.csv, &random) : Self.csv,
                    ],
                    in: directory
                )
                do {
                    let suite = try SuiteLoader().load(path: directory.appendingPathComponent("suite.yaml").path)
                    #expect(!suite.cases.isEmpty && !suite.scoredCandidates.isEmpty)
                } catch let error as RoadtestError {
                    failures += 1
                    #expect(error.code == .invalidSuite)
                    #expect(!error.diagnostics.isEmpty)
                    for diagnostic in error.diagnostics {
                        let location = try #require(diagnostic.location, "\(diagnostic)")
                        #expect(location.line >= 1, "\(diagnostic)")
                        #expect(["suite.yaml", "cases.jsonl", "cases.csv"].contains { location.file.hasSuffix($0) })
                    }
                }
            }
            // The mutations must reach the error paths, or this target tests nothing.
            #expect(failures > 50)
        }
    }
}
