import Foundation
import RoadtestCore

/// Rows for recovery, constraints, robustness and prompt sensitivity, shared by the table renderers.
enum ScorecardExtras {
    static func rows(_ cards: [Scorecard]) -> [(String, [String])] {
        var rows: [(String, [String])] = []
        func row(_ label: String, _ value: (Scorecard) -> String) { rows.append((label, cards.map(value))) }
        if cards.contains(where: { $0.recovery.ambiguous > 0 }) {
            row("ambiguous handled (ask/abstain)") { card in
                let r = card.recovery
                return "\(r.handled)/\(r.ambiguous) (\(Format.percent(r.rate)))"
            }
        }
        row("confidently wrong") { card in
            "\(card.recovery.confidentWrong) (\(Format.percent(card.recovery.confidentWrongRate)))"
        }
        if cards.contains(where: { $0.constraints.checked > 0 }) {
            row("constraint violations") { card in
                let c = card.constraints
                return c.checked == 0 ? "–" : "\(c.violated)/\(c.checked) (\(Format.percent(c.violationRate)))"
            }
            for check in Set(cards.flatMap { $0.constraints.byCheck.keys }).sorted() {
                row("  constraint \(check)") { card in
                    card.constraints.byCheck[check].map { "\($0.violated)/\($0.checked) violated" } ?? "–"
                }
            }
        }
        if cards.contains(where: { $0.robustness != nil }) {
            row("robust: clean / perturbed / worst") { card in
                guard let r = card.robustness else { return "–" }
                return
                    "\(Format.percent(r.cleanPassRate)) / \(Format.percent(r.perturbedPassRate)) / \(Format.percent(r.worstCasePassRate))"
            }
            for name in Set(cards.flatMap { $0.robustness?.byPerturbation.keys.map { $0 } ?? [] }).sorted() {
                row("  perturbed: \(name)") { card in Format.percent(card.robustness?.byPerturbation[name]) }
            }
        }
        if let prompts = cards.first(where: { $0.promptSensitivity != nil })?.promptSensitivity?.byPrompt {
            row("prompt spread (max − min)") { card in card.promptSensitivity.map { Format.percent($0.spread) } ?? "–" }
            for (index, entry) in prompts.enumerated() {
                row(
                    "  prompt \(index == 0 ? "as written" : "#\(index)"): \(Escape.terminal(Escape.truncate(entry.prompt, 24)))"
                ) { card in
                    Format.percent(card.promptSensitivity?.byPrompt[safe: index]?.passRate)
                }
            }
        }
        if cards.contains(where: { $0.tools != nil }) {
            row("tool trials: calls / turns p50 / cut at max_turns") { card in
                guard let t = card.tools else { return "–" }
                return "\(t.trials): \(t.toolCalls) / \(t.turnsP50.map(Format.number) ?? "–") / \(t.maxTurnsReached)"
            }
        }
        if cards.contains(where: { $0.security != nil }) {
            row("attack success rate [95% CI]") { card in
                guard let s = card.security else { return "–" }
                return
                    "\(s.succeeded)/\(s.attacks) \(Format.percent(s.attackSuccessRate)) [\(Format.percent(s.ci95.first))–\(Format.percent(s.ci95.last))]"
                    + (s.errored > 0 ? " (\(s.errored) errored)" : "")
            }
            for pack in Set(cards.flatMap { $0.security?.byPack.keys.map { $0 } ?? [] }).sorted() {
                let owasp = cards.compactMap { $0.security?.byPack[pack]?.owasp }.first ?? ""
                row("  \(pack) (\(owasp))") { card in
                    guard let p = card.security?.byPack[pack] else { return "–" }
                    return p.attacks == 0 ? "no attacks" : "\(p.succeeded)/\(p.attacks) \(Format.percent(p.rate))"
                }
            }
        }
        return rows
    }
}

extension Array {
    subscript(safe index: Int) -> Element? { indices.contains(index) ? self[index] : nil }
}
