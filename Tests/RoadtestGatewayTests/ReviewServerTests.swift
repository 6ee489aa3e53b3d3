import Foundation
import RoadtestCore
import RoadtestGateway
import RoadtestStore
import ServiceLifecycle
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The review page takes labels only from itself, says when the store did not keep one, and never leaves loopback.
@Suite struct ReviewServerTests {
    /// The real store, with label writes failing (a full disk, a database that went away).
    struct RefusingStore: FeedbackStore {
        let base: any FeedbackStore
        struct Refused: Error, CustomStringConvertible { var description: String { "disk I/O error" } }
        func recordFeedback(_ feedback: Feedback) async throws { throw Refused() }
        func allFeedback() async throws -> [Feedback] { try await base.allFeedback() }
        func feedbackSubject(_ subject: String) async throws -> FeedbackSubject? {
            try await base.feedbackSubject(subject)
        }
        func reviewSubjects(limit: Int) async throws -> [FeedbackSubject] {
            try await base.reviewSubjects(limit: limit)
        }
    }

    static func withReview<T: Sendable>(
        _ store: any FeedbackStore,
        _ body: @Sendable (String) async throws -> T
    ) async throws -> T {
        let review = ReviewServer(store: store)
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        let app = try review.makeApplication(port: 0) { continuation.yield($0) }
        let server = Task { try await app.run() }
        var iterator = ports.makeAsyncIterator()
        let port = try #require(await iterator.next())
        let result: Result<T, any Error>
        do { result = .success(try await body("http://127.0.0.1:\(port)")) } catch { result = .failure(error) }
        server.cancel()
        _ = await server.result
        return try result.get()
    }

    static func label(_ url: String, token: String?, origin: String?) async throws -> GatewayTests.Reply {
        var form = "subject=request%3Aq1&rating=up&correction=Paris"
        if let token { form += "&token=" + token }
        var headers = ["Content-Type": "application/x-www-form-urlencoded"]
        if let origin { headers["Origin"] = origin }
        var request = URLRequest(url: URL(string: url + "/label")!)
        request.httpMethod = "POST"
        request.httpBody = Data(form.utf8)
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        let (data, response) = try await URLSession.shared.data(for: request)
        let http = try #require(response as? HTTPURLResponse)
        return GatewayTests.Reply(status: http.statusCode, headers: [:], body: String(decoding: data, as: UTF8.self))
    }

    static func kept() async throws -> Store {
        let store = try Store.inMemory()
        try await store.gateway.recordGatewayBody(
            FeedbackSubject(
                subject: "request:q1",
                tag: "default",
                system: nil,
                input: "Capital of France?",
                output: "Lyon",
                receivedAt: 1_800_000_000
            )
        )
        return store
    }

    @Test func labelsComeOnlyFromThePageItself() async throws {
        let store = try await Self.kept()
        try await Self.withReview(store.feedback) { url in
            let page = try await GatewayTests.send(url + "/", method: "GET")
            let token = try #require(
                page.body.firstMatch(of: /name="token" value="([0-9a-f]+)"/).map { String($0.1) }
            )
            // Another site's form, or a post without the page's token, is refused and nothing is stored.
            let foreign = try await Self.label(url, token: token, origin: "http://evil.example")
            #expect(foreign.status == 403 && foreign.body.contains("Not saved"))
            let tokenless = try await Self.label(url, token: nil, origin: url)
            #expect(tokenless.status == 403)
            let forged = try await Self.label(url, token: String(repeating: "0", count: token.count), origin: nil)
            #expect(forged.status == 403)
            #expect(try await store.feedback.allFeedback().isEmpty)
            // The page's own form is saved (the redirect lands on the list again).
            let own = try await Self.label(url, token: token, origin: url)
            #expect(own.status == 200 && own.body.contains("rated up"), "\(own.status) \(own.body.prefix(200))")
            #expect(try await store.feedback.allFeedback().map(\.correction) == ["Paris"])
        }
    }

    @Test func aLabelTheStoreRefusedIsReportedNotRedirected() async throws {
        let store = try await Self.kept()
        try await Self.withReview(RefusingStore(base: store.feedback)) { url in
            let page = try await GatewayTests.send(url + "/", method: "GET")
            let token = try #require(
                page.body.firstMatch(of: /name="token" value="([0-9a-f]+)"/).map { String($0.1) }
            )
            let refused = try await Self.label(url, token: token, origin: url)
            #expect(refused.status == 500)
            #expect(refused.body.contains("Not saved") && refused.body.contains("disk I/O error"), "\(refused.body)")
        }
    }

    @Test(arguments: ["0.0.0.0", "192.0.2.1", "::"])
    func thePageListensOnLoopbackOnly(host: String) throws {
        let review = ReviewServer(store: try Store.inMemory().feedback)
        let error = #expect(throws: RoadtestError.self) { _ = try review.makeApplication(host: host, port: 0) }
        #expect(error?.message.contains("loopback only") == true)
    }

    @Test func theGatewayLeavesLoopbackOnlyWithClientAuthentication() throws {
        let open = try Gateway(
            policy: GatewayPolicy(path: "policy.yaml", candidates: [], routes: []),
            providers: [:],
            tokens: nil,
            store: nil
        )
        let refused = #expect(throws: RoadtestError.self) { _ = try open.makeApplication(host: "0.0.0.0", port: 0) }
        #expect(refused?.message.contains("without client authentication") == true)
        _ = try open.makeApplication(host: "127.0.0.1", port: 0)
        let guarded = try Gateway(
            policy: GatewayPolicy(path: "policy.yaml", candidates: [], routes: [], tokensEnvironmentVariable: "T"),
            providers: [:],
            tokens: "secret",
            store: nil
        )
        _ = try guarded.makeApplication(host: "0.0.0.0", port: 0)
    }
}
