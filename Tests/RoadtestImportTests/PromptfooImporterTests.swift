import Foundation
import RoadtestCore
import RoadtestImport
import RoadtestSuite
import Testing

/// promptfoo configs: prompts x tests x vars, defaultTest, providers and assertions.
extension ImporterTests {
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
            {"vars": {"text": "Bye", "language": []}}
            """,
        ]) { directory in
            let imported = try PromptfooImporter().convert(configAt: directory + "/promptfooconfig.yaml")
            // A list var makes one test per value, as promptfoo does; an undefined var is rendered empty.
            #expect(imported.cases.map(\.id) == ["test-1-1", "test-1-2", "test-2", "test-3"])
            #expect(imported.cases.map { $0.vars["language"] } == ["French", "German", "", "[]"])
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
                    "Translate to []: Bye",
                ]
            )
        }
    }

    @Test func promptfooGlobsNamePromptAndTestFiles() throws {
        try withTemporaryFiles([
            "promptfooconfig.yaml": "prompts: [file://prompts/*.txt]\ntests: file://tests/*.yaml\n",
            "prompts/formal.txt": "Dear customer, {{topic}}",
            "prompts/casual.txt": "Hey! {{topic}}",
            "prompts/notes.md": "not a match",
            "tests/b.yaml": "- vars: {topic: billing}\n",
            "tests/a.yaml": "- vars: {topic: shipping}\n  assert: [{type: contains, value: ship}]\n",
        ]) { directory in
            let imported = try PromptfooImporter().convert(configAt: directory + "/promptfooconfig.yaml")
            // Matches in name order: casual before formal, a.yaml before b.yaml.
            #expect(imported.cases.map(\.id) == ["test-1-casual", "test-1-formal", "test-2-casual", "test-2-formal"])
            #expect(imported.cases.map { $0.vars["topic"] } == ["shipping", "shipping", "billing", "billing"])
            #expect(imported.cases[0].checks == [ImportedCheck("contains", .string("ship"))])
            let suite = try Self.reload(imported).suite
            #expect(suite.cases[1].messages[0].content == "Dear customer, shipping")
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
}
