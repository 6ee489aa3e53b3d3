import Foundation
import RoadtestCore

/// One load level's measurements. Field names are the JSON contract (schema_version 1).
public struct LevelResult: Sendable, Hashable, Codable {
    /// `concurrency` (closed loop) or `rate` (open loop).
    public var mode: String
    /// Concurrent streams, or requests per second.
    public var target: Double
    /// `constant` or `poisson` for open-loop levels.
    public var arrival: String?
    /// Measured requests sent (warm-up excluded).
    public var requests: Int
    /// Measured requests that finished successfully within the level.
    public var completed: Int
    /// Measured requests that finished with an error within the level.
    public var errored: Int
    /// Measured requests still in flight when the level ended (not counted as completed or errored).
    public var inFlightAtEnd: Int
    /// Requests sent during warm-up, excluded from every statistic.
    public var warmupExcluded: Int
    /// Length of the measured window in seconds.
    public var durationSeconds: Double
    /// Successful completions inside the measured window (whenever sent) / duration_s.
    public var achievedRPS: Double
    /// Output tokens of those completions / duration_s.
    public var outputTokensPerSecond: Double
    public var ttft: Percentiles
    public var tpot: Percentiles
    /// Inter-chunk latency: gaps between consecutive content events, over all chunks.
    public var interChunk: Percentiles
    public var e2e: Percentiles
    /// Open loop: TTFT measured from the intended send time.
    public var correctedTTFT: Percentiles?
    /// Open loop: E2E measured from the intended send time.
    public var correctedE2E: Percentiles?
    /// Open loop: actual send − intended send.
    public var scheduleLag: Percentiles?
    public var errors: [String: Int]
    /// HTTP 429 responses.
    public var throttled: Int
    /// 429s per second of the level (index 0 = first second of the measured window).
    public var throttledPerSecond: [Int]
    /// Largest Retry-After seen, in seconds.
    public var maxRetryAfter: Double?
    /// Requests meeting every SLO per second: achieved_rps × the share of measured completions meeting every SLO.
    public var goodputRPS: Double
    /// good / (completed + errored).
    public var attainment: Double?
    /// Why the level stopped before its duration, if it did.
    public var stoppedEarly: String?

    public init(
        mode: String,
        target: Double,
        arrival: String? = nil,
        requests: Int,
        completed: Int,
        errored: Int,
        inFlightAtEnd: Int,
        warmupExcluded: Int,
        durationSeconds: Double,
        achievedRPS: Double,
        outputTokensPerSecond: Double,
        ttft: Percentiles,
        tpot: Percentiles,
        interChunk: Percentiles,
        e2e: Percentiles,
        correctedTTFT: Percentiles? = nil,
        correctedE2E: Percentiles? = nil,
        scheduleLag: Percentiles? = nil,
        errors: [String: Int],
        throttled: Int,
        throttledPerSecond: [Int],
        maxRetryAfter: Double? = nil,
        goodputRPS: Double,
        attainment: Double? = nil,
        stoppedEarly: String? = nil
    ) {
        self.mode = mode
        self.target = target
        self.arrival = arrival
        self.requests = requests
        self.completed = completed
        self.errored = errored
        self.inFlightAtEnd = inFlightAtEnd
        self.warmupExcluded = warmupExcluded
        self.durationSeconds = durationSeconds
        self.achievedRPS = achievedRPS
        self.outputTokensPerSecond = outputTokensPerSecond
        self.ttft = ttft
        self.tpot = tpot
        self.interChunk = interChunk
        self.e2e = e2e
        self.correctedTTFT = correctedTTFT
        self.correctedE2E = correctedE2E
        self.scheduleLag = scheduleLag
        self.errors = errors
        self.throttled = throttled
        self.throttledPerSecond = throttledPerSecond
        self.maxRetryAfter = maxRetryAfter
        self.goodputRPS = goodputRPS
        self.attainment = attainment
        self.stoppedEarly = stoppedEarly
    }

    enum CodingKeys: String, CodingKey {
        case mode, target, arrival, requests, completed, errored
        case inFlightAtEnd = "in_flight_at_end"
        case warmupExcluded = "warmup_excluded"
        case durationSeconds = "duration_s"
        case achievedRPS = "achieved_rps"
        case outputTokensPerSecond = "output_tokens_per_s"
        case ttft = "ttft_ms"
        case tpot = "tpot_ms"
        case interChunk = "itl_ms"
        case e2e = "e2e_ms"
        case correctedTTFT = "corrected_ttft_ms"
        case correctedE2E = "corrected_e2e_ms"
        case scheduleLag = "schedule_lag_ms"
        case errors, throttled
        case throttledPerSecond = "throttled_per_s"
        case maxRetryAfter = "max_retry_after_s"
        case goodputRPS = "goodput_rps"
        case attainment
        case stoppedEarly = "stopped_early"
    }
}

/// Where a candidate saturates.
public struct Saturation: Sendable, Hashable, Codable {
    /// Highest offered rate that was served: achieved ≥ 95% of offered, corrected p95 E2E within 3× the
    /// one-at-a-time p95 (or within the E2E SLO), and errors under 5%.
    public var rateRPS: Double?
    /// Closed-loop throughput at the highest concurrency tried.
    public var maxThroughputRPS: Double?
    /// One-at-a-time E2E p50 / p95 (ms), the baseline.
    public var baselineE2EP50: Double?
    public var baselineE2EP95: Double?
    /// The first offered rate that was not served, and why.
    public var firstUnservedRPS: Double?
    public var reason: String?

    enum CodingKeys: String, CodingKey {
        case rateRPS = "rate_rps"
        case maxThroughputRPS = "max_throughput_rps"
        case baselineE2EP50 = "baseline_e2e_p50_ms"
        case baselineE2EP95 = "baseline_e2e_p95_ms"
        case firstUnservedRPS = "first_unserved_rps"
        case reason
    }

    public init() {}
}

public struct CandidateLoad: Sendable, Hashable, Codable {
    public var id: String
    public var levels: [LevelResult]
    public var saturation: Saturation?
    /// The highest offered rate holding each latency bound, from the open-loop levels (absent without any).
    public var frontier: [ThroughputBound]?

    public init(id: String, levels: [LevelResult], saturation: Saturation?, slo: SLO? = nil) {
        self.id = id
        self.levels = levels
        self.saturation = saturation
        let frontier = ThroughputBound.frontier(levels: levels, slo: slo)
        self.frontier = frontier.isEmpty ? nil : frontier
    }
}

/// One point of the throughput frontier: the highest offered rate (open loop) at which the p99 TTFT and the p99 E2E,
/// both measured from the intended send time, stayed under a bound, with under 5% errors and at least 95% of the
/// offered rate achieved. Rates are walked upward and the first that fails ends the walk, so the true limit lies
/// between `rate_rps` and `first_over_rps` (the uncertainty the levels tried leave). `confident_rate_rps` is the
/// highest of those rates whose p99s' 95% upper bounds were under the bound too (it needs at least 368 requests).
public struct ThroughputBound: Sendable, Hashable, Codable {
    /// The bound: `1 ms` … `100 ms`, or `slo` (the suite's or --slo's TTFT and E2E limits).
    public var bound: String
    public var ttftLimitMS: Double?
    public var e2eLimitMS: Double?
    /// Nil when not even the lowest rate tried held it.
    public var rateRPS: Double?
    public var confidentRateRPS: Double?
    /// The lowest rate tried above `rate_rps` that did not hold; nil when every rate tried held.
    public var firstOverRPS: Double?

    enum CodingKeys: String, CodingKey {
        case bound
        case ttftLimitMS = "ttft_p99_limit_ms"
        case e2eLimitMS = "e2e_p99_limit_ms"
        case rateRPS = "rate_rps"
        case confidentRateRPS = "confident_rate_rps"
        case firstOverRPS = "first_over_rps"
    }

    /// Every field is written, `null` where there is no value.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(bound, forKey: .bound)
        try container.encode(ttftLimitMS, forKey: .ttftLimitMS)
        try container.encode(e2eLimitMS, forKey: .e2eLimitMS)
        try container.encode(rateRPS, forKey: .rateRPS)
        try container.encode(confidentRateRPS, forKey: .confidentRateRPS)
        try container.encode(firstOverRPS, forKey: .firstOverRPS)
    }

    public static let boundsMS: [Double] = [1, 5, 10, 50, 100]

    /// The frontier of a candidate's open-loop levels: one point per bound in `boundsMS`, and one for the SLO.
    public static func frontier(levels: [LevelResult], slo: SLO?) -> [ThroughputBound] {
        let open = levels.filter { $0.mode == "rate" }.sorted { $0.target < $1.target }
        guard !open.isEmpty else { return [] }
        var limits: [(String, Double?, Double?)] = boundsMS.map { (String(format: "%.0f ms", $0), $0, $0) }
        if let slo, slo.ttft != nil || slo.e2e != nil {
            limits.append(("slo", slo.ttft.map { $0 * 1000 }, slo.e2e.map { $0 * 1000 }))
        }
        return limits.map { name, ttftLimit, e2eLimit in
            var point = ThroughputBound(bound: name, ttftLimitMS: ttftLimit, e2eLimitMS: e2eLimit)
            var confident = true
            for level in open {
                guard level.holds(ttftLimit: ttftLimit, e2eLimit: e2eLimit, confidently: false) else {
                    point.firstOverRPS = level.target
                    break
                }
                point.rateRPS = level.target
                confident = confident && level.holds(ttftLimit: ttftLimit, e2eLimit: e2eLimit, confidently: true)
                if confident { point.confidentRateRPS = level.target }
            }
            return point
        }
    }

    init(bound: String, ttftLimitMS: Double?, e2eLimitMS: Double?) {
        self.bound = bound
        self.ttftLimitMS = ttftLimitMS
        self.e2eLimitMS = e2eLimitMS
    }
}

extension LevelResult {
    /// Served at its offered rate with under 5% errors, and its p99 TTFT and E2E (from the intended send time) under
    /// the limits; `confidently`: their 95% upper bounds too.
    func holds(ttftLimit: Double?, e2eLimit: Double?, confidently: Bool) -> Bool {
        let finished = completed + errored
        guard stoppedEarly == nil, finished > 0, Double(errored) < 0.05 * Double(finished),
            achievedRPS >= 0.95 * target
        else { return false }
        func under(_ percentiles: Percentiles?, _ limit: Double?) -> Bool {
            guard let limit else { return true }
            guard let percentiles else { return false }
            let value = confidently ? percentiles.ci95?.p99?[1] : percentiles.p99
            return value.map { $0 <= limit } ?? false
        }
        return under(correctedTTFT ?? ttft, ttftLimit) && under(correctedE2E ?? e2e, e2eLimit)
    }
}

/// The generator measured against itself before the levels (`GeneratorCalibration`): how fast it can send on this
/// machine, and the latency it adds to every measurement. A level near the ceiling measured the generator as much as
/// the server.
public struct GeneratorReport: Sendable, Hashable, Codable {
    /// Requests per second against an in-process zero-latency endpoint at `ceiling_concurrency` streams.
    public var ceilingRPS: Double
    public var ceilingConcurrency: Int
    /// End-to-end latency against that endpoint at one stream: the generator's own time (and loopback's).
    public var addedLatency: Latency

    public struct Latency: Sendable, Hashable, Codable {
        public var p50: Double?
        public var p99: Double?

        public init(p50: Double?, p99: Double?) {
            self.p50 = p50
            self.p99 = p99
        }
    }

    enum CodingKeys: String, CodingKey {
        case ceilingRPS = "ceiling_rps"
        case ceilingConcurrency = "ceiling_concurrency"
        case addedLatency = "added_latency_ms"
    }

    public init(ceilingRPS: Double, ceilingConcurrency: Int, addedLatency: Latency) {
        self.ceilingRPS = ceilingRPS
        self.ceilingConcurrency = ceilingConcurrency
        self.addedLatency = addedLatency
    }

    /// Warnings for a level measured near the generator's own limits: an achieved rate within 2x of the ceiling, or
    /// an open-loop schedule that slipped by more than 1 ms at p99.
    public func warnings(candidate: String, level: LevelResult) -> [String] {
        var warnings: [String] = []
        let name =
            level.mode == "rate"
            ? String(format: "%.2f req/s", level.target) : "\(Int(level.target)) streams"
        if ceilingRPS > 0, level.achievedRPS * 2 >= ceilingRPS {
            warnings.append(
                String(
                    format: "'%@' at %@: %.0f req/s is within 2x of the generator's own ceiling (%.0f req/s): the "
                        + "results may measure the generator as much as the server",
                    candidate,
                    name,
                    level.achievedRPS,
                    ceilingRPS
                )
            )
        }
        return warnings
    }
}

/// A whole `roadtest load` run.
public struct LoadReport: Sendable, Hashable, Codable {
    public var schemaVersion = 1
    public var id: String
    public var suite: String
    public var startedAt: String
    public var slo: SLO?
    public var candidates: [CandidateLoad]
    /// Warnings about the measurement itself (generator falling behind its schedule).
    public var warnings: [String]
    /// The generator's own ceiling and added latency, measured before the levels (absent with `--no-calibration`).
    public var generator: GeneratorReport?

    enum CodingKeys: String, CodingKey {
        case schemaVersion = "schema_version"
        case id = "load_id"
        case suite
        case startedAt = "started_at"
        case slo, candidates, warnings, generator
    }

    public init(
        id: String,
        suite: String,
        startedAt: String,
        slo: SLO?,
        candidates: [CandidateLoad],
        warnings: [String],
        generator: GeneratorReport? = nil
    ) {
        self.generator = generator
        self.id = id
        self.suite = suite
        self.startedAt = startedAt
        self.slo = slo
        self.candidates = candidates
        self.warnings = warnings
    }
}

/// Service-level objectives for goodput (seconds).
public struct SLO: Sendable, Hashable, Codable {
    public var ttft: Double?
    public var e2e: Double?
    public var tpot: Double?

    public init(ttft: Double? = nil, e2e: Double? = nil, tpot: Double? = nil) {
        self.ttft = ttft
        self.e2e = e2e
        self.tpot = tpot
    }

    /// Parses `ttft=500ms,e2e=2s,tpot=50ms`.
    public static func parse(_ text: String) -> SLO? {
        var slo = SLO()
        for part in text.split(separator: ",") {
            let pair = part.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard pair.count == 2, let seconds = DurationText.seconds(pair[1]) else { return nil }
            switch pair[0] {
            case "ttft": slo.ttft = seconds
            case "e2e": slo.e2e = seconds
            case "tpot": slo.tpot = seconds
            default: return nil
            }
        }
        return slo
    }

    public func isMet(ttft: Double?, e2e: Double?, tpot: Double?) -> Bool {
        if let limit = self.ttft, (ttft ?? .infinity) > limit { return false }
        if let limit = self.e2e, (e2e ?? .infinity) > limit { return false }
        if let limit = self.tpot, let tpot, tpot > limit { return false }
        return true
    }
}
