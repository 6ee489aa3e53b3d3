import Foundation
import RoadtestCore

/// Where the runner writes each graded trial as it finishes.
public protocol OutcomeSink: Sendable {
    /// Stores a graded trial and every attempt it took, atomically. Writing the same trial again replaces it
    /// (idempotent on the trial key).
    func record(_ outcome: Outcome, runID: String) async throws

    /// Stores several graded trials, each atomically, in as few transactions as the sink can (one for the SQL store).
    /// The result says, per outcome, whether it was written (a distributed worker's lease can have passed on).
    func record(batch outcomes: [Outcome], runID: String) async throws -> [Bool]
}

extension OutcomeSink {
    public func record(batch outcomes: [Outcome], runID: String) async throws -> [Bool] {
        for outcome in outcomes { try await record(outcome, runID: runID) }
        return outcomes.map { _ in true }
    }
}

/// The single source of truth for runs: persists runs, suites and outcome records, and streams them back.
/// It does not score: `report(runID:)` folds the stored records with `Scorer`. `SQLRunStore` implements it over
/// SQLite or PostgreSQL; `StoreLocation.open` hands it out with the store's other capabilities (`Store`).
public protocol RunStore: OutcomeSink {
    /// Records a new run with its suite. Secrets are never stored: the suite is stored redacted. A suite without
    /// cases leaves the run's `suite_hash` empty until `storeCases` writes them.
    func createRun(_ run: RunRecord, suite: Suite) async throws
    /// Writes a run's cases (upserted by id) and then sets its `suite_hash` to `suite`'s fingerprint: a run created
    /// from `suite.withoutCases` can start its trials while its cases are written (a run interrupted before the
    /// last case keeps an empty hash, so a resume writes them again).
    func storeCases(runID: String, suite: Suite) async throws
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
    /// How many cases a run has stored.
    func caseCount(runID: String) async throws -> Int
    /// Streams every outcome of a run with its attempts, without outputs, in (candidate, case, sample, variant)
    /// order; memory stays constant whatever the run's size.
    func forEachOutcome(runID: String, _ body: (OutcomeRecord) throws -> Void) async throws
    /// Trials for reports (with outputs), failures first when `failuresOnly`; `limit` bounds memory.
    func trialRows(runID: String, failuresOnly: Bool, limit: Int) async throws -> [TrialRow]
    /// One page of the run's trials that match `filter`, in the order reports list them, and the count of all that
    /// match (the database filters and pages: a page of a 100,000-trial run reads one page).
    func trialPage(runID: String, filter: TrialFilter, offset: Int, limit: Int) async throws -> TrialPage
    /// Stored attempts of one trial, task attempts first, in order.
    func attempts(runID: String, key: TrialKey) async throws -> [Attempt]
}

extension RunStore {
    /// The report of a stored run: its records folded by the scorer into one scorecard per scored candidate.
    public func report(runID: String) async throws -> RunReport? {
        guard let run = try await run(id: runID), let suite = try await suiteHeader(runID: runID) else { return nil }
        var scorer = Scorer(suite: suite, expectedCases: try await caseCount(runID: runID))
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
