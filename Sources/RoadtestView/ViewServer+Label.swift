import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import RoadtestCore
import RoadtestReport
import RoadtestServer
import RoadtestStore

extension ViewServer {
    /// Saves a label from a trial's page and goes back to it; a refused post or a failed write is said to the person.
    func label(_ request: Request) async -> Response {
        var request = request
        guard let body = try? await request.body.collect(upTo: 1 << 20) else {
            return Response(status: .contentTooLarge)
        }
        let form = FormGuard.fields(String(decoding: body.readableBytesView, as: UTF8.self))
        guard guardian.accepts(request, form: form, loopbackOnly: accessToken == nil) else {
            return Self.html(
                .forbidden,
                ViewPage.shell("Not saved", "<p>Not saved: labels are taken only from this app's own pages.</p>")
            )
        }
        guard let subject = form["subject"], subject.hasPrefix("trial:") || subject.hasPrefix("request:"),
            let rating = form["rating"].flatMap({ Feedback.score(of: .string($0)) })
        else {
            return Self.html(.badRequest, ViewPage.shell("Not saved", "<p>A label needs a subject and a rating.</p>"))
        }
        let correction = form["correction"].flatMap {
            $0.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty ? nil : $0
        }
        do {
            try await feedback.recordFeedback(
                Feedback(
                    subject: subject,
                    rating: rating.text,
                    score: rating.score,
                    correction: correction,
                    comment: form["comment"].flatMap { $0.isEmpty ? nil : $0 },
                    source: "review"
                )
            )
        } catch {
            return Self.html(
                .internalServerError,
                ViewPage.shell(
                    "Not saved",
                    "<p>Not saved: the store refused the label (\(Escape.html("\(error)"))). Go back and save again.</p>"
                )
            )
        }
        // Back to the page the form was on (a path of this app only).
        let back = form["back"].flatMap { $0.hasPrefix("/") && !$0.hasPrefix("//") ? $0 : nil } ?? "/"
        return Response(status: .seeOther, headers: [.location: back + (back.contains("?") ? "&" : "?") + "saved=1"])
    }
}

/// Beyond loopback, every request presents the access token: `?token=` once (kept in a cookie), or the cookie.
struct AccessMiddleware<Context: RequestContext>: RouterMiddleware {
    let token: String?

    func handle(
        _ request: Request,
        context: Context,
        next: (Request, Context) async throws -> Response
    )
        async throws -> Response
    {
        guard let token else { return try await next(request, context) }
        let cookie = request.headers[.cookie] ?? ""
        let presented = cookie.split(separator: ";").compactMap { part -> String? in
            let pair = part.trimmingCharacters(in: .whitespaces).split(separator: "=", maxSplits: 1)
            return pair.count == 2 && pair[0] == "roadtest_view" ? String(pair[1]) : nil
        }.first
        if let presented, Self.same(presented, token) { return try await next(request, context) }
        if let query = request.uri.queryParameters["token"], Self.same(String(query), token) {
            var response = try await next(request, context)
            response.headers[.setCookie] = "roadtest_view=\(token); Path=/; HttpOnly; SameSite=Strict"
            return response
        }
        return Response(
            status: .unauthorized,
            headers: [.contentType: "text/plain; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(string: "open the viewer with ?token= (ROADTEST_VIEW_TOKEN)\n"))
        )
    }

    static func same(_ a: String, _ b: String) -> Bool {
        a.utf8.count == b.utf8.count && zip(a.utf8, b.utf8).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
    }
}
