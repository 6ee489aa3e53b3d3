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
        if candidate.baseURL == nil, candidate.provider == .bedrock, let region = candidate.region {
            return BedrockProvider.defaultBaseURL(region: region)
        }
        if candidate.baseURL == nil, candidate.provider == .gemini, case .vertex = geminiSurface(for: candidate) {
            if let base = environment["GOOGLE_VERTEX_BASE_URL"], !base.isEmpty {
                return base.trimmingSuffix("/") + "/v1"
            }
            return GeminiProvider.defaultBaseURL(geminiSurface(for: candidate))
        }
        return candidate.baseURL ?? candidate.provider.defaultBaseURL(environment: environment)
    }

    /// A Gemini candidate's surface: Vertex AI when it names a project, else the Gemini API.
    func geminiSurface(for candidate: Candidate) -> GeminiProvider.Surface {
        guard let project = candidate.project else { return .gemini }
        return .vertex(project: project, location: candidate.location ?? "global")
    }

    /// The region a Bedrock candidate signs for: its own, else `AWS_REGION` or `AWS_DEFAULT_REGION`.
    func region(for candidate: Candidate) -> String? {
        candidate.region
            ?? [environment["AWS_REGION"], environment["AWS_DEFAULT_REGION"]].compactMap { $0 }
            .first { !$0.isEmpty }
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
        case .gemini:
            return GeminiProvider(
                baseURL: try url(),
                surface: geminiSurface(for: candidate),
                credential: token.map { ("Authorization", "Bearer \($0)") } ?? apiKey.map { ("x-goog-api-key", $0) },
                headers: candidate.headers,
                transport: transport
            )
        case .bedrock:
            return BedrockProvider(
                baseURL: try url(),
                credential: try bedrockCredential(for: candidate),
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

    /// A Bedrock API key (`AWS_BEARER_TOKEN_BEDROCK`, or the variable `token_env` names), else Signature V4 with
    /// the standard AWS credentials for the candidate's region.
    func bedrockCredential(for candidate: Candidate) throws -> BedrockProvider.Credential {
        if let token = try secret(candidate.tokenEnvironmentVariable, of: candidate)
            ?? environment["AWS_BEARER_TOKEN_BEDROCK"].flatMap({ $0.isEmpty ? nil : $0 })
        {
            return .bearer(token)
        }
        guard let credentials = AWSCredentials.fromEnvironment(environment) else {
            throw RoadtestError(
                .providerSetup,
                "candidate '\(candidate.id)' signs its requests with AWS credentials: export AWS_ACCESS_KEY_ID and "
                    + "AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN for temporary ones), or AWS_BEARER_TOKEN_BEDROCK"
            )
        }
        guard let region = region(for: candidate) else {
            throw RoadtestError(
                .providerSetup,
                "candidate '\(candidate.id)' needs a region: add 'region: us-east-1' or export AWS_REGION"
            )
        }
        return .signed(SigV4Signer(credentials: credentials, region: region, service: "bedrock"))
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
