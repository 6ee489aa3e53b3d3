/// Why a model stopped, as OpenAI names it: the answer is complete (`stop`), cut at `max_tokens` (`length`), a
/// tool call (`tool_calls`), or withheld by the provider's content filter (`content_filter`). Carried from the
/// provider to the gateway's client unchanged, so a client can tell a truncated or filtered answer from a whole one.
public enum FinishReason: String, Sendable, Hashable, Codable {
    case stop
    case length
    case toolCalls = "tool_calls"
    case contentFilter = "content_filter"

    /// From an OpenAI `finish_reason` (`function_call`, the old name, is a tool call); nil for none or unknown.
    public init?(openAI value: String?) {
        switch value {
        case "stop": self = .stop
        case "length": self = .length
        case "tool_calls", "function_call": self = .toolCalls
        case "content_filter": self = .contentFilter
        default: return nil
        }
    }

    /// From an Anthropic `stop_reason`.
    public init?(anthropic value: String?) {
        switch value {
        case "end_turn", "stop_sequence", "pause_turn": self = .stop
        case "max_tokens", "model_context_window_exceeded": self = .length
        case "tool_use": self = .toolCalls
        case "refusal": self = .contentFilter
        default: return nil
        }
    }

    /// As an Anthropic `stop_reason`.
    public var anthropic: String {
        switch self {
        case .stop: "end_turn"
        case .length: "max_tokens"
        case .toolCalls: "tool_use"
        case .contentFilter: "refusal"
        }
    }
}
