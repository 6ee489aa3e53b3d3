import Foundation
import RoadtestCore

/// Builds the provider for a candidate. Keys come from the environment only.
public struct ProviderFactory: Sendable {
    public let transport: HTTPTransport
    public let environment: [String: String]
    /// Where `command` candidates run: the suite file's folder.
    public let workingDirectory: String?

    public init(
        transport: HTTPTransport,
        environment: [String: String] = ProcessInfo.processInfo.environment,
        workingDirectory: String? = nil
    ) {
        self.transport = transport
        self.environment = environment
        self.workingDirectory = workingDirectory
    }

    /// The provider for `candidate`; `baseURL` overrides the candidate's (a managed local server's address).
    public func makeProvider(for candidate: Candidate, baseURL: String? = nil) throws -> any ModelProvider {
        var apiKey: String?
        if let variable = candidate.apiKeyEnvironmentVariable {
            guard let value = environment[variable], !value.isEmpty else {
                throw RoadtestError(
                    .providerSetup,
                    "candidate '\(candidate.id)' reads its API key from $\(variable), which is not set; export it and run again"
                )
            }
            apiKey = value
        }
        switch candidate.provider {
        case .openai, .local:
            guard let url = baseURL ?? candidate.baseURL else {
                throw RoadtestError(.providerSetup, "candidate '\(candidate.id)' has no base_url")
            }
            return OpenAIProvider(baseURL: url, apiKey: apiKey, headers: candidate.headers, transport: transport)
        case .anthropic:
            return AnthropicProvider(
                baseURL: baseURL ?? candidate.baseURL ?? "https://api.anthropic.com",
                apiKey: apiKey,
                headers: candidate.headers,
                transport: transport
            )
        case .command:
            guard let command = candidate.command, !command.isEmpty else {
                throw RoadtestError(.providerSetup, "candidate '\(candidate.id)' has no command")
            }
            return CommandProvider(arguments: command, workingDirectory: workingDirectory)
        }
    }
}
