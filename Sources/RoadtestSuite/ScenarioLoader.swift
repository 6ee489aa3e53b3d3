import Foundation
import RoadtestCore

/// A fault scenario: a timeline of windows, and optionally a base fault spec that applies outside them.
public struct FaultScenario: Sendable, Hashable {
    public var spec: FaultSpec
    public var windows: [FaultWindow]

    public init(spec: FaultSpec = .none, windows: [FaultWindow] = []) {
        self.spec = spec
        self.windows = windows
    }
}

/// Reads a fault scenario file (YAML): a list of windows such as
///
/// ```yaml
/// - {at: 10s, for: 5s, fault: 503, rate: 100%}     # an outage
/// - {at: 30s, for: 10s, fault: 429, rate: 60%, retry_after: 2s}   # a 429 storm
/// - {at: 50s, for: 10s, fault: slow, rate: 100%, factor: 8}       # a latency spike
/// ```
///
/// or a mapping with `faults:` (a base spec, `429:5%`) and `timeline:` (that list). Problems name file:line.
public struct ScenarioLoader: Sendable {
    static let windowKeys = ["at", "for", "fault", "rate", "factor", "retry_after", "hold", "after"]

    public init() {}

    public func load(path: String) throws -> FaultScenario {
        guard let text = try? String(contentsOf: URL(fileURLWithPath: path), encoding: .utf8) else {
            throw RoadtestError.invalidSuite([
                SuiteDiagnostic(nil, "cannot read scenario file \(path)", hint: "check the path exists and is readable")
            ])
        }
        return try load(yaml: text, path: path)
    }

    public func load(yaml text: String, path: String) throws -> FaultScenario {
        var context = Context(file: path, directory: URL(fileURLWithPath: path).deletingLastPathComponent())
        let root = try SuiteLoader.compose(
            text,
            path: path,
            empty: "the scenario file is empty",
            hint: "write a list of windows such as '- {at: 10s, for: 5s, fault: 503, rate: 100%}'"
        )
        var scenario = FaultScenario()
        var timeline: Node? = root
        if case .mapping(let pairs, _) = root {
            context.checkKeys(pairs, valid: ["faults", "timeline"], in: "a scenario")
            let fields = Dictionary(pairs.map { ($0.key, $0.value) }, uniquingKeysWith: { first, _ in first })
            timeline = fields["timeline"]
            if let node = fields["faults"], let text = context.string(node, "faults") {
                do {
                    scenario.spec = try FaultSpec.parse(text)
                } catch let error as RoadtestError {
                    context.error(node, error.message, hint: error.hint)
                }
            }
        }
        if let timeline {
            if case .sequence(let items, _) = timeline {
                for item in items {
                    if let window = context.window(from: item) { scenario.windows.append(window) }
                }
            } else {
                context.error(
                    timeline,
                    "the timeline must be a list of windows",
                    hint: "write each as '- {at: 10s, for: 5s, fault: 503}'"
                )
            }
        }
        if scenario.windows.isEmpty && scenario.spec.rules.isEmpty && context.diagnostics.isEmpty {
            context.error(
                root,
                "the scenario has no windows",
                hint: "add '- {at: 10s, for: 5s, fault: 503, rate: 100%}'"
            )
        }
        if !context.diagnostics.isEmpty { throw RoadtestError.invalidSuite(context.diagnostics) }
        return scenario
    }
}

extension Context {
    mutating func window(from node: Node) -> FaultWindow? {
        guard case .mapping(let pairs, _) = node else {
            error(node, "a window must be a mapping", hint: "for example {at: 10s, for: 5s, fault: 503, rate: 100%}")
            return nil
        }
        checkKeys(pairs, valid: ScenarioLoader.windowKeys, in: "a scenario window")
        let fields = Dictionary(pairs.map { ($0.key, $0.value) }, uniquingKeysWith: { first, _ in first })
        guard let atNode = fields["at"], let forNode = fields["for"], let faultNode = fields["fault"] else {
            error(node, "a window needs 'at', 'for' and 'fault'", hint: "for example {at: 10s, for: 5s, fault: 503}")
            return nil
        }
        guard let at = duration(atNode, "at"), let length = duration(forNode, "for") else { return nil }
        let kinds = FaultKind.allCases.map(\.rawValue)
        guard let name = faultNode.string, let kind = FaultKind(rawValue: name.lowercased()) else {
            error(
                faultNode,
                "unknown fault '\(faultNode.string ?? faultNode.typeName)'",
                hint: Suggest.closest(to: faultNode.string ?? "", in: kinds).map { "did you mean '\($0)'?" }
                    ?? "faults: " + kinds.joined(separator: ", ")
            )
            return nil
        }
        var rate = 1.0
        if let node = fields["rate"] {
            guard let text = node.string, let value = FaultSpec.rate(text) else {
                error(node, "'rate' must be a share of requests", hint: "write it as 100% or 0.5")
                return nil
            }
            rate = value
        }
        var rule = FaultRule(kind: kind, rate: rate)
        if let node = fields["factor"] {
            guard kind == .slow, let value = node.double, value >= 1 else {
                error(node, "'factor' goes with fault 'slow' and is 1 or more", hint: "for example factor: 5")
                return nil
            }
            rule.factor = value
        }
        for (key, fits) in [("retry_after", kind == .http429), ("hold", kind == .stall)] {
            guard let node = fields[key] else { continue }
            guard fits else {
                error(
                    node,
                    "'\(key)' does not go with fault '\(kind.rawValue)'",
                    hint: "retry_after goes with 429, hold with stall"
                )
                continue
            }
            rule.parameter = duration(node, key)
        }
        if let node = fields["after"] {
            guard kind == .cut, let events = positiveInt(node, "after", allowZero: true) else {
                if kind != .cut { error(node, "'after' (events before the cut) goes with fault 'cut'") }
                return nil
            }
            rule.parameter = Double(events)
        }
        return FaultWindow(at: at, duration: length, rule: rule)
    }
}
