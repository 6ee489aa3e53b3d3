import Foundation
import RoadtestCore

/// The JSON report (schema_version 1, documented in the README).
public enum JSONReport {
    public static func render(_ report: RunReport) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(report)
    }
}
