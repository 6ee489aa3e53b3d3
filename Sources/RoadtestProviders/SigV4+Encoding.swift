import Crypto
import Foundation

// MARK: - Helpers

/// The parts of an absolute URL that signing needs, split like Python's `urlsplit`: without
/// validating or decoding anything, so the path and query are signed exactly as they are sent.
public struct SplitURL: Sendable, Hashable {
    public var scheme = ""
    public var netloc = ""
    public var path = ""
    public var query = ""

    /// Splits on code points, not `Character`s, as Python does: a delimiter followed by a combining
    /// mark is still a delimiter.
    public init(_ url: String) {
        var rest = Substring(url).unicodeScalars
        if let colon = rest.firstIndex(of: ":"), Self.isScheme(rest[..<colon]) {
            scheme = String(rest[..<colon]).lowercased()
            rest = rest[rest.index(after: colon)...]
        }
        if let hash = rest.firstIndex(of: "#") {
            rest = rest[..<hash]
        }
        if rest.starts(with: "//".unicodeScalars) {
            rest = rest.dropFirst(2)
            let end = rest.firstIndex { $0 == "/" || $0 == "?" } ?? rest.endIndex
            netloc = String(rest[..<end])
            rest = rest[end...]
        }
        if let question = rest.firstIndex(of: "?") {
            query = String(rest[rest.index(after: question)...])
            rest = rest[..<question]
        }
        path = String(rest)
    }

    /// `Host` as botocore derives it: lower-cased host name without user info, IPv6 literals in
    /// brackets, and the port only when it isn't the scheme's default.
    public var hostHeader: String {
        var hostPort = Substring(netloc).unicodeScalars
        if let at = hostPort.lastIndex(of: "@") {
            hostPort = hostPort[hostPort.index(after: at)...]
        }
        var host = hostPort
        var port = hostPort[hostPort.endIndex...]
        if hostPort.first == "[", let close = hostPort.firstIndex(of: "]") {
            host = hostPort[...close]
            let afterClose = hostPort[hostPort.index(after: close)...]
            if afterClose.first == ":" { port = afterClose.dropFirst() }
        } else if let colon = hostPort.firstIndex(of: ":") {
            host = hostPort[..<colon]
            port = hostPort[hostPort.index(after: colon)...]
        }
        let defaultPort = ["http": 80, "https": 443][scheme]
        guard let number = Int(String(port)), number != defaultPort else {
            return String(host).lowercased()
        }
        return "\(String(host).lowercased()):\(number)"
    }

    private static func isScheme(_ text: Substring.UnicodeScalarView) -> Bool {
        guard let first = text.first, first.isASCII, first.properties.isAlphabetic else { return false }
        return text.allSatisfy { scalar in
            scalar.isASCII
                && (scalar.properties.isAlphabetic || ("0"..."9").contains(scalar)
                    || "+-.".unicodeScalars.contains(scalar))
        }
    }
}

/// Percent-encoding with the SigV4 rule: only RFC 3986 unreserved bytes stay literal.
enum SigV4Encoding {
    static func encode(_ text: some StringProtocol, keepingSlash: Bool) -> String {
        encode(bytes: Array(text.utf8), keepingSlash: keepingSlash)
    }

    static func encode(bytes: [UInt8], keepingSlash: Bool) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        for byte in bytes {
            if isUnreserved(byte) || (keepingSlash && byte == UInt8(ascii: "/")) {
                out.append(byte)
            } else {
                out.append(UInt8(ascii: "%"))
                out.append(SigV4Hex.digits[Int(byte >> 4)])
                out.append(SigV4Hex.digits[Int(byte & 0x0F)])
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Decodes `%XY` escapes (leaving malformed ones literal, like Python's `unquote`) and encodes
    /// the result canonically, so already-canonical input comes back unchanged.
    static func reencode(_ text: some StringProtocol) -> String {
        encode(bytes: percentDecoded(Array(text.utf8)), keepingSlash: false)
    }

    static func percentDecoded(_ bytes: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var index = 0
        while index < bytes.count {
            if bytes[index] == UInt8(ascii: "%"), index + 2 < bytes.count,
                let high = hexValue(bytes[index + 1]), let low = hexValue(bytes[index + 2])
            {
                out.append(high << 4 | low)
                index += 3
            } else {
                out.append(bytes[index])
                index += 1
            }
        }
        return out
    }

    private static func isUnreserved(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."),
            UInt8(ascii: "~"):
            return true
        default:
            return false
        }
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}

/// Hex helpers (upper-case for percent escapes, lower-case for hashes as SigV4 requires).
public enum SigV4Hex {
    public static let digits = Array("0123456789ABCDEF".utf8)
    private static let lowerDigits = Array("0123456789abcdef".utf8)

    public static func string(_ bytes: some Sequence<UInt8>) -> String {
        var out: [UInt8] = []
        for byte in bytes {
            out.append(lowerDigits[Int(byte >> 4)])
            out.append(lowerDigits[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    public static func sha256(_ data: some DataProtocol) -> String {
        string(SHA256.hash(data: data))
    }
}

/// SigV4 time stamps in UTC, computed arithmetically: no `DateFormatter` (which is locale- and
/// calendar-sensitive, and costly to create) and no platform time functions.
public enum SigV4Timestamp {
    /// `yyyyMMdd'T'HHmmss'Z'`; fractional seconds are truncated, as botocore's `strftime` does.
    public static func dateTime(_ date: Date) -> String {
        let (day, secondOfDay) = split(date)
        let time = [secondOfDay / 3600, secondOfDay / 60 % 60, secondOfDay % 60].map { pad($0, 2) }.joined()
        return "\(civilDate(day))T\(time)Z"
    }

    /// `yyyyMMdd`, the date of the credential scope.
    public static func day(_ date: Date) -> String {
        civilDate(split(date).day)
    }

    private static func split(_ date: Date) -> (day: Int, secondOfDay: Int) {
        let seconds = Int(date.timeIntervalSince1970.rounded(.down))
        let day = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        return (day, seconds - day * 86_400)
    }

    /// Days since 1970-01-01 to a proleptic Gregorian `yyyyMMdd` (Howard Hinnant's algorithm).
    private static func civilDate(_ daysSinceEpoch: Int) -> String {
        let shifted = daysSinceEpoch + 719_468
        let era = (shifted >= 0 ? shifted : shifted - 146_096) / 146_097
        let dayOfEra = shifted - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        return pad(year, 4) + pad(month, 2) + pad(day, 2)
    }

    private static func pad(_ value: Int, _ width: Int) -> String {
        let digits = String(value)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }
}
