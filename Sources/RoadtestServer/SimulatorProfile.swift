import Foundation
import RoadtestCore
import Yams

/// A fault the simulator injects into one request.
public enum SimulatedFault: String, Sendable, Hashable, CaseIterable {
    case ok
    /// 429 with `Retry-After`.
    case http429 = "429"
    case http500 = "500"
    case http503 = "503"
    case http400 = "400"
    /// Accepts the request and never answers (until `hold` passes).
    case timeout
    /// Streams a few chunks, then ends the response without its end marker.
    case cut
    /// Streams a few chunks, then drops the connection mid-body.
    case cutAbrupt = "cut_abrupt"
    /// 200 with a body that is not JSON (or a stream chunk that is not).
    case malformed
    /// A stream carrying `event: error`.
    case errorEvent = "error_event"
}

/// How one simulated model behaves: its answers, latency, capacity and faults.
public struct ModelBehavior: Sendable, Hashable {
    /// Seconds from receiving the request to the first content chunk.
    public var timeToFirstToken: Double = 0
    /// Seconds between content chunks.
    public var interTokenLatency: Double = 0
    /// A fixed answer; when nil and no rule matches, the model echoes the last user message.
    public var reply: String?
    /// Answers chosen by a case-sensitive substring of the last user message (first match wins): a prompt
    /// changed in any way (case, typos) no longer matches, which scripts a model that breaks on perturbed input.
    public var rules: [(match: String, reply: String)] = []
    /// Answers chosen by a substring of the system prompt (first match wins), checked before `rules`.
    public var systemRules: [(match: String, reply: String)] = []
    /// Report usage (token counts) in responses.
    public var reportsUsage = true
    /// Requests served at once; the rest queue (nil = unlimited).
    public var capacity: Int?
    /// Faults by request order: the n-th request to this model gets `faults[n]`, then ok (or cycles).
    public var faults: [SimulatedFault] = []
    public var cyclesFaults = false
    /// Seconds sent in `Retry-After` with 429s.
    public var retryAfter: Double = 1
    /// Content chunks sent before a cut.
    public var chunksBeforeCut = 2
    /// How long a `timeout` fault holds the request, in seconds.
    public var hold: Double = 30
    /// Freezes: between `at` and `at + duration` seconds after the simulator started, no request is answered.
    public var freezes: [(at: Double, duration: Double)] = []
    /// Answer with a call to this tool instead of text (its arguments streamed in fragments).
    public var toolCall: String?
    /// The tool call's arguments (JSON text).
    public var toolArguments = "{}"
    /// Why the answer says it stopped (`finish=length` or `finish=content_filter`); default `stop` (or
    /// `tool_calls`).
    public var finish: FinishReason?
    /// Reasoning deltas sent before the answer, from the start of service, `interTokenLatency` apart.
    public var reasoningDeltas = 0
    /// Prompt tokens reported as read from / written to the cache.
    public var cacheRead = 0
    public var cacheWrite = 0
    /// A noisy model: of every `rightOf.of` requests with the same model and last user message, the first
    /// `rightOf.right` get the real answer and the rest `wrongReply` (`right=3/5`: right with probability 3/5).
    public var rightOf: (right: Int, of: Int)?
    /// The wrong answer; `distinct` makes every wrong answer different.
    public var wrongReply = "I am not sure."
    /// A scripted tool-using agent (`agent=obedient` or `agent=careful`; the models `obedient-agent` and
    /// `careful-agent` are these).
    public var agent: SimulatorAgent?

    public init() {}

    public static func == (lhs: ModelBehavior, rhs: ModelBehavior) -> Bool {
        lhs.timeToFirstToken == rhs.timeToFirstToken && lhs.interTokenLatency == rhs.interTokenLatency
            && lhs.reply == rhs.reply
            && lhs.rules.map(\.match) == rhs.rules.map(\.match) && lhs.rules.map(\.reply) == rhs.rules.map(\.reply)
            && lhs.systemRules.map(\.match) == rhs.systemRules.map(\.match)
            && lhs.systemRules.map(\.reply) == rhs.systemRules.map(\.reply)
            && lhs.reportsUsage == rhs.reportsUsage
            && lhs.capacity == rhs.capacity && lhs.faults == rhs.faults && lhs.cyclesFaults == rhs.cyclesFaults
            && lhs.retryAfter == rhs.retryAfter && lhs.chunksBeforeCut == rhs.chunksBeforeCut && lhs.hold == rhs.hold
            && lhs.freezes.map(\.at) == rhs.freezes.map(\.at)
            && lhs.freezes.map(\.duration) == rhs.freezes.map(\.duration)
            && lhs.toolCall == rhs.toolCall && lhs.toolArguments == rhs.toolArguments
            && lhs.reasoningDeltas == rhs.reasoningDeltas && lhs.cacheRead == rhs.cacheRead
            && lhs.cacheWrite == rhs.cacheWrite && lhs.rightOf?.right == rhs.rightOf?.right
            && lhs.rightOf?.of == rhs.rightOf?.of && lhs.wrongReply == rhs.wrongReply && lhs.agent == rhs.agent
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(timeToFirstToken)
        hasher.combine(reply)
        hasher.combine(faults)
    }

    /// The answer to a conversation.
    public func answer(system: String?, lastUser: String) -> String {
        if let system, let rule = systemRules.first(where: { system.contains($0.match) }) { return rule.reply }
        if let rule = rules.first(where: { lastUser.contains($0.match) }) { return rule.reply }
        return reply ?? lastUser
    }

    /// Applies `key=value` settings (from a model name like `fast;ttft=50ms;faults=429,ok`).
    public mutating func apply(key: String, value: String) throws {
        func duration() throws -> Double {
            guard let seconds = DurationText.seconds(value) else {
                throw SimulatorProfileError("'\(key)' needs a duration like 50ms, got '\(value)'")
            }
            return seconds
        }
        switch key {
        case "ttft": timeToFirstToken = try duration()
        case "itl", "inter_token": interTokenLatency = try duration()
        case "reply": reply = value
        case "usage": reportsUsage = !["false", "no", "0", "off"].contains(value.lowercased())
        case "capacity":
            guard let slots = Int(value), slots > 0 else {
                throw SimulatorProfileError("'capacity' needs a whole number above 0")
            }
            capacity = slots
        case "faults":
            faults = try value.split(separator: ",").map { name in
                let trimmed = name.trimmingCharacters(in: .whitespaces)
                guard let fault = SimulatedFault(rawValue: trimmed) else {
                    throw SimulatorProfileError(
                        "unknown fault '\(trimmed)'; use "
                            + SimulatedFault.allCases.map(\.rawValue).joined(separator: ", ")
                    )
                }
                return fault
            }
        case "cycle": cyclesFaults = ["true", "yes", "1", "on"].contains(value.lowercased())
        case "retry_after": retryAfter = try duration()
        case "cut_after":
            guard let chunks = Int(value), chunks >= 0 else {
                throw SimulatorProfileError("'cut_after' needs a whole number")
            }
            chunksBeforeCut = chunks
        case "hold": hold = try duration()
        case "finish":
            guard let reason = FinishReason(rawValue: value) else {
                throw SimulatorProfileError("'finish' is stop, length, tool_calls or content_filter, got '\(value)'")
            }
            finish = reason
        case "tag": break  // free text to tell requests apart in /_sim/requests
        case "right":
            let parts = value.split(separator: "/").compactMap { Int($0) }
            guard parts.count == 2, parts[1] > 0, (0...parts[1]).contains(parts[0]) else {
                throw SimulatorProfileError("'right' needs a fraction like 3/5, got '\(value)'")
            }
            rightOf = (parts[0], parts[1])
        case "wrong": wrongReply = value
        case "agent":
            guard let kind = SimulatorAgent(rawValue: value) else {
                throw SimulatorProfileError("'agent' is obedient or careful, got '\(value)'")
            }
            agent = kind
        case "tool_call": toolCall = value
        case "tool_args":
            guard JSONValue.parse(value) != nil else {
                throw SimulatorProfileError("'tool_args' needs JSON, got '\(value)'")
            }
            toolArguments = value
        case "reasoning":
            guard let count = Int(value), count >= 0 else {
                throw SimulatorProfileError("'reasoning' needs a whole number")
            }
            reasoningDeltas = count
        case "cache_read", "cache_write":
            guard let count = Int(value), count >= 0 else {
                throw SimulatorProfileError("'\(key)' needs a whole number")
            }
            if key == "cache_read" { cacheRead = count } else { cacheWrite = count }
        default:
            throw SimulatorProfileError(
                "unknown simulator setting '\(key)'; use ttft, itl, reply, usage, capacity, faults, cycle, retry_after, right, wrong, agent, "
                    + "cut_after, hold, finish, tool_call, tool_args, reasoning, cache_read, cache_write"
            )
        }
    }
}

public struct SimulatorProfileError: Error, CustomStringConvertible, Sendable {
    public var description: String

    public init(_ description: String) {
        self.description = description
    }
}

/// Behaviours by model name, with a default for unknown names. Model names may carry settings:
/// `echo;ttft=50ms;itl=5ms;faults=429,429` behaves like `echo` with those settings.
public struct SimulatorProfile: Sendable {
    public var models: [String: ModelBehavior]
    public var fallback: ModelBehavior

    public init(models: [String: ModelBehavior] = [:], fallback: ModelBehavior = ModelBehavior()) {
        self.models = models
        self.fallback = fallback
    }

    /// The behaviour for a requested model name.
    public func behavior(for model: String) throws -> ModelBehavior {
        let parts = model.split(separator: ";", omittingEmptySubsequences: true).map(String.init)
        var behavior = models[parts.first ?? ""] ?? fallback
        if models[parts.first ?? ""] == nil, let name = parts.first, name.hasSuffix("-agent") {
            behavior.agent = SimulatorAgent(rawValue: String(name.dropLast("-agent".count)))
        }
        for part in parts.dropFirst() {
            let pair = part.split(separator: "=", maxSplits: 1).map(String.init)
            try behavior.apply(
                key: pair[0].trimmingCharacters(in: .whitespaces),
                value: pair.count > 1 ? pair[1] : "true"
            )
        }
        return behavior
    }

    /// Loads a profile file:
    /// ```yaml
    /// models:
    ///   fast: {ttft: 50ms, itl: 5ms, reply: "Paris is the capital of France."}
    ///   flaky: {faults: [429, 500, ok], cycle: true}
    ///   smart:
    ///     replies: [{match: capital, reply: Paris}]
    /// default: {ttft: 10ms}
    /// ```
    public static func load(path: String) throws -> SimulatorProfile {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        guard let root = try Yams.load(yaml: text) as? [String: Any] else {
            throw SimulatorProfileError("\(path): a profile must be a mapping with 'models'")
        }
        var profile = SimulatorProfile()
        for key in root.keys where !["models", "default"].contains(key) {
            throw SimulatorProfileError("\(path): unknown key '\(key)'; use 'models' and 'default'")
        }
        if let fallback = root["default"] as? [String: Any] {
            profile.fallback = try behavior(from: fallback, name: "default", path: path)
        }
        for (name, value) in (root["models"] as? [String: Any]) ?? [:] {
            guard let settings = value as? [String: Any] else {
                throw SimulatorProfileError("\(path): model '\(name)' must be a mapping")
            }
            profile.models[name] = try behavior(from: settings, name: name, path: path)
        }
        return profile
    }

    static func behavior(from settings: [String: Any], name: String, path: String) throws -> ModelBehavior {
        var behavior = ModelBehavior()
        for (key, value) in settings {
            switch key {
            case "replies", "system_replies":
                guard let list = value as? [[String: Any]] else {
                    throw SimulatorProfileError("\(path): '\(key)' of '\(name)' must be a list of {match, reply}")
                }
                let rules = try list.map { item -> (String, String) in
                    guard let match = item["match"].map({ "\($0)" }), let reply = item["reply"].map({ "\($0)" }) else {
                        throw SimulatorProfileError("\(path): each of '\(key)' needs 'match' and 'reply'")
                    }
                    return (match, reply)
                }
                if key == "replies" { behavior.rules = rules } else { behavior.systemRules = rules }
            case "faults":
                let items = (value as? [Any]) ?? [value]
                try behavior.apply(key: "faults", value: items.map { "\($0)" }.joined(separator: ","))
            case "freezes":
                guard let list = value as? [[String: Any]] else {
                    throw SimulatorProfileError("\(path): 'freezes' must be a list of {at, duration}")
                }
                behavior.freezes = try list.map { item in
                    guard let at = item["at"].flatMap({ DurationText.seconds("\($0)") }),
                        let duration = item["duration"].flatMap({ DurationText.seconds("\($0)") })
                    else {
                        throw SimulatorProfileError("\(path): each freeze needs 'at' and 'duration' durations")
                    }
                    return (at, duration)
                }
            default:
                do { try behavior.apply(key: key, value: "\(value)") } catch let error as SimulatorProfileError {
                    throw SimulatorProfileError("\(path): model '\(name)': \(error.description)")
                }
            }
        }
        return behavior
    }
}
