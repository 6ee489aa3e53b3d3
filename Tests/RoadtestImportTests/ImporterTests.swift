import Foundation
import RoadtestCore
import RoadtestImport
import RoadtestSuite
import Testing

/// The importers on realistic source files (Tests/RoadtestImportTests/Fixtures): what is carried, what is listed as
/// not carried with file:line, and that the written suite reads back through Roadtest's own loader.
@Suite struct ImporterTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

    static func fixture(_ path: String) -> String { fixtures.appendingPathComponent(path).path }

    /// The 1-based line of the first line of `file` containing `needle`.
    static func line(of needle: String, in file: String) throws -> Int {
        let text = try String(contentsOfFile: file, encoding: .utf8)
        let lines = text.components(separatedBy: "\n")
        return try #require(lines.firstIndex { $0.contains(needle) }) + 1
    }

    /// The suite as written, loaded by `SuiteLoader` from a file beside nothing else.
    static func reload(_ suite: ImportedSuite) throws -> (text: String, suite: Suite) {
        let text = try SuiteWriter().checkedYAML(for: suite, path: "imported.yaml")
        return (text, try SuiteLoader().load(yaml: text, path: "imported.yaml"))
    }

    static func candidate(_ suite: ImportedSuite, _ id: String) -> [String: YAMLValue]? {
        guard let entries = suite.candidates.first(where: { $0.first == YAMLEntry("id", .string(id)) }) else {
            return nil
        }
        return Dictionary(entries.map { ($0.key, $0.value) }, uniquingKeysWith: { first, _ in first })
    }

    // MARK: - OpenAI evals

    @Test func openAIEvalBecomesCasesChecksAndJudges() throws {
        let evalPath = Self.fixture("openai-evals/eval.json")
        let imported = try OpenAIEvalsImporter(dataPath: Self.fixture("openai-evals/items.jsonl"))
            .convert(evalAt: evalPath)
        #expect(imported.name == "ticket-categorization")
        #expect(imported.cases.map(\.id) == ["item-1", "item-2", "item-3"])
        let first = imported.cases[0]
        #expect(first.vars["correct_label"] == "Hardware" && first.vars["ticket_text"] == "My monitor won't turn on!")
        #expect(first.messages?.map(\.role) == ["system", "user"])
        #expect(first.messages?.last?.content == "{{ticket_text}}")
        #expect(first.checks.map(\.name) == ["equals", "icontains", "similar", "judge", "judge"])
        #expect(first.checks[0].argument == .string("{{correct_label}}"))
        #expect(first.checks[2].options == [YAMLEntry("threshold", .number(0.7))])
        guard case .map(let scored) = first.checks[4].argument else {
            Issue.record("score_model should name its judge")
            return
        }
        #expect(scored.contains(YAMLEntry("judge", .string("judge-o3-mini"))))
        let model = try #require(Self.candidate(imported, "model"))
        #expect(model["model"] == .string("gpt-4.1-mini") && model["temperature"] == .number(0))
        #expect(model["max_tokens"] == .number(64) && model["base_url"] == nil)
        #expect(Self.candidate(imported, "judge")?["model"] == .string("gpt-4o-2024-08-06"))

        let notCarried = imported.findings(.notCarried).map { "\($0.type) \($0.location)" }
        #expect(
            notCarried == [
                "text_similarity (fuzzy_match) \(evalPath):\(try Self.line(of: "\"fuzzy_match\"", in: evalPath) - 5)",
                "python \(evalPath):\(try Self.line(of: "\"type\": \"python\"", in: evalPath) - 1)",
            ]
        )

        let (_, suite) = try Self.reload(imported)
        #expect(suite.cases.count == 3)
        #expect(suite.cases[2].messages.last?.content == "Best restaurants in Cleveland?")
        #expect(suite.cases[0].settings.system?.hasPrefix("Categorize the ticket") == true)
        guard case .equals(let expected) = suite.cases[1].checks[0].kind else {
            Issue.record("the first check should be equals")
            return
        }
        #expect(expected == "Software")
    }

    @Test func openAIEvalWithoutPromptOrItemsIsAClearError() throws {
        try withTemporaryFiles([
            "eval.json":
                #"{"name": "x", "testing_criteria": [{"type": "string_check", "input": "{{sample.output_text}}", "reference": "{{item.a}}", "operation": "eq"}]}"#,
            "items.jsonl": "{\"item\": {\"a\": \"1\", \"q\": \"one\"}}\nnot json\n",
            "good.jsonl": "{\"item\": {\"a\": \"1\", \"q\": \"one\"}}\n",
        ]) { directory in
            let noItems = #expect(throws: RoadtestError.self) {
                try OpenAIEvalsImporter().convert(evalAt: directory + "/eval.json")
            }
            #expect(noItems?.hint?.contains("--data") == true)
            let badLine = #expect(throws: RoadtestError.self) {
                try OpenAIEvalsImporter(dataPath: directory + "/items.jsonl").convert(evalAt: directory + "/eval.json")
            }
            #expect(badLine?.location == SourceLocation(file: directory + "/items.jsonl", line: 2))
            let noPrompt = #expect(throws: RoadtestError.self) {
                try OpenAIEvalsImporter(dataPath: directory + "/good.jsonl").convert(evalAt: directory + "/eval.json")
            }
            #expect(noPrompt?.hint?.contains("--prompt") == true)
            let imported = try OpenAIEvalsImporter(dataPath: directory + "/good.jsonl", prompt: "Say {{item.q}}")
                .convert(evalAt: directory + "/eval.json")
            #expect(imported.cases[0].prompt == "Say {{q}}")
            #expect(try Self.reload(imported).suite.cases[0].messages[0].content == "Say one")
        }
    }

    // MARK: - Inspect

    @Test func inspectJSONLDatasetBecomesCases() throws {
        let path = Self.fixture("inspect/dataset.jsonl")
        let imported = try InspectImporter().convert(datasetAt: path)
        #expect(imported.cases.map(\.id) == ["geo-1", "math-2", "multi-3", "sandboxed-4"])
        let geography = imported.cases[0]
        #expect(
            geography.prompt?.contains("What is the capital of France?\n\nA) Berlin\nB) Paris\nC) Madrid\nD) Rome")
                == true
        )
        #expect(geography.checks == [ImportedCheck("regex", .string("(?i)ANSWER\\s*:\\s*\\(?B\\b"))])
        #expect(
            geography.tags == ["difficulty:1", "subject:geography"]
                || geography.tags == ["subject:geography", "difficulty:1"]
        )
        #expect(geography.vars["subject"] == "geography")
        #expect(imported.cases[1].messages?.map(\.role) == ["system", "user"])
        #expect(imported.cases[1].checks == [ImportedCheck("icontains", .string("144"))])
        #expect(
            imported.cases[2].checks == [
                ImportedCheck("icontains-any", .list([.string("red"), .string("blue"), .string("yellow")]))
            ]
        )
        #expect(
            imported.findings(.notCarried).map { "\($0.type) \($0.location)" } == [
                "field files \(path):4", "field sandbox \(path):4",
            ]
        )
        let (_, suite) = try Self.reload(imported)
        #expect(suite.cases.count == 4)
        #expect(suite.cases[1].settings.system == "You are a careful mathematician.")
        // The letter check passes on Inspect's answer format and fails on another letter.
        let check = suite.cases[0].checks[0]
        let context = CheckEvaluator.Context(endToEnd: nil, costUSD: 0)
        #expect(CheckEvaluator.evaluate(check.kind, output: "Paris.\nANSWER: B", context: context)?.passed == true)
        #expect(CheckEvaluator.evaluate(check.kind, output: "answer: (b)", context: context)?.passed == true)
        #expect(CheckEvaluator.evaluate(check.kind, output: "ANSWER: C", context: context)?.passed == false)
    }

    @Test func inspectCSVDatasetReadsChoicesFromAJSONCell() throws {
        let imported = try InspectImporter(model: "gpt-4.1-nano").convert(
            datasetAt: Self.fixture("inspect/dataset.csv")
        )
        #expect(imported.cases.map(\.id) == ["q1", "q2"])
        #expect(imported.cases[0].prompt?.hasSuffix("A) Venus\nB) Jupiter\nC) Mars") == true)
        #expect(imported.cases[0].checks.first?.argument == .string("(?i)ANSWER\\s*:\\s*\\(?C\\b"))
        #expect(imported.cases[1].checks == [ImportedCheck("icontains", .string("water"))])
        #expect(imported.cases[1].tags == ["topic:chemistry"])
        #expect(Self.candidate(imported, "model")?["model"] == .string("gpt-4.1-nano"))
        #expect(try Self.reload(imported).suite.cases.count == 2)
    }

    @Test func inspectSamplesWithoutAUserTurnAreListedNotWritten() throws {
        try withTemporaryFiles([
            "samples.jsonl": """
            {"id": 7, "input": [{"role": "system", "content": "Only instructions."}], "target": "x"}
            {"id": 8, "input": [{"role": "user", "content": [{"type": "text", "text": "Describe"}, {"type": "image", "image": "a.png"}]}, {"role": "tool", "content": "42"}], "target": "cat"}
            {"input": "What is {{name}}?", "target": "a name"}
            """
        ]) { directory in
            let path = directory + "/samples.jsonl"
            let imported = try InspectImporter().convert(datasetAt: path)
            #expect(imported.cases.map(\.id) == ["8", "sample-3"])
            #expect(
                imported.findings(.notCarried).map { "\($0.type) \($0.location.line)" } == [
                    "input 1", "content 2", "message tool 2",
                ]
            )
            #expect(imported.cases[0].prompt == "Describe")
            // Braces in an input are sent as written.
            #expect(try Self.reload(imported).suite.cases[1].messages[0].content == "What is {{name}}?")
            #expect(imported.findings(.approximated).map(\.type) == ["braces"])
        }
    }

    /// Text made of YAML's troublemakers (indicators, quotes, escapes, line breaks, non-ASCII, Unicode line
    /// separators), in var values, assertion values and descriptions: every import loads, and what was written is
    /// what is read.
    @Test func awkwardTextAlwaysImportsToASuiteThatLoads() throws {
        var random = SplitMix(seed: 7)
        let pieces = [
            "a", "Z", " ", ":", ": ", "#", " #", "-", "- ", "'", "\"", "\\", "\n", "\t", "{", "}", "[", "]", ",", "&",
            "*", "!", "|", ">", "%", "@", "`", "?", "é", "✓", "\r", "0", "1.5", ".", "~", "\u{85}", "\u{2028}",
            "\u{FEFF}", "yes", "null", "\u{7}", "  ",
        ]
        func text() -> String {
            (0..<Int(random.next() % 7)).map { _ in pieces[Int(random.next() % UInt64(pieces.count))] }.joined()
        }
        try withTemporaryFiles([:]) { directory in
            for round in 0..<500 {
                let (question, answer, description) = (text(), text(), text())
                let config = JSONValue.object([
                    "description": .string(description),
                    "prompts": .array([.string("Q: {{question}}")]),
                    "providers": .array([.string("openai:gpt-4o-mini")]),
                    "tests": .array([
                        .object([
                            "description": .string(description),
                            "vars": .object(["question": .string(question)]),
                            "assert": .array([
                                .object(["type": .string("contains"), "value": .string(answer)]),
                                .object([
                                    "type": .string("icontains-any"), "value": .array([.string(answer), .string("x")]),
                                ]),
                            ]),
                        ])
                    ]),
                ])
                let path = directory + "/config-\(round).json"
                try config.jsonText.write(toFile: path, atomically: true, encoding: .utf8)
                let imported = try PromptfooImporter().convert(configAt: path)
                let suite = try Self.reload(imported).suite
                #expect(suite.cases.count == 1)
                // A check's text with {{ }} is a template; and Yams drops a scalar's leading U+FEFF as it reads it
                // (Roadtest's own loader included), so such text cannot come back byte for byte.
                guard !answer.contains("{{"), !answer.contains("}}"), !answer.hasPrefix("\u{FEFF}"),
                    !question.hasPrefix("\u{FEFF}")
                else { continue }
                #expect(suite.cases[0].messages[0].content == "Q: " + question, "round \(round)")
                guard case .contains(let needle) = suite.cases[0].checks[0].kind else {
                    Issue.record("round \(round): expected contains")
                    continue
                }
                #expect(needle == answer, "round \(round)")
            }
        }
    }

    // MARK: - Writing

    @Test(arguments: [
        "plain", "two words", "yes", "No", "null", "42", "1.5", "-dash", "key: value", "# hash", "trailing ",
        "multi\nline", "multi\nline\n", " leading", "tab\there", "quote \"inside\"", "émoji ✓",
        "ends with colon:", "a:b", "[bracket", "a\n\n\nb", "line \nwith trailing space", "\u{7}bell", "0x1F", "~",
        "@at",
    ])
    func textSurvivesTheRoundTrip(_ text: String) throws {
        var imported = ImportedSuite(source: "a test", name: "round-trip")
        imported.candidates = [[YAMLEntry("id", .string("m")), YAMLEntry("model", .string("m"))]]
        var testCase = ImportedCase(id: "c")
        testCase.prompt = "{{value}}"
        testCase.vars = ["value": text]
        testCase.description = text.isEmpty ? nil : text
        testCase.checks = [ImportedCheck("contains-any", .list([.string(text), .string("x")]))]
        imported.cases = [testCase]
        let (_, suite) = try Self.reload(imported)
        #expect(suite.cases[0].messages[0].content == text)
        guard case .containsAny(let items, _) = suite.cases[0].checks[0].kind else {
            Issue.record("expected contains-any")
            return
        }
        #expect(items == [text, "x"])
    }
}

/// Writes files into a fresh temporary directory and passes its path.
func withTemporaryFiles(_ files: [String: String], _ body: (String) throws -> Void) throws {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
        "roadtest-import-\(UUID().uuidString)"
    )
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    for (name, contents) in files {
        let url = directory.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try contents.write(to: url, atomically: true, encoding: .utf8)
    }
    try body(directory.path)
}

/// A small seeded generator (SplitMix64), so a failing round is the same round on every machine.
struct SplitMix {
    var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
