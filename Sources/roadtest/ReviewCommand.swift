import ArgumentParser
import Foundation
import Hummingbird
import RoadtestCore
import RoadtestGateway
import RoadtestServer
import RoadtestStore

struct ReviewCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "review",
        abstract: "A local web page to mark outputs good or bad and write the correct answer.",
        discussion: """
            Lists the gateway requests whose input was kept (the policy's `bodies`) and the failing trials of the \
            latest finished run, filtered by route, rating and date. Labels are stored as feedback; \
            `roadtest cases export --from feedback --out cases.jsonl` turns them into cases. Loopback only.
            """
    )

    @Option(name: .long, help: "Address to listen on (loopback).")
    var listen = "127.0.0.1:8081"

    @OptionGroup var storeOptions: StoreOptions

    func run() async throws {
        let code = try await withUserFacingErrors { () -> Int32 in
            let (host, port) = try ChaosCommand.address(listen)
            try HTTPServer.check(host: host, name: "review page", exposure: .loopbackOnly)
            return try await storeOptions.with { store in
                let server = ReviewServer(store: store.feedback)
                let app = try server.makeApplication(host: host, port: port) { port in
                    printError("roadtest review: http://\(host):\(port)/")
                }
                try await app.runService()
                return 0
            }
        }
        throw ExitCode(code)
    }
}
