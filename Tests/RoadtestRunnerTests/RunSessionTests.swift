import Foundation
import RoadtestCore
import RoadtestRunner
import RoadtestStore
import RoadtestTestSupport
import Synchronization
import Testing

/// The run lifecycle the CLI drives: finished, interrupted and failed are different endings.
@Suite(.serialized) struct RunSessionTests {
    /// The real SQLite store seen at the protocol seam: each stored outcome is counted (`stored`), and a write
    /// failure can be injected after `failAfter` outcomes (a full disk, say).
    final class ObservedStore: RunStore, @unchecked Sendable {
        let base: any RunStore
        let failAfter: Int
        let stored = OutcomeCounter()
        private let lock = NSLock()
        private var written = 0

        /// Writing the cases fails (the run's trials start while they are written).
        let failStoringCases: Bool

        init(base: any RunStore, failAfter: Int = .max, failStoringCases: Bool = false) {
            self.base = base
            self.failAfter = failAfter
            self.failStoringCases = failStoringCases
        }

        struct DiskFull: Error, CustomStringConvertible { var description: String { "disk I/O error" } }

        func record(_ outcome: Outcome, runID: String) async throws {
            let count = lock.withLock { () -> Int in
                written += 1
                return written
            }
            if count > failAfter { throw DiskFull() }
            try await base.record(outcome, runID: runID)
            stored.add()
        }
        func createRun(_ run: RunRecord, suite: Suite) async throws { try await base.createRun(run, suite: suite) }
        func caseCount(runID: String) async throws -> Int { try await base.caseCount(runID: runID) }
        func storeCases(runID: String, suite: Suite) async throws {
            if failStoringCases { throw DiskFull() }
            try await base.storeCases(runID: runID, suite: suite)
        }
        func updateSuite(runID: String, suite: Suite, hash: String) async throws {
            try await base.updateSuite(runID: runID, suite: suite, hash: hash)
        }
        func setStatus(runID: String, status: RunStatus, finishedAt: String?) async throws {
            try await base.setStatus(runID: runID, status: status, finishedAt: finishedAt)
        }
        func run(id: String) async throws -> RunRecord? { try await base.run(id: id) }
        func suite(runID: String) async throws -> Suite? { try await base.suite(runID: runID) }
        func suiteHeader(runID: String) async throws -> Suite? { try await base.suiteHeader(runID: runID) }
        func runs(limit: Int) async throws -> [RunRecord] { try await base.runs(limit: limit) }
        func latestUnfinishedRun(suitePath: String) async throws -> RunRecord? {
            try await base.latestUnfinishedRun(suitePath: suitePath)
        }
        func completedTrials(runID: String) async throws -> Set<TrialKey> {
            try await base.completedTrials(runID: runID)
        }
        func outcomeCount(runID: String) async throws -> Int { try await base.outcomeCount(runID: runID) }
        func forEachOutcome(runID: String, _ body: (OutcomeRecord) throws -> Void) async throws {
            try await base.forEachOutcome(runID: runID, body)
        }
        func trialRows(runID: String, failuresOnly: Bool, limit: Int) async throws -> [TrialRow] {
            try await base.trialRows(runID: runID, failuresOnly: failuresOnly, limit: limit)
        }
        func trialPage(runID: String, filter: TrialFilter, offset: Int, limit: Int) async throws -> TrialPage {
            try await base.trialPage(runID: runID, filter: filter, offset: offset, limit: limit)
        }
        func attempts(runID: String, key: TrialKey) async throws -> [Attempt] {
            try await base.attempts(runID: runID, key: key)
        }
    }

    func suiteFile(_ baseURL: String, cases: Int, in directory: URL, model: String = "echo") throws -> String {
        let lines = (1...cases).map { "  - {id: c\($0), prompt: hello \($0), checks: [{contains: hello}]}" }
        try writeFiles(
            [
                "suite.yaml": """
                name: session
                candidates: [{id: echo, base_url: \(baseURL), model: "\(model)", concurrency: 1}]
                cases:
                \(lines.joined(separator: "\n"))
                """
            ],
            in: directory
        )
        return directory.appendingPathComponent("suite.yaml").path
    }

    @Test func aStoreFailureFailsTheRunItIsNotAnInterruption() async throws {
        try await withSimulator { baseURL, _ in
            try await withTemporaryDirectory { directory in
                let path = try suiteFile(baseURL, cases: 6, in: directory)
                let base = try Store.sqlite(path: directory.appendingPathComponent("store.db").path).runs
                let session = RunSession(
                    store: ObservedStore(base: base, failAfter: 2),
                    options: .init(suitePath: path)
                )
                // When the store fails mid-run, the session throws the store's error instead of claiming an interrupt
                await #expect(throws: ObservedStore.DiskFull.self) { _ = try await session.execute() }
                // And the run is marked failed, its finished work kept, and --resume finishes it
                let run = try #require(try await base.runs(limit: 1).first)
                #expect(run.status == .failed)
                #expect(try await base.outcomeCount(runID: run.id) == 2)
                let resumed = RunSession(store: base, options: .init(suitePath: path, resume: true))
                guard case .finished(let report) = try await resumed.execute() else {
                    Issue.record("the resumed run did not finish")
                    return
                }
                #expect(report.runID == run.id && report.candidates[0].trials == 6)
            }
        }
    }

    @Test func aRunWhoseCasesWereNotAllStoredStoresThemOnResume() async throws {
        try await withSimulator { baseURL, _ in
            try await withTemporaryDirectory { directory in
                let path = try suiteFile(baseURL, cases: 6, in: directory)
                let base = try Store.sqlite(path: directory.appendingPathComponent("store.db").path).runs
                // When writing the cases fails while the trials run, the run fails with that error
                let session = RunSession(
                    store: ObservedStore(base: base, failStoringCases: true),
                    options: .init(suitePath: path)
                )
                await #expect(throws: ObservedStore.DiskFull.self) { _ = try await session.execute() }
                let run = try #require(try await base.runs(limit: 1).first)
                #expect(run.status == .failed && run.suiteHash.isEmpty)
                // Then --resume writes the cases, says nothing of a changed suite, and finishes the run
                let notes = Mutex<[String]>([])
                let resumed = RunSession(
                    store: base,
                    options: .init(suitePath: path, resume: true),
                    announce: { note in notes.withLock { $0.append(note) } }
                )
                guard case .finished(let report) = try await resumed.execute() else {
                    Issue.record("the resumed run did not finish")
                    return
                }
                #expect(report.runID == run.id && report.candidates[0].trials == 6)
                #expect(try await base.suite(runID: run.id)?.cases.map(\.id) == (1...6).map { "c\($0)" })
                #expect(try await base.run(id: run.id)?.suiteHash.isEmpty == false)
                #expect(!notes.withLock { $0 }.contains { $0.contains("suite changed") }, "\(notes.withLock { $0 })")
            }
        }
    }

    @Test func cancellingTheSessionInterruptsItAndKeepsFinishedWork() async throws {
        try await withSimulator { baseURL, _ in
            try await withTemporaryDirectory { directory in
                let path = try suiteFile(baseURL, cases: 20, in: directory, model: "echo;ttft=100ms")
                let store = ObservedStore(
                    base: try Store.sqlite(path: directory.appendingPathComponent("store.db").path).runs
                )
                let session = RunSession(store: store, options: .init(suitePath: path))
                let task = Task {
                    defer { store.stored.finish() }
                    return try await session.execute()
                }
                // When three outcomes are stored (whatever the time it took), the session is cancelled
                #expect(await store.stored.wait(for: 3), "the run ended before storing three outcomes")
                task.cancel()
                // Then it ends interrupted, with those three and any finished since, and short of the whole run
                guard case .interrupted(let runID, let stored, let total) = try await task.value else {
                    Issue.record("expected an interrupted ending")
                    return
                }
                #expect(total == 20 && stored >= 3 && stored < 20, "stored \(stored)")
                #expect(try await store.outcomeCount(runID: runID) == stored)
                #expect(try await store.run(id: runID)?.status == .interrupted)
            }
        }
    }

    @Test func overridesAreCheckedAndAnEmptySelectionIsAnError() async throws {
        try await withTemporaryDirectory { directory in
            let path = try suiteFile("http://127.0.0.1:1/v1", cases: 1, in: directory)
            let store = try Store.inMemory().runs
            for options in [
                RunSession.Options(suitePath: path, judge: "nobody"),
                RunSession.Options(suitePath: path, candidates: ["missing"]),
                RunSession.Options(suitePath: path, concurrency: 0),
            ] {
                await #expect(throws: RoadtestError.self) {
                    _ = try await RunSession(store: store, options: options).execute()
                }
            }
            #expect(try await store.runs(limit: 10).isEmpty)
        }
    }
}
