import Foundation
import RoadtestCore
import RoadtestLocal
import RoadtestProviders

/// Makes every candidate's provider, starting managed local servers first and stopping them afterwards,
/// whatever way `body` ends.
public enum CandidateEndpoints {
    /// Maps a candidate's endpoint (its base URL, a managed server's included) to the one requests go to: how a
    /// drill puts a chaos proxy in front of chosen candidates. Identity by default.
    public typealias Interpose = @Sendable (Candidate, String) async throws -> String

    /// Calls `body` with a provider for every candidate (judges included). Local candidates get a `llama-server`
    /// started for them, stopped when `body` returns or throws.
    public static func with<T>(
        suite: Suite,
        transport: HTTPTransport,
        home: RoadtestHome = RoadtestHome(),
        announce: (String) -> Void = { _ in },
        interpose: Interpose? = nil,
        _ body: ([String: any ModelProvider]) async throws -> T
    ) async throws -> T {
        let factory = ProviderFactory(transport: transport, workingDirectory: suite.directory)
        var providers: [String: any ModelProvider] = [:]
        for candidate in suite.candidates where candidate.provider != .local {
            if let interpose, candidate.provider != .command, let url = candidate.baseURL {
                providers[candidate.id] = try factory.makeProvider(
                    for: candidate,
                    baseURL: try await interpose(candidate, url)
                )
            } else {
                providers[candidate.id] = try factory.makeProvider(for: candidate)
            }
        }
        var servers: [LlamaServer] = []
        defer { for server in servers { server.stop() } }
        let locals = suite.candidates.filter { $0.provider == .local }
        // Local servers run side by side: they share the cores instead of each spinning a thread per core
        // (oversubscribed llama.cpp threads slow generation down many times over).
        let threads = max(1, ProcessInfo.processInfo.activeProcessorCount / max(1, locals.count))
        for candidate in locals {
            let slots = candidate.settings.concurrency ?? suite.defaults.concurrency ?? Settings.builtInConcurrency
            do {
                var options = try LlamaServer.Options.resolve(
                    model: candidate.local,
                    gguf: candidate.gguf,
                    llamaServer: candidate.llamaServer,
                    home: home,
                    slots: slots,
                    extraArguments: candidate.serverArguments
                )
                options.threads = threads
                announce(
                    "starting llama-server for '\(candidate.id)' (\(options.model.lastPathComponent), \(slots) slot\(slots == 1 ? "" : "s"))"
                )
                let server = try await LlamaServer.start(options)
                servers.append(server)
                var served = candidate
                served.model = candidate.model ?? options.name
                // llama-server closes kept-alive connections on its own schedule; a request sent on one then fails
                // as a connection error that is the harness's, not the model's. A new loopback connection per
                // request costs well under a millisecond.
                served.headers["Connection"] = served.headers["Connection"] ?? "close"
                let url = try await interpose?(served, server.baseURL) ?? server.baseURL
                providers[candidate.id] = try factory.makeProvider(for: served, baseURL: url)
            } catch var error as RoadtestError {
                error.message = "candidate '\(candidate.id)': " + error.message
                throw error
            }
        }
        return try await body(providers)
    }
}
