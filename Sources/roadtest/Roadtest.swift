import ArgumentParser
import Foundation
import NIOCore
import NIOPosix
import RoadtestCore
import RoadtestTelemetry

/// `roadtest`: road-tests AI models on a team's own workload.
@main
struct Roadtest: AsyncParsableCommand {
    static let version = "0.2.0"

    static let configuration = CommandConfiguration(
        commandName: "roadtest",
        abstract: "Road-test AI models on your own workload: quality, latency, cost and failures, side by side.",
        discussion: """
            Exit codes: 0 every candidate meets the suite's bars (or it has none); 100 the run finished but a bar \
            is not met; 1 it could not run (bad suite, bad arguments, a failed store); 130 interrupted (resume with \
            --resume).
            """,
        version: version,
        subcommands: [
            RunCommand.self, WorkerCommand.self, CompareCommand.self, HistoryCommand.self, CasesCommand.self,
            LoadCommand.self,
            ReportCommand.self,
            RunsCommand.self,
            ValidateCommand.self, ImportCommand.self,
            PickCommand.self, ModelsCommand.self, SimulateCommand.self, ChaosCommand.self, DrillCommand.self,
            RedteamCommand.self, GatewayCommand.self, ShadowCommand.self, ReviewCommand.self, ViewCommand.self,
            StoreCommand.self,
        ]
    )

    /// The gateway runs Swift Concurrency's jobs on NIO's event loops (the threads its sockets live on), so a request
    /// is not handed between the concurrency pool and the event loops at every await: about 1.3x the JSON throughput
    /// at 64 connections (`Benchmarks/gateway-vs-litellm.sh`). Nothing in the gateway blocks a thread for long (the
    /// store writes through its own queue). Installed first, before the command starts any task.
    static func main() async {
        if CommandLine.arguments.dropFirst().first == "gateway" {
            NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
        }
        await main(nil)
    }
}

/// Exit codes shared by every command.
enum ExitStatus {
    static let barsMet: Int32 = 0
    static let couldNotRun: Int32 = 1
    static let barsNotMet: Int32 = 100
    static let interrupted: Int32 = 130
}

/// Runs a command body; any error becomes a clear message on standard error and exit status 1.
/// Traces are exported around the body when the environment names an OTLP endpoint (`Telemetry`).
/// `metrics`: OTLP metrics are exported too (the gateway's).
func withUserFacingErrors<T>(metrics: Bool = false, _ body: () async throws -> T) async throws -> T {
    do {
        return try await Telemetry.with(environment: ProcessInfo.processInfo.environment, metrics: metrics, body)
    } catch let exit as ExitCode {
        throw exit
    } catch is RoadtestInterrupted {
        printError("roadtest: interrupted")
        throw ExitCode(ExitStatus.interrupted)
    } catch let error as RoadtestError where error.code == .invalidSuite {
        printError("roadtest: " + error.message + ":")
        for diagnostic in error.diagnostics { printError("  " + diagnostic.description) }
        throw ExitCode(ExitStatus.couldNotRun)
    } catch {
        printError("roadtest: \(error)")
        throw ExitCode(ExitStatus.couldNotRun)
    }
}

/// A candidate no model answered (every attempt a refused connection, 401, 403 or 404) was not tested: one line
/// each on standard error, and true, so the command exits 1 whatever the bars say. Reports are written before.
func reportsUnansweredCandidates(_ report: RunReport) -> Bool {
    var any = false
    for card in report.candidates {
        guard let noAnswer = card.noAnswer else { continue }
        printError("roadtest: candidate \"\(card.id)\" got no answer: \(noAnswer)")
        any = true
    }
    return any
}

/// Writes to standard error.
func printError(_ text: String) {
    FileHandle.standardError.write(Data((text.hasSuffix("\n") ? text : text + "\n").utf8))
}

/// True when output should be decorated: a terminal, and NO_COLOR not set.
func isInteractive(_ fileDescriptor: Int32) -> Bool {
    isatty(fileDescriptor) == 1 && ProcessInfo.processInfo.environment["NO_COLOR"] == nil
        && ProcessInfo.processInfo.environment["TERM"] != "dumb"
}
