import Foundation
import RoadtestCore
import Testing

/// Check results are stored with every trial: written by `JSONWriter` and read by the one-pass parser, held here to
/// what the Codable encoder and decoder do.
@Suite struct CheckResultJSONTests {
    static let samples: [[CheckResult]] = [
        [],
        [CheckResult(check: "contains", passed: true, score: 1, weight: 1, reason: "found 'ok'")],
        [
            CheckResult(
                check: "regex",
                passed: false,
                score: 0,
                weight: 2.5,
                reason: "no match for /a\\d+/ in \"x\"\n"
            ),
            CheckResult(
                check: "judge:quality",
                passed: true,
                score: 0.7333333333333333,
                weight: 0.1,
                reason: "tabs\tand\u{1}control, unicode é ✓ 🚗, slash / and \\",
                isConstraint: true
            ),
            CheckResult(check: "", passed: false, score: -0.0, weight: 1e-7, reason: "\u{2028}\u{2029}"),
        ],
    ]

    @Test(arguments: samples)
    func writtenAsTheCodableEncoderWritesThem(checks: [CheckResult]) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let codable = String(decoding: try encoder.encode(checks), as: UTF8.self)
        #expect(CheckResult.json(checks) == codable)
    }

    @Test(arguments: samples)
    func readBackAsWritten(checks: [CheckResult]) throws {
        #expect(try CheckResult.decode(json: CheckResult.json(checks)) == checks)
        // What the Codable encoder wrote before (escaped slashes, its own key order) reads the same.
        let stored = String(decoding: try JSONEncoder().encode(checks), as: UTF8.self)
        #expect(try CheckResult.decode(json: stored) == checks)
    }

    @Test func somethingElseGoesToTheCodableDecoderWhichDecides() {
        #expect(throws: (any Error).self) { try CheckResult.decode(json: #"[{"check": "x"}]"#) }
        #expect(throws: (any Error).self) { try CheckResult.decode(json: "not json") }
    }
}
