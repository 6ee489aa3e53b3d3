import Foundation
import RoadtestCore
import RoadtestStore
import RoadtestSuite

/// `roadtest pick RUN`: per scope (overall, and per tag with `byTag`), the cheapest configuration of a stored run
/// that clears every bar, with the next cheapest as its fallback, the cost/quality frontier, and the routing
/// policy the gateway reads.
///
/// ```swift
/// let result = try await PickSession(store: store, options: .init(run: "latest")).execute()
/// print(result.report.picks.first?.candidate ?? "nothing clears")
/// ```
public struct PickSession: Sendable {
    public struct Options: Sendable {
        /// A run id, `latest` or `latest~N`.
        public var run: String
        public var byTag: Bool
        /// Bars to judge by instead of the suite's.
        public var barsPath: String?
        public var rule: PickRule

        public init(run: String, byTag: Bool = false, barsPath: String? = nil, rule: PickRule = .ciLowerBound) {
            self.run = run
            self.byTag = byTag
            self.barsPath = barsPath
            self.rule = rule
        }
    }

    public struct Result: Sendable {
        public var report: PickReport
        /// The routing policy (YAML).
        public var policy: String
    }

    public let store: any RunStore
    public let options: Options

    public init(store: any RunStore, options: Options) {
        self.store = store
        self.options = options
    }

    public func execute() async throws -> Result {
        guard let runID = try await store.resolveRunID(options.run), let run = try await store.run(id: runID),
            let suite = try await store.suiteHeader(runID: runID)
        else {
            throw RoadtestError(
                .notFound,
                "no run '\(options.run)' in the store",
                hint: "list runs with: roadtest runs"
            )
        }
        let bars = try options.barsPath.map { try BarsLoader().load(path: $0) } ?? suite.bars
        var overall = Scorer(suite: suite)
        var byTag: [String: Scorer] = [:]
        let byTagWanted = options.byTag
        try await store.forEachOutcome(runID: runID) { record in
            overall.add(record)
            guard byTagWanted else { return }
            for tag in record.tags { byTag[tag, default: Scorer(suite: suite)].add(record) }
        }
        let cards = overall.scorecards()
        var picks = [Picker.choose(scope: "overall", cards: cards, bars: bars, rule: options.rule)]
        for tag in byTag.keys.sorted() {
            let tagCards = byTag[tag]!.scorecards().filter { $0.trials > 0 }
            picks.append(Picker.choose(scope: "tag:" + tag, cards: tagCards, bars: bars, rule: options.rule))
        }
        let report = PickReport(
            runID: run.id,
            suite: run.suiteName,
            rule: options.rule,
            bars: bars,
            picks: picks,
            points: Picker.points(cards)
        )
        return Result(report: report, policy: PolicyWriter.yaml(report, suite: suite))
    }
}
