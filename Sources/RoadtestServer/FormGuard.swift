import Foundation
import HTTPTypes
import Hummingbird

/// What makes a form post trustworthy on a page without a login (the review page, the viewer): it comes from the page
/// itself, not from another site open in the same browser. Every form carries the server's random token; a post
/// whose `Sec-Fetch-Site` is cross-site, or whose `Origin` is another host (or `null`), is refused.
public struct FormGuard: Sendable {
    /// The token every form carries (random per server start).
    public let token: String

    public init() {
        token = (0..<4).map { _ in String(format: "%016llx", UInt64.random(in: 0...UInt64.max)) }.joined()
    }

    /// Whether a post with these fields comes from this server's own page. `loopbackOnly`: the page's origin must
    /// also be a loopback host.
    public func accepts(_ request: Request, form: [String: String], loopbackOnly: Bool = true) -> Bool {
        if let site = request.headers[HTTPField.Name("sec-fetch-site")!], site != "same-origin", site != "none" {
            return false
        }
        if let origin = request.headers[.origin] {
            guard origin != "null", let host = URLComponents(string: origin)?.host,
                !loopbackOnly || HTTPServer.isLoopback(host),
                let authority = request.head.authority, origin.hasSuffix("://" + authority)
            else { return false }
        }
        guard let sent = form["token"], sent.utf8.count == token.utf8.count else { return false }
        // Constant time: compare every byte.
        return zip(sent.utf8, token.utf8).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
    }

    /// `application/x-www-form-urlencoded` fields.
    public static func fields(_ text: String) -> [String: String] {
        var fields: [String: String] = [:]
        for pair in text.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1).map(String.init)
            func decode(_ value: String) -> String {
                value.replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? value
            }
            fields[decode(parts[0])] = parts.count > 1 ? decode(parts[1]) : ""
        }
        return fields
    }
}
