import Foundation
import RoadtestCore
import RoadtestProviders

/// Makes every candidate's provider, starting managed local servers first and stopping them afterwards.
enum CandidateEndpoints {
    static func with<T>(suite: Suite, transport: HTTPTransport, _ body: ([String: any ModelProvider]) async throws -> T) async throws -> T {
        let factory = ProviderFactory(transport: transport)
        var providers: [String: any ModelProvider] = [:]
        for candidate in suite.candidates where candidate.provider != .local {
            providers[candidate.id] = try factory.makeProvider(for: candidate)
        }
        let locals = suite.candidates.filter { $0.provider == .local }
        if locals.isEmpty { return try await body(providers) }
        throw UserFacingError("local candidates (\(locals.map(\.id).joined(separator: ", "))) are not supported yet")
    }
}
