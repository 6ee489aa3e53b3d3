import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import RoadtestCore
import RoadtestReport
import RoadtestServer
import RoadtestStore

/// `roadtest review`: a local web page listing kept gateway requests and failing run trials, filtered by route,
/// rating and date, where a person marks an output good or bad and writes the correct answer. Every label is a
/// `Feedback` in the store (source `review`). Everything from a model or a user is escaped.
///
/// The page has no login, so it listens on loopback only (`makeApplication` refuses any other address), and a label
/// is saved only from the page itself: every form carries this server's random token, and a request whose `Origin`
/// (or `Sec-Fetch-Site`) says it came from another site is refused, so a web page open in the same browser cannot
/// post labels. A label the store could not save is reported to the person, not redirected as if saved.
public final class ReviewServer: Sendable {
    let store: any FeedbackStore
    /// The token every form carries, and the check of each post.
    let guardian = FormGuard()
    var formToken: String { guardian.token }

    public init(store: any FeedbackStore) {
        self.store = store
    }

    public func makeRouter() -> Router<BasicRequestContext> {
        let router = Router()
        router.get("/") { request, _ in await self.page(request) }
        router.post("/label") { request, _ in await self.label(request) }
        return router
    }

    /// The review page on `host:port` (port 0 picks one); any address but loopback throws.
    public func makeApplication(
        host: String = "127.0.0.1",
        port: Int,
        onRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) throws -> some ApplicationProtocol {
        try HTTPServer.check(host: host, name: "review page", exposure: .loopbackOnly)
        return HTTPServer.makeApplication(
            router: makeRouter(),
            name: "review",
            host: host,
            port: port,
            onRunning: onRunning
        )
    }

    struct Filters {
        var route: String?
        var rating: String?
        var since: Double?

        init(_ query: [String: String]) {
            route = query["route"].flatMap { $0.isEmpty ? nil : $0 }
            rating = query["rating"].flatMap { $0.isEmpty ? nil : $0 }
            if let day = query["since"], !day.isEmpty {
                let formatter = ISO8601DateFormatter()
                formatter.formatOptions = [.withFullDate]
                since = formatter.date(from: day)?.timeIntervalSince1970
            }
        }

        var query: String {
            var parts: [String] = []
            if let route { parts.append("route=" + Self.encode(route)) }
            if let rating { parts.append("rating=" + Self.encode(rating)) }
            return parts.isEmpty ? "" : "?" + parts.joined(separator: "&")
        }

        static func encode(_ text: String) -> String {
            text.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
        }
    }

    func page(_ request: Request) async -> Response {
        var query: [String: String] = [:]
        for (key, value) in request.uri.queryParameters { query[String(key)] = String(value) }
        let filters = Filters(query)
        let subjects: [FeedbackSubject]
        let feedback: [Feedback]
        do {
            subjects = try await store.reviewSubjects(limit: 500)
            feedback = try await store.allFeedback()
        } catch {
            return Self.page(.serviceUnavailable, "The store could not be read (\(error)). Reload when it is back.")
        }
        var latest: [String: Feedback] = [:]
        for item in feedback { latest[item.subject] = item }
        let shown = subjects.filter { subject in
            if let route = filters.route, subject.tag != route { return false }
            if let since = filters.since, subject.receivedAt > 0, subject.receivedAt < since { return false }
            switch filters.rating {
            case "up"?: return latest[subject.subject]?.isGood == true
            case "down"?: return latest[subject.subject].map { !$0.isGood } == true
            case "none"?: return latest[subject.subject] == nil
            default: return true
            }
        }
        let tags = Set(subjects.map(\.tag)).sorted()
        var html = """
            <!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Roadtest review</title>
            <style>body{font:14px system-ui,sans-serif;max-width:1000px;margin:0 auto;padding:12px}
            .item{border:1px solid #ddd;margin:10px 0;padding:8px}pre{white-space:pre-wrap;background:#f4f4f6;padding:6px}
            .good{color:#11743b}.bad{color:#b42318}</style></head><body><h1>Roadtest review</h1>
            <form method="get" id="filters">route <select name="route"><option value="">all</option>
            """
        for tag in tags {
            html += "<option\(filters.route == tag ? " selected" : "")>\(Escape.html(tag))</option>"
        }
        html += "</select> rating <select name=\"rating\">"
        for (value, label) in [("", "all"), ("none", "not rated"), ("up", "good"), ("down", "bad")] {
            html += "<option value=\"\(value)\"\(filters.rating == value ? " selected" : "")>\(label)</option>"
        }
        html += """
            </select> since <input type="date" name="since"> <button type="submit">filter</button></form>
            <p>\(shown.count) of \(subjects.count) items</p>
            """
        for (index, subject) in shown.enumerated() {
            let current = latest[subject.subject]
            let verdict =
                current.map {
                    "<span class=\"\($0.isGood ? "good" : "bad")\">rated \(Escape.html($0.rating))</span>"
                } ?? "not rated"
            html += """
                <div class="item" data-subject="\(Escape.html(subject.subject))">
                <div><code>\(Escape.html(subject.subject))</code> · \(Escape.html(subject.tag)) · \(verdict)</div>
                <h4>Input</h4><pre>\(Escape.html(subject.input))</pre><h4>Output</h4><pre>\(Escape.html(subject.output))</pre>
                <form method="post" action="/label\(filters.query)" id="label-\(index)">
                <input type="hidden" name="subject" value="\(Escape.html(subject.subject))">
                <input type="hidden" name="token" value="\(formToken)">
                <label><input type="radio" name="rating" value="up"> good</label>
                <label><input type="radio" name="rating" value="down" checked> bad</label>
                <br><textarea name="correction" rows="2" cols="80" placeholder="the correct answer (optional)"></textarea>
                <br><input name="comment" size="60" placeholder="comment (optional)">
                <button type="submit">save</button></form></div>
                """
        }
        html += "</body></html>"
        return Response(
            status: .ok,
            headers: [.contentType: "text/html; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(string: html))
        )
    }

    static func page(_ status: HTTPResponse.Status, _ message: String) -> Response {
        Response(
            status: status,
            headers: [.contentType: "text/html; charset=utf-8"],
            body: .init(
                byteBuffer: ByteBuffer(
                    string: "<!DOCTYPE html><html lang=\"en\"><meta charset=\"utf-8\"><title>Roadtest review</title>"
                        + "<p>\(Escape.html(message))</p><p><a href=\"/\">back to the list</a></p></html>"
                )
            )
        )
    }

    func label(_ request: Request) async -> Response {
        var request = request
        guard let body = try? await request.body.collect(upTo: 1 << 20) else {
            return Response(status: .contentTooLarge)
        }
        let form = FormGuard.fields(String(decoding: body.readableBytesView, as: UTF8.self))
        guard guardian.accepts(request, form: form) else {
            return Self.page(
                .forbidden,
                "Not saved: labels are taken only from the review page itself. Reload it and try again."
            )
        }
        guard let subject = form["subject"], subject.hasPrefix("request:") || subject.hasPrefix("trial:"),
            let rating = form["rating"].flatMap({ Feedback.score(of: .string($0)) })
        else {
            return Response(
                status: .badRequest,
                body: .init(byteBuffer: ByteBuffer(string: "subject and rating needed"))
            )
        }
        let correction = form["correction"].flatMap {
            $0.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty ? nil : $0
        }
        let comment = form["comment"].flatMap { $0.isEmpty ? nil : $0 }
        do {
            try await store.recordFeedback(
                Feedback(
                    subject: subject,
                    rating: rating.text,
                    score: rating.score,
                    correction: correction,
                    comment: comment,
                    source: "review"
                )
            )
        } catch {
            return Self.page(
                .internalServerError,
                "Not saved: the store refused the label (\(error)). Nothing was lost on the page: go back and save again."
            )
        }
        var query = ""
        if let index = request.uri.description.firstIndex(of: "?") { query = String(request.uri.description[index...]) }
        return Response(status: .seeOther, headers: [.location: "/" + query])
    }
}
