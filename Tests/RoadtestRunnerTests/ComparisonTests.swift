import Foundation
import RoadtestCore
import RoadtestProviders
import RoadtestReport
import RoadtestRunner
import RoadtestServer
import RoadtestStore
import RoadtestTestSupport
import Testing

/// Paired comparison of real runs against the simulator with scripted per-case behaviour.
@Suite(.serialized) struct ComparisonTests {
    /// `steady` answers every case correctly; `worse` breaks cases 1–8 and `better` fixes nothing but breaks
    /// case 1 only (a difference too small to be significant).
    static var profile: SimulatorProfile {
        var steady = ModelBehavior()
        steady.reply = "ok"
        var worse = steady
        worse.rules = (1...8).map { (match: "case \($0) ", reply: "no") }
        var slightly = steady
        slightly.rules = [(match: "case 1 ", reply: "no")]
        return SimulatorProfile(models: ["steady": steady, "worse": worse, "slightly": slightly])
    }

    func suite(_ baseURL: String, model: String, in directory: URL, name: String) throws -> String {
        let cases = (1...20).map {
            "  - {id: c\($0), tags: [t\($0 % 2)], prompt: \"case \($0) please\", checks: [{equals: ok}]}"
        }
        try writeFiles(
            [
                "\(name).yaml": """
                name: compare
                candidates: [{id: bot, base_url: \(baseURL), model: \(model), concurrency: 4}]
                cases:
                \(cases.joined(separator: "\n"))
                """
            ],
            in: directory
        )
        return directory.appendingPathComponent("\(name).yaml").path
    }

    func run(_ path: String, _ store: any RunStore) async throws -> String {
        guard case .finished(let report) = try await RunSession(store: store, options: .init(suitePath: path)).execute()
        else { throw CancellationError() }
        return report.runID
    }

    @Test func aRealRegressionIsSignificantAndANullComparisonIsNot() async throws {
        try await withSimulator(profile: Self.profile) { baseURL, _ in
            try await withTemporaryDirectory { directory in
                let store = try Store.sqlite(path: directory.appendingPathComponent("store.db").path).runs
                let base = try await run(try suite(baseURL, model: "steady", in: directory, name: "base"), store)
                let again = try await run(try suite(baseURL, model: "steady", in: directory, name: "again"), store)
                let worse = try await run(try suite(baseURL, model: "worse", in: directory, name: "worse"), store)
                let slightly = try await run(
                    try suite(baseURL, model: "slightly", in: directory, name: "slightly"),
                    store
                )

                // Same model twice: nothing flipped, p = 1.
                let null = try await store.compare(base: base, head: again)
                let same = try #require(null.candidates.first)
                #expect(same.pairs == 20 && same.regressions == 0 && same.fixes == 0 && same.mcnemarP == 1)
                #expect(same.verdict == .noSignificantChange && !null.regressed)

                // Eight cases broken: 8 discordant pairs one way, p = 2 · 0.5^8.
                let regressed = try await store.compare(base: base, head: worse)
                let card = try #require(regressed.candidates.first)
                #expect(card.regressions == 8 && card.fixes == 0 && card.bothPass == 12 && card.bothFail == 0)
                #expect(abs(card.mcnemarP - 2 * pow(0.5, 8)) < 1e-12)
                #expect(card.verdict == .regression && regressed.regressed)
                #expect(abs((card.passRate.delta ?? 0) + 0.4) < 1e-12)
                let ci = try #require(card.passRate.ci95)
                #expect(ci[0] < -0.4 && ci[1] < 0 && ci[1] > -0.4, "\(ci)")
                #expect(Set(card.flipped.map(\.caseID)) == Set((1...8).map { "c\($0)" }))
                #expect(card.byTag["t0"]?.regressions == 4 && card.byTag["t1"]?.regressions == 4)
                #expect(card.byTag["t0"]?.latencyMilliseconds.e2eP95.base != nil)
                #expect(card.byTag["t0"]?.costPerSuccess.base == 0)
                #expect(regressed.tripped([.regression]) == [.regression])

                // One case broken: a real difference, but not a significant one (p = 1).
                let small = try #require(try await store.compare(base: base, head: slightly).candidates.first)
                #expect(small.regressions == 1 && small.verdict == .noSignificantChange)

                // The improvement direction, and --min-effect.
                let fixed = try #require(try await store.compare(base: worse, head: base).candidates.first)
                #expect(fixed.verdict == .improvement && fixed.fixes == 8)
                let strict = try await store.compare(
                    base: base,
                    head: worse,
                    comparison: RunComparison(minimumEffect: 0.5)
                )
                #expect(strict.candidates.first?.verdict == .noSignificantChange)

                // Unknown runs and runs with nothing in common are errors, not empty reports.
                await #expect(throws: RoadtestError.self) { _ = try await store.compare(base: "nope", head: base) }
                await #expect(throws: RoadtestError.self) {
                    _ = try await store.compare(base: base, head: worse, candidates: [("bot", "other")])
                }
            }
        }
    }

    @Test func mcnemarMatchesAnIndependentExactBinomialTest() async throws {
        // Python's standard library computes the same two-sided exact binomial test from scratch.
        let counts = [(0, 0), (5, 0), (12, 3), (3, 12), (30, 20), (100, 70), (7, 7), (1, 0), (400, 350)]
        let script = """
            import math, sys
            for pair in sys.argv[1:]:
                b, c = map(int, pair.split(","))
                n, k = b + c, min(b, c)
                p = 1.0 if n == 0 else min(1.0, 2 * sum(math.comb(n, i) for i in range(k + 1)) / 2 ** n)
                print(repr(p))
            """
        let result = try await ProcessRunner.run(
            ["python3", "-c", script] + counts.map { "\($0.0),\($0.1)" },
            timeout: 30
        )
        let expected = String(decoding: result.standardOutput, as: UTF8.self).split(separator: "\n").compactMap {
            Double($0)
        }
        #expect(expected.count == counts.count)
        for (index, (b, c)) in counts.enumerated() where index < expected.count {
            let ours = Statistics.mcnemarExactP(b, c)
            #expect(
                abs(ours - expected[index]) <= 1e-9 * max(1, expected[index]),
                "b=\(b) c=\(c): \(ours) vs \(expected[index])"
            )
        }
    }

    @Test func historyShowsEachRunAndFlagsDrift() async throws {
        try await withSimulator(profile: Self.profile) { baseURL, _ in
            try await withTemporaryDirectory { directory in
                let store = try Store.sqlite(path: directory.appendingPathComponent("store.db").path).runs
                // One suite file, run three times; the endpoint's model degrades before the third run.
                var path = ""
                for model in ["steady", "steady", "worse"] {
                    path = try suite(baseURL, model: model, in: directory, name: "tracked")
                    _ = try await run(path, store)
                }
                let history = try await store.history(suitePath: path)
                #expect(history.runs.count == 3)
                let points = history.runs.map { try! #require($0.candidates.first) }
                #expect(points.map(\.passRate) == [1, 1, 0.6])
                #expect(points.map(\.drift) == [nil, .noSignificantChange, .regression])
                #expect(history.drifts.count == 1 && history.drifts.first?.runID == history.runs[2].runID)
                let page = HistoryRenderer.html(history)
                #expect(page.contains("Pass rate by run") && page.contains("REGRESSION"))
                await #expect(throws: RoadtestError.self) {
                    _ = try await store.history(suitePath: directory.appendingPathComponent("other.yaml").path)
                }
            }
        }
    }

    @Test func caseLifecycleFindsSaturatedNeverPassedAndDiscriminatingCases() async throws {
        try await withSimulator(profile: Self.profile) { baseURL, _ in
            try await withTemporaryDirectory { directory in
                let store = try Store.sqlite(path: directory.appendingPathComponent("store.db").path).runs
                var cases = (1...12).map { "  - {id: c\($0), prompt: \"case \($0) please\", checks: [{equals: ok}]}" }
                cases.append("  - {id: impossible, prompt: \"anything\", checks: [{equals: never}]}")
                try writeFiles(
                    [
                        "two.yaml": """
                        name: lifecycle
                        candidates:
                          - {id: steady, base_url: \(baseURL), model: steady}
                          - {id: worse, base_url: \(baseURL), model: worse}
                        cases:
                        \(cases.joined(separator: "\n"))
                        """
                    ],
                    in: directory
                )
                let path = directory.appendingPathComponent("two.yaml").path
                for _ in 0..<2 { _ = try await run(path, store) }
                let report = try await store.caseLifecycle(suitePath: path, runs: 5)
                #expect(report.runIDs.count == 2 && report.cases.count == 13)
                let byID = Dictionary(uniqueKeysWithValues: report.cases.map { ($0.id, $0) })
                // `worse` breaks cases 1–8: those tell the candidates apart; 9–12 every candidate passes.
                for id in (1...8).map({ "c\($0)" }) {
                    #expect(byID[id]?.discriminates == true && byID[id]?.saturated == false, "\(id)")
                }
                for id in (9...12).map({ "c\($0)" }) { #expect(byID[id]?.saturated == true, "\(id)") }
                #expect(byID["impossible"]?.neverPassed == true && byID["impossible"]?.discriminates == false)
                #expect(byID["c9"]?.trials["steady"] == 2)
                let text = CaseLifecycleRenderer.terminal(report)
                #expect(text.contains("4 saturated case(s)") && text.contains("1 case(s) never passed"))
            }
        }
    }
}
