import Foundation
import RoadtestCore

/// Where the runner writes each graded trial as it finishes.
public protocol OutcomeSink: Sendable {
    /// Stores a graded trial and every attempt it took, atomically. Writing the same trial again replaces it
    /// (idempotent on the trial key).
    func record(_ outcome: Outcome, runID: String) async throws
}

/// The single source of truth for runs: persists runs, suites and outcome records, and streams them back.
/// It does not score: `report(runID:)` folds the stored records with `Scorer`. `SQLiteStore` is the embedded
/// implementation; a shared one (PostgreSQL) plugs in behind the same protocol.
public protocol RunStore: OutcomeSink {
    /// Records a new run with its suite. Secrets are never stored: the suite is stored redacted.
    func createRun(_ run: RunRecord, suite: Suite) async throws
    /// Replaces a run's stored suite and cases (a resumed run whose suite changed); stored redacted too.
    func updateSuite(runID: String, suite: Suite, hash: String) async throws
    func setStatus(runID: String, status: RunStatus, finishedAt: String?) async throws
    func run(id: String) async throws -> RunRecord?
    /// The stored (redacted) suite of a run, with its cases.
    func suite(runID: String) async throws -> Suite?
    /// The stored (redacted) suite of a run without its cases (what scoring needs; a large suite stays on disk).
    func suiteHeader(runID: String) async throws -> Suite?
    /// Runs, newest first.
    func runs(limit: Int) async throws -> [RunRecord]
    /// The latest run of the suite at `suitePath` that did not finish.
    func latestUnfinishedRun(suitePath: String) async throws -> RunRecord?
    /// Trials of a run that already have an outcome (skipped on resume).
    func completedTrials(runID: String) async throws -> Set<TrialKey>
    func outcomeCount(runID: String) async throws -> Int
    /// Streams every outcome of a run with its attempts, without outputs, in (candidate, case, sample, variant)
    /// order; memory stays constant whatever the run's size.
    func forEachOutcome(runID: String, _ body: (OutcomeRecord) throws -> Void) async throws
    /// Trials for reports (with outputs), failures first when `failuresOnly`; `limit` bounds memory.
    func trialRows(runID: String, failuresOnly: Bool, limit: Int) async throws -> [TrialRow]
    /// Stored attempts of one trial, task attempts first, in order.
    func attempts(runID: String, key: TrialKey) async throws -> [Attempt]
    /// Stores a `roadtest load` report (its JSON document).
    func saveLoadRun(id: String, suiteName: String, startedAt: String, json: Data) async throws
    func loadRunJSON(id: String) async throws -> Data?
    /// Stores a `roadtest drill` report (its JSON document) under the faulted run's id.
    func saveDrill(runID: String, cleanRunID: String, startedAt: String, json: Data) async throws
    func drillJSON(runID: String) async throws -> Data?
    /// Stores requests the gateway served (idempotent on the request id).
    func recordGatewayRequests(_ records: [GatewayRecord]) async throws
    /// The latest gateway requests, newest first.
    func gatewayRequests(limit: Int) async throws -> [GatewayRecord]
    /// USD spent per route on requests received at or after `since` (seconds since 1970).
    func gatewaySpend(since: Double) async throws -> [String: Double]
    /// Stores a live request and a shadow candidate's answer to it.
    func recordShadowPair(_ pair: ShadowPair) async throws
    /// Shadow pairs, oldest first (of one route when given).
    func shadowPairs(route: String?, limit: Int) async throws -> [ShadowPair]
    /// Keeps a gateway request's input and output (a sampled share, already redacted).
    func recordGatewayBody(_ subject: FeedbackSubject) async throws
    /// Whether the gateway served a request with this id.
    func gatewayRequestExists(_ id: String) async throws -> Bool
    func recordFeedback(_ feedback: Feedback) async throws
    /// Every feedback, oldest first.
    func allFeedback() async throws -> [Feedback]
    /// What a feedback subject (`request:ID` or `trial:...`) was: its input and output, when stored.
    func feedbackSubject(_ subject: String) async throws -> FeedbackSubject?
    /// Items a person may review: kept gateway requests (newest first) and the failing trials of the latest run.
    func reviewSubjects(limit: Int) async throws -> [FeedbackSubject]
}

extension RunStore {
    /// The report of a stored run: its records folded by the scorer into one scorecard per scored candidate.
    public func report(runID: String) async throws -> RunReport? {
        guard let run = try await run(id: runID), let suite = try await suiteHeader(runID: runID) else { return nil }
        var scorer = Scorer(suite: suite)
        try await forEachOutcome(runID: runID) { scorer.add($0) }
        return RunReport(
            runID: run.id,
            suite: run.suiteName,
            suitePath: run.suitePath,
            status: run.status.rawValue,
            startedAt: run.startedAt,
            finishedAt: run.finishedAt,
            candidates: scorer.scorecards()
        )
    }

    /// Resolves `latest`, `latest~N` (the N-th run before the latest) or a run id.
    public func resolveRunID(_ reference: String) async throws -> String? {
        if reference == "latest" || reference.hasPrefix("latest~") {
            let back = reference == "latest" ? 0 : Int(reference.dropFirst("latest~".count)) ?? -1
            guard back >= 0 else { return nil }
            let runs = try await runs(limit: back + 1)
            return runs.count > back ? runs[back].id : nil
        }
        return try await run(id: reference)?.id
    }

    public func trialRows(runID: String, failuresOnly: Bool = false) async throws -> [TrialRow] {
        try await trialRows(runID: runID, failuresOnly: failuresOnly, limit: 100_000)
    }
}

/// Opening a store from the `--store` argument.
public enum StoreLocation {
    /// The default store path under the working directory.
    public static let defaultPath = ".roadtest/roadtest.db"

    /// Whether `location` names a PostgreSQL database rather than a SQLite file.
    public static func isPostgres(_ location: String) -> Bool {
        location.hasPrefix("postgres://") || location.hasPrefix("postgresql://")
    }

    /// Opens the store named by `location`: a `postgres://user@host:port/db` URL (password from `PGPASSWORD`) or a
    /// SQLite file path; either is created or migrated when needed.
    public static func open(
        _ location: String,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) async throws -> SQLRunStore {
        if isPostgres(location) {
            return SQLRunStore(database: try await PostgresDatabase.connect(url: location, environment: environment))
        }
        do {
            return try SQLiteStore(path: location)
        } catch {
            throw RoadtestError(.store, "cannot open the store at \(location)", cause: error)
        }
    }
}

extension RunStore {
    /// Every candidate's trials of a run, keyed for pairing, read in one pass.
    public func pairedTrials(runID: String) async throws -> [String: [PairKey: PairedTrial]] {
        var trials: [String: [PairKey: PairedTrial]] = [:]
        try await forEachOutcome(runID: runID) { record in
            // Attacks are compared by their security sections, not paired with the task's trials.
            guard record.outcome.attackPack == nil else { return }
            trials[record.outcome.key.candidate, default: [:]][PairKey(record.outcome.key)] = PairedTrial(record)
        }
        return trials
    }

    /// The finished runs of the suite at `suitePath`, oldest first: the latest `limit` of them.
    func finishedRuns(suitePath: String, limit: Int) async throws -> [RunRecord] {
        let path = URL(fileURLWithPath: suitePath).standardizedFileURL.path
        let runs = try await runs(limit: 10_000).filter { $0.suitePath == path && $0.status == .finished }
        guard !runs.isEmpty else {
            throw RoadtestError(
                .notFound,
                "no finished run of \(suitePath) in the store",
                hint: "run it first: roadtest run \(suitePath)"
            )
        }
        return Array(runs.prefix(max(1, limit)).reversed())
    }

    /// Compares two stored runs (`candidates` pairs base and head candidate ids; by default every candidate the
    /// two runs share, by id). Throws `notFound` for an unknown run and when nothing can be paired.
    public func compare(
        base baseReference: String,
        head headReference: String,
        candidates: [(base: String, head: String)]? = nil,
        comparison: RunComparison = RunComparison()
    ) async throws -> ComparisonReport {
        guard let baseID = try await resolveRunID(baseReference), let base = try await run(id: baseID) else {
            throw RoadtestError(.notFound, "no run '\(baseReference)'", hint: "list runs with `roadtest runs`")
        }
        guard let headID = try await resolveRunID(headReference), let head = try await run(id: headID) else {
            throw RoadtestError(.notFound, "no run '\(headReference)'", hint: "list runs with `roadtest runs`")
        }
        let baseSuite = try await suiteHeader(runID: baseID)
        let headSuite = try await suiteHeader(runID: headID)
        let baseCandidates = baseSuite?.scoredCandidates.map(\.id) ?? []
        let headCandidates = headSuite?.scoredCandidates.map(\.id) ?? []
        let pairs = candidates ?? baseCandidates.filter { headCandidates.contains($0) }.map { ($0, $0) }
        guard !pairs.isEmpty else {
            throw RoadtestError(
                .notFound,
                "runs \(baseID) and \(headID) share no candidate",
                hint: "name them: --candidates BASE_ID,HEAD_ID (base run's: \(baseCandidates.joined(separator: ", ")); "
                    + "head run's: \(headCandidates.joined(separator: ", ")))"
            )
        }
        let baseTrials = try await pairedTrials(runID: baseID)
        let headTrials = baseID == headID ? baseTrials : try await pairedTrials(runID: headID)
        var results: [CandidateComparison] = []
        var warnings: [String] = []
        for (baseCandidate, headCandidate) in pairs {
            guard baseCandidates.contains(baseCandidate) else {
                throw RoadtestError(.notFound, "run \(baseID) has no candidate '\(baseCandidate)'")
            }
            guard headCandidates.contains(headCandidate) else {
                throw RoadtestError(.notFound, "run \(headID) has no candidate '\(headCandidate)'")
            }
            let result = comparison.compare(
                baseID: baseCandidate,
                headID: headCandidate,
                base: baseTrials[baseCandidate] ?? [:],
                head: headTrials[headCandidate] ?? [:]
            )
            if result.unpaired > 0 {
                warnings.append(
                    "\(result.id): \(result.unpaired) trial(s) are in only one of the runs and are not compared"
                )
            }
            if let detectable = result.minimumDetectableDifference, comparison.minimumEffect > 0,
                detectable > comparison.minimumEffect
            {
                warnings.append(
                    detectable > 1
                        ? "\(result.id): \(result.pairs) pairs are too few to detect a difference; add cases or samples"
                        : String(
                            format: "%@: %d pairs can detect differences of about %.0f%% (80%% power), larger than "
                                + "--min-effect %.0f%%; add cases or samples",
                            result.id,
                            result.pairs,
                            detectable * 100,
                            comparison.minimumEffect * 100
                        )
                )
            }
            results.append(result)
        }
        guard results.contains(where: { $0.pairs > 0 }) else {
            throw RoadtestError(
                .notFound,
                "runs \(baseID) and \(headID) have no trial in common",
                hint: "compare runs of the same suite (same case ids)"
            )
        }
        return ComparisonReport(
            base: .init(runID: baseID, suite: base.suiteName),
            head: .init(runID: headID, suite: head.suiteName),
            candidates: results,
            alpha: comparison.alpha,
            minimumEffect: comparison.minimumEffect,
            warnings: warnings
        )
    }
}

extension RunStore {
    /// The base and head outputs of every flipped trial of a comparison, keyed for `ComparisonRenderer.html`.
    public func flippedOutputs(_ report: ComparisonReport) async throws -> [String: (base: String, head: String)] {
        func outputs(_ runID: String) async throws -> [String: String] {
            var byKey: [String: String] = [:]
            for row in try await trialRows(runID: runID, failuresOnly: false, limit: 200_000) {
                let variant = row.key.variant.isOriginal ? "" : row.key.variant.name
                byKey[
                    [row.key.candidate, row.key.caseID, String(row.key.sample), variant].joined(separator: "\u{1F}")
                ] =
                    row.output
            }
            return byKey
        }
        let base = try await outputs(report.base.runID)
        let head = try await outputs(report.head.runID)
        var result: [String: (base: String, head: String)] = [:]
        for candidate in report.candidates {
            for flip in candidate.flipped {
                let tail = [flip.caseID, String(flip.sample), flip.variant ?? ""]
                let key = ([candidate.id] + tail).joined(separator: "\u{1F}")
                result[key] = (
                    base[([candidate.baseID] + tail).joined(separator: "\u{1F}")] ?? "",
                    head[([candidate.headID] + tail).joined(separator: "\u{1F}")] ?? ""
                )
            }
        }
        return result
    }
}

extension RunStore {
    /// The finished runs of the suite at `suitePath` (oldest first, at most `limit`), each candidate's figures, and
    /// drift: each run compared (paired) with the previous run that had the same candidate.
    public func history(
        suitePath: String,
        limit: Int = 50,
        comparison: RunComparison = RunComparison()
    ) async throws
        -> HistoryReport
    {
        let runs = try await finishedRuns(suitePath: suitePath, limit: limit)
        var result: [HistoryReport.Run] = []
        // The latest trials of each candidate, for drift against the next run that has it.
        var previous: [String: [PairKey: PairedTrial]] = [:]
        for run in runs {
            guard let suite = try await suiteHeader(runID: run.id) else { continue }
            // One pass over the run feeds both the scorecards and the pairing.
            var scorer = Scorer(suite: suite)
            var trials: [String: [PairKey: PairedTrial]] = [:]
            try await forEachOutcome(runID: run.id) { record in
                scorer.add(record)
                guard record.outcome.attackPack == nil else { return }
                trials[record.outcome.key.candidate, default: [:]][PairKey(record.outcome.key)] = PairedTrial(record)
            }
            var points: [HistoryReport.Point] = []
            for card in scorer.scorecards() {
                var point = HistoryReport.Point(
                    candidate: card.id,
                    passRate: card.passRate,
                    passRateCI95: card.passRateCI95,
                    e2eP95Milliseconds: card.latencyMilliseconds.e2e.p95,
                    costPerSuccess: card.costUSD.perSuccess
                )
                let current = trials[card.id] ?? [:]
                if let before = previous[card.id] {
                    let paired = comparison.compare(baseID: card.id, headID: card.id, base: before, head: current)
                    if paired.pairs > 0 {
                        point.drift = paired.verdict
                        point.mcnemarP = paired.mcnemarP
                    }
                }
                previous[card.id] = current
                points.append(point)
            }
            result.append(HistoryReport.Run(runID: run.id, startedAt: run.startedAt, candidates: points))
        }
        return HistoryReport(
            suite: runs.last?.suiteName ?? "",
            suitePath: URL(fileURLWithPath: suitePath).standardizedFileURL.path,
            runs: result
        )
    }
}

extension RunStore {
    /// Each case's status over the last `runs` finished runs of the suite at `suitePath`.
    public func caseLifecycle(suitePath: String, runs count: Int = 5) async throws -> CaseLifecycleReport {
        let recent = try await finishedRuns(suitePath: suitePath, limit: count)
        var builder = CaseLifecycleReport.Builder()
        for run in recent {
            try await forEachOutcome(runID: run.id) { builder.add($0) }
        }
        return builder.report(suite: recent.last?.suiteName ?? "", runIDs: recent.map(\.id))
    }
}
