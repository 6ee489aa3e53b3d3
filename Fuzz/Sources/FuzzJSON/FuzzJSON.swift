import Foundation
import FuzzSupport
import RoadtestCore

/// `json`: `JSONValue.parse(Data)`, the project's one-pass parser. Properties, when it parses: JSON has no infinity
/// or NaN, so no number it reads is one; its text (`jsonText`) and its bytes (`jsonBytes`, the gateway's writer)
/// parse back to the same value.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = FuzzInput(data, size)
    guard let value = JSONValue.parse(input.data) else { return 0 }
    Oracle.require(
        "json.nonfinite",
        value.isFinite,
        "parsed a number JSON cannot hold (its jsonText is \(shown(value.jsonText, limit: 200)))"
    )
    guard value.isFinite else { return 0 }
    let text = value.jsonText
    let again = JSONValue.parse(Data(text.utf8))
    Oracle.require("json.roundtrip", again == value, "jsonText \(shown(text)) parses to \(shown(again as Any))")
    let bytes = value.jsonBytes()
    let fromBytes = JSONValue.parse(Data(bytes))
    Oracle.require(
        "json.roundtrip",
        fromBytes == value,
        "jsonBytes \(shown(String(decoding: bytes, as: UTF8.self))) parse to \(shown(fromBytes as Any))"
    )
    return 0
}

extension JSONValue {
    /// Whether every number in the value is finite.
    fileprivate var isFinite: Bool {
        switch self {
        case .number(let number): number.isFinite
        case .array(let items): items.allSatisfy(\.isFinite)
        case .object(let members): members.values.allSatisfy(\.isFinite)
        case .null, .bool, .string: true
        }
    }
}
