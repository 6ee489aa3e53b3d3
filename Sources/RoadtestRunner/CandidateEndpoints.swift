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
            if let interpose, candidate.provider != .command, let url = factory.endpoint(for: candidate) {
                providers[candidate.id] = try factory.makeProvider(
                    for: candidate,
                    baseURL: try await interpose(candidate, url)
                )
            } else {
                providers[candidate.id] = try factory.makeProvider(for: candidate)
            }
        }
        var servers: [LlamaServer] = []
        do {
            let result = try await withLocalServers(
                suite: suite,
                home: home,
                factory: factory,
                providers: providers,
                servers: &servers,
                announce: announce,
                interpose: interpose,
                body
            )
            await stop(servers)
            return result
        } catch {
            await stop(servers)
            throw error
        }
    }

    /// Stops managed servers side by side (each awaits its own deadline).
    static func stop(_ servers: [LlamaServer]) async {
        await withTaskGroup(of: Void.self) { group in
            for server in servers { group.addTask { await server.stop() } }
        }
    }

    /// Starts a llama-server per group of local candidates (appending each to `servers` as it starts, so the caller
    /// stops every one that started, whatever happens next), adds their providers, and calls `body`.
    private static func withLocalServers<T>(
        suite: Suite,
        home: RoadtestHome,
        factory: ProviderFactory,
        providers: [String: any ModelProvider],
        servers: inout [LlamaServer],
        announce: (String) -> Void,
        interpose: Interpose?,
        _ body: ([String: any ModelProvider]) async throws -> T
    ) async throws -> T {
        var providers = providers
        let locals = suite.candidates.filter { $0.provider == .local }.map { candidate -> Candidate in
            // An embeddings candidate's server serves /v1/embeddings (mean pooling unless told otherwise).
            guard candidate.isEmbeddings, !candidate.serverArguments.contains("--embeddings") else { return candidate }
            var served = candidate
            served.serverArguments += ["--embeddings"]
            if !served.serverArguments.contains("--pooling") { served.serverArguments += ["--pooling", "mean"] }
            return served
        }
        // Configurations of one local model (a matrix, say) share one server: its slots are theirs together.
        func serverKey(_ candidate: Candidate) -> String {
            [candidate.local ?? "", candidate.gguf ?? "", candidate.llamaServer ?? ""].joined(separator: "\u{1F}")
                + "\u{1F}" + candidate.serverArguments.joined(separator: "\u{1F}")
        }
        var groups: [(key: String, members: [Candidate])] = []
        for candidate in locals {
            if let index = groups.firstIndex(where: { $0.key == serverKey(candidate) }) {
                groups[index].members.append(candidate)
            } else {
                groups.append((serverKey(candidate), [candidate]))
            }
        }
        // Local servers run side by side: they share the cores instead of each spinning a thread per core
        // (oversubscribed llama.cpp threads slow generation down many times over).
        let threads = max(1, ProcessInfo.processInfo.activeProcessorCount / max(1, groups.count))
        for group in groups {
            let first = group.members[0]
            // In flight at once: each member's concurrency times its samples per trial.
            let wanted = group.members.reduce(0) { total, member in
                total
                    + (member.settings.concurrency ?? suite.defaults.concurrency ?? Settings.builtInConcurrency)
                    * (member.strategy?.samples ?? 1)
            }
            // An embeddings server gets one slot: llama-server (this project's build) pools different vectors for
            // sequences that share a batch across slots (a paraphrase pair scored 0.674 with 4 slots, 0.942 with 1).
            let slots = first.serverArguments.contains("--embeddings") ? 1 : max(1, min(16, wanted))
            let names = group.members.map { "'\($0.id)'" }.joined(separator: ", ")
            do {
                var options = try LlamaServer.Options.resolve(
                    model: first.local,
                    gguf: first.gguf,
                    llamaServer: first.llamaServer,
                    home: home,
                    slots: slots,
                    extraArguments: first.serverArguments
                )
                options.threads = threads
                announce(
                    "starting llama-server for \(names) (\(options.model.lastPathComponent), \(slots) slot\(slots == 1 ? "" : "s"))"
                )
                let server = try await LlamaServer.start(options)
                servers.append(server)
                for candidate in group.members {
                    var served = candidate
                    served.model = candidate.model ?? options.name
                    // llama-server closes kept-alive connections on its own schedule; a request sent on one then
                    // fails as a connection error that is the harness's, not the model's. A new loopback
                    // connection per request costs well under a millisecond.
                    served.headers["Connection"] = served.headers["Connection"] ?? "close"
                    let url = try await interpose?(served, server.baseURL) ?? server.baseURL
                    providers[candidate.id] = try factory.makeProvider(for: served, baseURL: url)
                }
            } catch var error as RoadtestError {
                error.message = "candidate \(names): " + error.message
                throw error
            }
        }
        return try await body(providers)
    }
}
