import Foundation
import RoadtestCore

/// One request to a model: the conversation and its generation settings.
public struct ChatRequest: Sendable, Hashable {
    public var model: String?
    public var system: String?
    public var messages: [Message]
    public var temperature: Double?
    public var maxTokens: Int?
    public var stream: Bool
    public var extra: [String: JSONValue]
    /// Per-attempt timeout in seconds.
    public var timeout: Double
    /// Tools the model may call, as OpenAI function definitions (`{"type": "function", "function": {name,
    /// description, parameters}}`); translated for Anthropic.
    public var tools: [JSONValue]
    /// OpenAI's `tool_choice` (`auto`, `none`, `required`, or a named function).
    public var toolChoice: JSONValue?

    public init(
        model: String?,
        system: String? = nil,
        messages: [Message],
        temperature: Double? = nil,
        maxTokens: Int? = nil,
        stream: Bool = true,
        extra: [String: JSONValue] = [:],
        timeout: Double = Settings.builtInTimeout,
        tools: [JSONValue] = [],
        toolChoice: JSONValue? = nil
    ) {
        self.tools = tools
        self.toolChoice = toolChoice
        self.model = model
        self.system = system
        self.messages = messages
        self.temperature = temperature
        self.maxTokens = maxTokens
        self.stream = stream
        self.extra = extra
        self.timeout = timeout
    }

    /// The messages with the system prompt first, as OpenAI-style APIs take them.
    public var messagesWithSystem: [Message] {
        guard let system, !system.isEmpty else { return messages }
        return [Message(role: "system", content: system)] + messages
    }
}

/// Something that answers chat requests. One call is one attempt: it never throws, and classifies every failure.
///
/// A provider streams its attempt as `ProviderEvent`s (text, reasoning, tool-call fragments, usage, end), each
/// stamped when its bytes arrived; `eventBatches(for:)` is that stream as an async sequence, and `send(_:)` is the same
/// events folded by `ResponseAccumulator` into the buffered response.
public protocol ModelProvider: Sendable {
    /// Runs one attempt, handing each event to `onEvent` as it arrives, in order. Cancelling the task ends the
    /// attempt (it then reports `failed(.timeout, ...)`).
    func run(_ request: ChatRequest, onEvent: (ProviderEvent) -> Void) async

    /// One attempt, buffered. The default folds `run`'s events.
    func send(_ request: ChatRequest) async -> ProviderResponse

    /// One attempt's events in batches, for a reader in another task (the gateway's relay). The default runs `run`
    /// in a task of its own.
    func eventBatches(for request: ChatRequest) -> AsyncStream<[ProviderEvent]>

    /// The request made ready to be sent many times (the load generator sends each case thousands of times): an
    /// HTTP provider encodes its body and headers once here. The default sends the request as it is each time.
    func prepared(_ request: ChatRequest) -> PreparedRequest
}

/// A request encoded once; each `send()` is one buffered attempt.
public struct PreparedRequest: Sendable {
    public let send: @Sendable () async -> ProviderResponse

    public init(send: @escaping @Sendable () async -> ProviderResponse) {
        self.send = send
    }
}

extension ModelProvider {
    public func send(_ request: ChatRequest) async -> ProviderResponse {
        var accumulator = ResponseAccumulator()
        await run(request) { accumulator.add($0) }
        return accumulator.response()
    }

    public func prepared(_ request: ChatRequest) -> PreparedRequest {
        PreparedRequest { await self.send(request) }
    }

    /// One attempt's events as an async sequence of batches; ending the iteration early cancels the attempt.
    public func eventBatches(for request: ChatRequest) -> AsyncStream<[ProviderEvent]> {
        AsyncStream { continuation in
            // A provider that does not mark its reads (`flush`) has its events passed on one by one, as they come.
            let task = Task {
                await run(request) { continuation.yield([$0]) }
                continuation.finish()
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }
}

/// Parses a `Retry-After` header: seconds, or an HTTP date.
public enum RetryAfter {
    public static func seconds(_ value: String?, now: Date = Date()) -> Double? {
        guard let value = value?.trimmingCharacters(in: .whitespaces), !value.isEmpty else { return nil }
        if let seconds = Double(value), seconds >= 0 { return seconds }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        guard let date = formatter.date(from: value) else { return nil }
        return max(0, date.timeIntervalSince(now))
    }
}

/// Classifies an HTTP status.
public func attemptClass(forStatus status: Int) -> AttemptClass {
    switch status {
    case 200..<300: return .ok
    case 429: return .http429
    case 400..<500: return .http4xx
    default: return .http5xx
    }
}
