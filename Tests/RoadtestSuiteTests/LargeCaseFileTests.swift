import Foundation
import RoadtestCore
import RoadtestSuite
import RoadtestTestSupport
import Testing

/// A JSONL file with more rows than the loader holds as values is kept as its bytes, each row read into a case when
/// it is read: held here to the cases the same rows give when loaded as values, with the same diagnostics.
@Suite struct LargeCaseFileTests {
    static let rows = 200_010

    static func line(_ number: Int) -> String {
        switch number % 4 {
        case 0: #"{"id": "c\#(number)", "prompt": "case \#(number): say \"hi\" / ok", "checks": [{"contains": "hi"}]}"#
        case 1: #"{"id": "c\#(number)", "messages": [{"role": "user", "content": "é ✓ \#(number)"}], "tags": ["t"]}"#
        case 2:
            #"  {"id": "c\#(number)", "prompt": "x", "samples": 2, "threshold": 0.5, "checks": [{"regex": "^x$"}]}\#r"#
        default: #"{"prompt": "no id on line \#(number)", "max_tokens": 7}"#
        }
    }

    func suite(lines: [String], in directory: URL) throws -> String {
        try writeFiles(
            [
                "suite.yaml": """
                name: large
                candidates: [{id: m, base_url: "http://127.0.0.1:9/v1", model: m}]
                cases:
                  - {file: cases.jsonl, tags: [file]}
                """,
                "cases.jsonl": lines.joined(separator: "\n") + "\n",
            ],
            in: directory
        )
        return directory.appendingPathComponent("suite.yaml").path
    }

    @Test func aLargeFileReadsAsTheSameCasesAsASmallOne() async throws {
        let lines = (1...Self.rows).map(Self.line)
        try await withTemporaryDirectory { directory in
            let large = try SuiteLoader().load(path: try suite(lines: lines, in: directory))
            #expect(large.cases.hasRows)
            #expect(large.cases.count == Self.rows)
            // The first rows, loaded from a file small enough to be held as values, give equal cases.
            let small = try SuiteLoader().load(path: try suite(lines: Array(lines.prefix(40)), in: directory))
            #expect(!small.cases.hasRows)
            #expect(Array(small.cases) == Array(large.cases.prefix(40)))
            // The last rows keep their lines, the file's tags and the ids made from their lines.
            let last = large.cases[Self.rows - 1]
            #expect(last.id == "c\(Self.rows)" && last.samples == 2 && last.threshold == 0.5)
            #expect(last.location?.line == Self.rows && last.tags == ["file"])
            let unnamed = large.cases[Self.rows - 4]
            #expect(unnamed.id == "cases-\(Self.rows - 3)" && unnamed.settings.maxTokens == 7)
            // Held as bytes, a list still encodes and decodes as the cases it holds.
            let sample = CaseList(Array(large.cases.prefix(8)))
            let decoded = try JSONDecoder().decode(CaseList.self, from: try JSONEncoder().encode(sample))
            #expect(decoded == sample)
        }
    }

    @Test func aLargeFilesMistakesNameTheirLines() async throws {
        var lines = (1...Self.rows).map(Self.line)
        lines[199_999] = "{not json"
        lines[200_004] = #"{"id": "c4", "prompt": "again"}"#
        try await withTemporaryDirectory { directory in
            do {
                _ = try SuiteLoader().load(path: try suite(lines: lines, in: directory))
                Issue.record("a file with a broken line loaded")
            } catch let error as RoadtestError {
                let found = error.diagnostics.map(\.description)
                #expect(
                    found.contains { $0.contains("cases.jsonl:200000") && $0.contains("not valid JSON") },
                    "\(found)"
                )
                #expect(
                    found.contains { $0.contains("cases.jsonl:200005") && $0.contains("'c4' is used twice") },
                    "\(found)"
                )
            }
        }
    }
}
