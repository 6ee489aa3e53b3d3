import Foundation
import RoadtestCore
import RoadtestProviders
import RoadtestTestSupport
import Testing

/// Child processes: a hung program is stopped at its deadline, with every child it started.
@Suite(.serialized) struct ProcessRunnerTests {
    @Test func aHungCommandAndItsChildrenStopAtTheTimeout() async throws {
        TestEnvironment.adoptOrphans()
        // Given a program whose shell waits on a child that sleeps far past the timeout
        let marker = "sleep 29.\(UInt32.random(in: 100_000...999_999))"
        let start = ContinuousClock.now
        let result = try await ProcessRunner.run(["sh", "-c", "\(marker); echo never"], timeout: 1)
        let elapsed = ContinuousClock.now - start
        // Then the caller moves on at the deadline (plus the short kill grace), not after 30 s
        #expect(result.timedOut)
        #expect(elapsed < .seconds(4), "took \(elapsed)")
        // And nothing of it keeps running
        try await Task.sleep(for: .milliseconds(700))
        #expect(TestEnvironment.runningDescendants(matching: marker).isEmpty)
    }

    @Test func aCommandCandidateTimeoutIsOneTimeoutPerAttempt() async throws {
        let provider = CommandProvider(arguments: ["sh", "-c", "sleep 30"])
        let start = ContinuousClock.now
        let response = await provider.send(
            ChatRequest(model: nil, messages: [Message(role: "user", content: "hi")], timeout: 1)
        )
        #expect(response.attemptClass == .timeout)
        #expect(ContinuousClock.now - start < .seconds(4))
    }

    @Test func theEnvironmentGivenIsExactlyTheChildsEnvironment() async throws {
        // Many entries, so a missing terminator would run one into the memory after it.
        var environment = ["PATH": "/usr/bin:/bin"]
        for index in 0..<50 { environment["ROADTEST_VAR_\(index)"] = String(repeating: "v", count: index) }
        let result = try await ProcessRunner.run(["/usr/bin/env"], timeout: 10, environment: environment)
        let lines = String(decoding: result.standardOutput, as: UTF8.self).split(separator: "\n").map(String.init)
        #expect(Set(lines) == Set(environment.map { "\($0.key)=\($0.value)" }))
    }

    @Test func theSurvivorCheckStillFindsAnOrphanOfWhatItStarted() async throws {
        // Given a child that starts a sleeper and exits at once, orphaning it
        TestEnvironment.adoptOrphans()
        let marker = "sleep 28.\(UInt32.random(in: 100_000...999_999))"
        let status = try await TestProcess.run(["/bin/sh", "-c", "\(marker) & exit 0"]) { _ in }
        #expect(status == 0)
        // Then the orphan is still found: it was handed to this test process, not to init
        var found: [Int32] = []
        _ = try await eventually(timeout: .seconds(10)) {
            found = TestEnvironment.runningDescendants(matching: marker)
            return !found.isEmpty
        }
        #expect(found.count == 1, "\(found)")
        for pid in found { kill(pid, SIGKILL) }
    }
}
