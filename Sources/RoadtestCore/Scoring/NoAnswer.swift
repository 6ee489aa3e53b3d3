import Foundation

/// A candidate that got no answer at all: every task attempt failed before a model answered it, because the
/// endpoint refused or failed the connection, rejected the credentials (401, 403), or knew no such model or path
/// (404). Such a run did not test the candidate, whatever its bars say.
public struct NoAnswer: Sendable, Hashable, Codable {
    /// Task attempts made, all of them unanswered.
    public var attempts: Int
    /// Attempts by reason: `connection`, `http_401`, `http_403`, `http_404`.
    public var reasons: [String: Int]
    /// Where the attempts went (the candidate's base URL), when it has one.
    public var endpoint: String?
    /// The first failed attempt's message, on one line and shortened.
    public var detail: String?

    /// A candidate's tally: nil unless it made attempts and every one of them is counted in `reasons`.
    public init?(attempts: Int, reasons: [String: Int], endpoint: String?, detail: String?) {
        guard attempts > 0, reasons.values.reduce(0, +) == attempts else { return nil }
        self.attempts = attempts
        self.reasons = reasons
        self.endpoint = endpoint
        self.detail = detail.map(Self.oneLine)
    }

    /// Why `attempt` went unanswered before reaching a model, or nil when it was answered or failed otherwise.
    public static func reason(for attempt: Attempt) -> String? {
        switch attempt.attemptClass {
        case .connection: return "connection"
        case .http4xx where [401, 403, 404].contains(attempt.httpStatus ?? 0): return "http_\(attempt.httpStatus!)"
        default: return nil
        }
    }

    static func oneLine(_ text: String) -> String {
        let flat = String(
            text.unicodeScalars.map { CharacterSet.controlCharacters.contains($0) ? " " : Character($0) }
        )
        return flat.count > 160 ? String(flat.prefix(159)) + "…" : flat
    }

    static func label(_ reason: String, count: Int) -> String {
        switch reason {
        case "connection": return count == 1 ? "a connection error" : "connection errors"
        case "http_401": return "HTTP 401 (unauthorized)"
        case "http_403": return "HTTP 403 (forbidden)"
        case "http_404": return "HTTP 404 (unknown model or path)"
        default: return reason
        }
    }
}

extension NoAnswer: CustomStringConvertible {
    /// `12 of 12 attempts were connection errors (connection refused at http://127.0.0.1:9/v1)`
    public var description: String {
        let sorted = reasons.filter { $0.value > 0 }.sorted {
            $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key
        }
        var text: String
        if sorted.count == 1, let only = sorted.first {
            text =
                "\(attempts) of \(attempts) attempt\(attempts == 1 ? " was" : "s were") "
                + Self.label(only.key, count: attempts)
        } else {
            text =
                "\(attempts) of \(attempts) attempts failed: "
                + sorted.map { "\($0.value) × \(Self.label($0.key, count: 2))" }.joined(separator: ", ")
        }
        let cause: String? =
            if sorted.first?.key == "connection" {
                detail.map { $0.lowercased().contains("refused") ? "connection refused" : $0 }
            } else {
                detail
            }
        let place = endpoint.map { "at \($0)" }
        let parts = [cause, place].compactMap { $0 }
        if !parts.isEmpty { text += " (" + parts.joined(separator: " ") + ")" }
        return text
    }
}
