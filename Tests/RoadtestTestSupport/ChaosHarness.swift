import Foundation
import Hummingbird
import RoadtestCore
import RoadtestServer

/// Starts a chaos proxy on a free loopback port in front of `upstream` (an origin or a base URL) for the duration
/// of `body`, which gets the proxy's base URL (the upstream's path kept) and the proxy.
public func withChaosProxy<T: Sendable>(
    upstream: String,
    plan: FaultPlan,
    _ body: @Sendable (_ baseURL: String, _ proxy: ChaosProxy) async throws -> T
) async throws -> T {
    let proxy = try ChaosProxy(options: .init(upstream: upstream, plan: plan))
    let (stream, continuation) = AsyncStream.makeStream(of: Int.self)
    let app = proxy.makeApplication(host: "127.0.0.1", port: 0) { port in continuation.yield(port) }
    let server = Task { try await app.run() }
    var iterator = stream.makeAsyncIterator()
    guard let port = await iterator.next() else { throw CancellationError() }
    let path = URL(string: upstream)?.path ?? ""
    do {
        let result = try await body("http://127.0.0.1:\(port)" + path, proxy)
        proxy.releaseHolds()
        server.cancel()
        _ = await server.result
        await proxy.shutdown()
        return result
    } catch {
        proxy.releaseHolds()
        server.cancel()
        _ = await server.result
        await proxy.shutdown()
        throw error
    }
}
