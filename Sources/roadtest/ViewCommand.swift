import ArgumentParser
import Foundation
import Hummingbird
import RoadtestCore
import RoadtestServer
import RoadtestStore
import RoadtestView

struct ViewCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "view",
        abstract: "A local web app over the store: runs, scorecards, trials, labels, comparisons, history.",
        discussion: """
            Runs filtered by suite and status; a run's scorecards and its trials filtered by candidate, tag, failed \
            check, outcome class, verdict and text (paged by the database); one trial with its input, output, every \
            check and attempt, labelled good or bad with a correction (stored as feedback: `roadtest cases export \
            --from feedback` turns labels into cases); two runs compared; a suite's history. Listens on loopback; \
            another address needs ROADTEST_VIEW_TOKEN set (open the app once with ?token=...).
            """
    )

    @Option(name: .long, help: "Address to listen on.")
    var listen = "127.0.0.1:8082"

    @OptionGroup var storeOptions: StoreOptions

    func run() async throws {
        let code = try await withUserFacingErrors { () -> Int32 in
            let (host, port) = try ChaosCommand.address(listen)
            let token = ProcessInfo.processInfo.environment["ROADTEST_VIEW_TOKEN"].flatMap { $0.isEmpty ? nil : $0 }
            guard HTTPServer.isLoopback(host) || token != nil else {
                throw RoadtestError(
                    .invalidArgument,
                    "the viewer listens on \(host), beyond loopback, only with a token",
                    hint: "export ROADTEST_VIEW_TOKEN=<a long random string>, then open the app once with ?token=<it>"
                )
            }
            return try await storeOptions.with { store in
                let server = ViewServer(
                    runs: store.runs,
                    feedback: store.feedback,
                    gateway: store.gateway,
                    accessToken: token
                )
                let app = try server.makeApplication(host: host, port: port) { port in
                    printError("roadtest view: http://\(host):\(port)/")
                }
                try await app.runService()
                return 0
            }
        }
        throw ExitCode(code)
    }
}
