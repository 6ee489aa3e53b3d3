import Foundation
import RoadtestCore

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
            request.messagesWithSystem.map { .object(["role": .string($0.role), "content": .string($0.content)]) })
        if let temperature = request.temperature { object["temperature"] = .number(temperature) }
        if let maxTokens = request.maxTokens { object["max_tokens"] = .number(Double(maxTokens)) }
        return Data(JSONValue.object(object).jsonText.utf8)
    }

    public func send(_ request: ChatRequest) async -> ProviderResponse {
        let start = Monotonic.now()
        let result: ProcessRunner.Result
        do {
            result = try await ProcessRunner.run(arguments, input: Self.input(for: request), timeout: request.timeout, workingDirectory: workingDirectory)
        } catch {
            return ProviderResponse(attemptClass: .commandFailed, message: String(describing: error))
        }
        let end = Monotonic.now()
        if result.timedOut {
            return ProviderResponse(attemptClass: .timeout, message: "command did not finish within \(DurationText.format(seconds: request.timeout))")
        }
        if result.status != 0 {
            let stderr = String(decoding: result.standardError.suffix(400), as: UTF8.self)
            return ProviderResponse(attemptClass: .commandFailed, message: "exit status \(result.status): \(stderr)")
        }
        guard let json = JSONValue.parse(result.standardOutput), case .object(let object) = json else {
            return ProviderResponse(
                attemptClass: .malformed, message: "stdout is not a JSON object: " + String(decoding: result.standardOutput.prefix(200), as: UTF8.self))
        }
        guard
            let output = object["output"]?.stringValue ?? object["content"]?.stringValue
                ?? object["choices"]?.arrayValue?.first?["message"]?["content"]?.stringValue
        else {
            return ProviderResponse(attemptClass: .malformed, message: "reply has no \"output\" text")
        }
        let usage = object["usage"]
        let input = (usage?["input_tokens"] ?? usage?["prompt_tokens"])?.doubleValue.map { Int($0) }
        let outputTokens = (usage?["output_tokens"] ?? usage?["completion_tokens"])?.doubleValue.map { Int($0) }
        let elapsed = Monotonic.seconds(from: start, to: end)
        let first = result.firstOutputAt.map { Monotonic.seconds(from: start, to: $0) } ?? elapsed
        return ProviderResponse(
            attemptClass: .ok, output: output, inputTokens: input ?? 0,
            outputTokens: outputTokens ?? ProviderResponse.estimateTokens(output), isTokenCountEstimated: outputTokens == nil,
            timeToFirstToken: min(first, elapsed), endToEnd: elapsed, contentEvents: 1)
    }
}
