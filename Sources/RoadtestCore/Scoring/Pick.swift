import Foundation

/// How `pick` judges a pass-rate bar.
public enum PickRule: String, Sendable, Hashable, Codable {
    /// On the lower bound of the pass rate's 95% Wilson interval: clears only what the evidence supports.
    case ciLowerBound = "ci_lower_bound"
    /// On the point estimate.
    case point
}

/// One candidate's standing in a scope.
public struct PickStanding: Sendable, Hashable, Codable {
    public var candidate: String
    public var costPerSuccess: Double?
    public var passRate: Double
    public var passRateCI95: [Double]
    public var e2eP95MS: Double?
    public var clears: Bool
    /// The bars it fails under the rule, by name.
    public var failedBars: [String]

    enum CodingKeys: String, CodingKey {
        case candidate
        case costPerSuccess = "cost_per_success"
        case passRate = "pass_rate"
        case passRateCI95 = "pass_rate_ci95"
        case e2eP95MS = "e2e_p95_ms"
        case clears
        case failedBars = "failed_bars"
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(candidate, forKey: .candidate)
        try container.encode(costPerSuccess, forKey: .costPerSuccess)
        try container.encode(passRate, forKey: .passRate)
        try container.encode(passRateCI95, forKey: .passRateCI95)
        try container.encode(e2eP95MS, forKey: .e2eP95MS)
        try container.encode(clears, forKey: .clears)
        try container.encode(failedBars, forKey: .failedBars)
    }
}

/// The choice for one scope (`overall` or `tag:NAME`).
public struct PickChoice: Sendable, Hashable, Codable {
    public var scope: String
    /// The cheapest configuration that clears every bar; nil when none does.
    public var candidate: String?
    /// The next cheapest that also clears.
    public var fallback: String?
    public var costPerSuccess: Double?
    public var passRate: Double?
    public var passRateCI95: [Double]?
    public var e2eP95MS: Double?
    public var clears: Bool
    /// When nothing clears: the candidate closest to clearing (fewest failed bars, then the best pass rate).
    public var closest: String?
    /// Every candidate clears: choose on cost and latency.
    public var saturated: Bool
    public var standings: [PickStanding]

    enum CodingKeys: String, CodingKey {
        case scope, candidate, fallback
        case costPerSuccess = "cost_per_success"
        case passRate = "pass_rate"
        case passRateCI95 = "pass_rate_ci95"
        case e2eP95MS = "e2e_p95_ms"
        case clears, closest, saturated, standings
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(scope, forKey: .scope)
        try container.encode(candidate, forKey: .candidate)
        try container.encode(fallback, forKey: .fallback)
        try container.encode(costPerSuccess, forKey: .costPerSuccess)
        try container.encode(passRate, forKey: .passRate)
        try container.encode(passRateCI95, forKey: .passRateCI95)
        try container.encode(e2eP95MS, forKey: .e2eP95MS)
        try container.encode(clears, forKey: .clears)
        try container.encode(closest, forKey: .closest)
        try container.encode(saturated, forKey: .saturated)
        try container.encode(standings, forKey: .standings)
    }
}

/// A point of the cost/quality Pareto frontier.
public struct FrontierPoint: Sendable, Hashable, Codable {
    public var candidate: String
    public var costPerSuccess: Double?
    public var passRate: Double
    public var e2eP95MS: Double?
    /// Not dominated: no other candidate is at least as cheap per success and at least as good, and better in one.
    public var onFrontier: Bool

    enum CodingKeys: String, CodingKey {
        case candidate
        case costPerSuccess = "cost_per_success"
        case passRate = "pass_rate"
        case e2eP95MS = "e2e_p95_ms"
        case onFrontier = "on_frontier"
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(candidate, forKey: .candidate)
        try container.encode(costPerSuccess, forKey: .costPerSuccess)
        try container.encode(passRate, forKey: .passRate)
        try container.encode(e2eP95MS, forKey: .e2eP95MS)
        try container.encode(onFrontier, forKey: .onFrontier)
    }
}

/// `roadtest pick`: the JSON contract (schema_version 1).
public struct PickReport: Sendable, Hashable, Codable {
    public static let schemaVersion = 1

    public var schemaVersion: Int
    public var runID: String
    public var suite: String
    public var rule: PickRule
    public var bars: [Bar]
    public var picks: [PickChoice]
    /// Every candidate with its overall figures; `frontier` lists only the non-dominated ones.
    public var points: [FrontierPoint]
    public var frontier: [FrontierPoint]
    /// Every candidate clears every bar overall.
    public var saturated: Bool

    enum CodingKeys: String, CodingKey {
        case schemaVersion = "schema_version"
        case runID = "run_id"
        case suite, rule, bars, picks, points, frontier, saturated
    }

    public init(runID: String, suite: String, rule: PickRule, bars: [Bar], picks: [PickChoice], points: [FrontierPoint])
    {
        self.schemaVersion = Self.schemaVersion
        self.runID = runID
        self.suite = suite
        self.rule = rule
        self.bars = bars
        self.picks = picks
        self.points = points
        self.frontier = points.filter(\.onFrontier)
        self.saturated = picks.first { $0.scope == "overall" }?.saturated ?? false
    }
}

/// Chooses the cheapest configuration that clears every bar. Pure.
public enum Picker {
    /// The standing of every candidate and the choice for one scope.
    public static func choose(scope: String, cards: [Scorecard], bars: [Bar], rule: PickRule) -> PickChoice {
        let standings = cards.map { card -> PickStanding in
            var judged = card
            if rule == .ciLowerBound, let lower = card.passRateCI95.first { judged.passRate = lower }
            let summary = BarEvaluator.evaluate(bars, on: judged)
            return PickStanding(
                candidate: card.id,
                costPerSuccess: card.costUSD.perSuccess,
                passRate: card.passRate,
                passRateCI95: card.passRateCI95,
                e2eP95MS: card.latencyMilliseconds.e2e.p95,
                clears: card.trials > 0 && summary.met,
                failedBars: summary.results.filter { !$0.met }.map(\.bar)
            )
        }
        let clearing = standings.filter(\.clears).sorted { a, b in
            let costA = a.costPerSuccess ?? .infinity
            let costB = b.costPerSuccess ?? .infinity
            if costA != costB { return costA < costB }
            let latencyA = a.e2eP95MS ?? .infinity
            let latencyB = b.e2eP95MS ?? .infinity
            if latencyA != latencyB { return latencyA < latencyB }
            return a.candidate < b.candidate
        }
        let chosen = clearing.first
        let closest =
            chosen == nil
            ? standings.min { a, b in
                if a.failedBars.count != b.failedBars.count { return a.failedBars.count < b.failedBars.count }
                let rateA = rule == .ciLowerBound ? a.passRateCI95.first ?? a.passRate : a.passRate
                let rateB = rule == .ciLowerBound ? b.passRateCI95.first ?? b.passRate : b.passRate
                return rateA > rateB
            }?.candidate : nil
        return PickChoice(
            scope: scope,
            candidate: chosen?.candidate,
            fallback: clearing.dropFirst().first?.candidate,
            costPerSuccess: chosen?.costPerSuccess,
            passRate: chosen?.passRate,
            passRateCI95: chosen?.passRateCI95,
            e2eP95MS: chosen?.e2eP95MS,
            clears: chosen != nil,
            closest: closest,
            saturated: !standings.isEmpty && standings.allSatisfy(\.clears),
            standings: standings
        )
    }

    /// Every candidate's overall point, marked when it is on the Pareto frontier of cost per success (lower is
    /// better; a candidate with no success has none and is never on it) against pass rate (higher is better).
    public static func points(_ cards: [Scorecard]) -> [FrontierPoint] {
        cards.map { card in
            let cost = card.costUSD.perSuccess
            let dominated =
                cost == nil
                || cards.contains { other in
                    guard other.id != card.id, let otherCost = other.costUSD.perSuccess, let cost else { return false }
                    return otherCost <= cost && other.passRate >= card.passRate
                        && (otherCost < cost || other.passRate > card.passRate)
                }
            return FrontierPoint(
                candidate: card.id,
                costPerSuccess: cost,
                passRate: card.passRate,
                e2eP95MS: card.latencyMilliseconds.e2e.p95,
                onFrontier: !dominated
            )
        }
    }
}
