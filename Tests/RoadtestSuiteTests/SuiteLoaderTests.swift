import Foundation
import RoadtestCore
import RoadtestSuite
import RoadtestTestSupport
import Testing

@Suite struct SuiteLoaderTests {
    func load(_ files: [String: String], main: String = "suite.yaml") async throws -> Suite {
        try await withTemporaryDirectory { directory in
            try writeFiles(files, in: directory)
            return try SuiteLoader().load(path: directory.appendingPathComponent(main).path)
        }
    }

    func diagnostics(_ files: [String: String]) async -> [String] {
        do {
            _ = try await load(files)
            return []
        } catch let error as RoadtestError {
            return error.diagnostics.map { diagnostic in
                // Strip the temporary directory so assertions read file:line.
                var text = diagnostic.description
                if let range = text.range(of: "suite.yaml:") { text = "suite.yaml:" + text[range.upperBound...] }
                return text
            }
        } catch {
            return ["unexpected: \(error)"]
        }
    }

    static let candidates = """
        candidates:
          - id: a
            base_url: http://127.0.0.1:1/v1
            model: m

        """

    @Test func parsesInlineCasesWithDefaultsVarsAndChecks() async throws {
        let suite = try await load([
            "suite.yaml": Self.candidates + """
                defaults:
                  system: Be brief.
                  temperature: 0
                  max_tokens: 64
                  timeout: 500ms
                  retries: 3
                  top_p: 0.9
                samples: 2
                cases:
                  - id: greet
                    tags: [smalltalk]
                    prompt: Say hello to {{name}}
                    vars: {name: Ada}
                    max_tokens: 16
                    checks:
                      - icontains: "{{name}}"
                      - not-contains: sorry
                        weight: 2
                      - is-json
                    threshold: 0.5
                bars:
                  pass_rate: 0.9
                  p95_latency: 2s
                """
        ])
        #expect(suite.cases.count == 1)
        let testCase = suite.cases[0]
        #expect(testCase.messages == [Message(role: "user", content: "Say hello to Ada")])
        #expect(testCase.checks.map(\.name) == ["icontains", "not-contains", "is-json"])
        #expect(testCase.checks[0].kind == .icontains("Ada"))
        #expect(testCase.checks[1].weight == 2)
        #expect(testCase.threshold == 0.5)
        let settings = suite.settings(for: suite.candidates[0], case: testCase)
        #expect(settings.maxTokens == 16)
        #expect(settings.timeout == 0.5)
        #expect(settings.retries == 3)
        #expect(settings.system == "Be brief.")
        #expect(settings.extra["top_p"] == .number(0.9))
        #expect(suite.samples(for: testCase) == 2)
        #expect(suite.bars == [Bar(metric: .passRate, target: 0.9), Bar(metric: .p95Latency, target: 2)])
    }

    @Test func loadsJSONLAndCSVCaseFilesRelativeToTheSuite() async throws {
        let suite = try await load([
            "suite.yaml": Self.candidates + """
                cases:
                  - file: data/cases.jsonl
                  - file: data/tickets.csv
                    prompt: "Classify: {{ticket}}"
                    tags: [triage]
                """,
            "data/cases.jsonl": """
            {"id": "j1", "prompt": "2+2?", "checks": [{"number": 4}]}

            {"id": "j2", "messages": [{"role": "system", "content": "sys"}, {"role": "user", "content": "hi"}]}
            """,
            "data/tickets.csv": """
            id,ticket,contains-any,tags
            t1,"I was charged twice, please help",billing|refund,urgent
            t2,App crashes,bug,
            """,
        ])
        #expect(suite.cases.map(\.id) == ["j1", "j2", "t1", "t2"])
        #expect(suite.cases[0].checks[0].kind == .number(value: 4, tolerance: 0))
        #expect(suite.cases[1].settings.system == "sys")
        #expect(suite.cases[2].input == "Classify: I was charged twice, please help")
        #expect(suite.cases[2].checks[0].kind == .containsAny(["billing", "refund"], caseInsensitive: false))
        #expect(suite.cases[2].tags == ["triage", "urgent"])
        #expect(suite.cases[2].location?.line == 2)
        #expect(suite.cases[3].location?.line == 3)
    }

    @Test func unknownKeyNamesFileLineAndSuggestsTheClosest() async {
        let problems = await diagnostics([
            "suite.yaml": Self.candidates + """
                cases:
                  - id: a
                    promt: hello
                """
        ])
        #expect(
            problems.contains {
                $0.hasPrefix("suite.yaml:7:") && $0.contains("unknown key 'promt'")
                    && $0.contains("did you mean 'prompt'?")
            }
        )
    }

    @Test func unknownCheckSuggestsTheClosest() async {
        let problems = await diagnostics([
            "suite.yaml": Self.candidates + """
                cases:
                  - id: a
                    prompt: hi
                    checks:
                      - contians: x
                """
        ])
        #expect(
            problems.contains {
                $0.hasPrefix("suite.yaml:9:") && $0.contains("unknown check 'contians'") && $0.contains("'contains'")
            }
        )
    }

    @Test func badValuesNameTheirLine() async {
        let problems = await diagnostics([
            "suite.yaml": Self.candidates + """
                defaults:
                  timeout: soon
                cases:
                  - id: a
                    prompt: hi {{who}}
                bars:
                  pass_rate: 90
                """
        ])
        #expect(problems.contains { $0.hasPrefix("suite.yaml:6:") && $0.contains("'timeout' must be a duration") })
        #expect(problems.contains { $0.hasPrefix("suite.yaml:8:") && $0.contains("{{who}}") })
        #expect(problems.contains { $0.hasPrefix("suite.yaml:11:") && $0.contains("between 0 and 1") })
    }

    @Test func invalidYAMLNamesItsLine() async {
        let problems = await diagnostics(["suite.yaml": "name: x\ncases:\n  - id: a\n   prompt: [unclosed\n"])
        #expect(problems.count == 1)
        #expect(problems.first?.contains("invalid YAML") == true)
        #expect(problems.first?.hasPrefix("suite.yaml:") == true)
    }

    @Test func badJSONLAndCSVLinesNameTheirFileAndLine() async {
        let problems = await diagnostics([
            "suite.yaml": Self.candidates + """
                cases:
                  - file: cases.jsonl
                  - file: cases.csv
                """,
            "cases.jsonl":
                "{\"id\": \"ok\", \"prompt\": \"hi\"}\n{\"id\": \"bad\", prompt: }\n{\"id\": \"x\", \"promptt\": \"hi\"}\n",
            "cases.csv": "id,prompt\nc1,hello\nc2,\"never closed\n",
        ])
        #expect(problems.contains { $0.hasPrefix("cases.jsonl:2:") && $0.contains("not valid JSON") })
        #expect(
            problems.contains {
                $0.hasPrefix("cases.jsonl:3:") && $0.contains("'promptt'") && $0.contains("did you mean 'prompt'?")
            }
        )
        #expect(problems.contains { $0.hasPrefix("cases.csv:3:") && $0.contains("never closed") })
    }

    @Test func duplicateIDsAndMissingCandidatesAreReported() async {
        let problems = await diagnostics([
            "suite.yaml": """
            cases:
              - {id: a, prompt: x}
              - {id: a, prompt: y}
            """
        ])
        #expect(problems.contains { $0.contains("no 'candidates'") })
        #expect(problems.contains { $0.hasPrefix("suite.yaml:3:") && $0.contains("used twice") })
    }

    @Test func apiKeysAreOnlyNamedNeverWritten() async {
        let problems = await diagnostics([
            "suite.yaml": """
            candidates:
              - id: a
                base_url: http://x/v1
                api_key_env: sk-live-123
            cases:
              - {id: a, prompt: x}
            """
        ])
        #expect(problems.contains { $0.hasPrefix("suite.yaml:4:") && $0.contains("must name an environment variable") })
    }
}

/// Bugs found from outside: lines of block-valued keys, and suites with nothing to run.
@Suite struct SuiteLoaderRegressionTests {
    let loader = SuiteLoaderTests()

    @Test func aMisspelledKeyWithABlockValueIsReportedOnItsOwnLine() async {
        // Given `candidtes:` on line 2, its list starting on line 3
        let problems = await loader.diagnostics([
            "suite.yaml": """
            name: typo
            candidtes:
              - id: a
                base_url: http://127.0.0.1:1/v1
            cases:
              - id: c
                prompt: hi
                checks:
                  - contains: x
                    wieght: 2
            """
        ])
        // Then the key's own line is named, for the suite key and for a nested option alike
        #expect(problems.contains { $0.hasPrefix("suite.yaml:2: unknown key 'candidtes'") }, "\(problems)")
        #expect(!problems.contains { $0.hasPrefix("suite.yaml:3: unknown key") }, "\(problems)")
    }

    @Test func anEmptySuiteIsAnErrorThatSaysWhatToAdd() async {
        let inline = await loader.diagnostics(["suite.yaml": SuiteLoaderTests.candidates + "cases: []\n"])
        #expect(inline.count == 1 && inline[0].contains("no cases to run"), "\(inline)")
        #expect(inline.first?.contains("add at least one case") == true)
        let emptyFile = await loader.diagnostics([
            "suite.yaml": SuiteLoaderTests.candidates + "cases:\n  - file: cases.jsonl\n", "cases.jsonl": "",
        ])
        #expect(emptyFile.contains { $0.contains("no cases") }, "\(emptyFile)")
    }
}

@Suite struct FallbackAndScenarioLoadingTests {
    @Test func fallbackChainsAreCheckedWithFileAndLine() async {
        let problems = await SuiteLoaderTests().diagnostics([
            "suite.yaml": """
            candidates:
              - id: a
                base_url: http://127.0.0.1:1/v1
                fallback: [a, nobody]
                cooldown: {after: 0, for: soon}
              - id: spare
                base_url: http://127.0.0.1:1/v1
                fallback_only: true
            cases:
              - {id: one, prompt: hi}
            """
        ])
        #expect(problems.contains { $0.hasPrefix("suite.yaml:2:") && $0.contains("names itself") })
        #expect(problems.contains { $0.contains("'nobody', which is not a candidate") })
        #expect(problems.contains { $0.contains("cooldown.after") })
        #expect(problems.contains { $0.contains("cooldown.for") })
        #expect(problems.contains { $0.hasPrefix("suite.yaml:6:") && $0.contains("no candidate falls back on it") })
    }

    @Test func aValidChainLoads() async throws {
        let suite = try await SuiteLoaderTests().load([
            "suite.yaml": """
            candidates:
              - id: a
                base_url: http://127.0.0.1:1/v1
                fallback: [spare]
                cooldown: {after: 3, for: 30s}
              - id: spare
                base_url: http://127.0.0.1:1/v1
                fallback_only: true
            cases:
              - {id: one, prompt: hi}
            """
        ])
        #expect(suite.scoredCandidates.map(\.id) == ["a"])
        #expect(suite.candidates[0].cooldown == Cooldown(after: 3, duration: 30))
        #expect(suite.fallbackChain(of: suite.candidates[0]).map(\.id) == ["a", "spare"])
    }

    @Test func scenariosLoadAndProblemsNameTheLine() async throws {
        try await withTemporaryDirectory { directory in
            try writeFiles(
                [
                    "ok.yaml": """
                    - {at: 10s, for: 5s, fault: 503, rate: 100%}
                    - {at: 30s, for: 10s, fault: 429, rate: 60%, retry_after: 2s}
                    - {at: 50s, for: 10s, fault: slow, factor: 8}
                    """,
                    "bad.yaml": """
                    faults: 429:5%
                    timeline:
                      - {at: 10s, for: 5s, fault: 504}
                      - {at: 10s, fault: 503}
                      - {at: 1s, for: 1s, fault: cut, factor: 2}
                    """,
                ],
                in: directory
            )
            let scenario = try ScenarioLoader().load(path: directory.appendingPathComponent("ok.yaml").path)
            #expect(scenario.windows.count == 3)
            #expect(scenario.windows[1].rule.retryAfter == 2 && abs(scenario.windows[1].rule.rate - 0.6) < 1e-9)
            #expect(scenario.windows[2].rule.slowFactor == 8 && scenario.windows[2].end == 60)
            do {
                _ = try ScenarioLoader().load(path: directory.appendingPathComponent("bad.yaml").path)
                Issue.record("a bad scenario loaded")
            } catch let error as RoadtestError {
                let lines = error.diagnostics.map(\.description)
                #expect(lines.contains { $0.contains("bad.yaml:3:") && $0.contains("unknown fault '504'") })
                #expect(lines.contains { $0.contains("bad.yaml:4:") && $0.contains("needs 'at', 'for' and 'fault'") })
                #expect(lines.contains { $0.contains("bad.yaml:5:") && $0.contains("'factor' goes with fault 'slow'") })
            }
        }
    }
}

@Suite struct StrategyAndMatrixLoadingTests {
    @Test func aMatrixExpandsACandidateIntoNamedConfigurations() async throws {
        let suite = try await SuiteLoaderTests().load([
            "suite.yaml": """
            candidates:
              - id: smol
                base_url: http://127.0.0.1:1/v1
                strategy: {samples: 1, select: majority}
              - id: big
                base_url: http://127.0.0.1:1/v1
            matrix:
              smol:
                strategy.samples: [1, 3, 5]
                temperature: [0.7]
            cases:
              - {id: one, prompt: hi}
            """
        ])
        #expect(suite.candidates.map(\.id) == ["smol@k=1", "smol@k=3", "smol@k=5", "big"])
        #expect(suite.candidates.prefix(3).map { $0.strategy?.samples } == [1, 3, 5])
        #expect(suite.candidates.prefix(3).allSatisfy { $0.settings.temperature == 0.7 })
    }

    @Test func strategiesAndMatricesAreCheckedWithFileAndLine() async {
        let problems = await SuiteLoaderTests().diagnostics([
            "suite.yaml": """
            candidates:
              - id: a
                base_url: http://127.0.0.1:1/v1
                strategy: {samples: 0, select: vote}
              - id: b
                base_url: http://127.0.0.1:1/v1
                strategy: {samples: 3, select: first-valid}
            matrix:
              c: {temperature: [0, 1]}
              a: {colour: [red]}
            cases:
              - {id: one, prompt: hi}
            """
        ])
        #expect(problems.contains { $0.hasPrefix("suite.yaml:4:") && $0.contains("strategy.samples") })
        #expect(problems.contains { $0.hasPrefix("suite.yaml:7:") && $0.contains("'first-valid' needs a 'verifier'") })
        #expect(problems.contains { $0.hasPrefix("suite.yaml:9:") && $0.contains("matrix names 'c'") })
        #expect(problems.contains { $0.hasPrefix("suite.yaml:10:") && $0.contains("unknown key 'colour'") })
    }
}

@Suite struct SimilarLoadingTests {
    @Test func similarChecksNeedAnEmbeddingsCandidate() async throws {
        let problems = await SuiteLoaderTests().diagnostics([
            "suite.yaml": """
            candidates:
              - {id: a, base_url: "http://127.0.0.1:1/v1", strategy: {samples: 3, similar: true}}
            cases:
              - {id: one, prompt: hi, checks: [{similar: hello, embeddings: nobody}]}
              - {id: two, prompt: hi, checks: [{similar: hello, threshold: 2}]}
            """
        ])
        #expect(problems.contains { $0.contains("'nobody', which is not an embeddings candidate") })
        #expect(problems.contains { $0.contains("'similar: true' needs an embeddings candidate") })
        #expect(problems.contains { $0.hasPrefix("suite.yaml:5:") && $0.contains("'threshold' must be a cosine") })
        let suite = try await SuiteLoaderTests().load([
            "suite.yaml": """
            candidates:
              - {id: a, base_url: "http://127.0.0.1:1/v1"}
              - {id: emb, local: smollm2-135m-instruct, embeddings: true}
            cases:
              - {id: one, prompt: hi, checks: [{similar: hello, threshold: 0.9}]}
            """
        ])
        #expect(suite.scoredCandidates.map(\.id) == ["a"])
        #expect(suite.cases[0].checks[0].kind == .similar(expected: "hello", threshold: 0.9, embeddings: nil))
    }
}

@Suite struct ToolsAndAttacksLoadingTests {
    @Test func toolsResultsChecksAndAttacksLoad() async throws {
        let yaml = """
            candidates:
              - {id: a, base_url: "http://127.0.0.1:1/v1"}
            defaults:
              max_turns: 3
              tool_choice: {name: lookup}
              tools:
                - {name: lookup, parameters: {type: object, properties: {id: {type: string}}}}
                - {type: function, function: {name: wipe, parameters: {type: object}}}
              tool_results:
                lookup: {table: [{args: {id: "7"}, result: {found: true}}], otherwise: nothing}
                wipe: {value: {ok: 1}}
            attacks: {packs: [excessive-agency, system-prompt-leak], per_case: 2, seed: 3}
            cases:
              - id: one
                prompt: find 7
                forbidden_tools: [wipe]
                session_user: u-1
                checks:
                  - {calls-tool: lookup, args: {id: 7}}
                  - {tool-sequence: [lookup]}
                  - {not-calls-tool: wipe}
                  - {max-tool-calls: 2}
            """
        let suite = try await SuiteLoaderTests().load(["suite.yaml": yaml])
        let settings = suite.defaults
        #expect(settings.tools?.compactMap(ToolCalls.name(of:)) == ["lookup", "wipe"])
        #expect(settings.maxTurns == 3)
        #expect(settings.toolChoice?["function"]?["name"] == .string("lookup"))
        #expect(settings.toolResults?["wipe"] == .value(#"{"ok":1}"#))
        guard case .table(let rows, let otherwise)? = settings.toolResults?["lookup"] else {
            Issue.record("lookup is not a table")
            return
        }
        #expect(ToolScript.lookup(rows: rows, otherwise: otherwise, arguments: #"{"id": 7}"#) == #"{"found":true}"#)
        #expect(ToolScript.lookup(rows: rows, otherwise: otherwise, arguments: #"{"id": "8"}"#) == "nothing")
        let base = try #require(suite.cases.first)
        #expect(base.forbiddenTools == ["wipe"] && base.sessionUser == "u-1" && base.checks.count == 4)
        // Two packs x two attacks, derived deterministically: the same seed gives the same canaries.
        let attacks = suite.cases.compactMap(\.attack)
        #expect(attacks.map(\.pack) == [.excessiveAgency, .excessiveAgency, .systemPromptLeak, .systemPromptLeak])
        #expect(suite.cases.filter { $0.attack != nil }.allSatisfy { $0.checks.isEmpty && $0.tags.contains("attack") })
        let again = try await SuiteLoaderTests().load(["suite.yaml": yaml])
        #expect(again.cases.compactMap(\.attack?.canary) == attacks.compactMap(\.canary))
        #expect(attacks[0].forbiddenTools == ["wipe"])
    }

    @Test func toolMistakesNameFileAndLine() async throws {
        let problems = await SuiteLoaderTests().diagnostics([
            "suite.yaml": """
            candidates:
              - {id: a, base_url: "http://127.0.0.1:1/v1"}
            defaults:
              tools:
                - {description: no name}
              tool_results:
                lookup: {tabel: []}
              tool_choice: always
            attacks: {packs: [prompt-injektion]}
            cases:
              - id: one
                prompt: hi
                forbidden_tools: [nuke]
                checks: [{calls-tool: lookup, args: 7}, {tool-sequence: []}]
            """
        ])
        #expect(problems.contains { $0.hasPrefix("suite.yaml:5:") && $0.contains("a tool needs a 'name'") })
        #expect(problems.contains { $0.hasPrefix("suite.yaml:7:") && $0.contains("'table', 'command' or 'value'") })
        #expect(problems.contains { $0.hasPrefix("suite.yaml:8:") && $0.contains("'tool_choice' is auto") })
        #expect(problems.contains { $0.hasPrefix("suite.yaml:9:") && $0.contains("did you mean 'prompt-injection'") })
        #expect(
            problems.contains {
                $0.contains("forbidden_tools names 'nuke', which") || $0.contains("forbidden_tools names 'nuke' is not")
            }
        )
        #expect(problems.contains { $0.contains("'args' must be a mapping") })
        #expect(problems.contains { $0.contains("'tool-sequence' needs a list") })
    }
}
