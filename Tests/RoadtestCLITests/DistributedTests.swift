import Foundation
import RoadtestCore
import RoadtestLocal
import RoadtestServer
import RoadtestTestSupport
import Testing

/// `run --distributed` and `roadtest worker` as a user runs them: a real PostgreSQL server, the coordinator and
/// four worker processes, one of them killed with SIGKILL mid-run.
@Suite(
    .serialized,
    .enabled(if: TestEnvironment.binary != nil, "build the roadtest executable first (swift build)"),
    .enabled(if: PostgresServer.isInstalled || TestEnvironment.isCI, "install PostgreSQL first (make test does)")
)
struct DistributedTests {
    /// A started `roadtest` process; its output goes to files in the test's directory.
    final class Launched: @unchecked Sendable {
        let process = Process()
        let name: String
        let directory: URL

        init(_ arguments: [String], name: String, in directory: URL, environment: [String: String]) throws {
            self.name = name
            self.directory = directory
            process.executableURL = try #require(TestEnvironment.binary)
            process.arguments = arguments
            process.currentDirectoryURL = directory
            var environment = environment
            environment["NO_COLOR"] = "1"
            process.environment = environment
            FileManager.default.createFile(atPath: directory.appendingPathComponent("\(name).err").path, contents: nil)
            process.standardError = try FileHandle(forWritingTo: directory.appendingPathComponent("\(name).err"))
            process.standardOutput = FileHandle.nullDevice
            try process.run()
        }

        var errors: String {
            (try? String(contentsOf: directory.appendingPathComponent("\(name).err"), encoding: .utf8)) ?? ""
        }

        /// Waits for the process to exit (at most `timeout` seconds) and returns its status.
        func wait(timeout: Double = 120) async throws -> Int32 {
            let deadline = ContinuousClock.now + .seconds(timeout)
            while process.isRunning {
                if ContinuousClock.now > deadline {
                    process.terminate()
                    Issue.record("\(name) did not exit within \(timeout)s: \(errors)")
                    break
                }
                try await Task.sleep(for: .milliseconds(100))
            }
            process.waitUntilExit()
            return process.terminationStatus
        }
    }

    static func suiteText(_ baseURL: String) -> String {
        let cases = (0..<60).map { index in
            "  - {id: case-\(index), prompt: \"item \(index)\", checks: [{contains: \"\(index % 3 == 0 ? "zzz" : "item")\"}]}"
        }
        return """
            name: distributed
            candidates:
              - {id: steady, base_url: \(baseURL), model: "echo;ttft=250ms;itl=2ms", price: {input: 1, output: 2}}
              - {id: other, base_url: \(baseURL), model: "echo;ttft=150ms;itl=2ms", price: {input: 3, output: 1}}
            defaults: {concurrency: 4}
            cases:
            \(cases.joined(separator: "\n"))
            bars: {pass_rate: 0.5}
            """
    }

    /// The report's figures that do not depend on timing: latency and throughput are dropped.
    static func timeless(_ path: URL) throws -> [String] {
        let object = try JSONSerialization.jsonObject(with: Data(contentsOf: path))
        let candidates = try #require((object as? [String: Any])?["candidates"] as? [[String: Any]])
        func strip(_ value: Any) -> Any {
            if let dictionary = value as? [String: Any] {
                var kept: [String: Any] = [:]
                for (key, inner) in dictionary where !["latency_ms", "output_tokens_per_s"].contains(key) {
                    kept[key] = strip(inner)
                }
                return kept
            }
            if let array = value as? [Any] { return array.map(strip) }
            return value
        }
        return try candidates.map {
            String(decoding: try JSONSerialization.data(withJSONObject: strip($0), options: .sortedKeys), as: UTF8.self)
        }
    }

    @Test func fourWorkersOneKilledFinishTheRunWithTheSingleProcessScorecard() async throws {
        try await PostgresServer.with { server in
            try await withSimulator { baseURL, simulator in
                try await withTemporaryDirectory { directory in
                    try writeFiles(["suite.yaml": Self.suiteText(baseURL)], in: directory)
                    let environment = server.environment
                    let url = server.url()

                    // The reference: one process, one SQLite file.
                    let single = try Launched(
                        ["run", "suite.yaml", "--store", "single.db", "--json", "single.json"],
                        name: "single",
                        in: directory,
                        environment: environment
                    )
                    let singleStatus = try await single.wait()
                    #expect(singleStatus == 0, "\(single.errors)")
                    let singleRequests = simulator.servedRequests.count

                    // The coordinator queues the run; four workers take it.
                    let coordinator = try Launched(
                        ["run", "suite.yaml", "--store", url, "--distributed", "--json", "distributed.json"],
                        name: "coordinator",
                        in: directory,
                        environment: environment
                    )
                    var workers: [Launched] = []
                    for index in 0..<4 {
                        workers.append(
                            try Launched(
                                [
                                    "worker", "--store", url, "--concurrency", "3", "--lease", "4", "--idle", "30",
                                    "--id", "w\(index)",
                                ],
                                name: "worker-\(index)",
                                in: directory,
                                environment: environment
                            )
                        )
                    }
                    // When worker 0 has outcomes stored and trials in flight, it is killed without warning.
                    let deadline = ContinuousClock.now + .seconds(60)
                    while ContinuousClock.now < deadline {
                        // (Until the coordinator has created the tables, psql fails: not yet.)
                        let done =
                            Int(
                                (try? await server.psql(
                                    "SELECT count(*) FROM trial_queue WHERE state = 'done' AND worker = 'w0'"
                                )) ?? ""
                            ) ?? 0
                        let held =
                            Int(
                                (try? await server.psql(
                                    "SELECT count(*) FROM trial_queue WHERE state = 'leased' AND worker = 'w0'"
                                )) ?? ""
                            ) ?? 0
                        if done >= 3 && held > 0 { break }
                        try await Task.sleep(for: .milliseconds(50))
                    }
                    let inFlightWhenKilled =
                        Int(
                            try await server.psql(
                                "SELECT count(*) FROM trial_queue WHERE state = 'leased' AND worker = 'w0'"
                            )
                        ) ?? 0
                    kill(workers[0].process.processIdentifier, SIGKILL)
                    #expect(inFlightWhenKilled > 0)

                    let coordinatorStatus = try await coordinator.wait(timeout: 180)
                    #expect(coordinatorStatus == singleStatus, "\(coordinator.errors)")
                    for worker in workers.dropFirst() {
                        let status = try await worker.wait(timeout: 60)
                        #expect(status == 0, "\(worker.name): \(worker.errors)")
                    }
                    _ = try await workers[0].wait()
                    #expect(workers[0].process.terminationReason == .uncaughtSignal)

                    // Nothing lost, nothing stored twice: every trial has one outcome and the queue is done.
                    let trials = 120
                    let runID = try await server.psql("SELECT id FROM run")
                    #expect(
                        try await server.psql("SELECT count(*) FROM outcome WHERE run_id = '\(runID)'") == "\(trials)"
                    )
                    #expect(
                        try await server.psql("SELECT count(*) FROM trial_queue WHERE state = 'done'") == "\(trials)"
                    )
                    #expect(try await server.psql("SELECT status FROM run") == "finished")
                    // Only the killed worker's in-flight trials ran twice: claims beyond the first, and requests
                    // the model served beyond the single run's.
                    let reclaims = Int(try await server.psql("SELECT sum(claims - 1) FROM trial_queue")) ?? -1
                    #expect(reclaims >= 1 && reclaims <= inFlightWhenKilled, "reclaims \(reclaims)")
                    let distributedRequests = simulator.servedRequests.count - singleRequests
                    #expect(distributedRequests >= trials && distributedRequests <= trials + inFlightWhenKilled)
                    // Every surviving worker's outcomes are in the store; the killed one wrote what it finished.
                    let byWorker = try await server.psql(
                        "SELECT worker || '=' || count(*) FROM trial_queue GROUP BY worker ORDER BY worker"
                    )
                    #expect(byWorker.split(separator: "\n").count == 4, "\(byWorker)")

                    // The scorecard is the single process's, latency aside.
                    let expected = try Self.timeless(directory.appendingPathComponent("single.json"))
                    let distributed = try Self.timeless(directory.appendingPathComponent("distributed.json"))
                    #expect(distributed == expected)
                    #expect(expected.count == 2)
                }
            }
        }
    }

    /// Runs `roadtest` to completion.
    static func roadtest(
        _ arguments: [String],
        in directory: URL,
        environment: [String: String]
    ) async throws -> Launched {
        let launched = try Launched(
            arguments,
            name: "cmd-\(UUID().uuidString.prefix(6))",
            in: directory,
            environment: environment
        )
        _ = try await launched.wait()
        return launched
    }

    @Test func storeCopyMovesRunsBetweenSQLiteAndPostgreSQLWithTheSameReports() async throws {
        try await PostgresServer.with { server in
            try await withSimulator { baseURL, _ in
                try await withTemporaryDirectory { directory in
                    try writeFiles(
                        [
                            "suite.yaml": Self.suiteText(baseURL).replacingOccurrences(
                                of: "ttft=250ms",
                                with: "ttft=5ms"
                            )
                            .replacingOccurrences(of: "ttft=150ms", with: "ttft=5ms")
                        ],
                        in: directory
                    )
                    let environment = server.environment
                    let run = try await Self.roadtest(
                        ["run", "suite.yaml", "--store", "a.db"],
                        in: directory,
                        environment: environment
                    )
                    #expect(run.process.terminationStatus == 0, "\(run.errors)")
                    try await server.createDatabase("copied")
                    let copiedURL = server.url(database: "copied")
                    // SQLite -> PostgreSQL -> a new SQLite file, twice into PostgreSQL (nothing duplicated).
                    for (from, to) in [("a.db", copiedURL), ("a.db", copiedURL), (copiedURL, "b.db")] {
                        let copy = try await Self.roadtest(
                            ["store", "copy", "--from", from, "--to", to],
                            in: directory,
                            environment: environment
                        )
                        #expect(copy.process.terminationStatus == 0, "\(copy.errors)")
                        #expect(copy.errors.contains("120 outcome"), "\(copy.errors)")
                    }
                    #expect(try await server.psql("SELECT count(*) FROM outcome", database: "copied") == "120")
                    #expect(try await server.psql("SELECT count(*) FROM attempt", database: "copied") == "120")
                    // The same report, byte for byte, from each of the three stores.
                    var reports: [String] = []
                    for store in ["a.db", copiedURL, "b.db"] {
                        let name = "report-\(reports.count).json"
                        let report = try await Self.roadtest(
                            ["report", "latest", "--store", store, "--json", name],
                            in: directory,
                            environment: environment
                        )
                        #expect(report.process.terminationStatus == 0, "\(report.errors)")
                        reports.append(try String(contentsOf: directory.appendingPathComponent(name), encoding: .utf8))
                    }
                    #expect(reports[0].contains("\"trials\""))
                    #expect(reports[1] == reports[0])
                    #expect(reports[2] == reports[0])
                    // The commands that read runs work on the shared store as on a file: the same answers.
                    for (index, store) in ["a.db", copiedURL].enumerated() {
                        for command in [
                            ["history", "suite.yaml", "--json", "history-\(index).json"],
                            ["pick", "latest", "--point", "--json", "pick-\(index).json"],
                            ["compare", "latest", "latest", "--json", "compare-\(index).json"],
                        ] {
                            let ran = try await Self.roadtest(
                                command + ["--store", store],
                                in: directory,
                                environment: environment
                            )
                            #expect([0, 100].contains(ran.process.terminationStatus), "\(command[0]): \(ran.errors)")
                        }
                    }
                    for name in ["history", "pick", "compare"] {
                        let onFile = try String(
                            contentsOf: directory.appendingPathComponent("\(name)-0.json"),
                            encoding: .utf8
                        )
                        let shared = try String(
                            contentsOf: directory.appendingPathComponent("\(name)-1.json"),
                            encoding: .utf8
                        )
                        #expect(!onFile.isEmpty && shared == onFile, "\(name)")
                    }
                    // Distributed work needs the shared store: with a SQLite file, a clear error, not a local run.
                    let local = try await Self.roadtest(
                        ["run", "suite.yaml", "--store", "a.db", "--distributed"],
                        in: directory,
                        environment: environment
                    )
                    #expect(local.process.terminationStatus == 1)
                    #expect(local.errors.contains("PostgreSQL"), "\(local.errors)")
                    let worker = try await Self.roadtest(
                        ["worker", "--store", "a.db"],
                        in: directory,
                        environment: environment
                    )
                    #expect(worker.process.terminationStatus == 1)
                    #expect(worker.errors.contains("postgres://"), "\(worker.errors)")
                    // A password in the URL is refused before anything is read.
                    let refused = try await Self.roadtest(
                        [
                            "store", "copy", "--from", "a.db", "--to",
                            "postgres://roadtest:secret@127.0.0.1:\(server.port)/copied",
                        ],
                        in: directory,
                        environment: environment
                    )
                    #expect(refused.process.terminationStatus == 1)
                    #expect(refused.errors.contains("PGPASSWORD") && !refused.errors.contains("secret@"))
                }
            }
        }
    }

    @Test func theCoordinatorsCtrlCLeavesAResumableRunThatWorkersFinish() async throws {
        try await PostgresServer.with { server in
            try await withSimulator { baseURL, _ in
                try await withTemporaryDirectory { directory in
                    try writeFiles(["suite.yaml": Self.suiteText(baseURL)], in: directory)
                    let environment = server.environment
                    let url = server.url()
                    let coordinator = try Launched(
                        ["run", "suite.yaml", "--store", url, "--distributed"],
                        name: "coordinator",
                        in: directory,
                        environment: environment
                    )
                    let worker = try Launched(
                        ["worker", "--store", url, "--concurrency", "2", "--idle", "3", "--id", "w"],
                        name: "worker",
                        in: directory,
                        environment: environment
                    )
                    // Some work done, then Ctrl-C on the coordinator.
                    let deadline = ContinuousClock.now + .seconds(60)
                    while ContinuousClock.now < deadline {
                        let stored = Int((try? await server.psql("SELECT count(*) FROM outcome")) ?? "") ?? 0
                        if stored >= 4 { break }
                        try await Task.sleep(for: .milliseconds(50))
                    }
                    kill(coordinator.process.processIdentifier, SIGINT)
                    #expect(try await coordinator.wait() == 130, "\(coordinator.errors)")
                    #expect(coordinator.errors.contains("--resume --distributed"), "\(coordinator.errors)")
                    #expect(try await server.psql("SELECT status FROM run") == "interrupted")
                    // The worker finishes what it holds, takes nothing more, and exits once idle.
                    #expect(try await worker.wait(timeout: 60) == 0, "\(worker.errors)")
                    let stopped = Int(try await server.psql("SELECT count(*) FROM outcome")) ?? 0
                    #expect(stopped < 120)
                    #expect(try await server.psql("SELECT count(*) FROM trial_queue WHERE state = 'leased'") == "0")

                    // Resumed: only the rest is queued and run, and the run finishes with every trial once.
                    let resumed = try Launched(
                        ["run", "suite.yaml", "--store", url, "--distributed", "--resume", "--json", "resumed.json"],
                        name: "resumed",
                        in: directory,
                        environment: environment
                    )
                    let second = try Launched(
                        ["worker", "--store", url, "--concurrency", "8", "--idle", "30"],
                        name: "worker-2",
                        in: directory,
                        environment: environment
                    )
                    #expect(try await resumed.wait(timeout: 120) == 0, "\(resumed.errors)")
                    #expect(try await second.wait(timeout: 60) == 0, "\(second.errors)")
                    #expect(resumed.errors.contains("\(stopped) trials already done"), "\(resumed.errors)")
                    #expect(try await server.psql("SELECT count(*) FROM outcome") == "120")
                    #expect(try await server.psql("SELECT sum(claims) FROM trial_queue") == "120")
                    #expect(try await server.psql("SELECT status FROM run") == "finished")
                }
            }
        }
    }

    @Test(.enabled(if: TestEnvironment.localModelsInstalled || TestEnvironment.isCI))
    func eachWorkerStartsItsOwnLocalModelAndLeavesNoServerBehind() async throws {
        #expect(TestEnvironment.localModelsInstalled)
        TestEnvironment.adoptOrphans()
        try await PostgresServer.with { server in
            try await withTemporaryDirectory { directory in
                let cases = (1...8).map { "  - {id: c\($0), prompt: \"What is \($0) plus 1? Answer with a number.\"}" }
                try writeFiles(
                    [
                        "local.yaml": """
                        name: local-distributed
                        candidates: [{id: smol, local: smollm2-135m-instruct, concurrency: 2}]
                        defaults: {max_tokens: 16, temperature: 0}
                        cases:
                        \(cases.joined(separator: "\n"))
                        """
                    ],
                    in: directory
                )
                let environment = server.environment
                let url = server.url()
                let coordinator = try Launched(
                    ["run", "local.yaml", "--store", url, "--distributed", "--json", "out.json"],
                    name: "coordinator",
                    in: directory,
                    environment: environment
                )
                let workers = try (0..<2).map { index in
                    try Launched(
                        ["worker", "--store", url, "--concurrency", "2", "--idle", "20", "--id", "w\(index)"],
                        name: "worker-\(index)",
                        in: directory,
                        environment: environment
                    )
                }
                let status = try await coordinator.wait(timeout: 600)
                #expect([0, 100].contains(status), "\(coordinator.errors)")
                for worker in workers {
                    #expect(try await worker.wait(timeout: 120) == 0, "\(worker.name): \(worker.errors)")
                    // The coordinator starts no endpoint; each worker started its own llama-server.
                    #expect(worker.errors.contains("starting llama-server"), "\(worker.name): \(worker.errors)")
                }
                #expect(!coordinator.errors.contains("starting llama-server"))
                #expect(try await server.psql("SELECT count(*) FROM outcome") == "8")
                // The model answered every trial (whatever it said).
                #expect(try await server.psql("SELECT count(*) FROM outcome WHERE final_class = 'ok'") == "8")
                let marker = "--model \(RoadtestHome().modelFile(.smolLM2).path)"
                var survivors = TestEnvironment.runningDescendants(matching: marker)
                for _ in 0..<50 where !survivors.isEmpty {
                    try await Task.sleep(for: .milliseconds(100))
                    survivors = TestEnvironment.runningDescendants(matching: marker)
                }
                #expect(survivors.isEmpty, "llama-server outlived its worker: \(survivors)")
            }
        }
    }
}
