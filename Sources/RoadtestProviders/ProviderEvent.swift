import Foundation
import RoadtestCore

/// What a provider reports while one attempt runs, in order. Times are monotonic nanoseconds taken when the bytes
/// arrived, before they were parsed.
public enum ProviderEvent: Sendable, Hashable {
    /// The request was sent.
    case sent(at: UInt64)
    /// A successful response head (HTTP status).
    case head(status: Int)
    /// Output text.
    case text(String, at: UInt64)
    /// Reasoning text (a reasoning model's thinking): timed apart, never counted as content.
    case reasoning(String, at: UInt64)
    /// A fragment of a tool call: counts as content for TTFT.
    case toolCall(ToolCallDelta, at: UInt64)
    /// Token usage as reported so far (fields not reported are nil).
    case usage(TokenUsage)
    /// Why the model stopped (before `end`).
    case finish(FinishReason)
    /// The stream's end marker (or a complete non-streaming body).
    case end(at: UInt64)
    /// The events since the previous `flush` arrived together (one read from the network), and nothing more is
    /// here yet: a relay may write what it holds in one piece. Carries nothing; consumers that do not relay ignore it.
    case flush
    /// The attempt failed; nothing follows.
    case failed(AttemptClass, status: Int?, message: String, retryAfter: Double?)
}

/// A streamed fragment of a tool call. Fragments with the same `index` belong to one call: the first carries its
/// id and name, the rest add pieces of the arguments.
public struct ToolCallDelta: Sendable, Hashable {
    public var index: Int
    public var id: String?
    public var name: String?
    public var arguments: String

    public init(index: Int, id: String? = nil, name: String? = nil, arguments: String = "") {
        self.index = index
        self.id = id
        self.name = name
        self.arguments = arguments
    }
}

/// Token counts from a response's usage. `input` is the whole prompt (cache reads and writes included);
/// `cacheRead` and `cacheWrite` are the parts of it priced differently.
public struct TokenUsage: Sendable, Hashable {
    public var input: Int?
    public var output: Int?
    public var cacheRead: Int?
    public var cacheWrite: Int?
    public var reasoning: Int?

    public init(
        input: Int? = nil,
        output: Int? = nil,
        cacheRead: Int? = nil,
        cacheWrite: Int? = nil,
        reasoning: Int? = nil
    ) {
        self.input = input
        self.output = output
        self.cacheRead = cacheRead
        self.cacheWrite = cacheWrite
        self.reasoning = reasoning
    }
}
