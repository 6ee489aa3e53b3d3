import Foundation
import Hummingbird
import RoadtestCore
import RoadtestServer

/// Starts a real simulator on a free loopback port for the duration of `body`.
///
/// ```swift
/// try await withSimulator { baseURL, simulator in ... }
/// ```
public func withSimulator<T: Sendable>(
    profile: SimulatorProfile = SimulatorProfile(),
    _ body: @Sendable (_ baseURL: String, _ simulator: Simulator) async throws -> T
) async throws -> T {
    let simulator = Simulator(profile: profile)
    let (stream, continuation) = AsyncStream.makeStream(of: Int.self)
    let app = simulator.makeApplication(host: "127.0.0.1", port: 0) { port in continuation.yield(port) }
    let server = Task { try await app.run() }
    var iterator = stream.makeAsyncIterator()
    guard let port = await iterator.next() else { throw CancellationError() }
    do {
        let result = try await body("http://127.0.0.1:\(port)/v1", simulator)
        server.cancel()
        _ = await server.result
        return result
    } catch {
        server.cancel()
        _ = await server.result
        throw error
    }
}

/// A temporary directory removed afterwards.
public func withTemporaryDirectory<T>(_ body: (URL) async throws -> T) async rethrows -> T {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("roadtest-test-\(UUID().uuidString)")
    try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: url) }
    return try await body(url)
}

/// Writes files (name -> contents) into a directory.
public func writeFiles(_ files: [String: String], in directory: URL) throws {
    for (name, contents) in files {
        let url = directory.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try contents.write(to: url, atomically: true, encoding: .utf8)
    }
}
