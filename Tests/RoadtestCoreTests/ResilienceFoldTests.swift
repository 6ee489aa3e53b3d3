import Foundation
import RoadtestCore
import Testing

@Suite struct ResilienceFoldTests {
    static let epoch = 1_000.0

    static func attempt(_ attemptClass: AttemptClass, candidate: String? = nil) -> Attempt {
        Attempt(
            role: .task,
            number: 1,
            response: ProviderResponse(attemptClass: attemptClass),
            costUSD: 0,
            candidate: candidate
        )
    }

    /// A trial of candidate `a` (unless told), started `at` seconds after the epoch.
    static func record(
        _ caseID: String,
        candidate: String = "a",
        passed: Bool,
        attempts: [Attempt]? = nil,
        cost: Double = 0,
        at: Double = 0,
        elapsed: Double = 1,
        servedBy: String? = nil
    ) -> OutcomeRecord {
        let attempts = attempts ?? [attempt(passed ? .ok : .timeout)]
        var outcome = Outcome(
            key: TrialKey(candidate: candidate, caseID: caseID, sample: 0),
            passed: passed,
            score: passed ? 1 : 0,
            output: "42",
            checks: [],
            attempts: attempts,
            costUSD: cost,
            finalClass: attempts.last?.attemptClass ?? .ok
        )
        outcome.startedAt = epoch + at
        outcome.elapsed = elapsed
        outcome.servedBy = servedBy
        return OutcomeRecord(outcome: outcome, kind: .normal, tags: [])
    }

    static func window(_ at: Double, _ duration: Double) -> FaultWindow {
        FaultWindow(at: at, duration: duration, rule: FaultRule(kind: .http500, rate: 1))
    }

    @Test func aDrillFoldsIntoItsFigures() throws {
        var fold = ResilienceFold(epoch: Self.epoch, windows: [Self.window(10, 5), Self.window(30, 5)])
        // Faulted: a success at 16 + 1 s, one at 20 + 2 s after a retry, one served by the fallback `b` at 40 + 1 s,
        // and a failure. Four of five planned trials were recorded.
        fold.addFaulted(Self.record("c1", passed: true, cost: 0.2, at: 16, elapsed: 1))
        fold.addFaulted(
            Self.record(
                "c2",
                passed: true,
                attempts: [Self.attempt(.http5xx), Self.attempt(.ok)],
                cost: 0.2,
                at: 20,
                elapsed: 2
            )
        )
        fold.addFaulted(
            Self.record(
                "c3",
                passed: true,
                attempts: [Self.attempt(.http5xx), Self.attempt(.ok, candidate: "b")],
                cost: 0.2,
                at: 40,
                elapsed: 1,
                servedBy: "b"
            )
        )
        fold.addFaulted(Self.record("c4", passed: false, cost: 0.2, at: 50))
        // Clean: four successes of 0.5 s at $0.1.
        for index in 1...4 { fold.addClean(Self.record("c\(index)", passed: true, cost: 0.1, elapsed: 0.5)) }
        // The proxy's log.
        fold.addLog(ChaosLogEntry(time: "", t: 1, id: 1, method: "POST", path: "/v1/chat/completions", candidate: "a"))
        for id in 2...3 {
            fold.addLog(
                ChaosLogEntry(time: "", t: 11, id: id, method: "POST", path: "/", fault: "500", kind: "http_5xx"),
                candidate: "a"
            )
        }
        fold.addLog(
            ChaosLogEntry(time: "", t: 30, id: 4, method: "POST", path: "/", fault: "stall", kind: "timeout"),
            candidate: "a"
        )
        fold.addLog(ChaosLogEntry(time: "", t: 40, id: 5, method: "POST", path: "/", candidate: "b"), candidate: "a")
        fold.addLog(ChaosLogEntry(time: "", t: 41, id: 6, method: "POST", path: "/"))  // no candidate: not counted

        let figures = fold.resilience(for: "a", planned: 5)
        #expect(figures.trials == 4 && figures.succeeded == 3 && figures.lost == 1)
        #expect(figures.successRate == 0.75 && figures.cleanSuccessRate == 1)
        #expect(figures.requests == 4)
        #expect(
            figures.faults == [
                "http_429": 0, "http_5xx": 2, "stream_cut": 0, "timeout": 1, "malformed": 0, "reset": 0, "slow": 0,
            ]
        )
        #expect(figures.faultsByKind == ["500": 2, "stall": 1])
        #expect(figures.attemptClasses == ["ok": 2, "http_5xx": 2, "timeout": 1])
        #expect(figures.retries == 1, "the fallback move to b is not a retry")
        #expect(figures.servedByFallback == 1)
        #expect(figures.latencyMS == Percentiles(milliseconds: [1000, 2000, 1000]))
        #expect(figures.cleanLatencyMS == Percentiles(milliseconds: [500, 500, 500, 500]))
        #expect(figures.addedLatencyMS == Resilience.LatencyDelta(p50: 500, p95: 1500))
        let costPerSuccess = try #require(figures.costPerSuccess)
        #expect(abs(costPerSuccess - 0.8 / 3) < 1e-12 && figures.cleanCostPerSuccess == 0.1)
        let increase = try #require(figures.costIncrease)
        let expectedIncrease: Double = 0.8 / 3 / 0.1 - 1
        #expect(abs(increase - expectedIncrease) < 1e-12)
        #expect(figures.windows.map(\.recoveryS) == [2, 6], "17 s after the window ending at 15; 41 after 35")
        #expect(figures.windows.map(\.fault) == ["500:100%", "500:100%"])
        #expect(figures.recoveryS == 6)

        // The fallback's own figures: its attempt, and the request its proxy logged.
        let fallback = fold.resilience(for: "b", planned: 0)
        #expect(fallback.trials == 0 && fallback.attemptClasses == ["ok": 1] && fallback.requests == 1)
        #expect(fallback.successRate == nil && fallback.recoveryS == nil)
    }

    /// Windows ([at, at + duration)), when faulted trials ended (seconds after the epoch, and whether they passed),
    /// each window's recovery and the drill's (the longest; nil when a window never recovered).
    static let recoveries: [(windows: [(Double, Double)], ends: [(Double, Bool)], each: [Double?], longest: Double?)] =
        [
            ([], [(5.0, true)], [], nil),
            ([(10.0, 5.0)], [(5, true), (16, true)], [1], 1),
            ([(10, 5)], [(15, true)], [0], 0),  // ending as the window ends: recovered at once
            ([(10, 5)], [(5, true)], [nil], nil),  // nothing succeeded after it
            ([(10, 5)], [(16, false), (20, true)], [5], 5),  // a failure is not a recovery
            ([(10, 5), (30, 5)], [(17, true), (41, true)], [2, 6], 6),
            ([(10, 5), (30, 5)], [(41, true), (17, true)], [2, 6], 6),  // in any order
            ([(10, 5), (30, 5)], [(17, true)], [2, nil], nil),
        ]

    @Test(arguments: recoveries)
    func recoveryAfterEachWindow(
        row: (windows: [(Double, Double)], ends: [(Double, Bool)], each: [Double?], longest: Double?)
    ) {
        var fold = ResilienceFold(epoch: Self.epoch, windows: row.windows.map { Self.window($0.0, $0.1) })
        for (index, end) in row.ends.enumerated() {
            fold.addFaulted(Self.record("c\(index)", passed: end.1, at: end.0 - 1, elapsed: 1))
        }
        let figures = fold.resilience(for: "a", planned: row.ends.count)
        #expect(figures.windows.map(\.recoveryS) == row.each)
        #expect(figures.windows.map(\.at) == row.windows.map(\.0))
        #expect(figures.recoveryS == row.longest)
    }

    /// Cost per success under faults against clean: (faulted cost, successes), (clean cost, successes) or no clean
    /// run, and the relative increase.
    @Test(arguments: [
        ((0.3, 2), (0.2, 2), 0.5),
        ((0.2, 2), (0.2, 2), 0),
        ((0.0, 2), (0.0, 2), 0),  // a free model stays free
        ((0.1, 1), (0.0, 2), nil),  // from free to paid: no ratio
        ((0.1, 0), (0.2, 2), nil),  // nothing succeeded under faults
        ((0.2, 2), (0.2, 0), nil),  // nothing succeeded clean
        ((0.2, 2), nil, nil),  // no clean run
    ])
    func costIncrease(
        row: (faulted: (cost: Double, succeeded: Int), clean: (cost: Double, succeeded: Int)?, increase: Double?)
    ) {
        var fold = ResilienceFold(epoch: Self.epoch)
        func add(_ cost: Double, _ succeeded: Int, to sink: (OutcomeRecord) -> Void) {
            // Two trials, the cost on the first.
            for index in 0..<2 {
                sink(Self.record("c\(index)", passed: index < succeeded, cost: index == 0 ? cost : 0))
            }
        }
        add(row.faulted.cost, row.faulted.succeeded) { fold.addFaulted($0) }
        if let clean = row.clean { add(clean.cost, clean.succeeded) { fold.addClean($0) } }
        let figures = fold.resilience(for: "a", planned: 2)
        if let expected = row.increase {
            #expect(
                abs((figures.costIncrease ?? .nan) - expected) < 1e-12,
                "\(String(describing: figures.costIncrease))"
            )
        } else {
            #expect(figures.costIncrease == nil)
        }
    }

    @Test func withoutACleanRunCleanFiguresAreAbsent() {
        var fold = ResilienceFold(epoch: Self.epoch)
        fold.addFaulted(Self.record("c1", passed: true, cost: 0.1))
        let figures = fold.resilience(for: "a", planned: 3)
        #expect(figures.cleanSuccessRate == nil && figures.cleanCostPerSuccess == nil)
        #expect(figures.addedLatencyMS == Resilience.LatencyDelta(p50: nil, p95: nil))
        #expect(figures.lost == 2)
        #expect(figures.faults.values.allSatisfy { $0 == 0 } && figures.faults.count == FaultKind.categories.count)
    }
}
