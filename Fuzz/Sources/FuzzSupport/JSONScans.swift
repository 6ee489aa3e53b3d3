import Foundation
import RoadtestCore

/// Whether some object in a JSON text names a key twice (keys compared as Swift strings, as a dictionary of them
/// does). A scan of text the parser already accepted, not a parser: it follows only strings and brackets.
public func hasDuplicateKeys(_ bytes: some Collection<UInt8>) -> Bool {
    let bytes = Array(bytes)
    // One entry per open bracket: the keys of an object (nil for an array) and whether a key comes next.
    var open: [(keys: Set<String>?, expectingKey: Bool)] = []
    var index = 0
    while index < bytes.count {
        let byte = bytes[index]
        switch byte {
        case UInt8(ascii: "{"): open.append((keys: [], expectingKey: true))
        case UInt8(ascii: "["): open.append((keys: nil, expectingKey: false))
        case UInt8(ascii: "}"), UInt8(ascii: "]"): _ = open.popLast()
        case UInt8(ascii: ","):
            if open.last?.keys != nil { open[open.count - 1].expectingKey = true }
        case UInt8(ascii: "\""):
            let start = index
            index += 1
            while index < bytes.count, bytes[index] != UInt8(ascii: "\"") {
                index += bytes[index] == UInt8(ascii: "\\") ? 2 : 1
            }
            guard index < bytes.count else { return false }
            if let last = open.last, last.keys != nil, last.expectingKey {
                let key = JSONValue.parse(Data(bytes[start...index]))?.stringValue ?? ""
                if open[open.count - 1].keys!.insert(key).inserted == false { return true }
                open[open.count - 1].expectingKey = false
            }
        default: break
        }
        index += 1
    }
    return false
}

/// Whether a JSON text escapes a lone surrogate (`\ud800` not followed by a low surrogate's `\udc00`...`\udfff`, or
/// a low surrogate alone): a code point that is no Unicode scalar. A scan of text the parser already accepted.
public func hasLoneSurrogateEscape(_ bytes: some Collection<UInt8>) -> Bool {
    let bytes = Array(bytes)
    func escapedUnit(at index: Int) -> UInt32? {
        guard index + 6 <= bytes.count, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u")
        else { return nil }
        return UInt32(String(decoding: bytes[index + 2..<index + 6], as: UTF8.self), radix: 16)
    }
    var index = 0
    while index < bytes.count {
        guard bytes[index] == UInt8(ascii: "\\") else {
            index += 1
            continue
        }
        guard let unit = escapedUnit(at: index) else {
            index += 2  // another escape (`\\`, `\"`...): its second byte is not the start of one
            continue
        }
        if (0xD800..<0xDC00).contains(unit) {
            guard let low = escapedUnit(at: index + 6), (0xDC00..<0xE000).contains(low) else { return true }
            index += 12
        } else if (0xDC00..<0xE000).contains(unit) {
            return true
        } else {
            index += 6
        }
    }
    return false
}
