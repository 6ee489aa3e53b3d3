import Foundation
import RoadtestCore

/// Encoding and decoding of wire bodies: one place, one configuration.
public enum WireJSON {
    /// Compact JSON text of a wire value.
    public static func text<Value: Encodable>(_ value: Value) -> String {
        String(decoding: data(value), as: UTF8.self)
    }

    /// Compact JSON bytes of a wire value, keys sorted (stable output for files and tests); `sortedKeys: false` on
    /// the gateway's hot path, where sorting every object's keys is measurable and no reader cares about order.
    public static func data<Value: Encodable>(_ value: Value, sortedKeys: Bool = true) -> Data {
        // Wire types are plain structs of strings, numbers and JSONValue; encoding cannot fail.
        codableData(value, sortedKeys: sortedKeys)
    }

    /// A wire value the gateway handles on every request, written in one pass (`FastWireValue`): the same bytes.
    public static func data<Value: FastWireValue>(_ value: Value, sortedKeys: Bool = true) -> Data {
        Data(bytes(value, sortedKeys: sortedKeys))
    }

    public static func bytes<Value: FastWireValue>(_ value: Value, sortedKeys: Bool = true) -> [UInt8] {
        value.jsonValue.jsonBytes(sortedKeys: sortedKeys)
    }

    public static func text<Value: FastWireValue>(_ value: Value) -> String {
        String(decoding: bytes(value), as: UTF8.self)
    }

    /// The Codable encoder's bytes for a value: the reference the one-pass writer agrees with.
    public static func codableData<Value: Encodable>(_ value: Value, sortedKeys: Bool = true) -> Data {
        (try? (sortedKeys ? sortedEncoder : encoder).encode(value)) ?? Data("null".utf8)
    }

    /// Encoders and a decoder made once: their settings are read at each call, so one instance serves every thread.
    nonisolated(unsafe) static let sortedEncoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()
    nonisolated(unsafe) static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        return encoder
    }()
    nonisolated(unsafe) static let decoder = JSONDecoder()

    /// Decodes a wire value; the error names the field that was wrong (`usage.completion_tokens: ...`).
    public static func decode<Value: Decodable>(_ type: Value.Type, from data: Data) -> Result<Value, WireError> {
        codableDecode(type, from: data)
    }

    public static func decode<Value: Decodable>(_ type: Value.Type, from text: String) -> Result<Value, WireError> {
        decode(type, from: Data(text.utf8))
    }

    /// A wire value read in one pass when it is usual (`FastWireValue`); anything else goes to the Codable decoder,
    /// which decides and names what is wrong.
    public static func decode<Value: FastWireValue>(_ type: Value.Type, from data: Data) -> Result<Value, WireError> {
        if let parsed = JSONValue.parse(data), let value = Value(fastJSON: parsed) { return .success(value) }
        return codableDecode(type, from: data)
    }

    public static func decode<Value: FastWireValue>(_ type: Value.Type, from text: String) -> Result<Value, WireError> {
        if let parsed = JSONValue.parse(text), let value = Value(fastJSON: parsed) { return .success(value) }
        return codableDecode(type, from: Data(text.utf8))
    }

    /// The Codable decoder alone: the reference the one-pass reader agrees with.
    public static func codableDecode<Value: Decodable>(_ type: Value.Type, from data: Data) -> Result<Value, WireError>
    {
        do {
            return .success(try decoder.decode(type, from: data))
        } catch let error as DecodingError {
            return .failure(WireError(describing: error))
        } catch {
            return .failure(WireError(reason: "\(error)"))
        }
    }
}

/// Why a body or event from a server could not be used: its content is untrusted, so this is a classification
/// (the attempt is `malformed`), never a crash.
public struct WireError: Error, Sendable, Hashable, CustomStringConvertible {
    public var reason: String

    public init(reason: String) {
        self.reason = reason
    }

    init(describing error: DecodingError) {
        func path(_ context: DecodingError.Context) -> String {
            let keys = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? "." + $0.stringValue }.joined()
            return keys.hasPrefix(".") ? String(keys.dropFirst()) : keys
        }
        switch error {
        case .dataCorrupted(let context):
            let at = path(context)
            reason = (at.isEmpty ? "" : at + ": ") + context.debugDescription
        case .keyNotFound(let key, let context):
            let at = path(context)
            reason = (at.isEmpty ? "" : at + ".") + key.stringValue + ": missing"
        case .typeMismatch(let type, let context), .valueNotFound(let type, let context):
            reason = path(context) + ": expected \(type)"
        @unknown default:
            reason = "\(error)"
        }
    }

    public var description: String { reason }
}

/// A token count from a server's `usage`: a whole number from 0 to `maximum`. Anything else (`1e40`, `-5`, `1.5`,
/// `"12"`) fails decoding with a reason instead of trapping or being summed into a run's totals.
public struct TokenCount: Codable, Sendable, Hashable, ExpressibleByIntegerLiteral {
    /// A ceiling far above any real request (a billion tokens), low enough that sums never overflow.
    public static let maximum = 1_000_000_000

    public var value: Int

    public init(_ value: Int) {
        self.value = value
    }

    public init(integerLiteral value: Int) {
        self.value = value
    }

    /// `number` as a token count: a whole number from 0 to `maximum`, else nil.
    public static func validated(_ number: Double) -> Int? {
        guard number.isFinite, number >= 0, number <= Double(maximum), number == number.rounded() else { return nil }
        return Int(number)
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let number: Double
        do {
            number = try container.decode(Double.self)
        } catch {
            throw DecodingError.typeMismatch(
                Int.self,
                .init(codingPath: decoder.codingPath, debugDescription: "a token count must be a number")
            )
        }
        guard let count = Self.validated(number) else {
            throw DecodingError.dataCorrupted(
                .init(
                    codingPath: decoder.codingPath,
                    debugDescription: "token count \(number) is not a whole number from 0 to \(Self.maximum)"
                )
            )
        }
        value = count
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(value)
    }
}
