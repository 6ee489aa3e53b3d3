import Foundation

/// How one candidate held up under injected faults, next to a clean run of the same suite. Field names are the
/// JSON contract of `drill --json` (under each candidate's `resilience`).
public struct Resilience: Sendable, Hashable, Codable {
    /// Percentile differences in milliseconds (faulted minus clean, successful trials).
    public struct LatencyDelta: Sendable, Hashable, Codable {
        public var p50: Double?
        public var p95: Double?

        public init(p50: Double? = nil, p95: Double? = nil) {
            self.p50 = p50
            self.p95 = p95
        }
    }

    /// Recovery after one scenario window.
    public struct WindowRecovery: Sendable, Hashable, Codable {
        public var at: Double
        public var duration: Double
        public var fault: String
        /// Seconds from the window's end to the first trial that succeeded after it; nil when none did.
        public var recoveryS: Double?

        enum CodingKeys: String, CodingKey {
            case at
            case duration = "for"
            case fault
            case recoveryS = "recovery_s"
        }

        public init(at: Double, duration: Double, fault: String, recoveryS: Double?) {
            self.at = at
            self.duration = duration
            self.fault = fault
            self.recoveryS = recoveryS
        }
    }

    /// Faults injected in front of this candidate, by category (every category present).
    public var faults: [String: Int]
    /// Faults injected, by kind as written in the spec (`429`, `500`, `error_event`...).
    public var faultsByKind: [String: Int]
    /// Requests that went through this candidate's proxy (its own trials and other candidates' fallbacks).
    public var requests: Int
    /// Task attempts sent to this candidate by class, as the client classified them (from any trial).
    public var attemptClasses: [String: Int]
    public var trials: Int
    /// Trials that got an answer and passed their checks.
    public var succeeded: Int
    public var successRate: Double?
    public var cleanSuccessRate: Double?
    /// Planned trials with no recorded outcome (must be 0).
    public var lost: Int
    public var servedByFallback: Int
    /// Attempts that repeated a candidate within a trial (fallback moves are not retries).
    public var retries: Int
    public var addedLatencyMS: LatencyDelta
    /// Wall time per successful trial (retries, backoff and fallbacks included), under faults.
    public var latencyMS: Percentiles
    public var cleanLatencyMS: Percentiles
    /// Relative change of cost per success against clean (0.10 = 10% more); nil when it cannot be computed.
    public var costIncrease: Double?
    public var costPerSuccess: Double?
    public var cleanCostPerSuccess: Double?
    /// The longest recovery over the scenario's windows; nil without windows or when none recovered.
    public var recoveryS: Double?
    public var windows: [WindowRecovery]

    enum CodingKeys: String, CodingKey {
        case faults
        case faultsByKind = "faults_by_kind"
        case requests
        case attemptClasses = "attempt_classes"
        case trials, succeeded
        case successRate = "success_rate"
        case cleanSuccessRate = "clean_success_rate"
        case lost
        case servedByFallback = "served_by_fallback"
        case retries
        case addedLatencyMS = "added_latency_ms"
        case latencyMS = "latency_ms"
        case cleanLatencyMS = "clean_latency_ms"
        case costIncrease = "cost_increase"
        case costPerSuccess = "cost_per_success"
        case cleanCostPerSuccess = "clean_cost_per_success"
        case recoveryS = "recovery_s"
        case windows
    }

    /// Absent figures are written as `null`, so the contract's keys are always there.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(faults, forKey: .faults)
        try container.encode(faultsByKind, forKey: .faultsByKind)
        try container.encode(requests, forKey: .requests)
        try container.encode(attemptClasses, forKey: .attemptClasses)
        try container.encode(trials, forKey: .trials)
        try container.encode(succeeded, forKey: .succeeded)
        try container.encode(successRate, forKey: .successRate)
        try container.encode(cleanSuccessRate, forKey: .cleanSuccessRate)
        try container.encode(lost, forKey: .lost)
        try container.encode(servedByFallback, forKey: .servedByFallback)
        try container.encode(retries, forKey: .retries)
        try container.encode(addedLatencyMS, forKey: .addedLatencyMS)
        try container.encode(latencyMS, forKey: .latencyMS)
        try container.encode(cleanLatencyMS, forKey: .cleanLatencyMS)
        try container.encode(costIncrease, forKey: .costIncrease)
        try container.encode(costPerSuccess, forKey: .costPerSuccess)
        try container.encode(cleanCostPerSuccess, forKey: .cleanCostPerSuccess)
        try container.encode(recoveryS, forKey: .recoveryS)
        try container.encode(windows, forKey: .windows)
    }
}

extension Resilience.LatencyDelta {
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(p50, forKey: .p50)
        try container.encode(p95, forKey: .p95)
    }
}

/// Folds a drill into resilience figures: the faulted run's records, the clean run's records and the proxies'
/// logs. Pure; each input is seen once.
///
/// ```swift
/// var fold = ResilienceFold(epoch: drillStart, windows: plan.windows)
/// try await store.forEachOutcome(runID: faulted) { fold.addFaulted($0) }
/// try await store.forEachOutcome(runID: clean) { fold.addClean($0) }
/// for entry in proxyLog { fold.addLog(entry) }
/// let figures = fold.resilience(for: "smol", planned: 60)
/// ```
public struct ResilienceFold: Sendable {
    struct Side: Sendable {
        var trials = 0
        var succeeded = 0
        var cost = 0.0
        var latencies: [Double] = []
    }

    /// Wall-clock seconds (since 1970) when the faults started: the scenario's time zero.
    public let epoch: Double
    public let windows: [FaultWindow]
    var faulted: [String: Side] = [:]
    var clean: [String: Side] = [:]
    var servedByFallback: [String: Int] = [:]
    var retries: [String: Int] = [:]
    var attemptClasses: [String: [String: Int]] = [:]
    var categories: [String: [String: Int]] = [:]
    var kinds: [String: [String: Int]] = [:]
    var requests: [String: Int] = [:]
    /// Completion times (seconds after the epoch) of successful faulted trials, per candidate.
    var successTimes: [String: [Double]] = [:]

    public init(epoch: Double, windows: [FaultWindow] = []) {
        self.epoch = epoch
        self.windows = windows
    }

    public mutating func addFaulted(_ record: OutcomeRecord) {
        let outcome = record.outcome
        let id = outcome.key.candidate
        Self.add(outcome, to: &faulted[id, default: Side()])
        if outcome.servedBy != nil && outcome.servedBy != id { servedByFallback[id, default: 0] += 1 }
        var seen: Set<String> = []
        for attempt in outcome.attempts where attempt.role == .task {
            let target = attempt.candidate ?? id
            if !seen.insert(target).inserted { retries[id, default: 0] += 1 }
            attemptClasses[target, default: [:]][attempt.attemptClass.rawValue, default: 0] += 1
        }
        if outcome.passed, let started = outcome.startedAt, let elapsed = outcome.elapsed {
            successTimes[id, default: []].append(started + elapsed - epoch)
        }
    }

    public mutating func addClean(_ record: OutcomeRecord) {
        Self.add(record.outcome, to: &clean[record.outcome.key.candidate, default: Side()])
    }

    /// One proxy log line; `candidate` names the proxy's candidate when the entry does not.
    public mutating func addLog(_ entry: ChaosLogEntry, candidate: String? = nil) {
        guard let id = entry.candidate ?? candidate else { return }
        requests[id, default: 0] += 1
        if let kind = entry.kind { categories[id, default: [:]][kind, default: 0] += 1 }
        if let fault = entry.fault { kinds[id, default: [:]][fault, default: 0] += 1 }
    }

    static func add(_ outcome: Outcome, to side: inout Side) {
        side.trials += 1
        side.cost += outcome.costUSD
        if outcome.passed {
            side.succeeded += 1
            if let elapsed = outcome.elapsed { side.latencies.append(elapsed * 1000) }
        }
    }

    /// The figures for one candidate; `planned` is how many trials the faulted run planned for it.
    public func resilience(for id: String, planned: Int) -> Resilience {
        let under = faulted[id] ?? Side()
        let base = clean[id]
        let latency = Percentiles(milliseconds: under.latencies)
        let cleanLatency = Percentiles(milliseconds: base?.latencies ?? [])
        func delta(_ a: Double?, _ b: Double?) -> Double? {
            guard let a, let b else { return nil }
            return a - b
        }
        let costPerSuccess = under.succeeded > 0 ? under.cost / Double(under.succeeded) : nil
        let cleanCostPerSuccess = base.flatMap { $0.succeeded > 0 ? $0.cost / Double($0.succeeded) : nil }
        var costIncrease: Double?
        if let costPerSuccess, let cleanCostPerSuccess {
            if cleanCostPerSuccess > 0 {
                costIncrease = costPerSuccess / cleanCostPerSuccess - 1
            } else if costPerSuccess == 0 {
                costIncrease = 0
            }
        }
        let times = (successTimes[id] ?? []).sorted()
        let recoveries = windows.map { window -> Resilience.WindowRecovery in
            let first = times.first { $0 >= window.end }
            return Resilience.WindowRecovery(
                at: window.at,
                duration: window.duration,
                fault: window.rule.text,
                recoveryS: first.map { $0 - window.end }
            )
        }
        var faults = Dictionary(uniqueKeysWithValues: FaultKind.categories.map { ($0, 0) })
        for (kind, count) in categories[id] ?? [:] { faults[kind, default: 0] += count }
        return Resilience(
            faults: faults,
            faultsByKind: kinds[id] ?? [:],
            requests: requests[id] ?? 0,
            attemptClasses: attemptClasses[id] ?? [:],
            trials: under.trials,
            succeeded: under.succeeded,
            successRate: under.trials > 0 ? Double(under.succeeded) / Double(under.trials) : nil,
            cleanSuccessRate: base.flatMap { $0.trials > 0 ? Double($0.succeeded) / Double($0.trials) : nil },
            lost: max(0, planned - under.trials),
            servedByFallback: servedByFallback[id] ?? 0,
            retries: retries[id] ?? 0,
            addedLatencyMS: Resilience.LatencyDelta(
                p50: delta(latency.p50, cleanLatency.p50),
                p95: delta(latency.p95, cleanLatency.p95)
            ),
            latencyMS: latency,
            cleanLatencyMS: cleanLatency,
            costIncrease: costIncrease,
            costPerSuccess: costPerSuccess,
            cleanCostPerSuccess: cleanCostPerSuccess,
            recoveryS: recoveries.contains { $0.recoveryS == nil } ? nil : recoveries.compactMap(\.recoveryS).max(),
            windows: recoveries
        )
    }
}
