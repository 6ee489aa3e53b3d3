import Foundation
import RoadtestCore

/// Escaping for untrusted text (model output, inputs, ids) in every output format.
public enum Escape {
    /// HTML text and attribute escaping.
    public static func html(_ text: String) -> String {
        var result = ""
        result.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": result += "&amp;"
            case "<": result += "&lt;"
            case ">": result += "&gt;"
            case "\"": result += "&quot;"
            case "'": result += "&#39;"
            default:
                if scalar.value < 0x20 && scalar != "\n" && scalar != "\t" && scalar != "\r" {
                    result += "&#xFFFD;"
                } else {
                    result.unicodeScalars.append(scalar)
                }
            }
        }
        return result
    }

    /// XML escaping that also drops characters XML 1.0 cannot carry.
    public static func xml(_ text: String) -> String {
        var result = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": result += "&amp;"
            case "<": result += "&lt;"
            case ">": result += "&gt;"
            case "\"": result += "&quot;"
            case "'": result += "&apos;"
            default:
                let value = scalar.value
                let allowed =
                    value == 0x9 || value == 0xA || value == 0xD || (0x20...0xD7FF).contains(value)
                    || (0xE000...0xFFFD).contains(value) || (0x10000...0x10FFFF).contains(value)
                if allowed { result.unicodeScalars.append(scalar) } else { result += "\u{FFFD}" }
            }
        }
        return result
    }

    /// Text safe for a terminal: control characters (ANSI escapes included) shown as `�`, newlines as `⏎`.
    public static func terminal(_ text: String, singleLine: Bool = true) -> String {
        var result = ""
        for scalar in text.unicodeScalars {
            if scalar == "\n" {
                result += singleLine ? "⏎" : "\n"
            } else if scalar == "\t" {
                result += " "
            } else if scalar.value < 0x20 || scalar.value == 0x7F || (0x80...0x9F).contains(scalar.value)
                || scalar == "\u{202E}" || scalar == "\u{202D}"
            {
                result += "\u{FFFD}"
            } else {
                result.unicodeScalars.append(scalar)
            }
        }
        return result
    }

    /// A Markdown table cell: HTML-escaped, pipes and newlines neutralised.
    public static func markdownCell(_ text: String) -> String {
        html(text).replacingOccurrences(of: "|", with: "&#124;").replacingOccurrences(of: "\n", with: "<br>")
            .replacingOccurrences(of: "`", with: "&#96;").replacingOccurrences(of: "*", with: "&#42;")
            .replacingOccurrences(of: "_", with: "&#95;").replacingOccurrences(of: "[", with: "&#91;")
    }

    /// Shortens text to `limit` characters with an ellipsis.
    public static func truncate(_ text: String, _ limit: Int) -> String {
        text.count <= limit ? text : String(text.prefix(limit)) + "…"
    }
}

/// Number formatting shared by renderers.
enum Format {
    static func percent(_ value: Double?) -> String {
        guard let value else { return "–" }
        return String(format: "%.1f%%", value * 100)
    }

    static func milliseconds(_ value: Double?) -> String {
        guard let value else { return "–" }
        if value >= 10_000 { return String(format: "%.1fs", value / 1000) }
        if value >= 100 { return String(format: "%.0f", value) }
        return String(format: "%.1f", value)
    }

    static func usd(_ value: Double?) -> String {
        guard let value else { return "–" }
        if value == 0 { return "$0" }
        if value < 0.01 { return String(format: "$%.6f", value) }
        return String(format: "$%.4f", value)
    }

    static func number(_ value: Double) -> String {
        value.rounded() == value && abs(value) < 1e15 ? String(Int(value)) : String(format: "%.2f", value)
    }

    /// A bar's value or target in its unit: latency bars in ms, cost in USD, rates as numbers.
    static func barValue(_ bar: String, _ value: Double?) -> String {
        guard let value else { return "–" }
        guard let metric = BarMetric(rawValue: bar) else { return number(value) }
        if metric.isDuration {
            return value >= 10 ? String(format: "%.1f s", value) : milliseconds(value * 1000) + " ms"
        }
        switch metric {
        case .costPerSuccess, .totalCost: return usd(value)
        case .passRate, .errorRate: return percent(value)
        default: return number(value)
        }
    }

    /// A scorecard's detectable difference at 80% power (`±12 pt`), or that the run is too small to detect one.
    static func detectableDifference(_ card: Scorecard) -> String {
        if card.isTooSmallToDetectDifference { return Scorecard.tooSmallToDetect }
        return card.minimumDetectableDifference.map { String(format: "±%.0f pt", $0 * 100) } ?? "–"
    }

    static func barOperator(_ bar: String) -> String {
        BarMetric(rawValue: bar)?.isMinimum == true ? "≥" : "≤"
    }
}
