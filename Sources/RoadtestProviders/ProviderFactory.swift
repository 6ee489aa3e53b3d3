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

    /// The endpoint `candidate` is reached at: the suite's `base_url` (Azure's `endpoint`), else its provider's
    /// default as the official SDK has it (`OPENAI_BASE_URL`, `ANTHROPIC_BASE_URL`...). Nil for commands and local
    /// models, and where the suite must name one.
    public func endpoint(for candidate: Candidate) -> String? {
        candidate.baseURL ?? candidate.provider.defaultBaseURL(environment: environment)
    }

    /// The value of the environment variable a candidate names for a secret, or a setup error naming it.
    func secret(_ variable: String?, of candidate: Candidate) throws -> String? {
        guard let variable else { return nil }
        guard let value = environment[variable], !value.isEmpty else {
            throw RoadtestError(
                .providerSetup,
                "candidate '\(candidate.id)' reads its credential from $\(variable), which is not set; export it and run again"
            )
        }
        return value
    }

    /// The provider for `candidate`; `baseURL` overrides the candidate's (a managed local server's address, or a
    /// chaos proxy in front of it).
    public func makeProvider(for candidate: Candidate, baseURL: String? = nil) throws -> any ModelProvider {
        let apiKey = try secret(candidate.apiKeyEnvironmentVariable, of: candidate)
        let token = try secret(candidate.tokenEnvironmentVariable, of: candidate)
        func url() throws -> String {
            guard let url = baseURL ?? endpoint(for: candidate) else {
                let key = candidate.provider == .azure ? "endpoint" : "base_url"
                throw RoadtestError(.providerSetup, "candidate '\(candidate.id)' has no \(key)")
            }
            return url
        }
        switch candidate.provider {
        case .openai, .local:
            return OpenAIProvider(baseURL: try url(), apiKey: apiKey, headers: candidate.headers, transport: transport)
        case .openaiResponses:
            return OpenAIResponsesProvider(
                baseURL: try url(),
                apiKey: token ?? apiKey,
                headers: candidate.headers,
                transport: transport
            )
        case .azure:
            return OpenAIProvider(
                url: try Self.azureURL(endpoint: try url(), candidate: candidate),
                credential: token.map { ("Authorization", "Bearer \($0)") } ?? apiKey.map { ("api-key", $0) },
                headers: candidate.headers,
                transport: transport
            )
        case .anthropic:
            return AnthropicProvider(
                baseURL: try url(),
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

    /// Azure OpenAI's chat-completions URL: `{endpoint}/openai/deployments/{deployment}/chat/completions?api-version=V`
    /// with an API version, else the v1 form `{endpoint}/openai/v1/chat/completions` (the model in the body).
    static func azureURL(endpoint: String, candidate: Candidate) throws -> String {
        var base = endpoint
        while base.hasSuffix("/") { base.removeLast() }
        guard let version = candidate.apiVersion else { return base + "/openai/v1/chat/completions" }
        guard let deployment = candidate.deployment ?? candidate.model else {
            throw RoadtestError(.providerSetup, "candidate '\(candidate.id)' names an api_version but no deployment")
        }
        let allowed = CharacterSet.urlPathAllowed.subtracting(CharacterSet(charactersIn: "/?#"))
        let segment = deployment.addingPercentEncoding(withAllowedCharacters: allowed) ?? deployment
        let query = version.addingPercentEncoding(withAllowedCharacters: .urlQueryAllowed) ?? version
        return base + "/openai/deployments/\(segment)/chat/completions?api-version=\(query)"
    }
}
