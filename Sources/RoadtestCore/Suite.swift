import Foundation

/// A metric a suite sets a bar on; `isMinimum` bars are met at or above the target, others at or below.
public enum BarMetric: String, Sendable, Hashable, Codable, CaseIterable {
    case passRate = "pass_rate"
    case p50Latency = "p50_latency"
    case p90Latency = "p90_latency"
    case p95Latency = "p95_latency"
    case p99Latency = "p99_latency"
    case p50TTFT = "p50_ttft"
    case p95TTFT = "p95_ttft"
    case p99TTFT = "p99_ttft"
    case costPerSuccess = "cost_per_success"
    case totalCost = "total_cost"
    case errorRate = "error_rate"
    /// Share of attacks that succeeded (security drills); a maximum.
    case attackSuccessRate = "attack_success_rate"

    public var isMinimum: Bool { self == .passRate }
    /// Latency bars are written as durations and compared in seconds.
    public var isDuration: Bool {
        switch self {
        case .p50Latency, .p90Latency, .p95Latency, .p99Latency, .p50TTFT, .p95TTFT, .p99TTFT: return true
        default: return false
        }
    }
}

/// One bar: a metric and its target.
public struct Bar: Sendable, Hashable, Codable {
    public var metric: BarMetric
    public var target: Double

    public init(metric: BarMetric, target: Double) {
        self.metric = metric
        self.target = target
    }
}

/// A parsed suite: candidates, default settings, cases and bars.
public struct Suite: Sendable, Hashable, Codable {
    public var name: String
    public var description: String?
    /// Path of the suite file as given.
    public var path: String
    public var candidates: [Candidate]
    public var defaults: Settings
    public var cases: CaseList
    public var bars: [Bar]
    public var samples: Int
    /// Perturbed variants of every case's user input.
    public var robustness: RobustnessConfig?
    /// Alternative system prompts; every case also runs under each.
    public var prompts: [String]
    /// The security drill: attack cases derived from the suite's own (already among `cases`, marked `attack`).
    public var attacks: AttackConfig?

    public init(
        name: String,
        description: String? = nil,
        path: String,
        candidates: [Candidate],
        defaults: Settings = Settings(),
        cases: CaseList,
        bars: [Bar] = [],
        samples: Int = 1,
        robustness: RobustnessConfig? = nil,
        prompts: [String] = []
    ) {
        self.name = name
        self.description = description
        self.path = path
        self.candidates = candidates
        self.defaults = defaults
        self.cases = cases
        self.bars = bars
        self.samples = samples
        self.robustness = robustness
        self.prompts = prompts
    }

    /// The folder of the suite file: `command` candidates and checks run there.
    public var directory: String { URL(fileURLWithPath: path).deletingLastPathComponent().standardizedFileURL.path }

    /// Candidates that are scored (every one not marked as a judge).
    public var scoredCandidates: [Candidate] { candidates.filter(\.isScored) }

    /// A candidate and every candidate its fallback chain reaches, in chain order, each once.
    public func fallbackChain(of candidate: Candidate) -> [Candidate] {
        var chain = [candidate]
        var seen: Set<String> = [candidate.id]
        for id in candidate.fallback where !seen.contains(id) {
            guard let next = candidates.first(where: { $0.id == id }) else { continue }
            chain.append(next)
            seen.insert(id)
        }
        return chain
    }

    /// The judge candidates.
    public var judges: [Candidate] { candidates.filter(\.isJudge) }

    /// Effective settings for a case on a candidate: defaults, then candidate, then case.
    public func settings(for candidate: Candidate, case testCase: Case) -> Settings {
        defaults.overlaid(with: candidate.settings).overlaid(with: testCase.settings)
    }

    /// Number of samples for a case (one for an attack).
    public func samples(for testCase: Case) -> Int {
        testCase.attack != nil ? 1 : max(1, testCase.samples ?? samples)
    }

    /// The variants a case runs under: attacks only as written.
    public func variants(for testCase: Case) -> [Variant] {
        testCase.attack != nil ? [.original] : variants
    }

    /// Adds the attack cases of `config` (replacing any derived before).
    public mutating func addAttacks(_ config: AttackConfig) -> [AttackPack: String] {
        cases.removeAttacks()
        let derived = AttackGenerator.cases(from: cases, config: config) { [defaults] in
            defaults.overlaid(with: $0.settings).tools ?? []
        }
        cases += derived.cases
        attacks = config
        return derived.skipped
    }
}
