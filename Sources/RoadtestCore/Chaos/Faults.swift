import Foundation

/// A fault the chaos proxy can put in front of an endpoint.
public enum FaultKind: String, Sendable, Hashable, Codable, CaseIterable {
    /// Answer 429 with `Retry-After` (the request is not forwarded).
    case http429 = "429"
    /// Answer 500 (not forwarded).
    case http500 = "500"
    /// Answer 503 (not forwarded).
    case http503 = "503"
    /// Hold the request and send nothing (not forwarded) until the client gives up or the hold ends.
    case stall
    /// Forward, then drop the connection after some events (a body cut short when not streamed).
    case cut
    /// Forward with one event (or the body) corrupted.
    case malformed
    /// Forward, then end the stream with the format's error event instead of the rest.
    case errorEvent = "error_event"
    /// Close the connection before any response (a TCP reset).
    case reset
    /// Forward, with time to first byte and between events multiplied by a factor.
    case slow

    /// The counter it falls under in a drill's `resilience.faults` (the JSON contract's names).
    public var category: String {
        switch self {
        case .http429: return "http_429"
        case .http500, .http503: return "http_5xx"
        case .cut: return "stream_cut"
        case .stall: return "timeout"
        case .malformed, .errorEvent: return "malformed"
        case .reset: return "reset"
        case .slow: return "slow"
        }
    }

    /// Every category, in report order.
    public static let categories = ["http_429", "http_5xx", "stream_cut", "timeout", "malformed", "reset", "slow"]

    /// What a client's attempt is classified as when this fault hits it; nil for `slow` (it only delays).
    public var attemptClass: AttemptClass? {
        switch self {
        case .http429: return .http429
        case .http500, .http503: return .http5xx
        case .cut: return .streamCut
        case .stall: return .timeout
        case .malformed, .errorEvent: return .malformed
        case .reset: return .connection
        case .slow: return nil
        }
    }

    /// Faults answered without forwarding the request upstream.
    public var isAnsweredByProxy: Bool {
        switch self {
        case .http429, .http500, .http503, .stall, .reset: return true
        case .cut, .malformed, .errorEvent, .slow: return false
        }
    }
}

/// One fault with how often it strikes and its parameters.
public struct FaultRule: Sendable, Hashable, Codable {
    public var kind: FaultKind
    /// Share of requests it strikes, 0...1.
    public var rate: Double
    /// `slow`: the factor on time to first byte and between events (default 5).
    public var factor: Double?
    /// `429`: Retry-After seconds (default 1); `stall`: longest hold in seconds (default 120); `cut`: events
    /// forwarded before the cut (default 2).
    public var parameter: Double?

    public init(kind: FaultKind, rate: Double, factor: Double? = nil, parameter: Double? = nil) {
        self.kind = kind
        self.rate = rate
        self.factor = factor
        self.parameter = parameter
    }

    public var retryAfter: Double { kind == .http429 ? parameter ?? 1 : 0 }
    public var stallHold: Double { kind == .stall ? parameter ?? 120 : 0 }
    public var cutAfterEvents: Int { kind == .cut ? Int(parameter ?? 2) : 0 }
    public var slowFactor: Double { kind == .slow ? factor ?? 5 : 1 }

    /// The rule as written in a spec (`slow:10%x5`, `429:20%@2s`).
    public var text: String {
        var text = "\(kind.rawValue):\(FaultSpec.percent(rate))"
        if let factor { text += "x\(FaultSpec.number(factor))" }
        if let parameter {
            text += "@" + (kind == .cut ? String(Int(parameter)) : DurationText.format(seconds: parameter))
        }
        return text
    }
}

/// A fault specification: `429:20%,500:5%,cut:5%,slow:10%x5`. Each rule strikes its share of requests; rules
/// are exclusive (one fault per request at most), so their rates add up to at most 100%.
///
/// Parameters: `slow:10%x5` (five times slower), `429:20%@2s` (Retry-After 2 s), `stall:5%@30s` (hold at most
/// 30 s), `cut:5%@3` (cut after 3 events).
public struct FaultSpec: Sendable, Hashable, Codable {
    public var rules: [FaultRule]

    public init(rules: [FaultRule] = []) {
        self.rules = rules
    }

    public static let none = FaultSpec()

    public var text: String { rules.map(\.text).joined(separator: ",") }

    /// Parses a spec; the error names the part that is wrong and what would be right.
    public static func parse(_ text: String) throws -> FaultSpec {
        var rules: [FaultRule] = []
        for part in text.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !part.isEmpty {
            rules.append(try rule(part))
        }
        let total = rules.map(\.rate).reduce(0, +)
        guard total <= 1.000_000_1 else {
            throw RoadtestError(
                .invalidArgument,
                "faults '\(text)': the rates add up to \(percent(total)), more than 100%",
                hint: "each request gets at most one fault; lower the rates"
            )
        }
        return FaultSpec(rules: rules)
    }

    /// One `kind:rate[xFACTOR][@PARAMETER]` rule.
    public static func rule(_ part: String) throws -> FaultRule {
        let kinds = FaultKind.allCases.map(\.rawValue).joined(separator: ", ")
        let pieces = part.split(separator: ":", maxSplits: 1).map(String.init)
        guard pieces.count == 2, let kind = FaultKind(rawValue: pieces[0].lowercased()) else {
            throw RoadtestError(
                .invalidArgument,
                "fault '\(part)': unknown fault '\(pieces.first ?? part)'",
                hint: "write KIND:RATE such as 429:20%; kinds: \(kinds)"
            )
        }
        var rest = pieces[1]
        var parameter: Double?
        if let at = rest.firstIndex(of: "@") {
            let raw = String(rest[rest.index(after: at)...])
            rest = String(rest[..<at])
            if kind == .cut {
                guard let events = Int(raw), events >= 0 else {
                    throw RoadtestError(
                        .invalidArgument,
                        "fault '\(part)': '@\(raw)' must be a number of events",
                        hint: "for example cut:5%@3 cuts after 3 events"
                    )
                }
                parameter = Double(events)
            } else if kind == .http429 || kind == .stall {
                guard let seconds = DurationText.seconds(raw) ?? Double(raw), seconds >= 0 else {
                    throw RoadtestError(
                        .invalidArgument,
                        "fault '\(part)': '@\(raw)' must be a duration",
                        hint: "for example 429:20%@2s (Retry-After 2 s) or stall:5%@30s"
                    )
                }
                parameter = seconds
            } else {
                throw RoadtestError(
                    .invalidArgument,
                    "fault '\(part)': '\(kind.rawValue)' takes no '@' parameter",
                    hint: "'@' sets 429's Retry-After, stall's hold or the events before a cut"
                )
            }
        }
        var factor: Double?
        if let x = rest.firstIndex(where: { $0 == "x" || $0 == "X" }) {
            let raw = String(rest[rest.index(after: x)...])
            rest = String(rest[..<x])
            guard kind == .slow, let value = Double(raw), value >= 1 else {
                throw RoadtestError(
                    .invalidArgument,
                    "fault '\(part)': 'x\(raw)' must follow 'slow' and be a factor of 1 or more",
                    hint: "for example slow:10%x5"
                )
            }
            factor = value
        }
        guard let rate = rate(rest) else {
            throw RoadtestError(
                .invalidArgument,
                "fault '\(part)': rate '\(rest)' must be a share of requests",
                hint: "write it as a percentage (20%) or a fraction (0.2) from 0 to 100%"
            )
        }
        return FaultRule(kind: kind, rate: rate, factor: factor, parameter: parameter)
    }

    /// `20%` or `0.2` as a share in 0...1.
    public static func rate(_ text: String) -> Double? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let value: Double?
        if trimmed.hasSuffix("%") {
            value = Double(trimmed.dropLast()).map { $0 / 100 }
        } else {
            value = Double(trimmed)
        }
        guard let value, value >= 0, value <= 1 else { return nil }
        return value
    }

    static func percent(_ share: Double) -> String { number(share * 100) + "%" }

    static func number(_ value: Double) -> String {
        value.rounded() == value ? String(Int(value)) : String(format: "%g", value)
    }
}

/// A window of a fault scenario's timeline: from `at` seconds after the start, for `duration` seconds, `rule`
/// strikes its share of requests (before the base spec is consulted).
public struct FaultWindow: Sendable, Hashable, Codable {
    public var at: Double
    public var duration: Double
    public var rule: FaultRule

    public init(at: Double, duration: Double, rule: FaultRule) {
        self.at = at
        self.duration = duration
        self.rule = rule
    }

    public var end: Double { at + duration }

    public func contains(_ time: Double) -> Bool { time >= at && time < end }
}

/// Decides, deterministically for a seed, which fault (if any) strikes a request. A request is identified by its
/// body and how many identical bodies came before it, so a drill's faults do not depend on arrival order under
/// concurrency, and a retry of the same request gets a fresh draw.
public struct FaultPlan: Sendable, Hashable, Codable {
    public var spec: FaultSpec
    public var windows: [FaultWindow]
    public var seed: UInt64

    public init(spec: FaultSpec = .none, windows: [FaultWindow] = [], seed: UInt64 = 0) {
        self.spec = spec
        self.windows = windows
        self.seed = seed
    }

    /// The fault for a request whose body hashes to `bodyHash`, the `occurrence`-th (0-based) with that body,
    /// arriving `elapsed` seconds after the start; with the index of the window that chose it.
    public func decide(bodyHash: UInt64, occurrence: Int, elapsed: Double) -> (rule: FaultRule, window: Int?)? {
        let base = Self.mix(seed ^ Self.mix(bodyHash &+ UInt64(truncatingIfNeeded: occurrence) &* 0x9E37_79B9))
        for (index, window) in windows.enumerated() where window.contains(elapsed) {
            if Self.uniform(Self.mix(base &+ UInt64(index + 1))) < window.rule.rate { return (window.rule, index) }
        }
        let draw = Self.uniform(base)
        var cumulative = 0.0
        for rule in spec.rules {
            cumulative += rule.rate
            if draw < cumulative { return (rule, nil) }
        }
        return nil
    }

    /// FNV-1a over bytes.
    public static func hash<Bytes: Sequence>(_ bytes: Bytes) -> UInt64 where Bytes.Element == UInt8 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01b3
        }
        return hash
    }

    /// SplitMix64's finaliser: spreads every input bit over the output.
    static func mix(_ value: UInt64) -> UInt64 {
        var z = value &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A uniform draw in [0, 1) from 53 bits.
    static func uniform(_ value: UInt64) -> Double { Double(value >> 11) / Double(1 << 53) }
}

/// One proxied request as the chaos proxy logs it (one JSON line each).
public struct ChaosLogEntry: Sendable, Hashable, Codable {
    /// Wall-clock time the request arrived (ISO 8601).
    public var time: String
    /// Seconds since the proxy's start (the scenario clock).
    public var t: Double
    /// Sequence number of the request at this proxy.
    public var id: Int
    public var method: String
    public var path: String
    /// The fault as written (`429`, `cut`, ...), nil when none was injected.
    public var fault: String?
    /// The fault's resilience category (`http_429`, `stream_cut`, ...), nil when none.
    public var kind: String?
    /// The scenario window that injected it, when one did.
    public var window: Int?
    /// The upstream's status, nil when the request was not forwarded or the upstream could not be reached.
    public var upstreamStatus: Int?
    /// The status the client got, nil when the connection was closed without one.
    public var status: Int?
    /// Stream events (or body chunks) passed to the client.
    public var events: Int
    /// Milliseconds from arrival to the end of the response (or of the connection).
    public var durationMS: Double
    /// The candidate the proxy stands in front of (drills), nil for `roadtest chaos`.
    public var candidate: String?

    enum CodingKeys: String, CodingKey {
        case time, t, id, method, path, fault, kind, window, events, candidate
        case upstreamStatus = "upstream_status"
        case status
        case durationMS = "duration_ms"
    }

    /// Absent values are written as `null`, so every line has every key.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(time, forKey: .time)
        try container.encode(t, forKey: .t)
        try container.encode(id, forKey: .id)
        try container.encode(method, forKey: .method)
        try container.encode(path, forKey: .path)
        try container.encode(fault, forKey: .fault)
        try container.encode(kind, forKey: .kind)
        try container.encode(window, forKey: .window)
        try container.encode(upstreamStatus, forKey: .upstreamStatus)
        try container.encode(status, forKey: .status)
        try container.encode(events, forKey: .events)
        try container.encode(durationMS, forKey: .durationMS)
        try container.encodeIfPresent(candidate, forKey: .candidate)
    }

    public init(
        time: String,
        t: Double,
        id: Int,
        method: String,
        path: String,
        fault: String? = nil,
        kind: String? = nil,
        window: Int? = nil,
        upstreamStatus: Int? = nil,
        status: Int? = nil,
        events: Int = 0,
        durationMS: Double = 0,
        candidate: String? = nil
    ) {
        self.time = time
        self.t = t
        self.id = id
        self.method = method
        self.path = path
        self.fault = fault
        self.kind = kind
        self.window = window
        self.upstreamStatus = upstreamStatus
        self.status = status
        self.events = events
        self.durationMS = durationMS
        self.candidate = candidate
    }
}
