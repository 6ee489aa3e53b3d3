import Foundation
import RoadtestCore

extension Context {
    // MARK: Robustness

    mutating func robustness(from node: Node) -> RobustnessConfig? {
        guard case .mapping(let pairs, _) = node else {
            error(
                node,
                "'robustness' must be a mapping",
                hint: "for example robustness: {perturbations: [typos, case], variants: 2, seed: 1}"
            )
            return nil
        }
        checkKeys(pairs, valid: ["perturbations", "variants", "seed"], in: "robustness")
        let fields = Dictionary(pairs.map { ($0.key, $0.value) }, uniquingKeysWith: { first, _ in first })
        let names = Perturbation.allCases.map(\.rawValue)
        var perturbations: [Perturbation] = []
        if let list = fields["perturbations"] {
            for name in stringList(list, "perturbations") ?? [] {
                if let perturbation = Perturbation(rawValue: name) {
                    perturbations.append(perturbation)
                } else {
                    error(
                        list,
                        "unknown perturbation '\(name)'",
                        hint: Suggest.hint(for: name, in: names).replacingOccurrences(
                            of: "valid keys",
                            with: "perturbations"
                        )
                    )
                }
            }
        } else {
            perturbations = Perturbation.allCases
        }
        let variants = fields["variants"].flatMap { positiveInt($0, "variants") } ?? 1
        let seed = fields["seed"].flatMap { positiveInt($0, "seed", allowZero: true) } ?? 0
        return RobustnessConfig(perturbations: perturbations, variants: variants, seed: UInt64(seed))
    }

    // MARK: Bars

    mutating func bars(from node: Node) -> [Bar] {
        guard case .mapping(let pairs, _) = node else {
            error(node, "'bars' must be a mapping", hint: "for example bars: {pass_rate: 0.9, p95_latency: 2s}")
            return []
        }
        let valid = BarMetric.allCases.map(\.rawValue)
        checkKeys(pairs, valid: valid, in: "bars")
        var bars: [Bar] = []
        for (key, value, _) in pairs {
            guard let metric = BarMetric(rawValue: key) else { continue }
            let target: Double?
            if metric.isDuration {
                target = duration(value, key)
            } else {
                target = number(value, key)
                if let target, metric == .passRate || metric == .errorRate, !(0...1).contains(target) {
                    error(value, "'\(key)' must be between 0 and 1", hint: "write 90% as 0.9")
                }
            }
            if let target { bars.append(Bar(metric: metric, target: target)) }
        }
        return bars
    }
}
