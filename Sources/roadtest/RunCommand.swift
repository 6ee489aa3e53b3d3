import ArgumentParser
import Foundation
import RoadtestCore
import RoadtestProviders
import RoadtestRunner
import RoadtestStore
import RoadtestSuite

struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Evaluate every candidate of a suite and print one scorecard per candidate.",
        discussion: """
            Results stream into the store as they finish. Ctrl-C stops promptly and keeps every finished \
            trial; `roadtest run SUITE --resume` continues the latest unfinished run of that suite.
            """
    )

    @Argument(help: "The suite file (YAML).")
    var suite: String

    @Flag(name: .long, help: "Continue the latest unfinished run of this suite instead of starting a new one.")
    var resume = false

    @Option(name: .long, help: "Use this candidate as the judge for `judge` checks (it is not scored).")
    var judge: String?

    @Option(name: .long, help: "Only run these candidates (repeatable; judges are kept).")
    var candidate: [String] = []

    @Option(name: .long, help: "Override every candidate's concurrency.")
    var concurrency: Int?

    @Flag(name: .long, help: "Never show the progress bar.")
    var noProgress = false

    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        let code = try await withUserFacingErrors { try await execute() }
        throw ExitCode(code)
    }

    func execute() async throws -> Int32 {
        var suite = try SuiteLoader().load(path: self.suite)
        suite = try applyOverrides(to: suite)
        let store = try storeOptions.open()
        let suitePath = URL(fileURLWithPath: self.suite).standardizedFileURL.path
        let hash = SuiteHash.of(suite)

        var runID: String
        var completed: Set<TrialKey> = []
        if resume, let previous = try store.latestUnfinishedRun(suitePath: suitePath) {
            runID = previous.id
            completed = try store.completedTrials(runID: runID)
            if previous.suiteHash != hash {
                printError("roadtest: note: the suite changed since run \(runID) started; finished trials are kept, new and changed cases run now")
                try store.updateSuite(runID: runID, suite: suite, hash: hash)
            }
            try store.setStatus(runID: runID, status: Store.RunStatus.running, finishedAt: nil)
            printError("roadtest: resuming run \(runID): \(completed.count) trial\(completed.count == 1 ? "" : "s") already done")
        } else {
            if resume { printError("roadtest: no unfinished run of \(self.suite) to resume; starting a new run") }
            runID = RunID.make()
            try store.createRun(
                Store.RunRecord(
                    id: runID, suiteName: suite.name, suitePath: suitePath, suiteHash: hash, status: Store.RunStatus.running,
                    startedAt: Store.timestamp(), version: Roadtest.version),
                suite: suite)
        }

        let done = completed
        let plan = Runner.plan(for: suite)
        let remaining = plan.filter { !completed.contains($0) }.count
        let progress = RunProgress(total: plan.count, alreadyDone: plan.count - remaining)
        let transport = HTTPTransport()
        let interrupted: Bool
        do {
            interrupted = try await CandidateEndpoints.with(suite: suite, transport: transport, announce: { printError("roadtest: " + $0) }) { providers in
                let runner = Runner(suite: suite, store: store, runID: runID, providers: providers, progress: progress, defaultJudge: judge)
                let showProgress = !noProgress && isInteractive(STDERR_FILENO)
                return await Interruptible.run(progress: showProgress ? progress : nil) {
                    try await runner.run(skipping: done)
                }
            }
        } catch {
            await transport.shutdown()
            try? store.setStatus(runID: runID, status: Store.RunStatus.interrupted, finishedAt: nil)
            throw error
        }
        await transport.shutdown()

        if interrupted {
            try store.setStatus(runID: runID, status: Store.RunStatus.interrupted, finishedAt: nil)
            let done = try store.outcomeCount(runID: runID)
            printError("roadtest: interrupted; \(done) of \(plan.count) trials are stored in run \(runID). Continue with: roadtest run \(self.suite) --resume")
            return ExitStatus.interrupted
        }
        try store.setStatus(runID: runID, status: Store.RunStatus.finished, finishedAt: Store.timestamp())
        guard let report = try store.report(runID: runID) else { throw UserFacingError("run \(runID) vanished from the store") }
        try output.emit(report, store: store)
        return report.barsMet ? ExitStatus.barsMet : ExitStatus.barsNotMet
    }

    func applyOverrides(to suite: Suite) throws -> Suite {
        var suite = suite
        if let judge {
            guard let index = suite.candidates.firstIndex(where: { $0.id == judge }) else {
                throw UserFacingError("--judge \(judge): no candidate has that id (candidates: \(suite.candidates.map(\.id).joined(separator: ", ")))")
            }
            suite.candidates[index].isJudge = true
        }
        if !candidate.isEmpty {
            for id in candidate where !suite.candidates.contains(where: { $0.id == id }) {
                throw UserFacingError("--candidate \(id): no candidate has that id (candidates: \(suite.candidates.map(\.id).joined(separator: ", ")))")
            }
            suite.candidates = suite.candidates.filter { candidate.contains($0.id) || $0.isJudge }
        }
        if let concurrency {
            guard concurrency > 0 else { throw UserFacingError("--concurrency must be above 0") }
            for index in suite.candidates.indices { suite.candidates[index].settings.concurrency = concurrency }
        }
        if suite.scoredCandidates.isEmpty { throw UserFacingError("no candidate left to evaluate") }
        return suite
    }
}

/// Run identifiers: sortable by time, unique enough for one machine.
enum RunID {
    static func make(date: Date = Date()) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMdd-HHmmss"
        return formatter.string(from: date) + "-" + String(format: "%04x", UInt16.random(in: 0...UInt16.max))
    }
}

/// A stable fingerprint of a suite (FNV-1a over its JSON), to notice a suite changed under a resumed run.
enum SuiteHash {
    static func of(_ suite: Suite) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let data = (try? encoder.encode(suite)) ?? Data()
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in data {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01b3
        }
        return String(format: "%016llx", hash)
    }
}
