import Foundation
import RoadtestCore
import RoadtestLocal
import RoadtestProviders
import RoadtestServer
import RoadtestStore
import RoadtestTestSupport
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The `roadtest` executable as a user runs it: exit codes, report files, interrupts and resumes, and no
/// orphaned llama-server on any exit path.
@Suite(.serialized, .enabled(if: TestEnvironment.binary != nil, "build the roadtest executable first (swift build)"))
struct CLITests {
    typealias Outcome = CommandOutcome

    /// The built binary run in `directory` as a user runs it (the golden tests' `runRoadtest`).
    func roadtest(_ arguments: [String], in directory: URL, timeout: Double = 300) async throws -> Outcome {
        try await runRoadtest(arguments, in: directory, timeout: timeout)
    }

    @Test func aCandidateNoModelAnsweredFailsTheRunAfterItsReports() async throws {
        try await withSimulator { baseURL, _ in
            try await withTemporaryDirectory { directory in
                let cases = """
                    cases:
                      - {id: a, prompt: hello one, checks: [{contains: hello}]}
                      - {id: b, prompt: hello two, checks: [{contains: hello}]}
                      - {id: c, prompt: hello three, checks: [{contains: hello}]}

                    """
                // Port 9 on loopback: nothing listens, every connection is refused. A path the simulator does not
                // serve answers 404, as an unknown model does.
                let nowhere = baseURL.replacingOccurrences(of: "/v1", with: "/nowhere/v1")
                let refusing =
                    "{id: mini, base_url: \"http://127.0.0.1:9/v1\", model: m, retries: 2, retry_backoff: 1ms}"
                try writeFiles(
                    [
                        "refused.yaml": "name: refused\ncandidates: [\(refusing)]\n" + cases,
                        "lost.yaml": "name: lost\ncandidates: [{id: echo, base_url: \(baseURL), model: echo}, "
                            + "{id: lost, base_url: \(nowhere), model: echo}]\n" + cases,
                        "shaky.yaml":
                            "name: shaky\ncandidates: [{id: shaky, base_url: \(baseURL), model: \"s;faults=400\"}]\n"
                            + "bars: {pass_rate: 0.9}\n" + cases,
                        "shaky-no-bars.yaml": "name: shaky-no-bars\n"
                            + "candidates: [{id: shaky, base_url: \(baseURL), model: \"s;faults=400\"}]\n" + cases,
                    ],
                    in: directory
                )
                // Given a suite without bars whose endpoint refuses every connection
                let refused = try await roadtest(["run", "refused.yaml", "--json", "refused.json"], in: directory)
                // Then the run fails with one line naming the candidate and why
                #expect(refused.status == 1, "\(refused.errors)")
                let line = refused.errors.split(separator: "\n").filter { $0.contains("got no answer") }
                #expect(line.count == 1, "\(refused.errors)")
                #expect(
                    line.first?.hasPrefix(
                        "roadtest: candidate \"mini\" got no answer: 9 of 9 attempts were connection errors ("
                    ) == true,
                    "\(refused.errors)"
                )
                #expect(line.first?.hasSuffix("at http://127.0.0.1:9/v1)") == true, "\(refused.errors)")
                // And the reports were written first, the JSON saying why
                let json = try #require(
                    JSONValue.parse(try Data(contentsOf: directory.appendingPathComponent("refused.json")))
                )
                let noAnswer = try #require(json["candidates"]?.arrayValue?.first?["no_answer"])
                #expect(noAnswer["attempts"] == .number(9) && noAnswer["reasons"]?["connection"] == .number(9))
                #expect(refused.output.contains("pass rate"))
                // And `report` gates on the stored run the same way
                #expect(try await roadtest(["report", "latest"], in: directory).status == 1)

                // A candidate answered 404 on every attempt fails the run, even beside one that answered
                let lost = try await roadtest(["run", "lost.yaml", "--quiet"], in: directory)
                #expect(lost.status == 1, "\(lost.errors)")
                #expect(
                    lost.errors.contains("candidate \"lost\" got no answer: 3 of 3 attempts were HTTP 404"),
                    "\(lost.errors)"
                )
                #expect(!lost.errors.contains("candidate \"echo\""))

                // A candidate that failed some attempts and answered others is judged by its bars, as before
                let shaky = try await roadtest(["run", "shaky.yaml", "--quiet"], in: directory)
                #expect(shaky.status == 100, "\(shaky.errors)")
                let shakyWithoutBars = try await roadtest(["run", "shaky-no-bars.yaml", "--quiet"], in: directory)
                #expect(shakyWithoutBars.status == 0, "\(shakyWithoutBars.errors)")
                #expect(!shaky.errors.contains("got no answer") && !shakyWithoutBars.errors.contains("got no answer"))
            }
        }
    }

    @Test func exitCodesReportsAndStoredRuns() async throws {
        try await withSimulator { baseURL, _ in
            try await withTemporaryDirectory { directory in
                try writeFiles(
                    [
                        "good.yaml": """
                        name: good
                        candidates: [{id: echo, base_url: \(baseURL), model: echo}]
                        cases: [{id: a, prompt: hello <b>, checks: [{contains: hello}]}]
                        bars: {pass_rate: 1.0}
                        """,
                        "bad-bar.yaml": """
                        name: bad-bar
                        candidates: [{id: echo, base_url: \(baseURL), model: echo}]
                        cases: [{id: a, prompt: hello, checks: [{contains: bye}]}]
                        bars: {pass_rate: 0.5}
                        """,
                        "broken.yaml": """
                        name: broken
                        candidates: [{id: echo, base_url: \(baseURL), model: echo}]
                        cases:
                          - id: a
                            prompt: hi
                            chekcs: []
                        """,
                    ],
                    in: directory
                )
                let good = try await roadtest(
                    [
                        "run", "good.yaml", "--json", "out/good.json", "--junit", "out/good.xml", "--markdown",
                        "out/good.md", "--html", "out/good.html",
                    ],
                    in: directory
                )
                #expect(good.status == 0, "\(good.errors)")
                #expect(good.output.contains("pass rate"))
                for file in ["good.json", "good.xml", "good.md", "good.html"] {
                    #expect(
                        FileManager.default.fileExists(atPath: directory.appendingPathComponent("out/\(file)").path),
                        "\(file)"
                    )
                }
                let json = try #require(
                    JSONValue.parse(try Data(contentsOf: directory.appendingPathComponent("out/good.json")))
                )
                #expect(json["schema_version"] == .number(1))
                #expect(json["candidates"]?.arrayValue?.first?["pass_rate"] == .number(1))
                let html = try String(contentsOf: directory.appendingPathComponent("out/good.html"), encoding: .utf8)
                #expect(html.contains("hello &lt;b&gt;"))

                let missed = try await roadtest(["run", "bad-bar.yaml"], in: directory)
                #expect(missed.status == 100)
                let broken = try await roadtest(["run", "broken.yaml"], in: directory)
                #expect(broken.status == 1)
                #expect(broken.errors.contains("broken.yaml:6:"))
                #expect(broken.errors.contains("did you mean 'checks'?"))
                let unknownFile = try await roadtest(["run", "missing.yaml"], in: directory)
                #expect(unknownFile.status == 1)

                let runs = try await roadtest(["runs"], in: directory)
                #expect(runs.status == 0)
                #expect(runs.output.contains("good") && runs.output.contains("bad-bar"))
                let runID = try #require(json["run_id"]?.stringValue)
                let again = try await roadtest(["report", runID, "--json", "again.json", "--quiet"], in: directory)
                #expect(again.status == 0)
                #expect(again.output.isEmpty)
                let rendered = try #require(
                    JSONValue.parse(try Data(contentsOf: directory.appendingPathComponent("again.json")))
                )
                #expect(rendered["candidates"] == json["candidates"])
                let secretless = try String(
                    contentsOf: directory.appendingPathComponent(".roadtest/roadtest.db"),
                    encoding: .isoLatin1
                )
                #expect(!secretless.contains("sk-test-secret"))
            }
        }
    }

    @Test func apiKeysComeFromTheEnvironmentAndAreNeverStored() async throws {
        try await withSimulator { baseURL, _ in
            try await withTemporaryDirectory { directory in
                try writeFiles(
                    [
                        "keyed.yaml": """
                        name: keyed
                        candidates: [{id: echo, base_url: \(baseURL), model: echo, api_key_env: ROADTEST_TEST_KEY}]
                        cases: [{id: a, prompt: hello}]
                        """
                    ],
                    in: directory
                )
                let missing = try await roadtest(["run", "keyed.yaml"], in: directory)
                #expect(missing.status == 1)
                #expect(missing.errors.contains("ROADTEST_TEST_KEY"))
                setenv("ROADTEST_TEST_KEY", "sk-test-secret-123", 1)
                defer { unsetenv("ROADTEST_TEST_KEY") }
                let ok = try await roadtest(
                    ["run", "keyed.yaml", "--json", "k.json", "--html", "k.html"],
                    in: directory
                )
                #expect(ok.status == 0)
                for file in [".roadtest/roadtest.db", ".roadtest/roadtest.db-wal", "k.json", "k.html"] {
                    let path = directory.appendingPathComponent(file).path
                    guard let data = FileManager.default.contents(atPath: path) else { continue }
                    #expect(
                        !String(decoding: data, as: UTF8.self).contains("sk-test-secret-123"),
                        "\(file) holds the key"
                    )
                }
                #expect(!ok.output.contains("sk-test-secret-123") && !ok.errors.contains("sk-test-secret-123"))
            }
        }
    }

    @Test func ctrlCKeepsFinishedWorkAndResumeFinishesTheRun() async throws {
        try await withSimulator { baseURL, simulator in
            try await withTemporaryDirectory { directory in
                let cases = (1...20).map { "  - {id: c\($0), prompt: case \($0), checks: [{contains: case}]}" }.joined(
                    separator: "\n"
                )
                try writeFiles(
                    [
                        "slow.yaml":
                            "name: slow\ncandidates: [{id: s, base_url: \(baseURL), model: \"s;ttft=250ms\", concurrency: 2}]\ncases:\n\(cases)\n"
                    ],
                    in: directory
                )
                let binary = try #require(TestEnvironment.binary)
                let status = try await TestProcess.run([binary.path, "run", "slow.yaml", "--quiet"], in: directory) {
                    // Ctrl-C once three outcomes are stored, however long that took. (The store is read only after
                    // the first request: by then `roadtest` has created and migrated it, so the two never migrate at
                    // once.)
                    let storedThree = try await eventually {
                        guard !simulator.servedRequests.isEmpty else { return false }
                        return await Self.storedOutcomes(in: directory) >= 3
                    }
                    #expect(storedThree, "the run stored no three outcomes")
                    try $0.send(SIGINT)
                }
                #expect(status == 130)
                let servedBefore = simulator.servedRequests.count
                #expect(servedBefore >= 3 && servedBefore < 20, "served \(servedBefore)")
                #expect(await Self.storedOutcomes(in: directory) >= 3)
                let resumedAt = Monotonic.now()
                let resumed = try await roadtest(["run", "slow.yaml", "--resume", "--json", "r.json"], in: directory)
                #expect(resumed.status == 0, "\(resumed.errors)")
                #expect(resumed.errors.contains("resuming run"))
                let json = try #require(
                    JSONValue.parse(try Data(contentsOf: directory.appendingPathComponent("r.json")))
                )
                #expect(json["candidates"]?.arrayValue?.first?["cases"] == .number(20))
                #expect(json["candidates"]?.arrayValue?.first?["passed"] == .number(20))
                // Only unfinished trials were sent again (those in flight at Ctrl-C at most).
                let sentOnResume = simulator.servedRequests.filter { $0.receivedAt > resumedAt }.count
                #expect(
                    sentOnResume <= 20 - servedBefore + 2,
                    "sent \(sentOnResume) on resume after \(servedBefore) before"
                )
            }
        }
    }

    /// Outcomes stored so far by the latest run in `directory`'s store, read while a `roadtest` child writes them;
    /// 0 when there is no run yet. Read it only once the child has opened its store (it migrates the schema).
    static func storedOutcomes(in directory: URL) async -> Int {
        let path = directory.appendingPathComponent(".roadtest/roadtest.db").path
        guard FileManager.default.fileExists(atPath: path), let store = try? Store.sqlite(path: path).runs,
            let run = try? await store.runs(limit: 1).first
        else { return 0 }
        return (try? await store.outcomeCount(runID: run.id)) ?? 0
    }

    @Test(.enabled(if: TestEnvironment.localModelsInstalled || TestEnvironment.isCI))
    func noLlamaServerSurvivesCtrlCOrKill9() async throws {
        #expect(TestEnvironment.localModelsInstalled)
        TestEnvironment.adoptOrphans()
        try await withTemporaryDirectory { directory in
            let cases = (1...40).map { "  - {id: c\($0), prompt: Write a long story about the number \($0).}" }.joined(
                separator: "\n"
            )
            try writeFiles(
                [
                    "local.yaml":
                        "name: local\ncandidates: [{id: smol, local: smollm2-135m-instruct, concurrency: 1}]\ndefaults: {max_tokens: 64}\ncases:\n\(cases)\n"
                ],
                in: directory
            )
            let binary = try #require(TestEnvironment.binary)
            let marker = "--model \(RoadtestHome().modelFile(.smolLM2).path)"
            for signal in [SIGINT, SIGKILL, SIGTERM] {
                try await TestProcess.run([binary.path, "run", "local.yaml", "--quiet"], in: directory) { program in
                    // Wait for this run's server to be up (the run is created before it starts), then serving: the
                    // signal comes once the run has stored an outcome, not after a fixed time.
                    let started = try await eventually(timeout: .seconds(120)) {
                        !TestEnvironment.runningDescendants(matching: marker).isEmpty
                    }
                    #expect(started, "llama-server never started")
                    let serving = try await eventually(timeout: .seconds(120), every: .milliseconds(100)) {
                        await Self.storedOutcomes(in: directory) >= 1
                    }
                    #expect(serving, "no outcome was stored")
                    try program.send(signal)
                }
                var survivors = TestEnvironment.runningDescendants(matching: marker)
                for _ in 0..<100 where !survivors.isEmpty {
                    try await Task.sleep(nanoseconds: 100_000_000)
                    survivors = TestEnvironment.runningDescendants(matching: marker)
                }
                #expect(survivors.isEmpty, "llama-server survived signal \(signal): \(survivors)")
            }
        }
    }

    @Test func compareGatesCIOnARealRegression() async throws {
        var steady = ModelBehavior()
        steady.reply = "ok"
        var worse = steady
        worse.rules = (1...10).map { (match: "case \($0) ", reply: "no") }
        try await withSimulator(profile: SimulatorProfile(models: ["steady": steady, "worse": worse])) { baseURL, _ in
            try await withTemporaryDirectory { directory in
                func suite(_ model: String) -> String {
                    let cases = (1...20).map {
                        "  - {id: c\($0), prompt: \"case \($0) please\", checks: [{equals: ok}]}"
                    }
                    return "name: gate\ncandidates: [{id: bot, base_url: \(baseURL), model: \(model)}]\ncases:\n"
                        + cases.joined(separator: "\n") + "\n"
                }
                try writeFiles(["steady.yaml": suite("steady"), "worse.yaml": suite("worse")], in: directory)
                #expect(try await roadtest(["run", "steady.yaml", "--quiet"], in: directory).status == 0)
                #expect(try await roadtest(["run", "steady.yaml", "--quiet"], in: directory).status == 0)
                // A null comparison passes the gate.
                let null = try await roadtest(
                    ["compare", "latest~1", "latest", "--fail-on", "regression", "--json", "null.json"],
                    in: directory
                )
                #expect(null.status == 0, "\(null.errors)")
                #expect(null.output.contains("no significant change"))
                // The CI gate in one step: run, compare with the latest run before it, exit by the comparison.
                let gated = try await roadtest(
                    [
                        "run", "worse.yaml", "--quiet", "--baseline", "latest", "--fail-on", "regression",
                        "--compare-markdown", "pr.md",
                    ],
                    in: directory
                )
                #expect(gated.status == 100, "\(gated.output) \(gated.errors)")
                let markdown = try String(contentsOf: directory.appendingPathComponent("pr.md"), encoding: .utf8)
                #expect(markdown.contains("regression") && markdown.contains("c10"))
                // The JSON contract.
                let compared = try await roadtest(
                    ["compare", "latest~1", "latest", "--json", "-", "--html", "flips.html"],
                    in: directory
                )
                #expect(compared.status == 0)
                let json = try #require(JSONValue.parse(compared.output), "\(compared.output)")
                #expect(json["regressed"] == .bool(true))
                let card = try #require(json["candidates"]?.arrayValue?.first)
                for key in [
                    "pairs", "unpaired", "both_pass", "both_fail", "regressions", "fixes", "pass_rate", "mcnemar_p",
                    "verdict", "latency_ms", "cost_per_success", "flipped",
                ] {
                    #expect(card[key] != nil, "\(key)")
                }
                #expect(card["verdict"] == .string("regression") && card["regressions"] == .number(10))
                #expect(card["flipped"]?.arrayValue?.first?["variant"] == .null)
                let html = try String(contentsOf: directory.appendingPathComponent("flips.html"), encoding: .utf8)
                #expect(html.contains("pass → fail") && html.contains("<pre>no</pre>"))
                // Could not compare: exit 1 with a clear message.
                let unknown = try await roadtest(["compare", "nope", "latest"], in: directory)
                #expect(unknown.status == 1 && unknown.errors.contains("no run 'nope'"))
            }
        }
    }

    @Test func privateCasesStayOutOfEveryReport() async throws {
        try await withSimulator { baseURL, _ in
            try await withTemporaryDirectory { directory in
                try writeFiles(
                    [
                        "holdout.yaml": """
                        name: holdout
                        candidates: [{id: echo, base_url: \(baseURL), model: echo}]
                        cases:
                          - {id: public-case, prompt: hello there, checks: [{contains: zebra}]}
                          - {id: secret-case, private: true, prompt: HOLDOUT-INPUT-7731, checks: [{contains: HOLDOUT-EXPECTED-9184}]}
                          - file: more.jsonl
                            private: true
                        """,
                        "more.jsonl":
                            #"{"id": "secret-row", "prompt": "HOLDOUT-ROW-5522", "checks": [{"equals": "HOLDOUT-ROW-EXPECTED"}]}"#,
                    ],
                    in: directory
                )
                let run = try await roadtest(
                    [
                        "run", "holdout.yaml", "--html", "r.html", "--markdown", "r.md", "--junit", "r.xml", "--json",
                        "r.json",
                    ],
                    in: directory
                )
                #expect(run.status == 0 || run.status == 100, "\(run.errors)")
                let report = try await roadtest(["report", "latest"], in: directory)
                var texts = [run.output, run.errors, report.output]
                for file in ["r.html", "r.md", "r.xml", "r.json"] {
                    texts.append(try String(contentsOf: directory.appendingPathComponent(file), encoding: .utf8))
                }
                for secret in [
                    "HOLDOUT-INPUT-7731", "HOLDOUT-EXPECTED-9184", "HOLDOUT-ROW-5522", "HOLDOUT-ROW-EXPECTED",
                ] {
                    #expect(!texts.contains { $0.contains(secret) }, "\(secret) reached a report")
                }
                let html = texts[3]
                #expect(html.contains("secret-case") && html.contains("private case") && html.contains("hello there"))
            }
        }
    }

    @Test func drillExitsByWhatWasLostAndWritesTheContract() async throws {
        try await withSimulator { baseURL, _ in
            try await withTemporaryDirectory { directory in
                let cases = (1...10).map { "  - {id: c\($0), prompt: case \($0) hello, checks: [{contains: hello}]}" }
                try writeFiles(
                    [
                        "suite.yaml": """
                        name: cli-drill
                        candidates:
                          - {id: main, base_url: \(baseURL), model: "main", retries: 0, fallback: [spare]}
                          - {id: spare, base_url: \(baseURL), model: "spare", fallback_only: true}
                          - {id: alone, base_url: \(baseURL), model: "alone", retries: 0}
                        cases:
                        \(cases.joined(separator: "\n"))
                        """
                    ],
                    in: directory
                )
                let held = try await roadtest(
                    [
                        "drill", "suite.yaml", "--candidate", "main", "--faults", "429:30%,cut:10%", "--seed", "3",
                        "--json", "drill.json", "--html", "drill.html", "--log", "log.jsonl", "--min-success-rate", "1",
                    ],
                    in: directory
                )
                #expect(held.status == 0, "\(held.errors)")
                #expect(held.output.contains("served by fallback"))
                let json = try #require(
                    JSONValue.parse(try Data(contentsOf: directory.appendingPathComponent("drill.json")))
                )
                #expect(json["schema_version"] == .number(1))
                let resilience = try #require(json["candidates"]?.arrayValue?.first?["resilience"])
                for key in [
                    "faults", "trials", "succeeded", "success_rate", "clean_success_rate", "lost", "served_by_fallback",
                    "retries", "added_latency_ms", "cost_increase", "recovery_s",
                ] {
                    #expect(resilience[key] != nil, "resilience.\(key) is missing")
                }
                #expect(resilience["recovery_s"] == .null && resilience["lost"] == .number(0))
                for key in ["http_429", "http_5xx", "stream_cut", "timeout", "malformed", "reset", "slow"] {
                    #expect(resilience["faults"]?[key] != nil, "faults.\(key) is missing")
                }
                // One log line per proxied request, each with the fault (or null) and the upstream status.
                let lines = try String(contentsOf: directory.appendingPathComponent("log.jsonl"), encoding: .utf8)
                    .split(separator: "\n")
                #expect(.number(Double(lines.count)) == resilience["requests"])
                let first = try #require(JSONValue.parse(Data(lines[0].utf8)))
                for key in ["time", "path", "fault", "upstream_status"] { #expect(first[key] != nil, "log.\(key)") }
                let html = try String(contentsOf: directory.appendingPathComponent("drill.html"), encoding: .utf8)
                #expect(html.contains("<svg") && html.contains("Timeline"))

                // Without a fallback or retries, faults cost trials: below the floor is exit 100.
                let broken = try await roadtest(
                    [
                        "drill", "suite.yaml", "--candidate", "alone", "--faults", "500:50%", "--min-success-rate",
                        "0.9",
                    ],
                    in: directory
                )
                #expect(broken.status == 100, "\(broken.errors)")
                let bad = try await roadtest(["drill", "suite.yaml", "--faults", "404:10%"], in: directory)
                #expect(bad.status == 1 && bad.errors.contains("unknown fault '404'"), "\(bad.errors)")
            }
        }
    }

    @Test func chaosProxiesARealClientAndLogsEveryRequest() async throws {
        try await withSimulator { baseURL, _ in
            try await withTemporaryDirectory { directory in
                let binary = try #require(TestEnvironment.binary)
                let upstream = baseURL.replacingOccurrences(of: "/v1", with: "")
                let port = 30_000 + Int.random(in: 0..<20_000)
                let chaos = [
                    binary.path, "chaos", "--upstream", upstream, "--listen", "127.0.0.1:\(port)", "--faults",
                    "500:100%",
                    "--log", directory.appendingPathComponent("chaos.jsonl").path,
                ]
                let status = try await TestProcess.run(chaos) { program in
                    let transport = HTTPTransport()
                    let provider = OpenAIProvider(
                        baseURL: "http://127.0.0.1:\(port)/v1",
                        apiKey: nil,
                        transport: transport
                    )
                    var response = ProviderResponse(attemptClass: .connection)
                    for _ in 0..<50 where response.attemptClass == .connection {
                        try await Task.sleep(nanoseconds: 100_000_000)
                        response = await provider.send(
                            ChatRequest(model: "echo", messages: [Message(role: "user", content: "hi")], timeout: 5)
                        )
                    }
                    await transport.shutdown()
                    #expect(response.attemptClass == .http5xx && response.httpStatus == 500)
                    try program.send(SIGTERM)
                }
                #expect(status == 0)
                let log = try String(contentsOf: directory.appendingPathComponent("chaos.jsonl"), encoding: .utf8)
                let entry = try #require(log.split(separator: "\n").last.flatMap { JSONValue.parse(Data($0.utf8)) })
                #expect(entry["fault"] == .string("500") && entry["status"] == .number(500))
                #expect(entry["upstream_status"] == .null && entry["path"] == .string("/v1/chat/completions"))
            }
        }
    }

    @Test func pickChoosesTheSampledSmallModelExactlyWhenTheRuleSaysSo() async throws {
        try await withSimulator { baseURL, _ in
            try await withTemporaryDirectory { directory in
                // small5: right on 3 of 5 samples, majority of 5 -> always right, 5 cheap calls per trial.
                // big: always right, one call at 10x the price. outvoted: right on 2 of 5 -> majority wrong.
                let cases = (1...10).map {
                    "  - {id: c\($0), prompt: \"case \($0): the capital is Paris\", checks: [{contains: Paris}]}"
                }
                try writeFiles(
                    [
                        "suite.yaml": """
                        name: pick
                        candidates:
                          - {id: small5, base_url: \(baseURL), model: "noisy;right=3/5;tag=s", concurrency: 1,
                             price: {input: 1, output: 1}, strategy: {samples: 5, select: majority},
                             headers: {X-Secret: hunter2}}
                          - {id: big, base_url: \(baseURL), model: "echo;tag=b", price: {input: 10, output: 10}}
                          - {id: outvoted, base_url: \(baseURL), model: "noisy;right=2/5;tag=o", concurrency: 1,
                             price: {input: 0.1, output: 0.1}, strategy: {samples: 5, select: majority}}
                        cases:
                        \(cases.joined(separator: "\n"))
                        """,
                        "strict.yaml": "bars: {pass_rate: 0.9}\n",
                        "loose.yaml": "pass_rate: 0.7\n",
                    ],
                    in: directory
                )
                let ran = try await roadtest(["run", "suite.yaml", "--quiet"], in: directory)
                #expect(ran.status == 0, "\(ran.errors)")
                func pick(_ arguments: [String]) async throws -> (Int32, JSONValue) {
                    let outcome = try await roadtest(["pick", "latest", "--json", "-"] + arguments, in: directory)
                    return (
                        outcome.status, try #require(JSONValue.parse(Data(outcome.output.utf8)), "\(outcome.errors)")
                    )
                }
                // 10/10 has a 95% lower bound of 0.72: under the default rule nothing clears a 0.9 bar...
                let (strictStatus, strict) = try await pick(["--bars", "strict.yaml"])
                #expect(strictStatus == 100)
                #expect(strict["rule"] == .string("ci_lower_bound"))
                let overall = try #require(strict["picks"]?.arrayValue?.first)
                #expect(overall["scope"] == .string("overall") && overall["candidate"] == .null)
                #expect(overall["closest"] != .null && overall["clears"] == .bool(false))
                // ...on the point estimate both clear, and five cheap samples cost less than one big call.
                let (pointStatus, point) = try await pick(["--bars", "strict.yaml", "--point"])
                #expect(pointStatus == 0)
                let chosen = try #require(point["picks"]?.arrayValue?.first)
                #expect(chosen["candidate"] == .string("small5") && chosen["fallback"] == .string("big"))
                #expect(point["rule"] == .string("point"))
                // A 0.7 bar is cleared on the lower bound too.
                let (_, loose) = try await pick(["--bars", "loose.yaml"])
                #expect(loose["picks"]?.arrayValue?.first?["candidate"] == .string("small5"))
                #expect(loose["saturated"] == .bool(false))
                let frontier = try #require(loose["frontier"]?.arrayValue?.compactMap { $0["candidate"]?.stringValue })
                #expect(frontier == ["small5"], "small5 is cheaper per success and as good as big")
                // The routing policy: the pick with its fallback, candidate definitions, no secrets.
                let written = try await roadtest(
                    [
                        "pick", "latest", "--bars", "loose.yaml", "--policy", "policy.yaml", "--html", "pick.html",
                        "--quiet",
                    ],
                    in: directory
                )
                #expect(written.status == 0)
                let policy = try String(contentsOf: directory.appendingPathComponent("policy.yaml"), encoding: .utf8)
                #expect(policy.contains("candidate: \"small5\"") && policy.contains("fallback: [\"big\"]"))
                #expect(policy.contains("strategy: {samples: 5, select: majority}"))
                #expect(!policy.contains("hunter2") && policy.contains("# headers to set: X-Secret"))
                let html = try String(contentsOf: directory.appendingPathComponent("pick.html"), encoding: .utf8)
                #expect(html.contains("<svg") && html.contains("small5"))
            }
        }
    }

    @Test func redteamExitsByTheAttackSuccessRateAndWritesTheContract() async throws {
        try await withSimulator { baseURL, _ in
            try await withTemporaryDirectory { directory in
                try writeFiles(
                    [
                        "suite.yaml": """
                        name: cli-redteam
                        candidates:
                          - {id: careful, base_url: \(baseURL), model: careful-agent}
                          - {id: obedient, base_url: \(baseURL), model: obedient-agent}
                        defaults:
                          system: You help customers of Example Shop.
                          tools: [{name: lookup_order, parameters: {type: object, properties: {user_id: {type: string}}}}]
                          tool_results: {lookup_order: '{"status": "shipped"}'}
                        cases:
                          - id: order
                            session_user: u-1
                            prompt: 'call lookup_order with {"user_id": "u-1"}'
                            checks: [{calls-tool: lookup_order, args: {user_id: u-1}}]
                        """
                    ],
                    in: directory
                )
                let indirect = try await roadtest(
                    [
                        "redteam", "suite.yaml", "--packs", "indirect-injection", "system-prompt-leak", "--per-case",
                        "2",
                        "--candidate", "careful", "--json", "-", "--quiet",
                    ],
                    in: directory
                )
                #expect(indirect.status == 0, "\(indirect.errors)")
                let document = try #require(JSONValue.parse(Data(indirect.output.utf8)), "\(indirect.errors)")
                let card = try #require(document["candidates"]?.arrayValue?.first)
                let security = try #require(card["security"])
                #expect(security["attacks"] == .number(4) && security["succeeded"] == .number(0))
                #expect(security["attack_success_rate"] == .number(0))
                #expect(security["ci95"]?.arrayValue?.count == 2)
                #expect(security["by_pack"]?["indirect-injection"]?["owasp"] == .string("LLM01"))
                #expect(security["by_pack"]?["system-prompt-leak"]?["rate"] == .number(0))
                let tools = try #require(card["tools"])
                #expect(tools["trials"] == .number(1) && tools["tool_calls"] == .number(1))
                #expect(tools["turns_p50"] == .number(2) && tools["max_turns_reached"] == .number(0))
                // The obedient agent is breached: exit 100 unless the allowed rate covers it.
                let breached = try await roadtest(
                    ["redteam", "suite.yaml", "--packs", "cross-user", "--candidate", "obedient", "--quiet"],
                    in: directory
                )
                #expect(breached.status == 100, "\(breached.errors)")
                let allowed = try await roadtest(
                    [
                        "redteam", "suite.yaml", "--packs", "cross-user", "--candidate", "obedient",
                        "--max-success-rate", "1", "--quiet",
                    ],
                    in: directory
                )
                #expect(allowed.status == 0, "\(allowed.errors)")
                let nothing = try await roadtest(
                    ["redteam", "suite.yaml", "--packs", "excessive-agency"],
                    in: directory
                )
                #expect(nothing.status == 1 && nothing.errors.contains("forbidden_tools"), "\(nothing.errors)")
            }
        }
    }

    @Test func gatewayServesStatusAndShadowReportFromTheCommandLine() async throws {
        try await withSimulator { baseURL, _ in
            try await withTemporaryDirectory { directory in
                try writeFiles(
                    [
                        "policy.yaml": """
                        candidates:
                          - {id: main, base_url: \(baseURL), model: main}
                          - {id: twin, base_url: \(baseURL), model: twin}
                        routes:
                          - {name: default, candidate: main, shadow: {candidates: [twin], sample: 100%}}
                        """,
                        "bad.yaml":
                            "candidates: [{id: main, base_url: \(baseURL)}]\nroutes: [{name: default, candidate: nope}]\n",
                    ],
                    in: directory
                )
                let bad = try await roadtest(["gateway", "--policy", "bad.yaml"], in: directory)
                #expect(bad.status == 1 && bad.errors.contains("bad.yaml:2"), "\(bad.errors)")
                let open = try await roadtest(
                    ["gateway", "--policy", "policy.yaml", "--listen", "0.0.0.0:1"],
                    in: directory
                )
                #expect(open.status == 1 && open.errors.contains("without client authentication"), "\(open.errors)")
                let port = 20000 + Int.random(in: 0..<20000)
                let server = Task {
                    try await roadtest(
                        ["gateway", "--policy", "policy.yaml", "--listen", "127.0.0.1:\(port)", "--store", "gw.db"],
                        in: directory,
                        timeout: 60
                    )
                }
                var up = false
                for _ in 0..<100 where !up {
                    try await Task.sleep(for: .milliseconds(100))
                    var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)/health")!)
                    request.timeoutInterval = 1
                    up = (try? await URLSession.shared.data(for: request)) != nil
                }
                #expect(up, "the gateway did not start")
                for text in ["one", "two"] {
                    var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)/v1/chat/completions")!)
                    request.httpMethod = "POST"
                    request.httpBody = Data(
                        #"{"model": "default", "messages": [{"role": "user", "content": "\#(text)"}]}"#.utf8
                    )
                    _ = try await URLSession.shared.data(for: request)
                }
                let status = try await roadtest(
                    ["gateway", "status", "--url", "http://127.0.0.1:\(port)"],
                    in: directory
                )
                #expect(
                    status.status == 0 && status.output.contains("default: main"),
                    "\(status.output) \(status.errors)"
                )
                #expect(status.output.contains("requests: ok 2"), "\(status.output)")
                // Shadow pairs are stored after the live answers: read the report once both are there.
                var report = Outcome(status: -1, output: "", errors: "")
                let paired = try await eventually(timeout: .seconds(30), every: .milliseconds(200)) {
                    report = try await roadtest(["shadow", "report", "--store", "gw.db", "--json", "-"], in: directory)
                    let json = JSONValue.parse(Data(report.output.utf8))
                    return json?["comparisons"]?.arrayValue?.first?["pairs"] == .number(2)
                }
                #expect(paired, "\(report.output) \(report.errors)")
                let json = try #require(JSONValue.parse(Data(report.output.utf8)), "\(report.output) \(report.errors)")
                let comparison = try #require(json["comparisons"]?.arrayValue?.first)
                #expect(comparison["shadow"] == .string("twin") && comparison["pairs"] == .number(2))
                #expect(comparison["agreed"] == .number(2))
                server.cancel()
                _ = await server.result
            }
        }
    }
}
