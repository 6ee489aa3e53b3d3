import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import RoadtestCore
import RoadtestReport
import RoadtestServer
import RoadtestStore
import Synchronization

/// `roadtest view`: one local web app over the store. Runs (filtered by suite and status), a run's scorecards and its
/// trials (filtered by candidate, tag, failed check, outcome class, pass/fail and text, paged by the database), one
/// trial with its input, system prompt, output, every check's verdict and every attempt, labelled good or bad with a
/// correction (a `Feedback`, source `review`), two runs compared (the paired view, flips listed) and a suite's
/// history. No external assets; everything from a model, a suite or a user is escaped.
///
/// Exposure: loopback, or beyond it only with a token (`ROADTEST_VIEW_TOKEN`; the browser presents it once as
/// `?token=` and keeps it in a cookie). A label is saved only from the app itself: every form carries this server's
/// random token, and a post whose `Origin` or `Sec-Fetch-Site` names another site is refused.
public final class ViewServer: Sendable {
    let runs: any RunStore
    let feedback: any FeedbackStore
    let gateway: (any GatewayStore)?
    /// The token every form carries, and the check of each post.
    let guardian = FormGuard()
    /// The access token beyond loopback (nil: loopback only).
    let accessToken: String?
    /// Trials per page.
    public static let pageSize = 50
    /// The scorecards of finished runs, folded once (a finished run's outcomes do not change): the last few opened.
    let reports = Mutex<[(id: String, report: RunReport)]>([])

    public init(
        runs: any RunStore,
        feedback: any FeedbackStore,
        gateway: (any GatewayStore)? = nil,
        accessToken: String? = nil
    ) {
        self.runs = runs
        self.feedback = feedback
        self.gateway = gateway
        self.accessToken = accessToken
    }

    public func makeRouter() -> Router<BasicRequestContext> {
        let router = Router()
        router.add(middleware: AccessMiddleware(token: accessToken))
        router.get("/") { request, _ in await self.respond { try await self.runsPage(request) } }
        router.get("/runs/:id") { request, context in
            await self.respond { try await self.runPage(request, id: context.parameters.get("id") ?? "") }
        }
        router.get("/runs/:id/trial") { request, context in
            await self.respond { try await self.trialPage(request, run: context.parameters.get("id") ?? "") }
        }
        router.get("/compare") { request, _ in await self.respond { try await self.comparePage(request) } }
        router.get("/history") { request, _ in await self.respond { try await self.historyPage(request) } }
        router.get("/gateway") { request, _ in await self.respond { try await self.gatewayPage(request) } }
        router.get("/shadow") { request, _ in await self.respond { try await self.shadowPage(request) } }
        router.post("/label") { request, _ in await self.label(request) }
        return router
    }

    /// The app on `host:port` (port 0 picks one). Beyond loopback only with an access token.
    public func makeApplication(
        host: String = "127.0.0.1",
        port: Int,
        onRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) throws -> some ApplicationProtocol {
        try HTTPServer.check(
            host: host,
            name: "viewer",
            exposure: .authenticatedBeyondLoopback(authenticated: accessToken != nil)
        )
        return HTTPServer.makeApplication(
            router: makeRouter(),
            name: "view",
            host: host,
            port: port,
            onRunning: onRunning
        )
    }

    /// A page, or the error that kept it from being built, said to the person.
    func respond(_ build: () async throws -> String) async -> Response {
        do {
            return Self.html(.ok, try await build())
        } catch let error as RoadtestError where error.code == .notFound {
            return Self.html(.notFound, ViewPage.shell("Not found", "<p>\(Escape.html(error.message))</p>"))
        } catch {
            return Self.html(
                .serviceUnavailable,
                ViewPage.shell("Store unavailable", "<p>The store could not be read: \(Escape.html("\(error)")).</p>")
            )
        }
    }

    static func html(_ status: HTTPResponse.Status, _ text: String) -> Response {
        Response(
            status: status,
            headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-store"],
            body: .init(byteBuffer: ByteBuffer(string: text))
        )
    }

    static func query(_ request: Request) -> [String: String] {
        var query: [String: String] = [:]
        for (key, value) in request.uri.queryParameters where !value.isEmpty {
            query[String(key)] = String(value).removingPercentEncoding ?? String(value)
        }
        return query
    }

    // MARK: - Pages

    func runsPage(_ request: Request) async throws -> String {
        let query = Self.query(request)
        let all = try await runs.runs(limit: 1_000)
        let shown = all.filter { run in
            if let suite = query["suite"], !run.suiteName.localizedCaseInsensitiveContains(suite) { return false }
            if let status = query["status"], run.status.rawValue != status { return false }
            return true
        }
        return ViewPage.runs(shown, total: all.count, query: query)
    }

    func runPage(_ request: Request, id: String) async throws -> String {
        guard let runID = try await runs.resolveRunID(id), let run = try await runs.run(id: runID) else {
            throw RoadtestError(.notFound, "no run '\(id)'")
        }
        let query = Self.query(request)
        let filter = TrialFilter(
            candidate: query["candidate"],
            tag: query["tag"],
            failedCheck: query["check"],
            outcomeClass: query["class"].flatMap(AttemptClass.init(rawValue:)),
            passed: query["passed"].map { $0 == "yes" },
            text: query["q"]
        )
        let page = max(1, query["page"].flatMap(Int.init) ?? 1)
        let trials = try await runs.trialPage(
            runID: runID,
            filter: filter,
            offset: (page - 1) * Self.pageSize,
            limit: Self.pageSize
        )
        let report = try await report(run)
        return ViewPage.run(run, report: report, trials: trials, page: page, query: query)
    }

    /// A run's report: folded from the store, kept for a finished run (the last eight).
    func report(_ run: RunRecord) async throws -> RunReport? {
        if let kept = reports.withLock({ $0.first { $0.id == run.id }?.report }) { return kept }
        guard let report = try await runs.report(runID: run.id) else { return nil }
        if run.status == .finished {
            reports.withLock { kept in
                kept.removeAll { $0.id == run.id }
                kept.insert((run.id, report), at: 0)
                if kept.count > 8 { kept.removeLast() }
            }
        }
        return report
    }

    func trialPage(_ request: Request, run id: String) async throws -> String {
        let query = Self.query(request)
        guard let runID = try await runs.resolveRunID(id), let run = try await runs.run(id: runID),
            let candidate = query["candidate"], let caseID = query["case"],
            let sample = query["sample"].flatMap(Int.init), let variant = Variant(name: query["variant"] ?? "")
        else { throw RoadtestError(.notFound, "no such trial in run '\(id)'") }
        let key = TrialKey(candidate: candidate, caseID: caseID, sample: sample, variant: variant)
        let rows = try await runs.trialPage(
            runID: runID,
            filter: TrialFilter(candidate: candidate, caseID: caseID),
            offset: 0,
            limit: 10_000
        ).rows
        guard let trial = rows.first(where: { $0.key == key }) else {
            throw RoadtestError(.notFound, "no trial \(candidate)/\(caseID)/\(sample) in run \(runID)")
        }
        let attempts = try await runs.attempts(runID: runID, key: key)
        // The subject as the review page and `cases export` name a trial (the variant's storage name).
        let subject = "trial:" + [runID, candidate, caseID, String(sample), variant.name].joined(separator: "/")
        let labels = try await feedback.allFeedback().filter { $0.subject == subject }
        return ViewPage.trial(
            run,
            trial: trial,
            attempts: attempts,
            subject: subject,
            labels: labels,
            formToken: guardian.token,
            saved: query["saved"] != nil
        )
    }

    func comparePage(_ request: Request) async throws -> String {
        let query = Self.query(request)
        guard let base = query["base"], let head = query["head"] else {
            return ViewPage.shell(
                "Compare",
                "<p>Pick two runs on the <a href=\"/\">runs page</a>.</p>"
            )
        }
        let report = try await runs.compare(base: base, head: head)
        return ComparisonRenderer.html(report, outputs: try await runs.flippedOutputs(report))
            .replacingOccurrences(of: "<body>", with: "<body>" + ViewPage.navigation, options: [], range: nil)
    }

    func historyPage(_ request: Request) async throws -> String {
        guard let suite = Self.query(request)["suite"] else {
            throw RoadtestError(.notFound, "name a suite path: /history?suite=PATH")
        }
        return HistoryRenderer.html(try await runs.history(suitePath: suite))
            .replacingOccurrences(of: "<body>", with: "<body>" + ViewPage.navigation, options: [], range: nil)
    }
}
