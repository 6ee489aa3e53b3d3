import Foundation

/// Request settings that layer: suite `defaults`, then the candidate, then the case (the later wins).
public struct Settings: Sendable, Hashable, Codable {
    public var system: String?
    public var temperature: Double?
    public var maxTokens: Int?
    /// Per-attempt timeout in seconds.
    public var timeout: Double?
    public var retries: Int?
    public var concurrency: Int?
    /// Stream the response (default true for HTTP providers).
    public var stream: Bool?
    /// Base delay of exponential backoff between retries, in seconds.
    public var retryBackoff: Double?
    /// Any other request parameters, passed through to the provider unchanged.
    public var extra: [String: JSONValue]
    /// Tools the model may call (OpenAI function definitions; translated for Anthropic).
    public var tools: [JSONValue]?
    /// Scripted results by tool name (merged across layers: a later layer's entry for a tool wins).
    public var toolResults: [String: ToolScript]?
    /// Model turns a tool-calling conversation may take before it is stopped.
    public var maxTurns: Int?
    /// OpenAI's `tool_choice` for the first model turn (`auto`, `none`, `required`, or a named function; later turns
    /// are `auto`, so a conversation forced to call a tool can still end).
    public var toolChoice: JSONValue?

    public init(
        system: String? = nil,
        temperature: Double? = nil,
        maxTokens: Int? = nil,
        timeout: Double? = nil,
        retries: Int? = nil,
        concurrency: Int? = nil,
        stream: Bool? = nil,
        retryBackoff: Double? = nil,
        extra: [String: JSONValue] = [:]
    ) {
        self.system = system
        self.temperature = temperature
        self.maxTokens = maxTokens
        self.timeout = timeout
        self.retries = retries
        self.concurrency = concurrency
        self.stream = stream
        self.retryBackoff = retryBackoff
        self.extra = extra
    }

    /// These settings with every value set in `other` taking precedence.
    public func overlaid(with other: Settings) -> Settings {
        var result = self
        result.system = other.system ?? system
        result.temperature = other.temperature ?? temperature
        result.maxTokens = other.maxTokens ?? maxTokens
        result.timeout = other.timeout ?? timeout
        result.retries = other.retries ?? retries
        result.concurrency = other.concurrency ?? concurrency
        result.stream = other.stream ?? stream
        result.retryBackoff = other.retryBackoff ?? retryBackoff
        result.extra.merge(other.extra) { _, new in new }
        result.tools = other.tools ?? tools
        if let theirs = other.toolResults {
            result.toolResults = (toolResults ?? [:]).merging(theirs) { _, new in new }
        }
        result.maxTurns = other.maxTurns ?? maxTurns
        result.toolChoice = other.toolChoice ?? toolChoice
        return result
    }

    public static let builtInTimeout: Double = 60
    public static let builtInRetries = 2
    public static let builtInConcurrency = 4
    public static let builtInRetryBackoff: Double = 0.5
    public static let builtInMaxTurns = 8
}

/// Prices in USD per million tokens.
public struct Price: Sendable, Hashable, Codable {
    public var input: Double
    public var output: Double
    /// Prompt tokens read from a provider's cache (`cached_input`; `input` when not given).
    public var cachedInput: Double?
    /// Prompt tokens written to a provider's cache (`cache_write`; `input` when not given).
    public var cacheWrite: Double?

    public init(input: Double = 0, output: Double = 0, cachedInput: Double? = nil, cacheWrite: Double? = nil) {
        self.input = input
        self.output = output
        self.cachedInput = cachedInput
        self.cacheWrite = cacheWrite
    }

    /// Cost in USD of the given token counts. `inputTokens` is the whole prompt; `cachedInputTokens` (cache reads)
    /// and `cacheWriteTokens` (cache writes) are the parts of it priced differently.
    public func cost(
        inputTokens: Int,
        outputTokens: Int,
        cachedInputTokens: Int = 0,
        cacheWriteTokens: Int = 0
    ) -> Double {
        let cached = min(max(0, cachedInputTokens), max(0, inputTokens))
        let written = min(max(0, cacheWriteTokens), max(0, inputTokens) - cached)
        let uncached = max(0, inputTokens) - cached - written
        return
            (Double(uncached) * input + Double(cached) * (cachedInput ?? input) + Double(written)
            * (cacheWrite ?? input)
            + Double(max(0, outputTokens)) * output) / 1_000_000
    }

    public static let free = Price()
}
