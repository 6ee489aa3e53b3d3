import Foundation
import RoadtestCore

/// The JSON report (schema_version 1, documented in the README).
public enum JSONReport {
    public static func render(_ report: RunReport) throws -> Data {
        try encode(report)
    }

    /// Every JSON document Roadtest writes (run, load, compare, history, cases): pretty, keys sorted.
    public static func encode<Document: Encodable>(_ document: Document) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(document)
    }
}
