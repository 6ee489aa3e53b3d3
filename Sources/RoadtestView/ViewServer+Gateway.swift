import Foundation
import Hummingbird
import RoadtestCore
import RoadtestReport
import RoadtestStore

extension ViewServer {
    /// The gateway's latest requests (newest first), filtered by route and outcome.
    func gatewayPage(_ request: Request) async throws -> String {
        guard let gateway else { throw RoadtestError(.notFound, "this store keeps no gateway traffic") }
        let query = Self.query(request)
        let all = try await gateway.gatewayRequests(limit: 1_000)
        let shown = all.filter { record in
            if let route = query["route"], record.route != route { return false }
            if let outcome = query["outcome"], record.outcome.rawValue != outcome { return false }
            return true
        }
        var body = "<form class=\"filters\" method=\"get\">route <select name=\"route\"><option value=\"\">all</option>"
        for route in Set(all.compactMap(\.route)).sorted() {
            body += "<option\(query["route"] == route ? " selected" : "")>\(Escape.html(route))</option>"
        }
        body += "</select> outcome <select name=\"outcome\"><option value=\"\">all</option>"
        for outcome in Set(all.map(\.outcome.rawValue)).sorted() {
            body += "<option\(query["outcome"] == outcome ? " selected" : "")>\(Escape.html(outcome))</option>"
        }
        body += "</select><button type=\"submit\">filter</button></form>"
        body += "<p class=\"muted\" id=\"count\">\(shown.count) of the latest \(all.count) requests</p>"
        body += """
            <table id="requests"><tr><th>received</th><th>request</th><th>route</th><th>served by</th><th>outcome</th>
            <th>status</th><th>TTFT</th><th>E2E</th><th>tokens in / out</th><th>cost</th><th>attempts</th></tr>
            """
        for record in shown.prefix(500) {
            let received = Date(timeIntervalSince1970: record.receivedAt).formatted(.iso8601)
            body += """
                <tr class="request"><td>\(Escape.html(received))</td><td><code>\(Escape.html(record.id))</code></td>
                <td>\(Escape.html(record.route ?? "–"))</td>
                <td>\(Escape.html(record.servedBy ?? "–"))\(record.fellBack ? " (fallback)" : "")</td>
                <td class="\(record.outcome.isAnswered ? "pass" : "fail")">\(Escape.html(record.outcome.rawValue))</td>
                <td>\(record.status)</td><td>\(ViewPage.milliseconds(record.timeToFirstToken))</td>
                <td>\(ViewPage.milliseconds(record.endToEnd))</td><td>\(record.inputTokens) / \(record.outputTokens)</td>
                <td>$\(String(format: "%.6f", record.costUSD))</td><td>\(record.attempts)</td></tr>
                """
        }
        return ViewPage.shell("Gateway traffic", body + "</table>")
    }

    /// Shadow pairs: a live answer and a shadow candidate's answer to the same request, side by side.
    func shadowPage(_ request: Request) async throws -> String {
        guard let gateway else { throw RoadtestError(.notFound, "this store keeps no shadow pairs") }
        let query = Self.query(request)
        let pairs = try await gateway.shadowPairs(route: query["route"], limit: 200)
        var body = "<p class=\"muted\" id=\"count\">\(pairs.count) pairs"
        if let route = query["route"] { body += " on route \(Escape.html(route))" }
        body += " (the latest 200; `roadtest shadow report` grades them)</p>"
        for pair in pairs.reversed() {
            body += """
                <div class="pair"><p><code>\(Escape.html(pair.requestID))</code> · \(Escape.html(pair.route))</p>
                <pre>\(Escape.html(pair.input))</pre><table><tr>
                <th>live: \(Escape.html(pair.liveCandidate)) · \(Escape.html(pair.liveOutcome)) · \(ViewPage.milliseconds(pair.liveEndToEnd))</th>
                <th>shadow: \(Escape.html(pair.shadowCandidate)) · \(Escape.html(pair.shadowOutcome)) · \(ViewPage.milliseconds(pair.shadowEndToEnd))</th>
                </tr><tr><td><pre>\(Escape.html(pair.liveOutput))</pre></td><td><pre>\(Escape.html(pair.shadowOutput))</pre></td>
                </tr></table></div>
                """
        }
        return ViewPage.shell("Shadow pairs", body)
    }
}
