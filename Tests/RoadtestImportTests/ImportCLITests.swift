import Foundation
import RoadtestCore
import RoadtestServer
import RoadtestTestSupport
import Testing

/// `roadtest import` as a user runs it: the suite written, the summary, `roadtest validate` on the result, and a
/// run of the imported suite against the simulator (OpenAI-format candidates reach it through `OPENAI_BASE_URL`,
/// as the official SDK would).
@Suite(.serialized, .enabled(if: TestEnvironment.binary != nil, "build the roadtest executable first (swift build)"))
struct ImportCLITests {
    /// The fixtures copied into `directory` so the command names them by relative paths, as a user types them.
    func copyFixtures(to directory: URL) throws {
        for name in ["promptfoo", "openai-evals", "inspect"] {
            try FileManager.default.copyItem(
                at: ImporterTests.fixtures.appendingPathComponent(name),
                to: directory.appendingPathComponent(name)
            )
        }
    }

    @Test func promptfooImportWritesASuiteThatValidatesAndSaysWhatItLeftOut() async throws {
        try await withTemporaryDirectory { directory in
            try copyFixtures(to: directory)
            let config = "promptfoo/promptfooconfig.yaml"
            let imported = try await runRoadtest(["import", "promptfoo", config, "--out", "suite.yaml"], in: directory)
            // Uncarried assertions are warnings: the suite is written and the exit status is 0.
            #expect(imported.status == 0, "\(imported.errors)")
            let javascript = try ImporterTests.line(
                of: "type: javascript",
                in: directory.appendingPathComponent(config).path
            )
            #expect(
                imported.output.contains("Wrote suite.yaml: 10 cases, 5 candidates and 1 judge"),
                "\(imported.output)"
            )
            #expect(imported.output.contains("Checks carried: "), "\(imported.output)")
            #expect(imported.output.contains("icontains 12, icontains-any 2, is-json 4, judge 6"), "\(imported.output)")
            #expect(imported.output.contains("warning: \(config):\(javascript): javascript: "), "\(imported.output)")
            #expect(imported.output.contains("warning: promptfoo/tests.csv:3: javascript: "), "\(imported.output)")
            #expect(imported.output.contains("Not carried: 6 (javascript 2, provider http 1, "), "\(imported.output)")
            let text = try String(contentsOf: directory.appendingPathComponent("suite.yaml"), encoding: .utf8)
            #expect(text.hasPrefix("# Imported by `roadtest import` from promptfoo config \(config)."))

            let validated = try await runRoadtest(["validate", "suite.yaml"], in: directory)
            #expect(validated.status == 0, "\(validated.errors)")
            #expect(validated.output.contains("5 candidate(s), 10 case(s)"), "\(validated.output)")
        }
    }

    @Test func unreadableInputExitsOneWithFileAndLine() async throws {
        try await withTemporaryDirectory { directory in
            try writeFiles(
                [
                    "dataset.jsonl": "{\"input\": \"fine\", \"target\": \"x\"}\n{\"input\": \"broken\", \n",
                    "promptfooconfig.yaml": "prompts: [file://missing.txt]\ntests: [{vars: {a: 1}}]\n",
                ],
                in: directory
            )
            let inspect = try await runRoadtest(
                ["import", "inspect", "dataset.jsonl", "--out", "s.yaml"],
                in: directory
            )
            #expect(inspect.status == 1)
            #expect(
                inspect.errors.hasPrefix("roadtest: dataset.jsonl:2: cannot parse dataset.jsonl"),
                "\(inspect.errors)"
            )
            #expect(!FileManager.default.fileExists(atPath: directory.appendingPathComponent("s.yaml").path))
            // The source is never overwritten.
            try writeFiles(["good.jsonl": "{\"input\": \"fine\", \"target\": \"x\"}\n"], in: directory)
            let overwrite = try await runRoadtest(
                ["import", "inspect", "good.jsonl", "--out", "./good.jsonl"],
                in: directory
            )
            #expect(overwrite.status == 1)
            #expect(overwrite.errors.contains("is the file being imported"), "\(overwrite.errors)")
            #expect(
                try String(contentsOf: directory.appendingPathComponent("good.jsonl"), encoding: .utf8)
                    == "{\"input\": \"fine\", \"target\": \"x\"}\n"
            )
            let promptfoo = try await runRoadtest(
                ["import", "promptfoo", "promptfooconfig.yaml", "--out", "s.yaml"],
                in: directory
            )
            #expect(promptfoo.status == 1)
            #expect(
                promptfoo.errors.hasPrefix("roadtest: promptfooconfig.yaml:1: cannot read missing.txt"),
                "\(promptfoo.errors)"
            )
        }
    }

    @Test func importedSuitesRunAgainstTheSimulator() async throws {
        // Models that answer right: the eval's categories, and Inspect's letters in its answer format.
        var categorizer = ModelBehavior()
        categorizer.rules = [("monitor", "Hardware"), ("vim", "Software"), ("restaurants", "Other")]
        var student = ModelBehavior()
        student.rules = [
            ("capital of France", "Paris.\nANSWER: B"), ("12 * 12", "It is 144."), ("primary colour", "Blue"),
            ("files in /tmp", "README"), ("red planet", "ANSWER: C"), ("H2O", "Water."),
        ]
        let profile = SimulatorProfile(models: ["gpt-4.1-mini": categorizer, "gpt-4o-mini": student])
        try await withSimulator(profile: profile) { baseURL, simulator in
            try await withTemporaryDirectory { directory in
                try copyFixtures(to: directory)
                let environment = [
                    "OPENAI_BASE_URL": baseURL, "OPENAI_API_KEY": "sk-test",
                    "ANTHROPIC_BASE_URL": String(baseURL.dropLast(3)), "ANTHROPIC_API_KEY": "test",
                ]
                let imports: [(arguments: [String], candidates: [String], cases: Int)] = [
                    (
                        ["promptfoo", "promptfoo/promptfooconfig.yaml"],
                        ["gpt-4o-mini", "claude-3-5-haiku-latest"], 10
                    ),
                    (
                        ["openai-evals", "openai-evals/eval.json", "--data", "openai-evals/items.jsonl"],
                        ["model"], 3
                    ),
                    (["inspect", "inspect/dataset.jsonl"], ["model"], 4),
                    (["inspect", "inspect/dataset.csv"], ["model"], 2),
                ]
                for (index, source) in imports.enumerated() {
                    let suite = "suite-\(index).yaml"
                    let imported = try await runRoadtest(
                        ["import"] + source.arguments + ["--out", suite],
                        in: directory
                    )
                    #expect(imported.status == 0, "\(imported.errors)")
                    // The written suite is a contract: the golden file changes only on purpose.
                    let written = try String(contentsOf: directory.appendingPathComponent(suite), encoding: .utf8)
                    let golden = Golden(
                        directory: ImporterTests.fixtures.appendingPathComponent("golden"),
                        literals: []
                    )
                    let goldenName = ["promptfoo", "openai-evals", "inspect-jsonl", "inspect-csv"][index] + ".yaml"
                    if let difference = try golden.check(text: written, named: goldenName) {
                        Issue.record("\(difference)")
                    }
                    simulator.forgetReceivedRequests()
                    let run = try await runRoadtest(
                        ["run", suite, "--json", "run-\(index).json", "--quiet"]
                            + source.candidates.flatMap { ["--candidate", $0] },
                        in: directory,
                        environment: environment
                    )
                    // The run finishes (no bars: 0); every scored candidate got answers from the simulator.
                    #expect(run.status == 0, "\(source.arguments): \(run.errors)")
                    let report = try #require(
                        JSONValue.parse(try Data(contentsOf: directory.appendingPathComponent("run-\(index).json")))
                    )
                    let cards = report["candidates"]?.arrayValue ?? []
                    #expect(cards.compactMap { $0["id"]?.stringValue }.sorted() == source.candidates.sorted())
                    let chats = simulator.receivedRequests.filter {
                        $0.path.hasSuffix("/chat/completions") || $0.path.hasSuffix("/messages")
                    }
                    #expect(chats.count >= source.cases * source.candidates.count, "\(source.arguments)")
                    // Every case and candidate was answered: trials, not errors.
                    for card in cards {
                        #expect(card["trials"] == .number(Double(source.cases)), "\(source.arguments)")
                        #expect(card["errors"]?["connection"] == .number(0), "\(source.arguments)")
                    }
                    // The carried checks grade right answers as passing (judges and `similar` aside: the simulator
                    // is no grader and serves no embeddings).
                    let failures = cards.first?["failures_by_check"]
                    switch index {
                    case 1:
                        #expect(
                            failures?["equals"] == nil && failures?["icontains"] == nil,
                            "\(String(describing: failures))"
                        )
                        #expect(failures?["judge"] != nil)
                    case 2, 3:
                        #expect(
                            cards.first?["passed"] == .number(Double(source.cases)),
                            "\(String(describing: failures))"
                        )
                    default: break
                    }
                    let bodies = chats.map(\.body.jsonText)
                    switch index {
                    case 0:
                        // The prompt file rendered with the test's and defaultTest's vars; Anthropic reached through
                        // ANTHROPIC_BASE_URL; the judge (no base_url) through OPENAI_BASE_URL.
                        #expect(
                            bodies.contains { $0.contains("You are a support agent for Acme. Answer the customer") }
                        )
                        #expect(bodies.contains { $0.contains("Customer: I was charged twice, can I get a refund?") })
                        #expect(chats.contains { $0.path == "/v1/messages" })
                        #expect(bodies.contains { $0.contains(#""model":"gpt-5""#) })
                    case 1:
                        // The run's template: the developer message as the system prompt, the item as the user turn.
                        #expect(
                            bodies.contains { $0.contains("Categorize the ticket as Hardware, Software or Other.") }
                        )
                        #expect(bodies.contains { $0.contains("I'm in vim and I can't quit!") })
                        #expect(bodies.contains { $0.contains(#""model":"gpt-4.1-mini""#) })
                        #expect(bodies.contains { $0.contains(#""model":"o3-mini""#) })
                    default:
                        #expect(bodies.contains { $0.contains("A) ") && $0.contains("ANSWER: $LETTER") })
                    }
                }
            }
        }
    }
}
