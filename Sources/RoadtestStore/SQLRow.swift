import Foundation
import RoadtestCore

/// A result row by column name. Reads are strict: a column the query did not return, a NULL where a value is
/// required, or a value of another kind throws, so a renamed column or a changed query fails loudly instead of
/// reading as an empty string or a zero. Two conversions are allowed because the backends differ: an integer reads
/// as a double, and a number PostgreSQL sends as text (`numeric`, e.g. a `SUM` of integers) reads as a number.
public struct SQLRow: Sendable {
    /// A result's column names and where each is in a row: made once per query and shared by its rows.
    public final class Columns: Sendable {
        public let names: [String]
        let positions: [String: Int]

        public init(_ names: [String]) {
            self.names = names
            var positions: [String: Int] = [:]
            positions.reserveCapacity(names.count)
            // A name the result repeats (a join's `id`) reads as the first, as a dictionary of rows used to.
            for (position, name) in names.enumerated() where positions[name] == nil { positions[name] = position }
            self.positions = positions
        }
    }

    public let columns: Columns
    /// The row's values, in the order of `columns.names`.
    public let cells: [SQLValue]

    public init(columns: Columns, cells: [SQLValue]) {
        self.columns = columns
        self.cells = cells
    }

    public init(_ values: [String: SQLValue]) {
        let names = values.keys.sorted()
        self.init(columns: Columns(names), cells: names.map { values[$0]! })
    }

    /// The row by column name.
    public var values: [String: SQLValue] {
        var values: [String: SQLValue] = [:]
        for (name, position) in columns.positions { values[name] = cells[position] }
        return values
    }

    /// Why a column could not be read.
    public struct ColumnError: Error, CustomStringConvertible {
        public var column: String
        public var problem: String
        public var description: String { "column \(column): \(problem)" }
    }

    func cell(_ column: String) throws -> SQLValue {
        guard let position = columns.positions[column] else {
            throw ColumnError(
                column: column,
                problem: "missing from the result (\(columns.names.sorted().joined(separator: ", ")))"
            )
        }
        return cells[position]
    }

    func required<T>(_ column: String, _ read: (String) throws -> T?) throws -> T {
        guard let value = try read(column) else {
            throw ColumnError(column: column, problem: "NULL where a value is required")
        }
        return value
    }

    static func mistyped(_ column: String, _ value: SQLValue, expected: String) -> ColumnError {
        ColumnError(column: column, problem: "expected \(expected), found \(value)")
    }

    // MARK: - Nullable reads (NULL is nil; a missing or mistyped column throws)

    /// Text, or nil for NULL.
    public func optionalText(_ column: String) throws -> String? {
        switch try cell(column) {
        case .null: nil
        case .text(let text): text
        case let other: throw Self.mistyped(column, other, expected: "text")
        }
    }

    /// An integer, or nil for NULL.
    public func optionalInt(_ column: String) throws -> Int? {
        switch try cell(column) {
        case .null: return nil
        case .int(let value): return value
        case .double(let value) where value.rounded() == value && abs(value) < 9e15: return Int(value)
        case .text(let text) where Int(text) != nil: return Int(text)
        case let other: throw Self.mistyped(column, other, expected: "an integer")
        }
    }

    /// A number, or nil for NULL.
    public func optionalDouble(_ column: String) throws -> Double? {
        switch try cell(column) {
        case .null: return nil
        case .double(let value): return value
        case .int(let value): return Double(value)
        case .text(let text) where Double(text) != nil: return Double(text)
        case let other: throw Self.mistyped(column, other, expected: "a number")
        }
    }

    /// A boolean stored as 0 or 1, or nil for NULL.
    public func optionalBool(_ column: String) throws -> Bool? {
        switch try optionalInt(column) {
        case nil: return nil
        case 0: return false
        case 1: return true
        case let value?: throw Self.mistyped(column, .int(value), expected: "0 or 1")
        }
    }

    // MARK: - Required reads (NULL throws too)

    public func text(_ column: String) throws -> String { try required(column, optionalText) }
    public func int(_ column: String) throws -> Int { try required(column, optionalInt) }
    public func double(_ column: String) throws -> Double { try required(column, optionalDouble) }
    public func bool(_ column: String) throws -> Bool { try required(column, optionalBool) }

    /// A raw-representable value stored as text; an unknown value throws.
    public func value<T: RawRepresentable>(_ column: String, as type: T.Type = T.self) throws -> T
    where T.RawValue == String {
        let text = try text(column)
        guard let value = T(rawValue: text) else {
            throw ColumnError(column: column, problem: "'\(text)' is not a known \(T.self)")
        }
        return value
    }

    /// Whether the query returned `column` with a non-NULL value (for LEFT JOINs).
    public func isPresent(_ column: String) -> Bool {
        columns.positions[column].map { cells[$0] != .null } ?? false
    }
}
