import Foundation

/// The kind of endpoint a candidate is reached through.
public enum ProviderKind: String, Sendable, Hashable, Codable, CaseIterable {
    /// Any OpenAI-compatible `/v1/chat/completions` endpoint.
    case openai
    /// Anthropic Messages `/v1/messages`.
    case anthropic
    /// A program that reads the request as JSON on stdin and writes its reply as JSON on stdout.
    case command
    /// A model served by a `llama-server` that Roadtest starts and stops.
    case local
    /// OpenAI's Responses API, `/v1/responses`.
    case openaiResponses = "openai-responses"
    /// Azure OpenAI chat completions: a deployment on a resource's endpoint, or the v1 form with `model`.
    case azure
    /// AWS Bedrock's Converse API, signed with Signature V4.
    case bedrock
    /// Google's Gemini API, or Vertex AI when the candidate names a `project` and `location`.
    case gemini

    /// The endpoint a provider reaches when the suite names none, as its official SDK has it; nil when the
    /// suite must say.
    public func defaultBaseURL(environment: [String: String]) -> String? {
        func variable(_ name: String) -> String? { environment[name].flatMap { $0.isEmpty ? nil : $0 } }
        switch self {
        case .openai, .openaiResponses: return variable("OPENAI_BASE_URL") ?? "https://api.openai.com/v1"
        case .anthropic: return variable("ANTHROPIC_BASE_URL") ?? "https://api.anthropic.com"
        case .azure: return variable("AZURE_OPENAI_ENDPOINT")
        case .bedrock:
            return (variable("AWS_REGION") ?? variable("AWS_DEFAULT_REGION")).map {
                "https://bedrock-runtime.\($0).amazonaws.com"
            }
        case .gemini:
            return (variable("GOOGLE_GEMINI_BASE_URL").map { $0.trimmingSuffix("/") + "/v1beta" })
                ?? "https://generativelanguage.googleapis.com/v1beta"
        case .command, .local: return nil
        }
    }
}

/// One configuration being compared: a model behind an endpoint, with its settings and price.
public struct Candidate: Sendable, Hashable, Codable {
    public var id: String
    public var provider: ProviderKind
    public var baseURL: String?
    public var model: String?
    /// Name of the environment variable holding the API key. The key itself is never stored.
    public var apiKeyEnvironmentVariable: String?
    public var command: [String]?
    public var local: String?
    public var gguf: String?
    public var llamaServer: String?
    public var serverArguments: [String]
    public var headers: [String: String]
    public var price: Price?
    public var settings: Settings
    /// A judge grades other candidates' outputs and is not itself scored.
    public var isJudge: Bool
    /// Candidates tried in order when this one fails with a failure worth falling back on, after its own retries.
    public var fallback: [String] = []
    /// The circuit breaker: skip this candidate for a while after consecutive failures.
    public var cooldown: Cooldown?
    /// Reached only as another candidate's fallback; not scored on its own.
    public var isFallbackOnly: Bool = false
    /// Several samples per trial and one selected (`strategy: {samples: 5, select: majority}`).
    public var strategy: Strategy?
    /// An OpenAI-compatible embeddings endpoint (`embeddings: true`) for `similar` checks and votes by meaning;
    /// not scored. A local one gets its llama-server started with `--embeddings`.
    public var isEmbeddings: Bool = false
    /// Azure OpenAI: the deployment (`deployment`) and API version (`api_version`; none means the v1 form).
    public var deployment: String?
    public var apiVersion: String?
    /// Name of the environment variable holding a bearer token (Entra ID for Azure, an OAuth token for Vertex AI)
    /// used instead of an API key. The token itself is never stored.
    public var tokenEnvironmentVariable: String?
    /// AWS Bedrock's region (else `AWS_REGION`, `AWS_DEFAULT_REGION`).
    public var region: String?
    /// Vertex AI's project and location (a Gemini candidate with a project is reached through Vertex AI).
    public var project: String?
    public var location: String?

    public init(
        id: String,
        provider: ProviderKind,
        baseURL: String? = nil,
        model: String? = nil,
        apiKeyEnvironmentVariable: String? = nil,
        command: [String]? = nil,
        local: String? = nil,
        gguf: String? = nil,
        llamaServer: String? = nil,
        serverArguments: [String] = [],
        headers: [String: String] = [:],
        price: Price? = nil,
        settings: Settings = Settings(),
        isJudge: Bool = false
    ) {
        self.id = id
        self.provider = provider
        self.baseURL = baseURL
        self.model = model
        self.apiKeyEnvironmentVariable = apiKeyEnvironmentVariable
        self.command = command
        self.local = local
        self.gguf = gguf
        self.llamaServer = llamaServer
        self.serverArguments = serverArguments
        self.headers = headers
        self.price = price
        self.settings = settings
        self.isJudge = isJudge
    }

    enum CodingKeys: String, CodingKey {
        case id, provider, baseURL, model, apiKeyEnvironmentVariable, command, local, gguf, llamaServer
        case serverArguments, headers, price, settings, isJudge, fallback, cooldown, isFallbackOnly, strategy,
            isEmbeddings, deployment, apiVersion, tokenEnvironmentVariable, region, project, location
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        id = try container.decode(String.self, forKey: .id)
        provider = try container.decode(ProviderKind.self, forKey: .provider)
        baseURL = try container.decodeIfPresent(String.self, forKey: .baseURL)
        model = try container.decodeIfPresent(String.self, forKey: .model)
        apiKeyEnvironmentVariable = try container.decodeIfPresent(String.self, forKey: .apiKeyEnvironmentVariable)
        command = try container.decodeIfPresent([String].self, forKey: .command)
        local = try container.decodeIfPresent(String.self, forKey: .local)
        gguf = try container.decodeIfPresent(String.self, forKey: .gguf)
        llamaServer = try container.decodeIfPresent(String.self, forKey: .llamaServer)
        serverArguments = try container.decode([String].self, forKey: .serverArguments)
        headers = try container.decode([String: String].self, forKey: .headers)
        price = try container.decodeIfPresent(Price.self, forKey: .price)
        settings = try container.decode(Settings.self, forKey: .settings)
        isJudge = try container.decode(Bool.self, forKey: .isJudge)
        // Suites stored before fallback chains existed have none of these keys.
        fallback = try container.decodeIfPresent([String].self, forKey: .fallback) ?? []
        cooldown = try container.decodeIfPresent(Cooldown.self, forKey: .cooldown)
        isFallbackOnly = try container.decodeIfPresent(Bool.self, forKey: .isFallbackOnly) ?? false
        strategy = try container.decodeIfPresent(Strategy.self, forKey: .strategy)
        isEmbeddings = try container.decodeIfPresent(Bool.self, forKey: .isEmbeddings) ?? false
        deployment = try container.decodeIfPresent(String.self, forKey: .deployment)
        apiVersion = try container.decodeIfPresent(String.self, forKey: .apiVersion)
        tokenEnvironmentVariable = try container.decodeIfPresent(String.self, forKey: .tokenEnvironmentVariable)
        region = try container.decodeIfPresent(String.self, forKey: .region)
        project = try container.decodeIfPresent(String.self, forKey: .project)
        location = try container.decodeIfPresent(String.self, forKey: .location)
    }

    /// Scored in a run: neither a judge nor reached only as a fallback.
    public var isScored: Bool { !isJudge && !isFallbackOnly && !isEmbeddings }

    /// The price used for cost: the configured one, or zero.
    public var effectivePrice: Price { price ?? .free }
}

/// A circuit breaker's setting: after `after` consecutive failed attempts a candidate is skipped for `duration`
/// seconds, then one request probes it (success closes the circuit, failure opens it again).
public struct Cooldown: Sendable, Hashable, Codable {
    public var after: Int
    public var duration: Double

    public init(after: Int, duration: Double) {
        self.after = after
        self.duration = duration
    }
}

extension String {
    /// The text without trailing copies of `suffix`.
    public func trimmingSuffix(_ suffix: String) -> String {
        var text = self
        while !suffix.isEmpty, text.hasSuffix(suffix) { text.removeLast(suffix.count) }
        return text
    }
}

extension Candidate {
    /// The OpenTelemetry GenAI `gen_ai.provider.name` of this candidate's endpoint (semantic conventions 1.37+: the
    /// well-known values where one fits, otherwise the provider's own name).
    public var genAIProviderName: String {
        switch provider {
        case .openai, .openaiResponses: return "openai"
        case .anthropic: return "anthropic"
        case .azure: return "azure.ai.openai"
        case .bedrock: return "aws.bedrock"
        case .gemini: return project == nil ? "gcp.gemini" : "gcp.vertex_ai"
        case .local: return "llama.cpp"
        case .command: return "roadtest.command"
        }
    }
}
