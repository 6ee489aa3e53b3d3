import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import RoadtestCore
import RoadtestProviders
import RoadtestStore
import RoadtestTestSupport
import Testing

/// `roadtest view`, as a person uses it: the built CLI serves a store holding two runs, and headless Chromium
/// (driven over the DevTools protocol) opens a run, filters to failed trials, opens one, labels it with the keyboard
/// and a correction, and compares the two runs. The label is then read back from the store.
/// Debian's chromium, when installed.
let viewChromium: String? = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].first {
    FileManager.default.isExecutableFile(atPath: $0)
}

@Suite(
    .serialized,
    .enabled(
        if: (OfficialSDK.python != nil && TestEnvironment.binary != nil && viewChromium != nil)
            || TestEnvironment.isCI,
        "build roadtest, run `make pyclients` and install Debian's chromium first"
    )
)
struct ViewTests {
    static var chromium: String? { viewChromium }

    static let scripts = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../scripts").standardizedFileURL.path

    static let browser = """
        import json, sys
        sys.path.insert(0, \(String(reflecting: scripts)))
        from devtools import page_in_chromium
        base, correction, chromium = sys.argv[1:4]
        with page_in_chromium(chromium) as page:
            def ready(expression):
                return page.wait_for("document.readyState === 'complete' && (" + expression + ")")
            result = {}
            page.navigate(base + "/")
            result["runs"] = ready("document.querySelectorAll('a.run').length === 2") and page.evaluate("document.querySelectorAll('a.run').length")
            # Open the latest run, filter to failed trials.
            page.evaluate("document.querySelector('a.run').click()")
            result["run_opened"] = ready("!!document.getElementById('scorecards')")
            result["all_count"] = page.evaluate("document.getElementById('count').textContent")
            page.evaluate("document.querySelector('select[name=passed]').value = 'no'; document.getElementById('filters').submit()")
            result["filtered"] = ready("location.search.includes('passed=no')")
            result["failed_count"] = page.evaluate("document.getElementById('count').textContent")
            result["failed_rows"] = page.evaluate("document.querySelectorAll('tr.trial').length")
            # Open the failed trial, label it with the keyboard and a correction.
            page.evaluate("document.querySelector('a.open').click()")
            result["trial_opened"] = ready("!!document.getElementById('output')")
            result["verdict"] = page.evaluate("document.getElementById('verdict').textContent")
            result["output"] = page.evaluate("document.getElementById('output').textContent")
            result["scripts"] = page.evaluate("document.querySelectorAll('script').length")
            page.key("g")
            result["good_checked"] = page.evaluate("document.getElementById('good').checked")
            page.evaluate("document.getElementById('correction').value = %s" % json.dumps(correction))
            page.evaluate("document.getElementById('save').click()")
            result["saved"] = ready("!!document.getElementById('saved')")
            result["label"] = page.evaluate("(document.querySelector('p.label') || {}).textContent")
            # Compare the two runs.
            page.navigate(base + "/")
            ready("document.querySelectorAll('input[name=base]').length === 2")
            page.evaluate("document.querySelectorAll('input[name=base]')[1].checked = true;"
                          " document.querySelectorAll('input[name=head]')[0].checked = true;"
                          " document.getElementById('compare').submit()")
            result["compared"] = ready("location.pathname === '/compare' && document.body.textContent.includes('Roadtest compare')")
            result["compare_text"] = page.evaluate("document.body.textContent.slice(0, 2000)")
            print(json.dumps(result))
        """

    /// Runs `roadtest view` on `store` in `directory` for `body`, which gets its base URL once it answers.
    static func withViewer(
        store: String,
        in directory: URL,
        port: Int? = nil,
        _ body: (String) async throws -> Void
    ) async throws {
        let binary = try #require(TestEnvironment.binary)
        var chosen = port
        if chosen == nil { chosen = await TestEnvironment.unusedPort() }
        let port = chosen ?? 0
        let base = "http://127.0.0.1:\(port)"
        try await TestProcess.run(
            [binary.path, "view", "--store", store, "--listen", "127.0.0.1:\(port)"],
            in: directory,
            errorLog: directory.appendingPathComponent("view.log")
        ) { viewer in
            defer { try? viewer.send(SIGTERM) }
            let up = try await eventually(timeout: .seconds(30)) {
                (try? await HTTPClient.shared.execute(HTTPClientRequest(url: base + "/"), timeout: .seconds(1))) != nil
            }
            try #require(up, "the viewer did not start")
            try await body(base)
        }
    }

    @Test func openARunFilterToFailuresLabelOneAndCompareTwoRuns() async throws {
        let python = try #require(OfficialSDK.python, "CI installs the Python clients (make pyclients)")
        let chromium = try #require(Self.chromium, "CI installs Debian's chromium")
        try await withSimulator { baseURL, _ in
            try await withTemporaryDirectory { directory in
                try writeFiles(
                    [
                        "suite.yaml": """
                        name: view-demo
                        candidates:
                          - {id: sim, base_url: "\(baseURL)", model: echo}
                        cases:
                          - {id: paris, prompt: "Say Paris", checks: [{contains: Paris}]}
                          - {id: berlin, prompt: "Say Berlin <b>bold</b>", checks: [{contains: Madrid}]}
                          - {id: rome, prompt: "Say Rome", checks: [{contains: Rome}]}
                        """
                    ],
                    in: directory
                )
                for _ in 0..<2 {
                    let run = try await runRoadtest(["run", "suite.yaml", "--store", "runs.db"], in: directory)
                    #expect(run.status == 0, "\(run.errors)")
                }
                try await Self.withViewer(store: "runs.db", in: directory) { base in
                    let result = try await OfficialSDK.run(Self.browser, [base, "Madrid is not Berlin", chromium])
                    #expect(result["runs"] == .number(2))
                    #expect(result["run_opened"] == .bool(true))
                    #expect(result["all_count"]?.stringValue?.hasPrefix("3 trials match") == true, "\(result)")
                    #expect(result["filtered"] == .bool(true))
                    #expect(result["failed_count"]?.stringValue?.hasPrefix("1 trials match") == true, "\(result)")
                    #expect(result["failed_rows"] == .number(1))
                    #expect(result["trial_opened"] == .bool(true))
                    #expect(result["verdict"] == .string("fail"))
                    // The model's text is shown as text, never as markup.
                    #expect(result["output"]?.stringValue?.contains("<b>bold</b>") == true, "\(result)")
                    #expect(result["scripts"] == .number(1), "only the page's own keyboard script")
                    #expect(result["good_checked"] == .bool(true))
                    #expect(result["saved"] == .bool(true), "\(result)")
                    #expect(result["label"]?.stringValue?.contains("Madrid is not Berlin") == true, "\(result)")
                    #expect(result["compared"] == .bool(true), "\(result)")
                    #expect(result["compare_text"]?.stringValue?.contains("sim") == true)
                }
                // The label is in the store, as a review label on the trial.
                let store = try Store.sqlite(path: directory.appendingPathComponent("runs.db").path)
                let labels = try await store.withRunning { try await store.feedback.allFeedback() }
                try #require(labels.count == 1)
                #expect(labels[0].isGood)
                #expect(labels[0].correction == "Madrid is not Berlin")
                #expect(labels[0].source == "review")
                #expect(labels[0].subject.hasPrefix("trial:") && labels[0].subject.contains("/sim/berlin/0/"))
            }
        }
    }

    @Test func aPostFromAnotherSiteOrWithoutTheTokenIsRefused() async throws {
        try await withTemporaryDirectory { directory in
            let port = await TestEnvironment.unusedPort()
            try await Self.withViewer(store: "runs.db", in: directory, port: port) { base in
                var request = HTTPClientRequest(url: base + "/label")
                request.method = .POST
                request.headers.add(name: "content-type", value: "application/x-www-form-urlencoded")
                request.headers.add(name: "origin", value: "https://evil.example")
                request.body = .bytes(ByteBuffer(string: "subject=trial%3Aa%2Fb%2Fc%2F0%2F&rating=up&token=guess"))
                let response = try await HTTPClient.shared.execute(request, timeout: .seconds(5))
                #expect(response.status == .forbidden)
            }
            // Beyond loopback without a token, the viewer does not start.
            let refused = try await runRoadtest(
                ["view", "--store", "runs.db", "--listen", "0.0.0.0:\(port)"],
                in: directory,
                timeout: 30
            )
            #expect(refused.status == 1)
            #expect(
                refused.errors.contains("ROADTEST_VIEW_TOKEN") || refused.errors.contains("auth"),
                "\(refused.errors)"
            )
        }
    }

    @Test func gatewayTrafficAndShadowPairsAreListed() async throws {
        try await withSimulator { baseURL, _ in
            try await withTemporaryDirectory { directory in
                try writeFiles(
                    [
                        "policy.yaml": """
                        candidates:
                          - {id: main, base_url: \(baseURL), model: "main;reply=<i>live</i>"}
                          - {id: next, base_url: \(baseURL), model: "next;reply=shadow answer"}
                        routes:
                          - {name: default, candidate: main, shadow: {candidates: [next], sample: 100%}}
                        """
                    ],
                    in: directory
                )
                let status = try await GatewayDrainTests.withGateway(
                    ["--policy", "policy.yaml", "--store", "gw.db"],
                    in: directory
                ) { port, gateway in
                    for _ in 0..<2 {
                        var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/v1/chat/completions")
                        request.method = .POST
                        request.headers.add(name: "content-type", value: "application/json")
                        request.body = .bytes(
                            ByteBuffer(
                                string: #"{"model": "default", "messages": [{"role": "user", "content": "hi"}]}"#
                            )
                        )
                        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
                        _ = try await response.body.collect(upTo: 1 << 20)
                        #expect(response.status == .ok)
                    }
                    try gateway.send(SIGTERM)
                }
                #expect(status == 0)
                try await Self.withViewer(store: "gw.db", in: directory) { base in
                    func page(_ path: String) async throws -> String? {
                        guard
                            let response = try? await HTTPClient.shared.execute(
                                HTTPClientRequest(url: base + path),
                                timeout: .seconds(5)
                            ), response.status == .ok
                        else { return nil }
                        return String(buffer: try await response.body.collect(upTo: 1 << 22))
                    }
                    var traffic: String?
                    _ = try await eventually(timeout: .seconds(30)) {
                        traffic = try await page("/gateway")
                        return traffic != nil
                    }
                    let text = try #require(traffic)
                    #expect(text.contains("2 of the latest 2 requests"), "\(text)")
                    #expect(text.components(separatedBy: "<tr class=\"request\">").count == 3)
                    var shadow: String?
                    // Shadow copies are stored off the client's path: wait until both are.
                    _ = try await eventually(timeout: .seconds(10)) {
                        shadow = try await page("/shadow")
                        return shadow?.contains("2 pairs") == true
                    }
                    let pairs = try #require(shadow)
                    #expect(pairs.contains("2 pairs"), "\(pairs)")
                    #expect(pairs.contains("shadow answer"))
                    // The live answer's markup is shown as text.
                    #expect(pairs.contains("&lt;i&gt;live&lt;/i&gt;") && !pairs.contains("<i>live</i>"))
                }
            }
        }
    }
}
