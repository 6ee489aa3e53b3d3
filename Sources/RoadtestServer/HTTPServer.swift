import Foundation
import Hummingbird
import HummingbirdCore
import Logging
import RoadtestCore

/// The one way Roadtest builds an HTTP server (the gateway, the review page, the simulator, the chaos proxy): a
/// Hummingbird `Application` on `host:port` (port 0 picks a free port; `onRunning` gets the real one), with its
/// own logs silenced, and the rule about who may reach it enforced here rather than by each caller.
public enum HTTPServer {
    /// Who may reach a server.
    public enum Exposure: Sendable {
        /// Any address the user names (test tools: the simulator, the chaos proxy).
        case anyAddress
        /// Loopback only: the server has no authentication at all (the review page).
        case loopbackOnly
        /// Beyond loopback only with client authentication (the gateway); `authenticated` says whether it has it.
        case authenticatedBeyondLoopback(authenticated: Bool)
    }

    /// Whether `host` names this machine's loopback interface.
    public static func isLoopback(_ host: String) -> Bool {
        host == "localhost" || host == "::1" || host.hasPrefix("127.")
    }

    /// Checks `host` against `exposure`; throws a user-facing error naming what to do instead.
    public static func check(host: String, name: String, exposure: Exposure) throws {
        guard !isLoopback(host) else { return }
        switch exposure {
        case .anyAddress:
            return
        case .loopbackOnly:
            throw RoadtestError(
                .invalidArgument,
                "the \(name) has no authentication: it listens on loopback only, not on \(host)",
                hint: "reach it through an SSH tunnel from another machine"
            )
        case .authenticatedBeyondLoopback(let authenticated):
            guard !authenticated else { return }
            throw RoadtestError(
                .invalidArgument,
                "refusing to listen on \(host) without client authentication",
                hint: "add auth: {tokens_env: ROADTEST_GATEWAY_TOKENS} to the policy and export the tokens"
            )
        }
    }

    /// A server for `responder` on `host:port`. A server with an exposure rule checks it first (`check`).
    /// With `connectionLimits`, every connection is guarded by a `ConnectionGuard` (slow and idle clients are closed,
    /// connections per client address are capped); without, Hummingbird's HTTP/1 server as it comes.
    public static func makeApplication<Responder: HTTPResponder>(
        responder: Responder,
        name: String,
        host: String,
        port: Int,
        connectionLimits: ConnectionLimits? = nil,
        onRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) -> Application<Responder>
    where Responder.Context: InitializableFromSource<ApplicationRequestContextSource> {
        var logger = Logger(label: "roadtest." + name.replacingOccurrences(of: " ", with: "-"))
        logger.logLevel = .critical
        return Application(
            responder: responder,
            server: connectionLimits.map { .http1(guardedBy: $0) } ?? .http1(),
            configuration: .init(
                address: .hostname(host, port: port),
                serverName: "roadtest-" + name.replacingOccurrences(of: " ", with: "-")
            ),
            onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? port) },
            logger: logger
        )
    }

    /// A server for `router` on `host:port`.
    public static func makeApplication<Context: RequestContext>(
        router: Router<Context>,
        name: String,
        host: String,
        port: Int,
        connectionLimits: ConnectionLimits? = nil,
        onRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) -> Application<RouterResponder<Context>>
    where Context: InitializableFromSource<ApplicationRequestContextSource> {
        makeApplication(
            responder: router.buildResponder(),
            name: name,
            host: host,
            port: port,
            connectionLimits: connectionLimits,
            onRunning: onRunning
        )
    }
}

extension HTTPServerBuilder {
    /// Hummingbird's HTTP/1 server with a `ConnectionGuard` enforcing `limits` on every connection (one shared
    /// count of connections per client address for the whole server).
    public static func http1(guardedBy limits: ConnectionLimits) -> HTTPServerBuilder {
        let shared = ConnectionGuard.Shared(limits)
        return .http1(configuration: .init(additionalChannelHandlers: [ConnectionGuard(shared: shared)]))
    }
}
