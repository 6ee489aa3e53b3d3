import Foundation
import RoadtestCore
import Testing

/// Every case a run stores is written by `Case.sortedJSON` and fingerprinted: held here to the bytes the Codable
/// encoder writes (a stored run's `suite_hash` must match the suite it was started from, before and after).
@Suite struct CaseJSONTests {
    static let samples: [Case] = [
        Case(id: "c0", messages: [Message(role: "user", content: "hello number 0 of the benchmark")]),
        Case(
            id: "slashes/and \"quotes\"",
            tags: ["a/b", "é ✓ 🚗"],
            kind: .ambiguous,
            messages: [
                Message(role: "system", content: "tabs\tand\u{1}control\n"),
                Message(role: "user", content: "see http://example.com/a?b=c \\ end"),
                Message(role: "assistant", content: "\u{2028}\u{2029}"),
            ],
            checks: [
                Check(kind: .contains("ok")),
                Check(kind: .equals("x/y"), isNegated: true, weight: 2.5, isConstraint: true),
                Check(kind: .icontains("OK"), weight: 0.1),
                Check(kind: .startsWith("A")),
                Check(kind: .regex(#"^\d+/\d+$"#)),
                Check(kind: .maxLength(120), isConstraint: true),
                Check(kind: .containsAny(["a", "b/c"], caseInsensitive: true)),
                Check(kind: .containsAll([], caseInsensitive: false)),
            ],
            threshold: 0.75,
            samples: 3,
            settings: Settings(
                system: "Be brief/short.",
                temperature: 0.7,
                maxTokens: 64,
                timeout: 30,
                retries: 2,
                concurrency: 8,
                stream: false,
                retryBackoff: 0.25
            ),
            location: SourceLocation(file: "suites/cases.jsonl", line: 12),
            isPrivate: true,
            forbiddenTools: ["delete_user"],
            sessionUser: "user-1"
        ),
        // Shapes the one-pass writer leaves to Codable: tools, structured checks, extra parameters.
        Case(
            id: "tools",
            messages: [
                Message(role: "user", content: "call it"),
                Message(
                    role: "assistant",
                    content: "",
                    toolCalls: [ToolCall(id: "1", name: "f", arguments: "{}")]
                ),
                Message(role: "tool", content: "{\"ok\":true}", toolCallID: "1"),
            ],
            checks: [Check(kind: .contains("a")), Check(kind: .jsonPath(path: "$.a", expected: .number(1)))]
        ),
        Case(
            id: "extra",
            messages: [Message(role: "user", content: "x")],
            checks: [Check(kind: .wordCount(min: 1, max: nil))],
            settings: Settings(maxTokens: 1, extra: ["top_p": .number(0.9)])
        ),
        Case(
            id: "judge",
            messages: [Message(role: "user", content: "x")],
            checks: [Check(kind: .judge(rubric: "polite", judge: nil)), Check(kind: .latency(maxSeconds: 1.5))]
        ),
    ]

    @Test(arguments: samples)
    func writtenAsTheCodableEncoderWritesThem(testCase: Case) throws {
        let encoder = SuiteFingerprint.encoder()
        let codable = String(decoding: try encoder.encode(testCase), as: UTF8.self)
        let written = String(decoding: try testCase.sortedJSON(encoder: encoder), as: UTF8.self)
        #expect(written == codable)
        #expect(try JSONDecoder().decode(Case.self, from: Data(written.utf8)) == testCase)
    }

    @Test func settingsWithMaxTurnsAreWrittenInPlace() throws {
        var testCase = Self.samples[0]
        testCase.settings.maxTurns = 4
        let encoder = SuiteFingerprint.encoder()
        #expect(try testCase.sortedJSON(encoder: encoder) == Array(try encoder.encode(testCase)))
    }
}

/// A suite's cases as one list: values and a large file's rows, in order.
@Suite struct CaseListTests {
    static func testCase(_ id: String) -> Case { Case(id: id, messages: [Message(role: "user", content: id)]) }

    @Test func valuesAndRowsReadInOrder() throws {
        let text = ["r1", "r2", "r3"].map { #"{"id":"\#($0)"}"# }.joined(separator: "\n")
        let rows = CaseRows(text: text, rows: [(0, 11, 1), (12, 11, 2), (24, 11, 3)]) { row, _ in
            guard case .object(let object)? = JSONValue.parse(utf8: row), case .string(let id)? = object["id"]
            else { return nil }
            return Self.testCase(id)
        }
        var list: CaseList = [Self.testCase("a")]
        list.append(rows: rows)
        list += [Self.testCase("b")]
        #expect(list.hasRows)
        #expect(list.map(\.id) == ["a", "r1", "r2", "r3", "b"])
        #expect(list[3].id == "r3" && list.last?.id == "b")
        var attacked = list
        var attack = Self.testCase("x")
        attack.attack = Attack(pack: .promptInjection, baseCase: "a", index: 0, technique: "override", canary: "C")
        attacked.append(attack)
        attacked.removeAttacks()
        #expect(attacked == list)
        #expect(try JSONDecoder().decode(CaseList.self, from: JSONEncoder().encode(list)) == list)
    }
}
