import Foundation
import RoadtestCore
import RoadtestProviders
import RoadtestReport
import RoadtestRunner
import RoadtestServer
import RoadtestStore
import RoadtestSuite
import RoadtestTestSupport
import Testing

/// Error recovery, constraints, robustness and prompt sensitivity, with scripted behaviours whose figures are
/// known exactly: a model that asks, one that invents, one that breaks on perturbed input, and one whose
/// answers depend on the system prompt.
@Suite(.serialized) struct RecoveryTests {
    static var profile: SimulatorProfile {
        var asker = ModelBehavior()
        asker.reply = "Could you clarify what you mean?"
        var inventor = ModelBehavior()
        inventor.reply = "The answer is 42."
        var brittle = ModelBehavior()
        brittle.reply = "Lyon."
        brittle.rules = [(match: "What is the capital of France?", reply: "Paris")]
        var promptDependent = ModelBehavior()
        promptDependent.reply = "Lyon."
        promptDependent.systemRules = [(match: "expert", reply: "Paris")]
        return SimulatorProfile(models: [
            "asker": asker, "inventor": inventor, "brittle": brittle, "prompted": promptDependent,
        ])
    }

    @Test func scriptedBehavioursProduceExactlyTheExpectedFigures() async throws {
        try await withSimulator(profile: Self.profile) { baseURL, _ in
            try await withTemporaryDirectory { directory in
                try writeFiles(
                    [
                        "suite.yaml": """
                        name: recovery
                        candidates:
                          - {id: asker, base_url: \(baseURL), model: asker}
                          - {id: inventor, base_url: \(baseURL), model: inventor}
                          - {id: brittle, base_url: \(baseURL), model: brittle}
                          - {id: prompted, base_url: \(baseURL), model: prompted}
                        defaults: {system: Answer briefly.}
                        robustness: {perturbations: [case, typos, noise], variants: 1, seed: 3}
                        prompts: [You are an expert geographer.]
                        cases:
                          - id: capital
                            prompt: What is the capital of France?
                            checks:
                              - icontains: Paris
                              - max-length: 20
                                constraint: true
                          - id: vague
                            kind: ambiguous
                            prompt: It doesn't work.
                            checks:
                              - clarifies: true
                        """
                    ],
                    in: directory
                )
                let suite = try SuiteLoader().load(path: directory.appendingPathComponent("suite.yaml").path)
                #expect(suite.variants.map(\.name) == ["", "case#1", "typos#1", "noise#1", "prompt#1"])
                let store = try Store.inMemory().runs
                try await store.createRun(
                    RunRecord(
                        id: "r",
                        suiteName: suite.name,
                        suitePath: suite.path,
                        suiteHash: "h",
                        status: .running,
                        startedAt: RunRecord.timestamp(),
                        version: "t"
                    ),
                    suite: suite
                )
                let transport = HTTPTransport()
                let factory = ProviderFactory(transport: transport)
                var providers: [String: any ModelProvider] = [:]
                for candidate in suite.candidates { providers[candidate.id] = try factory.makeProvider(for: candidate) }
                try await Runner(suite: suite, sink: store, runID: "r", providers: providers).run()
                await transport.shutdown()

                let report = try #require(try await store.report(runID: "r"))
                let cards = Dictionary(uniqueKeysWithValues: report.candidates.map { ($0.id, $0) })
                let asker = try #require(cards["asker"])
                let inventor = try #require(cards["inventor"])
                let brittle = try #require(cards["brittle"])
                let prompted = try #require(cards["prompted"])

                // The asker handles the ambiguous case and is never confidently wrong; it breaks the length rule.
                #expect(
                    asker.recovery
                        == RecoverySummary(ambiguous: 1, handled: 1, rate: 1, confidentWrong: 0, confidentWrongRate: 0)
                )
                #expect(asker.constraints.checked == 5)
                #expect(asker.constraints.violated == 5)
                #expect(asker.constraints.byCheck["max-length"]?.violationRate == 1)
                #expect(
                    asker.robustness
                        == RobustnessSummary(
                            cleanPassRate: 0.5,
                            perturbedPassRate: 0.5,
                            worstCasePassRate: 0.5,
                            byPerturbation: ["case": 0.5, "typos": 0.5, "noise": 0.5]
                        )
                )

                // The inventor answers everything, wrongly and confidently.
                #expect(
                    inventor.recovery
                        == RecoverySummary(ambiguous: 1, handled: 0, rate: 0, confidentWrong: 1, confidentWrongRate: 1)
                )
                #expect(inventor.constraints.violated == 0)
                #expect(inventor.passRate == 0)

                // The brittle model is right only on the exact clean prompt (and when noise wraps it unchanged).
                #expect(
                    brittle.robustness
                        == RobustnessSummary(
                            cleanPassRate: 0.5,
                            perturbedPassRate: 1.0 / 6.0,
                            worstCasePassRate: 0,
                            byPerturbation: ["case": 0, "typos": 0, "noise": 0.5]
                        )
                )
                #expect(brittle.recovery.confidentWrong == 0)

                // The prompt-dependent model needs the expert prompt.
                let sensitivity = try #require(prompted.promptSensitivity)
                #expect(sensitivity.byPrompt.map(\.prompt) == ["Answer briefly.", "You are an expert geographer."])
                #expect(sensitivity.byPrompt.map(\.passRate) == [0, 0.5])
                #expect(sensitivity.spread == 0.5)
                #expect(asker.promptSensitivity?.spread == 0)
                #expect(prompted.recovery.confidentWrong == 1)

                // Reports show the variant inputs and prompts.
                let trials = try await store.trialRows(runID: "r")
                let typo = try #require(
                    trials.first {
                        $0.key.candidate == "brittle" && $0.key.caseID == "capital"
                            && $0.key.variant == .perturbed(.typos, 1)
                    }
                )
                #expect(typo.input != "What is the capital of France?")
                let html = HTMLReport.render(report, trials: trials)
                #expect(html.contains("Input (perturbed: typos#1)"))
                #expect(html.contains("System prompt (prompt#1)"))
                let json = try #require(JSONValue.parse(try JSONReport.render(report)))
                let card = try #require(json["candidates"]?.arrayValue?.first { $0["id"] == .string("brittle") })
                #expect(card["robustness"]?["by_perturbation"]?["noise"] == .number(0.5))
                #expect(card["recovery"]?["confident_wrong"] == .number(0))
                #expect(card["constraints"]?["violation_rate"] == .number(0))
                #expect(card["prompt_sensitivity"]?["spread"] == .number(0))
            }
        }
    }

    @Test func detectors() {
        #expect(RecoveryDetector.clarifies("Could you clarify which order you mean?"))
        #expect(RecoveryDetector.clarifies("Which account are you referring to?"))
        #expect(RecoveryDetector.clarifies("Please provide more details about the error."))
        #expect(!RecoveryDetector.clarifies("The capital of France is Paris."))
        #expect(!RecoveryDetector.clarifies("Is it raining? Yes, it is."))
        #expect(RecoveryDetector.abstains("I don't know the answer to that."))
        #expect(RecoveryDetector.abstains("I’m not sure there is enough information."))
        #expect(RecoveryDetector.abstains("I'm sorry, but I can't help with that."))
        #expect(!RecoveryDetector.abstains("Paris is the capital of France."))
        // A base model repeating the user's question is not asking one.
        let question = "Which team will win the 2031 football world cup?"
        #expect(RecoveryDetector.clarifies(question))
        #expect(!RecoveryDetector.clarifies(question + "<|im_end|> " + question, input: question))
        #expect(RecoveryDetector.clarifies(question + " Which country do you mean?", input: question))
    }

    @Test func perturbationsAreDeterministicAndAlwaysDiffer() {
        let input = "What is the capital of France? Answer in one word."
        for perturbation in Perturbation.allCases {
            for index in 1...5 {
                let first = perturbation.apply(to: input, seed: 7, key: "case-a", index: index)
                let again = perturbation.apply(to: input, seed: 7, key: "case-a", index: index)
                #expect(first == again, "\(perturbation) is not deterministic")
                #expect(first != input, "\(perturbation) left the input unchanged")
            }
            #expect(perturbation.apply(to: "", seed: 1, key: "k", index: 1) != "" || perturbation == .truncate)
            #expect(perturbation.apply(to: "ok", seed: 1, key: "k", index: 1) != "ok")
        }
        #expect(
            Perturbation.typos.apply(to: input, seed: 1, key: "a", index: 1)
                != Perturbation.typos.apply(to: input, seed: 2, key: "a", index: 1)
        )
        #expect(
            Perturbation.unicode.apply(to: input, seed: 1, key: "a", index: 1).unicodeScalars.contains {
                $0.value > 0x7F
            }
        )
    }

    @Test func suiteErrorsForRobustnessAndPrompts() async throws {
        try await withTemporaryDirectory { directory in
            try writeFiles(
                [
                    "suite.yaml": """
                    candidates: [{id: a, base_url: http://127.0.0.1:1/v1, model: m}]
                    robustness: {perturbations: [typo], variants: 0}
                    prompts: []
                    cases: [{id: c, prompt: hi, checks: [{clarifies: {confirm: nobody}}]}]
                    """
                ],
                in: directory
            )
            do {
                _ = try SuiteLoader().load(path: directory.appendingPathComponent("suite.yaml").path)
                Issue.record("the suite should not load")
            } catch let error as RoadtestError {
                let text = error.description
                #expect(
                    text.contains("suite.yaml:2:") && text.contains("unknown perturbation 'typo'")
                        && text.contains("'typos'")
                )
                #expect(text.contains("'variants' must be a whole number above 0"))
                #expect(text.contains("suite.yaml:3:") && text.contains("'prompts' is empty"))
                #expect(text.contains("judge 'nobody' is not a candidate"))
            }
        }
    }
}
