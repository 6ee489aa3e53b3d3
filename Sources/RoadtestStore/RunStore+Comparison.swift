import Foundation
import RoadtestCore

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
