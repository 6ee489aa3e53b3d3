import Foundation
import RoadtestCore
import RoadtestProviders
import RoadtestServer
import RoadtestTestSupport
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Golden fixtures for every `schema_version` JSON document (run, compare, history, cases, pick, load, drill,
/// shadow) and for the JUnit and Markdown reports, produced by the built `roadtest` on the simulator's scripted
/// models, normalised (`Golden`: ids, times, latencies, paths and ports become placeholders) and compared key by
/// key with the files in `Golden/`. A renamed, added or removed key fails with its path.
///
/// A contract change updates its fixture in the same commit:
/// `ROADTEST_UPDATE_GOLDEN=1 swift test --filter GoldenContract` rewrites them.
@Suite(.serialized, .enabled(if: TestEnvironment.binary != nil, "build the roadtest executable first (swift build)"))
struct GoldenContractTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden")

    /// Compares a JSON document (text as the command wrote it) with its fixture.
    func expectGolden(
        _ text: String,
        named name: String,
        _ golden: Golden,
        sourceLocation: Testing.SourceLocation = #_sourceLocation
    ) throws {
        let document = try #require(
            JSONValue.parse(text),
            "\(name) is not JSON: \(text)",
            sourceLocation: sourceLocation
        )
        #expect(document["schema_version"] == JSONValue.number(1), "\(name)", sourceLocation: sourceLocation)
        if let difference = try golden.check(document, named: name) {
            Issue.record("\(difference)", sourceLocation: sourceLocation)
        }
    }

    /// Compares a text report (JUnit XML, Markdown) with its fixture.
    func expectGolden(
        text: String,
        named name: String,
        _ golden: Golden,
        sourceLocation: Testing.SourceLocation = #_sourceLocation
    ) throws {
        if let difference = try golden.check(text: text, named: name) {
            Issue.record("\(difference)", sourceLocation: sourceLocation)
        }
    }

    func golden(_ directory: URL, _ baseURL: String) -> Golden {
        // The simulator listens on a new port each time; the temporary directory is new each time.
        let origin = baseURL.replacingOccurrences(of: "/v1", with: "")
        return Golden(
            directory: Self.fixtures,
            literals: [
                (origin, "<simulator>"),
                // macOS reports temporary directories under /private/var as well as /var.
                ("/private" + directory.path, "<dir>"), (directory.path, "<dir>"),
            ]
        )
    }

    func read(_ name: String, in directory: URL) throws -> String {
        try String(contentsOf: directory.appendingPathComponent(name), encoding: .utf8)
    }

    // MARK: - run (JSON, JUnit, Markdown)

    @Test func runReportMatchesItsFixtures() async throws {
        var main = ModelBehavior()
        main.faults = [.http500]
        try await withSimulator(profile: SimulatorProfile(models: ["main": main])) { baseURL, _ in
            try await withTemporaryDirectory { directory in
                // Every optional section of a scorecard: tags, constraints, recovery, sampling, robustness, prompt
                // sensitivity, a fallback chain, bars. One request at a time, so the one 500 is always the first.
                try writeFiles(
                    [
                        "suite.yaml": """
                        name: golden-run
                        candidates:
                          - {id: echo, base_url: \(baseURL), model: echo, concurrency: 1, price: {input: 1, output: 2}}
                          - {id: main, base_url: \(baseURL), model: main, concurrency: 1, retries: 0, fallback: [spare],
                             price: {input: 3, output: 3}}
                          - {id: spare, base_url: \(baseURL), model: spare, fallback_only: true, price: {input: 1, output: 1}}
                        defaults: {temperature: 0, max_tokens: 64}
                        samples: 2
                        robustness: {perturbations: [case], variants: 1, seed: 7}
                        prompts: [Answer briefly.]
                        cases:
                          - {id: greet, tags: [smalltalk], prompt: hello there,
                             checks: [{contains: hello}, {max-length: 200, constraint: true}]}
                          - {id: billing, tags: [billing], prompt: I was charged twice, checks: [{icontains-any: [refund, billing]}]}
                          - {id: vague, kind: ambiguous, prompt: "It doesn't work. Which one do you mean?", checks: [{clarifies: true}]}
                        bars: {pass_rate: 0.5, cost_per_success: 0.01}
                        """
                    ],
                    in: directory
                )
                let run = try await runRoadtest(
                    [
                        "run", "suite.yaml", "--json", "run.json", "--junit", "run.xml", "--markdown", "run.md",
                        "--quiet",
                    ],
                    in: directory
                )
                #expect(run.status == 0 || run.status == 100, "\(run.errors)")
                let golden = golden(directory, baseURL)
                try expectGolden(try read("run.json", in: directory), named: "run.json", golden)
                try expectGolden(text: try read("run.xml", in: directory), named: "run.junit.xml", golden)
                try expectGolden(text: try read("run.md", in: directory), named: "run.md", golden)
                // `report` renders the stored run as the same document.
                let report = try await runRoadtest(["report", "latest", "--json", "-"], in: directory)
                try expectGolden(report.output, named: "run.json", golden)
            }
        }
    }

    // MARK: - compare, history, cases

    /// Three runs of one suite: `bot` passes every case twice, then fails six; `rival` passes only c7 and c8;
    /// nobody passes c9.
    @Test func compareHistoryAndCasesMatchTheirFixtures() async throws {
        var steady = ModelBehavior()
        steady.reply = "ok"
        var worse = steady
        worse.rules = (1...6).map { (match: "case \($0) ", reply: "no") }
        var rival = ModelBehavior()
        rival.reply = "no"
        rival.rules = [(match: "case 7 ", reply: "ok"), (match: "case 8 ", reply: "ok")]
        let profile = SimulatorProfile(models: ["steady": steady, "worse": worse, "rival": rival])
        try await withSimulator(profile: profile) { baseURL, _ in
            try await withTemporaryDirectory { directory in
                func suite(_ model: String) -> String {
                    let cases = (1...9).map { index in
                        let tag = index <= 4 ? "early" : "late"
                        let expected = index == 9 ? "never" : "ok"
                        return "  - {id: c\(index), tags: [\(tag)], prompt: \"case \(index) please\", "
                            + "checks: [{equals: \(expected)}]}"
                    }
                    return """
                        name: golden-evolving
                        candidates:
                          - {id: bot, base_url: \(baseURL), model: \(model), price: {input: 1, output: 1}}
                          - {id: rival, base_url: \(baseURL), model: rival, price: {input: 2, output: 2}}
                        cases:
                        \(cases.joined(separator: "\n"))

                        """
                }
                for model in ["steady", "steady", "worse"] {
                    try writeFiles(["suite.yaml": suite(model)], in: directory)
                    let run = try await runRoadtest(["run", "suite.yaml", "--quiet"], in: directory)
                    #expect(run.status == 0, "\(run.errors)")
                }
                let golden = golden(directory, baseURL)
                let compare = try await runRoadtest(["compare", "latest~1", "latest", "--json", "-"], in: directory)
                #expect(compare.status == 0, "\(compare.errors)")
                try expectGolden(compare.output, named: "compare.json", golden)
                let history = try await runRoadtest(["history", "suite.yaml", "--json", "-"], in: directory)
                #expect(history.status == 0, "\(history.errors)")
                try expectGolden(history.output, named: "history.json", golden)
                let cases = try await runRoadtest(["cases", "suite.yaml", "--runs", "3", "--json", "-"], in: directory)
                #expect(cases.status == 0, "\(cases.errors)")
                try expectGolden(cases.output, named: "cases.json", golden)
            }
        }
    }

    // MARK: - pick

    @Test func pickReportMatchesItsFixture() async throws {
        try await withSimulator { baseURL, _ in
            try await withTemporaryDirectory { directory in
                // small5: right on 3 of 5 samples, so its majority of 5 is always right; outvoted: right on 2 of 5.
                let cases = (1...6).map {
                    "  - {id: c\($0), tags: [\($0 <= 3 ? "geo" : "trivia")], "
                        + "prompt: \"case \($0): the capital is Paris\", checks: [{contains: Paris}]}"
                }
                try writeFiles(
                    [
                        "suite.yaml": """
                        name: golden-pick
                        candidates:
                          - {id: small5, base_url: \(baseURL), model: "noisy;right=3/5", concurrency: 1,
                             price: {input: 1, output: 1}, strategy: {samples: 5, select: majority}}
                          - {id: big, base_url: \(baseURL), model: echo, price: {input: 10, output: 10}}
                          - {id: outvoted, base_url: \(baseURL), model: "noisy;right=2/5", concurrency: 1,
                             price: {input: 0.1, output: 0.1}, strategy: {samples: 5, select: majority}}
                        cases:
                        \(cases.joined(separator: "\n"))
                        bars: {pass_rate: 0.6, cost_per_success: 0.01}
                        """
                    ],
                    in: directory
                )
                let run = try await runRoadtest(["run", "suite.yaml", "--quiet"], in: directory)
                #expect(run.status == 0 || run.status == 100, "\(run.errors)")
                let pick = try await runRoadtest(["pick", "latest", "--by-tag", "--json", "-"], in: directory)
                #expect(pick.status == 0 || pick.status == 100, "\(pick.errors)")
                try expectGolden(pick.output, named: "pick.json", golden(directory, baseURL))
            }
        }
    }

    // MARK: - load

    @Test func loadReportMatchesItsFixture() async throws {
        try await withSimulator { baseURL, _ in
            try await withTemporaryDirectory { directory in
                try writeFiles(
                    [
                        "suite.yaml": """
                        name: golden-load
                        candidates: [{id: echo, base_url: \(baseURL), model: "echo;ttft=5ms;itl=1ms", max_tokens: 32}]
                        cases:
                          - {id: a, prompt: one two three four}
                          - {id: b, prompt: five six seven eight}
                        """
                    ],
                    in: directory
                )
                // Request counts, not durations, end the levels, and no warm-up: every count is fixed.
                let load = try await runRoadtest(
                    [
                        "load", "suite.yaml", "--concurrency", "2", "--rate", "5", "--requests", "5", "--warmup", "0s",
                        "--slo", "ttft=10s,e2e=10s", "--seed", "1", "--json", "-",
                    ],
                    in: directory
                )
                #expect(load.status == 0, "\(load.errors)")
                // `--json -`: standard output is the document alone. A generator that fell behind its schedule
                // says so in `warnings`; whether it did is timing.
                var document = try #require(JSONValue.parse(Data(load.output.utf8)), "\(load.output)")
                if case .object(var members) = document, let warnings = members["warnings"]?.arrayValue {
                    members["warnings"] = .array(warnings.filter { !$0.displayText.contains("fell behind") })
                    document = .object(members)
                }
                try expectGolden(document.jsonText, named: "load.json", golden(directory, baseURL))
            }
        }
    }

    // MARK: - drill

    @Test func drillReportMatchesItsFixture() async throws {
        try await withSimulator { baseURL, _ in
            try await withTemporaryDirectory { directory in
                // Faults are drawn from the seed and each request's body, so the same requests meet the same faults.
                // Only faults whose cost is exact: a cut stream's tokens are estimated from what arrived before the
                // cut, which can differ by one when the machine is loaded (the drill's own tests cover cuts).
                let cases = (1...8).map { "  - {id: c\($0), prompt: case \($0) hello, checks: [{contains: hello}]}" }
                try writeFiles(
                    [
                        "suite.yaml": """
                        name: golden-drill
                        candidates:
                          - {id: main, base_url: \(baseURL), model: main, retries: 0, fallback: [spare],
                             price: {input: 1, output: 1}}
                          - {id: spare, base_url: \(baseURL), model: spare, fallback_only: true, price: {input: 2, output: 2}}
                        defaults: {retry_backoff: 10ms}
                        cases:
                        \(cases.joined(separator: "\n"))
                        """
                    ],
                    in: directory
                )
                let drill = try await runRoadtest(
                    [
                        "drill", "suite.yaml", "--candidate", "main", "--faults", "429:30%,500:10%", "--seed", "3",
                        "--json", "-",
                    ],
                    in: directory
                )
                #expect(drill.status == 0, "\(drill.errors)")
                try expectGolden(drill.output, named: "drill.json", golden(directory, baseURL))
            }
        }
    }

    // MARK: - shadow

    @Test func shadowReportMatchesItsFixture() async throws {
        var twin = ModelBehavior()
        twin.rules = [(match: "three", reply: "no idea")]
        try await withSimulator(profile: SimulatorProfile(models: ["twin": twin])) { baseURL, _ in
            try await withTemporaryDirectory { directory in
                let words = ["one", "two", "three"]
                try writeFiles(
                    [
                        "policy.yaml": """
                        candidates:
                          - {id: main, base_url: \(baseURL), model: echo, price: {input: 1, output: 1}}
                          - {id: twin, base_url: \(baseURL), model: twin, price: {input: 2, output: 2}}
                        routes:
                          - {name: default, candidate: main, shadow: {candidates: [twin], sample: 100%}}
                        """,
                        "suite.yaml": """
                        name: golden-shadow
                        candidates: [{id: main, base_url: \(baseURL), model: echo}]
                        cases:
                        \(words.map { "  - {id: \($0), prompt: \($0), checks: [{contains: \($0)}]}" }.joined(separator: "\n"))
                        """,
                    ],
                    in: directory
                )
                let binary = try #require(TestEnvironment.binary)
                let port = await TestEnvironment.unusedPort()
                var report: CommandOutcome?
                let status = try await TestProcess.run(
                    [
                        binary.path, "gateway", "--policy", "policy.yaml", "--listen", "127.0.0.1:\(port)", "--store",
                        "gw.db",
                    ],
                    in: directory
                ) { gateway in
                    var up = false
                    for _ in 0..<100 where !up {
                        try await Task.sleep(for: .milliseconds(100))
                        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)/health")!)
                        request.timeoutInterval = 1
                        up = (try? await URLSession.shared.data(for: request)) != nil
                    }
                    try #require(up, "the gateway did not start")
                    for word in words {
                        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)/v1/chat/completions")!)
                        request.httpMethod = "POST"
                        request.httpBody = Data(
                            #"{"model": "default", "messages": [{"role": "user", "content": "\#(word)"}]}"#.utf8
                        )
                        _ = try await URLSession.shared.data(for: request)
                    }
                    // Shadow copies go out after the live answers: wait until all three pairs are stored.
                    for _ in 0..<50 {
                        let outcome = try await runRoadtest(
                            ["shadow", "report", "--store", "gw.db", "--suite", "suite.yaml", "--json", "-"],
                            in: directory
                        )
                        report = outcome
                        let pairs = JSONValue.parse(outcome.output)?["comparisons"]?.arrayValue?.first?["pairs"]
                        if pairs == .number(Double(words.count)) { break }
                        try await Task.sleep(for: .milliseconds(100))
                    }
                    try gateway.send(SIGTERM)
                }
                #expect(status == 0)
                let shadow = try #require(report)
                #expect(shadow.status == 0, "\(shadow.errors)")
                try expectGolden(shadow.output, named: "shadow.json", golden(directory, baseURL))
            }
        }
    }
}
