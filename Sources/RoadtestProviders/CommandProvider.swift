import Foundation
import RoadtestCore
import RoadtestWire

/// A team's own program as the thing under test. It gets the request as JSON on stdin:
/// `{"model", "system", "messages", "temperature", "max_tokens", ...params}` and replies with JSON on stdout:
/// `{"output": "...", "usage": {"input_tokens": 0, "output_tokens": 0}}` (`content`, or an OpenAI-style
/// `choices[0].message.content`, is accepted for `output`; `prompt_tokens`/`completion_tokens` for usage).
public struct CommandProvider: ModelProvider {
    public let arguments: [String]
    /// Where the program runs (the suite file's folder, so relative paths work).
    public let workingDirectory: String?

    public init(arguments: [String], workingDirectory: String? = nil) {
        self.arguments = arguments
        self.workingDirectory = workingDirectory
    }

    public static func input(for request: ChatRequest) -> Data {
        var object: [String: JSONValue] = request.extra
        if let model = request.model { object["model"] = .string(model) }
        if let system = request.system { object["system"] = .string(system) }
        object["messages"] = .array(
            request.messagesWithSystem.map { message in
                var fields: [String: JSONValue] = ["role": .string(message.role), "content": .string(message.content)]
                // A program gets the files' paths and types, and reads them itself.
                if let attachments = message.attachments, !attachments.isEmpty {
                    fields["attachments"] = .array(
                        attachments.map { .object(["file": .string($0.file), "media_type": .string($0.mediaType)]) }
                    )
                }
                return .object(fields)
            }
        )
        if let temperature = request.temperature { object["temperature"] = .number(temperature) }
        if let maxTokens = request.maxTokens { object["max_tokens"] = .number(Double(maxTokens)) }
        return Data(JSONValue.object(object).jsonText.utf8)
    }

    /// The attempt as events: the program answers at once, so its whole output is one text event, then the end.
    public func run(_ request: ChatRequest, onEvent: (ProviderEvent) -> Void) async {
        let start = Monotonic.now()
        onEvent(.sent(at: start))
        let response = await send(request)
        guard response.attemptClass == .ok else {
            onEvent(.failed(response.attemptClass, status: nil, message: response.message ?? "", retryAfter: nil))
            return
        }
        let end = start + UInt64((response.endToEnd ?? 0) * 1e9)
        onEvent(.text(response.output, at: end))
        if !response.isTokenCountEstimated {
            onEvent(.usage(TokenUsage(input: response.inputTokens, output: response.outputTokens)))
        }
        onEvent(.end(at: end))
    }

    /// One attempt, buffered; TTFT is the first byte the program wrote, E2E when it finished.
    public func send(_ request: ChatRequest) async -> ProviderResponse {
        let start = Monotonic.now()
        let result: ProcessRunner.Result
        do {
            result = try await ProcessRunner.run(
                arguments,
                input: Self.input(for: request),
                timeout: request.timeout,
                workingDirectory: workingDirectory
            )
        } catch {
            return ProviderResponse(attemptClass: .commandFailed, message: String(describing: error))
        }
        let end = Monotonic.now()
        if result.timedOut {
            return ProviderResponse(
                attemptClass: .timeout,
                message: "command did not finish within \(DurationText.format(seconds: request.timeout))"
            )
        }
        if result.status != 0 {
            let stderr = String(decoding: result.standardError.suffix(400), as: UTF8.self)
            return ProviderResponse(attemptClass: .commandFailed, message: "exit status \(result.status): \(stderr)")
        }
        guard let json = JSONValue.parse(result.standardOutput), case .object(let object) = json else {
            return ProviderResponse(
                attemptClass: .malformed,
                message: "stdout is not a JSON object: "
                    + String(decoding: result.standardOutput.prefix(200), as: UTF8.self)
            )
        }
        guard
            let output = object["output"]?.stringValue ?? object["content"]?.stringValue
                ?? object["choices"]?.arrayValue?.first?["message"]?["content"]?.stringValue
        else {
            return ProviderResponse(attemptClass: .malformed, message: "reply has no \"output\" text")
        }
        let usage = object["usage"]
        let input: Int?
        let outputTokens: Int?
        do {
            input = try Self.tokenCount(usage?["input_tokens"] ?? usage?["prompt_tokens"], "usage.input_tokens")
            outputTokens = try Self.tokenCount(
                usage?["output_tokens"] ?? usage?["completion_tokens"],
                "usage.output_tokens"
            )
        } catch {
            return ProviderResponse(attemptClass: .malformed, message: "\(error)")
        }
        let elapsed = Monotonic.seconds(from: start, to: end)
        let first = result.firstOutputAt.map { Monotonic.seconds(from: start, to: $0) } ?? elapsed
        return ProviderResponse(
            attemptClass: .ok,
            output: output,
            inputTokens: input ?? 0,
            outputTokens: outputTokens ?? ProviderResponse.estimateTokens(output),
            isTokenCountEstimated: outputTokens == nil,
            timeToFirstToken: min(first, elapsed),
            endToEnd: elapsed,
            contentEvents: 1
        )
    }

    /// A token count the program reported: a whole number from 0 to `TokenCount.maximum`, or absent.
    static func tokenCount(_ value: JSONValue?, _ field: String) throws -> Int? {
        guard let value, value != .null else { return nil }
        guard case .number(let number) = value, let count = TokenCount.validated(number) else {
            throw WireError(
                reason: "\(field): \(value.jsonText) is not a whole number of tokens from 0 to \(TokenCount.maximum)"
            )
        }
        return count
    }
}
