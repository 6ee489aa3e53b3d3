import Foundation

/// A plain left-aligned text table for listings (`roadtest runs`, `roadtest models list`).
public enum TextTable {
    /// The rows (the first is the header) in aligned columns, two spaces apart, one line each.
    public static func render(_ rows: [[String]]) -> String {
        guard let header = rows.first else { return "" }
        let widths = header.indices.map { column in rows.map { column < $0.count ? $0[column].count : 0 }.max() ?? 0 }
        return rows.map { row in
            zip(row, widths).map { $0.padding(toLength: $1, withPad: " ", startingAt: 0) }.joined(separator: "  ")
                .trimmingTrailingSpaces
        }.joined(separator: "\n") + "\n"
    }
}
