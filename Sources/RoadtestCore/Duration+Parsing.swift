import Foundation

/// Parses and formats human durations such as `500ms`, `30s`, `2m`, `1.5s`.
public enum DurationText {
    /// Seconds for a duration written as `500ms`, `30s`, `2m`, `1h`, `250us`, or a bare number of seconds.
    public static func seconds(_ text: String) -> Double? {
        let trimmed = text.trimmingCharacters(in: .whitespaces).lowercased()
        let units: [(String, Double)] = [
            ("ms", 0.001), ("us", 0.000_001), ("µs", 0.000_001), ("s", 1), ("m", 60), ("h", 3600),
        ]
        for (suffix, scale) in units where trimmed.hasSuffix(suffix) {
            let number = trimmed.dropLast(suffix.count).trimmingCharacters(in: .whitespaces)
            guard let value = Double(number), value >= 0, value.isFinite else { return nil }
            return value * scale
        }
        guard let value = Double(trimmed), value >= 0, value.isFinite else { return nil }
        return value
    }

    /// A short human form: `850ms`, `2.40s`.
    public static func format(seconds: Double) -> String {
        if seconds < 1 { return String(format: "%.0fms", seconds * 1000) }
        return String(format: "%.2fs", seconds)
    }
}

extension DurationText {
    /// A number as a short label: `5`, `0.7`.
    public static func trimmed(_ value: Double) -> String {
        value.rounded() == value && abs(value) < 1e15 ? String(Int(value)) : String(format: "%g", value)
    }
}
