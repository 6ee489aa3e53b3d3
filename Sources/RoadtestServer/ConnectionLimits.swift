import Synchronization

/// How long a server waits on a client, and how many connections one client address may hold: what keeps slow or
/// idle clients (a slowloris that sends half a request head and waits) from tying up a server's connections.
///
/// ```swift
/// let app = HTTPServer.makeApplication(
///     router: router, name: "gateway", host: host, port: port,
///     connectionLimits: ConnectionLimits(headerTimeout: .seconds(10), maxConnectionsPerClient: 256)
/// )
/// ```
public struct ConnectionLimits: Sendable, Hashable {
    /// Longest wait for a complete request head: from the connection's opening, or from the first byte of the next
    /// request on a kept-alive connection.
    public var headerTimeout: Duration
    /// Longest wait for a complete request body, from the end of its head. Paused while an answer is being written.
    public var bodyTimeout: Duration
    /// Longest wait for the next request on a kept-alive connection, from the end of the previous answer.
    public var idleTimeout: Duration
    /// Most connections open at once from one client IP address (more are closed as soon as they open); nil: no
    /// limit. Behind a proxy every client shares the proxy's address.
    public var maxConnectionsPerClient: Int?
    /// Where the guards count the connections they closed (for metrics); nil: not counted.
    public var tally: ConnectionTally?

    /// The gateway's defaults: 10 s for a head, 30 s for a body, 60 s idle, 1,024 connections per client address.
    public init(
        headerTimeout: Duration = .seconds(10),
        bodyTimeout: Duration = .seconds(30),
        idleTimeout: Duration = .seconds(60),
        maxConnectionsPerClient: Int? = 1024,
        tally: ConnectionTally? = nil
    ) {
        self.headerTimeout = headerTimeout
        self.bodyTimeout = bodyTimeout
        self.idleTimeout = idleTimeout
        self.maxConnectionsPerClient = maxConnectionsPerClient
        self.tally = tally
    }
}

/// Connections the guards closed, by why: refused at once (the client address held its share) or timed out (a slow
/// head or body, or idle too long). Compared by identity.
public final class ConnectionTally: Sendable, Hashable {
    let refusedCount = Atomic<Int>(0)
    let timedOutCount = Atomic<Int>(0)

    public init() {}

    public var refused: Int { refusedCount.load(ordering: .relaxed) }
    public var timedOut: Int { timedOutCount.load(ordering: .relaxed) }

    public static func == (left: ConnectionTally, right: ConnectionTally) -> Bool { left === right }
    public func hash(into hasher: inout Hasher) { hasher.combine(ObjectIdentifier(self)) }
}
