import ArgumentParser
import AsyncHTTPClient
import Foundation
import Hummingbird
import Logging
import NIOHTTP1
import RoadtestCore
import RoadtestGateway
import RoadtestLocal
import RoadtestProviders
import RoadtestRunner
import RoadtestServer
import RoadtestStore
import RoadtestSuite
import RoadtestTelemetry
import ServiceLifecycle

struct GatewayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gateway",
        abstract: "Serve a routing policy behind an OpenAI-compatible endpoint; `gateway status` asks a running one.",
        subcommands: [GatewayServeCommand.self, GatewayStatusCommand.self],
        defaultSubcommand: GatewayServeCommand.self
    )
}

struct GatewayStatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "A running gateway's routes (rolled back or not, and why), today's spend and request counts."
    )

    @Option(name: .long, help: "The gateway's address.")
    var url = "http://127.0.0.1:8080"

    @Option(name: .long, help: "The environment variable holding a client token, when the gateway requires one.")
    var tokenEnv: String?

    @Flag(name: .long, help: "Print the status JSON as the gateway sent it.")
    var json = false

    func run() async throws {
        let code = try await withUserFacingErrors { () -> Int32 in
            let base = url.trimmingCharacters(in: ["/"])
            guard let components = URLComponents(string: base), ["http", "https"].contains(components.scheme ?? ""),
                components.host.map({ !$0.isEmpty }) == true
            else {
                throw RoadtestError(
                    .invalidArgument,
                    "--url \(url): not an http(s) address",
                    hint: "write it as http://HOST:PORT, e.g. --url http://127.0.0.1:8080"
                )
            }
            var request = HTTPClientRequest(url: base + "/_roadtest/status")
            if let tokenEnv {
                guard let token = ProcessInfo.processInfo.environment[tokenEnv] else {
                    throw RoadtestError(.invalidArgument, "--token-env \(tokenEnv): the variable is not set")
                }
                request.headers.add(name: "authorization", value: "Bearer " + token.split(separator: ",")[0])
            }
            let data: Data
            do {
                let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
                let body = try await response.body.collect(upTo: 16 << 20)
                guard response.status == .ok else {
                    throw RoadtestError(
                        .invalidArgument,
                        "the gateway at \(url) answered \(response.status.code)",
                        hint: response.status == .unauthorized ? "pass --token-env NAME: it requires a token" : nil
                    )
                }
                data = Data(body.readableBytesView)
            } catch let error as RoadtestError {
                throw error
            } catch {
                throw RoadtestError(.invalidArgument, "no gateway at \(url): \(error)")
            }
            guard let status = JSONValue.parse(data) else {
                throw RoadtestError(.invalidArgument, "the answer at \(url)/_roadtest/status is not JSON")
            }
            if json {
                print(status.jsonText)
                return 0
            }
            for route in status["routes"]?.arrayValue ?? [] {
                let name = route["name"]?.stringValue ?? "?"
                let candidate = route["candidate"]?.stringValue ?? "?"
                let spent = route["spent_today_usd"]?.doubleValue ?? 0
                var line = "\(name): \(candidate)"
                if let fallback = route["fallback"]?.arrayValue, !fallback.isEmpty {
                    line += " (fallback " + fallback.compactMap(\.stringValue).joined(separator: ", ") + ")"
                }
                line += String(format: ", spent today $%.4f", spent)
                if let budget = route["budget_usd_per_day"]?.doubleValue { line += String(format: " of $%.2f", budget) }
                if let rolled = route["rolled_back"], rolled != .null {
                    line +=
                        "; rolled back from \(rolled["from"]?.stringValue ?? "?"): \(rolled["reason"]?.stringValue ?? "")"
                }
                print(line)
            }
            let counts = (status["requests"]?.objectValue ?? [:]).sorted { $0.key < $1.key }
                .map { "\($0.key) \($0.value.doubleValue.map { Int($0) } ?? 0)" }
            print("requests: " + (counts.isEmpty ? "none" : counts.joined(separator: ", ")))
            return 0
        }
        throw ExitCode(code)
    }
}

struct GatewayServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
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

    @Option(
        name: .long,
        help: "On SIGTERM or Ctrl-C: how long requests in flight may take to finish before they are cut (e.g. 10s)."
    )
    var grace = "10s"

    @Option(
        name: .long,
        help: ArgumentHelp(
            "Also serve GET /metrics on this address, without client authentication (e.g. 127.0.0.1:9464).",
            discussion: "For Prometheus scrapers that send no token; it serves nothing but /metrics and /health."
        )
    )
    var metricsListen: String?

    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var telemetry: TelemetryOptions

    func run() async throws {
        telemetry.apply()
        let code = try await withUserFacingErrors(metrics: true) { () -> Int32 in
            guard let graceSeconds = DurationText.seconds(grace), graceSeconds >= 0 else {
                throw RoadtestError(.invalidArgument, "--grace \(grace): use a duration like 10s or 500ms")
            }
            guard let level = Logger.Level(rawValue: logLevel) else {
                throw RoadtestError(
                    .invalidArgument,
                    "--log-level \(logLevel): use trace, debug, info, notice, warning or error"
                )
            }
            let loaded = try PolicyLoader().load(path: policy)
            if loaded.otelContent { TelemetryContent.enable() }
            let (host, port) = try ChaosCommand.address(listen)
            let metricsAddress = try metricsListen.map { try ChaosCommand.address($0, option: "--metrics-listen") }
            // Checked before anything starts; the gateway enforces it again when it builds its server.
            try HTTPServer.check(
                host: host,
                name: "gateway",
                exposure: .authenticatedBeyondLoopback(authenticated: loaded.tokensEnvironmentVariable != nil)
            )
            return try await storeOptions.with { store in
                let spent = try await store.gateway.gatewaySpend(since: BudgetTracker.startOfToday())
                return try await HTTPTransport.with { transport in
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
                            tokens: loaded.tokensEnvironmentVariable.flatMap {
                                ProcessInfo.processInfo.environment[$0]
                            },
                            store: store.gateway,
                            feedback: store.feedback,
                            ledger: store.ledger,
                            spentToday: spent,
                            metricsExport: Telemetry.metricsFactory,
                            logger: logger
                        )
                        let routes = loaded.routes.map(\.name).joined(separator: ", ")
                        let limited =
                            loaded.routes.contains { $0.budgetPerDay != nil } || loaded.requestsPerMinute != nil
                        if limited {
                            printError(
                                gateway.sharesAllowances
                                    ? "roadtest gateway: budgets and rate limits are kept in the shared store: every "
                                        + "gateway on it enforces the same ones"
                                    : "roadtest gateway: budgets and rate limits are kept by this process (a SQLite "
                                        + "store): run one gateway per store, or use a PostgreSQL store to share them"
                            )
                        }
                        let app = try gateway.makeApplication(host: host, port: port) { port in
                            printError(
                                "roadtest gateway: http://\(host):\(port)/v1 serving \(routes)"
                                    + (gateway.requiresAuthentication ? " (clients need a token)" : "")
                            )
                        }
                        var alongside: [any Service] = []
                        if let (metricsHost, metricsPort) = metricsAddress {
                            alongside.append(
                                try gateway.makeMetricsApplication(host: metricsHost, port: metricsPort) { port in
                                    printError("roadtest gateway: metrics at http://\(metricsHost):\(port)/metrics")
                                }
                            )
                        }
                        try await gateway.makeServiceGroup(
                            app: app,
                            alongside: alongside,
                            grace: .seconds(graceSeconds)
                        )
                        .run()
                        let lost = gateway.recorder.lostCount + gateway.recorder.droppedCount
                        guard lost == 0 else {
                            printError(
                                "roadtest gateway: stopped; \(lost) request record\(lost == 1 ? "" : "s") could not be "
                                    + "stored (the store was unreachable or too slow)"
                            )
                            return Int32(1)
                        }
                        printError("roadtest gateway: stopped; every request record is stored")
                        return Int32(0)
                    }
                }
            }
        }
        throw ExitCode(code)
    }
}
