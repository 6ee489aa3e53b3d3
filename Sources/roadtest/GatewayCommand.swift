import ArgumentParser
import Foundation
import Hummingbird
import Logging
import RoadtestCore
import RoadtestGateway
import RoadtestLocal
import RoadtestProviders
import RoadtestRunner
import RoadtestStore
import RoadtestSuite

struct GatewayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gateway",
        abstract: "Serve a routing policy behind an OpenAI-compatible endpoint, with fallback, limits and budgets.",
        discussion: """
            POST /v1/chat/completions (streaming and not), GET /v1/models (the route names), \
            GET /_roadtest/status. Clients send a route name as `model` (or `x-roadtest-tag: TAG` for a route \
            with `match: {tag: TAG}`). The policy is the file `roadtest pick --policy` writes, or one written by \
            hand. Listens on loopback unless --listen says otherwise, and refuses another address without \
            `auth: {tokens_env: NAME}` in the policy. Every request is stored (no bodies, no tokens). \
            Stop with Ctrl-C or SIGTERM.
            """
    )

    @Option(name: .long, help: "The routing policy (YAML).")
    var policy: String

    @Option(name: .long, help: "Address to listen on.")
    var listen = "127.0.0.1:8080"

    @Option(
        name: .long,
        help:
            "Log level of the structured log on standard output: debug logs every request; info (default) logs start, rollbacks and store failures."
    )
    var logLevel = "info"

    @OptionGroup var storeOptions: StoreOptions

    func run() async throws {
        let code = try await withUserFacingErrors { () -> Int32 in
            guard let level = Logger.Level(rawValue: logLevel) else {
                throw RoadtestError(
                    .invalidArgument,
                    "--log-level \(logLevel): use trace, debug, info, notice, warning or error"
                )
            }
            let loaded = try PolicyLoader().load(path: policy)
            let (host, port) = try ChaosCommand.address(listen)
            let loopback = ["127.0.0.1", "localhost", "::1"].contains(host)
            if !loopback && loaded.tokensEnvironmentVariable == nil {
                throw RoadtestError(
                    .invalidArgument,
                    "refusing to listen on \(host) without client authentication",
                    hint: "add auth: {tokens_env: ROADTEST_GATEWAY_TOKENS} to the policy and export the tokens"
                )
            }
            let store = try storeOptions.open()
            let spent = try await store.gatewaySpend(since: BudgetTracker.startOfToday())
            let transport = HTTPTransport()
            defer { Task { await transport.shutdown() } }
            try await CandidateEndpoints.with(
                suite: loaded.suite,
                transport: transport,
                announce: { printError("roadtest: " + $0) }
            ) { providers in
                var logger = Logger(label: "roadtest.gateway")
                logger.logLevel = level
                let gateway = try Gateway(
                    policy: loaded,
                    providers: providers,
                    tokens: loaded.tokensEnvironmentVariable.flatMap { ProcessInfo.processInfo.environment[$0] },
                    store: store,
                    spentToday: spent,
                    logger: logger
                )
                let routes = loaded.routes.map(\.name).joined(separator: ", ")
                let app = gateway.makeApplication(host: host, port: port) { port in
                    printError(
                        "roadtest gateway: http://\(host):\(port)/v1 serving \(routes)"
                            + (gateway.requiresAuthentication ? " (clients need a token)" : "")
                    )
                }
                try await app.runService()
                await gateway.shutdown()
            }
            return 0
        }
        throw ExitCode(code)
    }
}
