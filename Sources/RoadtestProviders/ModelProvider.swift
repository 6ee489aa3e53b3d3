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

    public init(
        model: String?, system: String? = nil, messages: [Message], temperature: Double? = nil, maxTokens: Int? = nil,
        stream: Bool = true, extra: [String: JSONValue] = [:], timeout: Double = Settings.builtInTimeout
    ) {
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

/// Something that answers chat requests. One call is one attempt: it never throws, and classifies
/// every failure into the response's `attemptClass`.
public protocol ModelProvider: Sendable {
    func send(_ request: ChatRequest) async -> ProviderResponse
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

/// Runs `operation` with a deadline; returns `onTimeout()` if the deadline passes first (the operation is cancelled).
public func withDeadline<T: Sendable>(
    seconds: Double, operation: @escaping @Sendable () async -> T, onTimeout: @escaping @Sendable () -> T
) async -> T {
    await withTaskGroup(of: T?.self) { group in
        group.addTask { await operation() }
        group.addTask {
            try? await Task.sleep(nanoseconds: UInt64(max(0, seconds) * 1e9))
            return Task.isCancelled ? nil : onTimeout()
        }
        var result: T?
        while let next = await group.next() {
            if let next {
                result = next
                break
            }
        }
        group.cancelAll()
        return result ?? onTimeout()
    }
}
