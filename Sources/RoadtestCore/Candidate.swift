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

    /// The price used for cost: the configured one, or zero.
    public var effectivePrice: Price { price ?? .free }
}
