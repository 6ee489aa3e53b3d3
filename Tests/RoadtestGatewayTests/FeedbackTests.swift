import Foundation
import Hummingbird
import RoadtestCore
import RoadtestGateway
import RoadtestProviders
import RoadtestStore
import RoadtestSuite
import RoadtestTestSupport
import Testing

/// Debian's chromium, when installed.
let chromiumBinary: String? = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].first {
    FileManager.default.isExecutableFile(atPath: $0)
}

/// Feedback through the API and the review page (in headless Chromium, driven over the DevTools protocol), then
/// exported as suite cases that load.
@Suite(
    .serialized,
    .enabled(
        if: (pythonClients != nil && chromiumBinary != nil) || TestEnvironment.isCI,
        "run `make pyclients` and install Debian's chromium first"
    )
)
struct FeedbackTests {
    static var chromium: String? { chromiumBinary }
    static let scripts = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../scripts").standardizedFileURL.path

    static let browser = """
        import json, sys, time
        sys.path.insert(0, \(String(reflecting: scripts)))
        from devtools import page_in_chromium
        url, subject, correction, chromium = sys.argv[1:5]
        with page_in_chromium(chromium) as page:
            item = "[...document.querySelectorAll('.item')].find(i => i.dataset.subject === %s)" % json.dumps(subject)
            page.navigate(url)
            result = {"loaded": page.wait_for("document.readyState === 'complete' && !!" + item)}
            result["items"] = page.evaluate("document.querySelectorAll('.item').length")
            page.evaluate("(() => { const it = %s; it.querySelector('input[value=up]').checked = true;"
                          " it.querySelector('textarea').value = %s; it.querySelector('button').click(); return true })()"
                          % (item, json.dumps(correction)))
            result["saved"] = page.wait_for("document.readyState === 'complete' && !!%s && %s.textContent.includes('rated up')"
                                            % (item, item))
            page.navigate(url + "?rating=up")
            page.wait_for("document.readyState === 'complete' && location.search.includes('rating=up')")
            time.sleep(0.3)
            result["good_items"] = page.evaluate("document.querySelectorAll('.item').length")
            result["escaped"] = page.evaluate("document.querySelectorAll('script').length") == 0
            print(json.dumps(result))
        """

    @Test func feedbackFromTheAPIAndTheReviewPageBecomesCases() async throws {
        let python = try #require(pythonClients, "CI installs the Python clients (make pyclients)")
        let chromium = try #require(Self.chromium, "CI installs Debian's chromium")
        try await withSimulator { upstream, _ in
            let store = try Store.inMemory()
            let ids = try await GatewayTests.withGateway(
                """
                candidates:
                  - {id: main, base_url: BASE_URL, model: main}
                routes:
                  - {name: default, candidate: main}
                bodies: {sample: 100%, redact: ['\\d{4}-\\d{4}']}
                """,
                upstream: upstream,
                store: store
            ) { url, _ in
                var ids: [String] = []
                for prompt in [
                    "What is the capital of France? <script>alert(1)</script>", "My card is 1234-5678, help",
                ] {
                    let reply = try await GatewayTests.send(
                        url + "/v1/chat/completions",
                        body: GatewayTests.chat("default", prompt)
                    )
                    ids.append(try #require(reply.headers["x-roadtest-request-id"]))
                }
                let feedback = url + "/v1/feedback"
                let ok = try await GatewayTests.send(
                    feedback,
                    body: #"{"request_id": "\#(ids[0])", "rating": "down", "correction": "Paris", "comment": "wrong"}"#
                )
                #expect(ok.status == 200, "\(ok.body)")
                let stars = try await GatewayTests.send(feedback, body: #"{"request_id": "\#(ids[0])", "rating": 7}"#)
                #expect(stars.status == 400 && stars.body.contains("up, down or 1-5"))
                let unknown = try await GatewayTests.send(feedback, body: #"{"request_id": "rt-nope", "rating": "up"}"#)
                #expect(unknown.status == 404)
                return ids
            }
            // Kept bodies are redacted before they are stored.
            let card = try #require(try await store.feedback.feedbackSubject("request:" + ids[1]))
            #expect(card.input == "My card is [redacted], help" && card.output.contains("[redacted]"))
            // The review page in a real browser: label the second answer good, with a correction.
            let review = ReviewServer(store: store.feedback)
            let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
            let app = try review.makeApplication(port: 0) { continuation.yield($0) }
            let server = Task { try await app.run() }
            var iterator = ports.makeAsyncIterator()
            let port = try #require(await iterator.next())
            let outcome = try await ProcessRunner.run(
                [
                    python, "-c", Self.browser, "http://127.0.0.1:\(port)/", "request:" + ids[1], "Call your bank.",
                    chromium,
                ],
                timeout: 120
            )
            server.cancel()
            _ = await server.result
            let stdout = String(decoding: outcome.standardOutput, as: UTF8.self)
            #expect(outcome.status == 0, "\(String(decoding: outcome.standardError, as: UTF8.self))")
            let result = try #require(JSONValue.parse(Data(stdout.utf8)), "\(stdout)")
            #expect(result["loaded"] == .bool(true) && result["items"] == .number(2))
            #expect(result["saved"] == .bool(true))
            #expect(result["good_items"] == .number(1))
            // The prompt's <script> was shown as text, not run.
            #expect(result["escaped"] == .bool(true))
            let all = try await store.feedback.allFeedback()
            #expect(all.map(\.source) == ["api", "review"])
            #expect(all.last?.subject == "request:" + ids[1] && all.last?.correction == "Call your bank.")
            // Export: one case per rated answer, the correction expected; the cases load in a suite.
            var subjects: [String: FeedbackSubject] = [:]
            for item in all { subjects[item.subject] = try await store.feedback.feedbackSubject(item.subject) }
            let (cases, skipped) = FeedbackExport.cases(feedback: all, subjects: subjects)
            #expect(cases.count == 2 && skipped == 0)
            try await withTemporaryDirectory { directory in
                try writeFiles(
                    [
                        "cases.jsonl": cases.map(\.jsonText).joined(separator: "\n") + "\n",
                        "suite.yaml": """
                        name: from-feedback
                        candidates: [{id: a, base_url: "http://127.0.0.1:1/v1"}]
                        cases: [{file: cases.jsonl}]
                        """,
                    ],
                    in: directory
                )
                let suite = try SuiteLoader().load(path: directory.appendingPathComponent("suite.yaml").path)
                #expect(suite.cases.count == 2)
                let capital = try #require(suite.cases.first { $0.input.contains("capital") })
                #expect(capital.checks.first?.kind == .icontains("Paris"))
                #expect(capital.tags.contains("default") && capital.tags.contains("feedback"))
                let bank = try #require(suite.cases.first { $0.input.contains("card") })
                #expect(bank.checks.first?.kind == .icontains("Call your bank."))
            }
        }
    }
}
