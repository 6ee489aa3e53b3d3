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

    // MARK: - promptfoo

    @Test func promptfooConfigBecomesCasesCandidatesAndChecks() throws {
        let config = Self.fixture("promptfoo/promptfooconfig.yaml")
        let csv = Self.fixture("promptfoo/tests.csv")
        let imported = try PromptfooImporter().convert(configAt: config)

        // Two prompts x (two inline tests + three CSV rows): a case per prompt and test, tagged by prompt.
        #expect(imported.cases.count == 10)
        #expect(imported.cases.filter { $0.tags.contains("prompt:reply") }.count == 5)
        #expect(imported.cases.filter { $0.tags.contains("prompt:chat") }.count == 5)
        let refund = try #require(imported.cases.first { $0.id == "refund-request-reply" })
        #expect(refund.vars == ["company": "Acme", "question": "I was charged twice, can I get a refund?"])
        #expect(refund.prompt?.hasPrefix("You are a support agent for {{company}}.") == true)
        let chat = try #require(imported.cases.first { $0.id == "refund-request-chat" })
        #expect(chat.messages?.map(\.role) == ["system", "user"])

        // defaultTest's assertions come first in every case; then the test's own, javascript left out.
        #expect(
            refund.checks == [
                ImportedCheck("not-icontains", .string("as an AI language model")),
                ImportedCheck("latency", .string("5000ms")),
                ImportedCheck("icontains-any", .list([.string("refund"), .string("reimburse")])),
                ImportedCheck("judge", .string("Apologises and explains how the refund works")),
                ImportedCheck("cost", .number(0.002), options: [YAMLEntry("weight", .number(2))]),
            ]
        )
        let javascriptLine = try Self.line(of: "type: javascript", in: config)
        #expect(refund.notes.contains { $0.hasPrefix("not carried: javascript (\(config):\(javascriptLine))") })

        let status = try #require(imported.cases.first { $0.id == "order-status-as-json-reply" })
        #expect(
            status.checks.map(\.name) == [
                "not-icontains", "latency", "is-json", "is-json", "similar", "regex", "judge",
            ]
        )
        #expect(status.checks[4].options == [YAMLEntry("threshold", .number(0.8))])
        #expect(status.checks[6].argument == .string("The answer meets this criterion: mentions the order number"))

        // CSV rows: __expected shorthand as checks, a code assertion listed at the row's line.
        let window = try #require(imported.cases.first { $0.id == "refund-window-reply" })
        #expect(
            window.checks.suffix(2) == [
                ImportedCheck("contains", .string("30 days")),
                ImportedCheck("judge", .string("Mentions the 30 day window")),
            ]
        )
        let greeting = try #require(imported.cases.first { $0.id == "greeting-chat" })
        #expect(greeting.checks.suffix(2).map(\.name) == ["starts-with", "not-contains"])

        // Every assertion and provider not carried, by type at its file:line.
        let notCarried = imported.findings(.notCarried).map { "\($0.type) \($0.location)" }
        #expect(
            Set(notCarried) == [
                "javascript \(config):\(javascriptLine)",
                "python \(config):\(try Self.line(of: "type: python", in: config))",
                "rouge-n \(config):\(try Self.line(of: "type: rouge-n", in: config))",
                "javascript \(csv):\(try Self.line(of: "fn: output", in: csv))",
                "provider http \(config):\(try Self.line(of: "- id: http", in: config))",
                "provider option passthrough \(config):\(try Self.line(of: "user: eval", in: config))",
            ],
            "\(notCarried)"
        )
        #expect(imported.findings(.approximated).map(\.type) == ["contains-json"])

        // Providers as candidates; OpenAI ones without base_url so OPENAI_BASE_URL applies.
        let mini = try #require(Self.candidate(imported, "gpt-4o-mini"))
        #expect(mini["provider"] == .string("openai") && mini["base_url"] == nil)
        #expect(mini["api_key_env"] == .string("OPENAI_API_KEY"))
        let warm = try #require(Self.candidate(imported, "gpt41-warm"))
        #expect(warm["model"] == .string("gpt-4.1") && warm["temperature"] == .number(0.7))
        #expect(warm["max_tokens"] == .number(256))
        #expect(Self.candidate(imported, "claude-3-5-haiku-latest")?["provider"] == .string("anthropic"))
        #expect(Self.candidate(imported, "llama3.2")?["base_url"] == .string("http://localhost:11434/v1"))
        #expect(Self.candidate(imported, "gpt4o-proxy")?["base_url"] == .string("https://llm-proxy.example.com/v1"))
        #expect(Self.candidate(imported, "judge")?["judge"] == .bool(true))
        #expect(Self.candidate(imported, "embeddings")?["embeddings"] == .bool(true))

        // The written suite reads back: templates filled, the chat prompt's system message as the system prompt.
        let (text, suite) = try Self.reload(imported)
        #expect(text.hasPrefix("# Imported by `roadtest import` from promptfoo config \(config)."))
        #expect(text.contains("#   \(config):\(javascriptLine): javascript: "))
        #expect(suite.cases.count == 10)
        let loadedRefund = try #require(suite.cases.first { $0.id == "refund-request-reply" })
        #expect(loadedRefund.messages.first?.content.hasPrefix("You are a support agent for Acme.") == true)
        #expect(loadedRefund.messages.first?.content.contains("Customer: I was charged twice") == true)
        let loadedChat = try #require(suite.cases.first { $0.id == "refund-request-chat" })
        #expect(loadedChat.settings.system == "You are a support agent for Acme.")
        #expect(loadedChat.messages.map(\.content) == ["I was charged twice, can I get a refund?"])
        #expect(
            suite.scoredCandidates.map(\.id) == [
                "gpt-4o-mini", "gpt41-warm", "claude-3-5-haiku-latest", "llama3.2", "gpt4o-proxy",
            ]
        )

        // Stable: the same source writes the same bytes.
        #expect(SuiteWriter().yaml(for: try PromptfooImporter().convert(configAt: config)) == text)
    }

    @Test func promptfooTestsFromAFileAndExpandedVars() throws {
        try withTemporaryFiles([
            "promptfooconfig.yaml": """
            prompts: ['Translate to {{language}}: {{text}}']
            providers: [openai:chat:gpt-4o-mini]
            tests: file://tests.jsonl
            """,
            "tests.jsonl": """
            {"vars": {"text": "Hello", "language": ["French", "German"]}, "assert": [{"type": "not-equals", "value": "Hello"}]}
            {"vars": {"text": "Thanks"}, "assert": [{"type": "webhook", "value": "https://example.com/grade"}]}
            """,
        ]) { directory in
            let imported = try PromptfooImporter().convert(configAt: directory + "/promptfooconfig.yaml")
            // A list var makes one test per value, as promptfoo does; an undefined var is rendered empty.
            #expect(imported.cases.map(\.id) == ["test-1-1", "test-1-2", "test-2"])
            #expect(imported.cases.map { $0.vars["language"] } == ["French", "German", ""])
            #expect(imported.cases[0].checks == [ImportedCheck("not-equals", .string("Hello"))])
            #expect(
                imported.findings(.notCarried).map(\.description) == [
                    "\(directory)/tests.jsonl:2: webhook: it is code Roadtest does not run (a 'command' check can run a program)"
                ]
            )
            let (_, suite) = try Self.reload(imported)
            #expect(
                suite.cases.map { $0.messages[0].content } == [
                    "Translate to French: Hello", "Translate to German: Hello", "Translate to : Thanks",
                ]
            )
        }
    }

    @Test func promptfooEdgeCasesAreCarriedOrListed() throws {
        try withTemporaryFiles([
            "promptfooconfig.yaml": """
            prompts:
              - 'Summarise: {{text}}'
              - 'Shout: {{ text | upper }}'
            providers:
              - id: http
                label: gateway
                config:
                  url: http://localhost:8080/v1/chat/completions
                  body: {model: local-llm, messages: '{{prompt}}'}
                  headers: {Authorization: Bearer xyz, X-Team: evals}
              - id: openai:completion:davinci-002
            defaultTest:
              options:
                provider: anthropic:messages:claude-3-5-sonnet-latest
                transform: output.trim()
            tests: file://tests.csv
            """,
            "tests.csv": """
            text,__expected,__description,__threshold
            The quick brown fox,"grade: Is a one-line summary",fox,0.5
            Lorem ipsum,"similar(0.6): A placeholder text",lorem,
            Hello,"levenshtein(3): Hullo",hello,2
            """,
        ]) { directory in
            let config = directory + "/promptfooconfig.yaml"
            let imported = try PromptfooImporter().convert(configAt: config)
            // The second prompt uses a Nunjucks filter: its cases are left out and listed, once per case.
            #expect(imported.cases.map(\.id) == ["fox-prompt-1", "lorem-prompt-1", "hello-prompt-1"])
            #expect(imported.findings(.notCarried).filter { $0.type == "nunjucks" }.count == 3)
            // An OpenAI-compatible HTTP provider is a candidate at its base URL; its credential header is not written.
            let gateway = try #require(Self.candidate(imported, "gateway"))
            #expect(gateway["base_url"] == .string("http://localhost:8080/v1"))
            #expect(gateway["model"] == .string("local-llm"))
            #expect(gateway["headers"] == .map([YAMLEntry("X-Team", .string("evals"))]))
            // The grader named in defaultTest.options.provider is the judge.
            let judge = try #require(Self.candidate(imported, "judge"))
            #expect(judge["provider"] == .string("anthropic") && judge["judge"] == .bool(true))
            #expect(imported.cases[0].checks == [ImportedCheck("judge", .string("Is a one-line summary"))])
            #expect(
                imported.cases[1].checks == [
                    ImportedCheck(
                        "similar",
                        .string("A placeholder text"),
                        options: [YAMLEntry("threshold", .number(0.6))]
                    )
                ]
            )
            #expect(imported.cases[2].checks.isEmpty)
            // A CSV __threshold is the case's; one outside 0...1 is listed at its row, an empty cell is no threshold.
            #expect(imported.cases.map(\.threshold) == [0.5, nil, nil])
            #expect(
                imported.findings(.notCarried).contains {
                    $0.type == "test threshold"
                        && $0.location == SourceLocation(file: directory + "/tests.csv", line: 4)
                }
            )
            let types = Set(imported.findings(.notCarried).map(\.type))
            #expect(
                types.isSuperset(of: ["levenshtein", "provider openai", "option transform", "provider option headers"])
            )
            #expect(imported.findings(.approximated).map(\.type) == ["provider http"])
            let (text, suite) = try Self.reload(imported)
            #expect(suite.cases[0].messages[0].content == "Summarise: The quick brown fox")
            #expect(!text.contains("xyz"))
        }
    }

    @Test func unreadablePromptfooInputNamesFileAndLine() throws {
        try withTemporaryFiles([
            "broken.yaml": "prompts: ['Hi {{x}}']\nproviders: [openai:gpt-4o-mini]\ntests:\n  - vars: {x: [unclosed\n",
            "missing.yaml": "prompts: [file://nowhere.txt]\nproviders: [openai:gpt-4o-mini]\ntests: [{vars: {}}]\n",
            "badcsv.yaml": "prompts: ['{{q}}']\ntests: file://rows.csv\n",
            "rows.csv": "q,__expected\n\"unclosed,equals: x\n",
        ]) { directory in
            let broken = #expect(throws: RoadtestError.self) {
                try PromptfooImporter().convert(configAt: directory + "/broken.yaml")
            }
            #expect(broken?.location?.file == directory + "/broken.yaml")
            #expect((broken?.location?.line ?? 0) >= 4, "\(String(describing: broken))")
            let missing = #expect(throws: RoadtestError.self) {
                try PromptfooImporter().convert(configAt: directory + "/missing.yaml")
            }
            #expect(missing?.code == .notFound)
            #expect(missing?.location == SourceLocation(file: directory + "/missing.yaml", line: 1))
            let csv = #expect(throws: RoadtestError.self) {
                try PromptfooImporter().convert(configAt: directory + "/badcsv.yaml")
            }
            #expect(
                csv?.location == SourceLocation(file: directory + "/rows.csv", line: 2),
                "\(String(describing: csv))"
            )
        }
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
        try contents.write(to: directory.appendingPathComponent(name), atomically: true, encoding: .utf8)
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
