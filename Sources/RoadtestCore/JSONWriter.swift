/// Compact JSON bytes written in one pass, byte for byte as Foundation's `JSONEncoder` writes them with
/// `.withoutEscapingSlashes` (and `.sortedKeys` when asked): strings escape `"`, `\`, `\b`, `\f`, `\n`, `\r`, `\t`
/// and other control characters as `\u00xx`; a number is its shortest round-trip text without a trailing `.0`.
/// The gateway's bodies go through here instead of the Codable encoder, whose generic machinery costs more than the
/// bytes it writes; a test holds both to the same output.
public struct JSONWriter {
    public private(set) var bytes: [UInt8] = []
    /// `/` written as `\/`, as Foundation's encoder does without `.withoutEscapingSlashes`.
    public var escapesSlashes = false

    public init(capacity: Int = 256, escapesSlashes: Bool = false) {
        bytes.reserveCapacity(capacity)
        self.escapesSlashes = escapesSlashes
    }

    public mutating func value(_ value: JSONValue, sortedKeys: Bool = true) {
        switch value {
        case .null: raw("null")
        case .bool(let flag): raw(flag ? "true" : "false")
        case .number(let number): self.number(number)
        case .string(let text): string(text)
        case .array(let elements):
            bytes.append(UInt8(ascii: "["))
            for (position, element) in elements.enumerated() {
                if position > 0 { bytes.append(UInt8(ascii: ",")) }
                self.value(element, sortedKeys: sortedKeys)
            }
            bytes.append(UInt8(ascii: "]"))
        case .object(let members):
            bytes.append(UInt8(ascii: "{"))
            var first = true
            func member(_ key: String, _ element: JSONValue) {
                if !first { bytes.append(UInt8(ascii: ",")) }
                first = false
                string(key)
                bytes.append(UInt8(ascii: ":"))
                self.value(element, sortedKeys: sortedKeys)
            }
            if sortedKeys {
                for key in members.keys.sorted() { member(key, members[key]!) }
            } else {
                for (key, element) in members { member(key, element) }
            }
            bytes.append(UInt8(ascii: "}"))
        }
    }

    /// A number as Foundation writes a `Double`: `description`, less a trailing `.0` (`1`, `0.7`, `1e+16`, `-0`).
    /// JSON has no infinity or NaN; they are written as `null` (Foundation's encoder refuses the whole value).
    public mutating func number(_ number: Double) {
        guard number.isFinite else { return raw("null") }
        var text = number.description
        if text.hasSuffix(".0") { text.removeLast(2) }
        bytes.append(contentsOf: text.utf8)
    }

    public mutating func integer(_ integer: Int) {
        bytes.append(contentsOf: String(integer).utf8)
    }

    public mutating func string(_ text: String) {
        bytes.append(UInt8(ascii: "\""))
        var text = text
        let slash: UInt8 = escapesSlashes ? 0x2F : 0x22
        text.withUTF8 { utf8 in
            var start = 0
            for index in 0..<utf8.count {
                let byte = utf8[index]
                guard byte < 0x20 || byte == 0x22 || byte == 0x5C || byte == slash else { continue }
                bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[start..<index]))
                start = index + 1
                switch byte {
                case 0x2F: raw("\\/")
                case 0x22: raw("\\\"")
                case 0x5C: raw("\\\\")
                case 0x08: raw("\\b")
                case 0x0C: raw("\\f")
                case 0x0A: raw("\\n")
                case 0x0D: raw("\\r")
                case 0x09: raw("\\t")
                default:
                    let digits: [UInt8] = Array("0123456789abcdef".utf8)
                    raw("\\u00")
                    bytes.append(digits[Int(byte >> 4)])
                    bytes.append(digits[Int(byte & 0x0F)])
                }
            }
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[start..<utf8.count]))
        }
        bytes.append(UInt8(ascii: "\""))
    }

    /// Bytes written as they are (punctuation and keys the caller knows need no escaping).
    public mutating func raw(_ text: StaticString) {
        bytes.append(contentsOf: UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }
}

extension JSONValue {
    /// Compact JSON bytes as Foundation's `JSONEncoder` writes them (see `JSONWriter`).
    public func jsonBytes(sortedKeys: Bool = true) -> [UInt8] {
        var writer = JSONWriter()
        writer.value(self, sortedKeys: sortedKeys)
        return writer.bytes
    }
}

extension UInt64 {
    /// 16 lowercase hex digits, zero-padded: how answer keys and suite fingerprints are written.
    var hex16: String {
        let digits = String(self, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }
}
