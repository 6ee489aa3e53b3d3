import Foundation
import RoadtestCore

/// The side-by-side scorecard for a terminal: one column per candidate, colour only when asked.
public struct TerminalReport: Sendable {
    public var useColor: Bool
    /// Failing trials listed under the table (0 for none).
    public var failureLimit: Int
    /// The widest line the table may take (100 columns: a split terminal or a CI log).
    public var width: Int

    public init(useColor: Bool, failureLimit: Int = 10, width: Int = 100) {
        self.useColor = useColor
        self.failureLimit = failureLimit
        self.width = width
    }

    func paint(_ text: String, _ code: String) -> String {
        useColor ? "\u{1B}[\(code)m\(text)\u{1B}[0m" : text
    }

    public func render(_ report: RunReport, failures: [TrialRow] = []) -> String {
        let cards = report.candidates
        var rows: [(String, [String])] = []
        func row(_ label: String, _ values: (Scorecard) -> String) { rows.append((label, cards.map(values))) }
        // The same model through two providers is two candidates: each names both.
        row("provider · model") { "\($0.provider) · \(Escape.terminal($0.model ?? "–"))" }
        row("cases") { "\($0.cases)" + ($0.trials != $0.cases ? " (\($0.trials) trials)" : "") }
        row("passed") { Format.number($0.passed) }
        row("pass rate [95% CI]") {
            "\(Format.percent($0.passRate)) [\(Format.percent($0.passRateCI95.first))–\(Format.percent($0.passRateCI95.last))]"
        }
        if cards.contains(where: { $0.sampling != nil }) {
            row("pass@k / pass^k") { card in
                guard let sampling = card.sampling else { return "–" }
                let k = String(sampling.samples)
                return "\(Format.percent(sampling.passAtK[k])) / \(Format.percent(sampling.passHatK[k])) (k=\(k))"
            }
            row("flip rate") { Format.percent($0.sampling?.flipRate) }
            row("flaky cases") { card in
                let flaky = card.sampling?.flakyCases ?? []
                return flaky.isEmpty
                    ? "none"
                    : flaky.prefix(6).map { Escape.terminal($0) }.joined(separator: " ") + (flaky.count > 6 ? " …" : "")
            }
        }
        let tags = Set(cards.flatMap { $0.byTag.keys }).sorted()
        for tag in tags {
            row("  tag \(Escape.terminal(tag))") { card in
                guard let score = card.byTag[tag] else { return "–" }
                return "\(Format.percent(score.passRate)) (\(Format.number(score.passed))/\(score.cases))"
            }
        }
        row("failed checks") { card in
            card.failuresByCheck.isEmpty
                ? "none"
                : card.failuresByCheck.sorted { $0.value > $1.value }.map { "\($0.key)×\($0.value)" }.joined(
                    separator: " "
                )
        }
        for (label, value) in ScorecardExtras.rows(cards) { rows.append((label, value)) }
        row("TTFT p50/p95/p99 ms") { self.triple($0.latencyMilliseconds.ttft) }
        row("E2E p50/p95/p99 ms") { self.triple($0.latencyMilliseconds.e2e) }
        row("E2E p90 / max ms") {
            "\(Format.milliseconds($0.latencyMilliseconds.e2e.p90)) / \(Format.milliseconds($0.latencyMilliseconds.e2e.max))"
        }
        row("output tokens/s") { $0.outputTokensPerSecond.map { String(format: "%.1f", $0) } ?? "–" }
        row("attempts (retries)") { "\($0.attempts) (\($0.retries))" }
        row("errors") { card in
            let nonZero = card.errors.filter { $0.value > 0 }.sorted { $0.key < $1.key }
            return nonZero.isEmpty ? "none" : nonZero.map { "\($0.key)×\($0.value)" }.joined(separator: " ")
        }
        row("tokens in / out") {
            "\($0.tokens.input) / \($0.tokens.output)" + ($0.tokens.outputEstimated > 0 ? " (est.)" : "")
        }
        row("cost total") { Format.usd($0.costUSD.total) }
        row("cost / success") { Format.usd($0.costUSD.perSuccess) }
        row("detectable Δ (80% power)") { Format.detectableDifference($0) }
        let bars = Array(Set(cards.flatMap { $0.bars.results.map(\.bar) })).sorted()
        for bar in bars {
            let target = cards.compactMap { $0.bars.results.first { $0.bar == bar } }.first?.target
            rows.append(
                (
                    "bar \(bar) \(Format.barOperator(bar)) \(Format.barValue(bar, target))",
                    cards.map { card in
                        guard let result = card.bars.results.first(where: { $0.bar == bar }) else { return "–" }
                        return (result.met ? "✓ " : "✗ ") + Format.barValue(bar, result.value)
                    }
                )
            )
        }

        var lines: [String] = []
        lines.append(paint("Roadtest · \(Escape.terminal(report.suite)) · run \(report.runID)", "1"))
        lines += table(rows, ids: cards.map { Escape.terminal($0.id) })
        do {
            // One verdict per candidate, `·` between them, on as many lines as `width` needs.
            lines.append("")
            var line = ""
            var lineWidth = 0
            for card in cards {
                let status =
                    card.bars.results.isEmpty ? "no bars" : (card.bars.met ? "meets every bar" : "misses a bar")
                let plain = "\(Escape.terminal(card.id)): \(status)"
                if lineWidth > 0 && lineWidth + 3 + plain.count > width {
                    lines.append(line)
                    (line, lineWidth) = ("", 0)
                }
                if lineWidth > 0 { (line, lineWidth) = (line + " · ", lineWidth + 3) }
                line += "\(Escape.terminal(card.id)): " + (card.bars.met ? paint(status, "32") : paint(status, "31"))
                lineWidth += plain.count
            }
            lines.append(line)
        }
        let shown = failures.prefix(failureLimit)
        if !shown.isEmpty {
            lines.append("")
            lines.append(paint("Failures (first \(shown.count) of \(failures.count) listed)", "1"))
            for trial in shown {
                let reasons = trial.checks.filter { !$0.passed }.map { "\($0.check): \($0.reason)" }.joined(
                    separator: "; "
                )
                lines.append(
                    "  \(Escape.terminal(trial.key.candidate)) · \(Escape.terminal(trial.key.caseID))"
                        + (trial.key.sample > 0 ? " #\(trial.key.sample)" : "")
                        + (trial.key.variant.isOriginal ? "" : " [\(Escape.terminal(trial.key.variant.name))]")
                )
                lines.append("    failed: " + Escape.terminal(Escape.truncate(reasons, 88)))
                if !trial.key.variant.isOriginal {
                    lines.append("    input: " + Escape.terminal(Escape.truncate(trial.input, 88)))
                }
                lines.append("    output: " + Escape.terminal(Escape.truncate(trial.output, 88)))
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The scorecard table within `width` columns: candidates side by side in as many blocks as needed, long cells
    /// wrapped onto further lines of their column instead of widening every column.
    func table(_ rows: [(String, [String])], ids: [String]) -> [String] {
        let minimumColumn = 16
        func columns(besideLabel labelWidth: Int) -> Int { max(1, (width - labelWidth) / (minimumColumn + 2)) }
        // Labels get 20 to 28 columns, or all their longest one needs when that costs no candidate a place in the
        // first block; a longer label wraps in its column (`wrapLabel`).
        let longest = rows.map { $0.0.count }.max() ?? 0
        var labelWidth = min(28, max(20, longest))
        if longest > labelWidth, longest <= width / 2,
            columns(besideLabel: longest) >= min(ids.count, columns(besideLabel: labelWidth))
        {
            labelWidth = longest
        }
        let perBlock = columns(besideLabel: labelWidth)
        var lines: [String] = []
        for start in stride(from: 0, to: ids.count, by: perBlock) {
            let block = start..<min(ids.count, start + perBlock)
            let natural = block.map { index in max(ids[index].count, rows.map { $0.1[index].count }.max() ?? 0) }
            let room = max(minimumColumn, (width - labelWidth) / block.count - 2)
            let widths = natural.map { min($0, room) }
            if start > 0 { lines.append("") }
            let header = [pad("", labelWidth)] + zip(block, widths).map { pad(String(ids[$0].prefix($1)), $1) }
            lines.append(paint(header.joined(separator: "  ").trimmingTrailingSpaces, "1"))
            for (label, values) in rows {
                let labelLines = Self.wrapLabel(label, labelWidth)
                let cells = zip(block, widths).map { Self.wrap(values[$0], $1) }
                let height = max(labelLines.count, cells.map(\.count).max() ?? 1)
                for line in 0..<height {
                    var parts = [pad(line < labelLines.count ? labelLines[line] : "", labelWidth)]
                    for (cell, columnWidth) in zip(cells, widths) {
                        let text = line < cell.count ? cell[line] : ""
                        let padded = pad(text, columnWidth)
                        parts.append(
                            cell[0].hasPrefix("✓")
                                ? paint(padded, "32") : cell[0].hasPrefix("✗") ? paint(padded, "31") : padded
                        )
                    }
                    lines.append(parts.joined(separator: "  ").trimmingTrailingSpaces)
                }
            }
        }
        return lines
    }

    func pad(_ text: String, _ width: Int) -> String {
        text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
    }

    /// A row label in lines of at most `width` characters, continued lines indented two spaces, and an operator kept
    /// with the value after it: `bar attack_success_rate` then `  ≤ 0.25`, never a value alone on a line.
    static func wrapLabel(_ label: String, _ width: Int) -> [String] {
        guard label.count > width, width > 8 else { return [label] }
        let glue = "\u{1F}"  // a control character: never in a label, which is escaped for the terminal
        var words: [String] = []
        for word in label.split(separator: " ", omittingEmptySubsequences: false).map(String.init) {
            if let last = words.last, ["≤", "≥", "<", ">", "="].contains(last) {
                words[words.count - 1] = last + glue + word
            } else {
                words.append(word)
            }
        }
        return wrap(words.joined(separator: " "), width - 2).enumerated().map { line in
            (line.offset == 0 ? "" : "  ") + line.element.replacingOccurrences(of: glue, with: " ")
        }
    }

    /// Splits `text` into lines of at most `width` characters, at spaces where it can.
    static func wrap(_ text: String, _ width: Int) -> [String] {
        guard text.count > width, width > 0 else { return [text] }
        var lines: [String] = []
        var current = ""
        for word in text.split(separator: " ", omittingEmptySubsequences: false).map(String.init) {
            var word = word
            while word.count > width {
                if !current.isEmpty {
                    lines.append(current)
                    current = ""
                }
                lines.append(String(word.prefix(width)))
                word = String(word.dropFirst(width))
            }
            if current.isEmpty {
                current = word
            } else if current.count + 1 + word.count <= width {
                current += " " + word
            } else {
                lines.append(current)
                current = word
            }
        }
        if !current.isEmpty { lines.append(current) }
        return lines.isEmpty ? [""] : lines
    }

    func triple(_ p: Percentiles) -> String {
        "\(Format.milliseconds(p.p50)) / \(Format.milliseconds(p.p95)) / \(Format.milliseconds(p.p99))"
    }
}

extension String {
    var trimmingTrailingSpaces: String {
        var text = self
        while text.hasSuffix(" ") { text.removeLast() }
        return text
    }
}
