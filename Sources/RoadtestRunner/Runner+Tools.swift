import Foundation
import RoadtestCore
import RoadtestProviders

extension Runner {
    /// A tool-calling conversation: the model, its tool calls, the scripted results, the model again — until it
    /// answers without calling a tool or `max_turns` model turns were taken. Every request (each turn, each retry,
    /// each fallback) is an attempt; the transcript keeps every message sent and received.
    func converse(
        links: [ChainLink],
        testCase: Case,
        key: TrialKey,
        settings: Settings
    ) async throws -> (sampled: Sampled, trace: ToolTrace, transcript: [Message]) {
        let tools = settings.tools ?? []
        let scripts = settings.toolResults ?? [:]
        let maxTurns = max(1, settings.maxTurns ?? Settings.builtInMaxTurns)
        var messages = links[0].request.messages
        var attempts: [Attempt] = []
        var trace = ToolTrace()
        var last: FallbackChain.Result?
        var startedAt: Double?
        let start = Monotonic.now()
        for turn in 1...maxTurns {
            var turnLinks = links
            for index in turnLinks.indices {
                turnLinks[index].request.messages = messages
                turnLinks[index].request.tools = tools
                turnLinks[index].request.toolChoice = turn == 1 ? settings.toolChoice : nil
            }
            let sent = try await FallbackChain(links: turnLinks, breakers: breakers).send(role: .task)
            startedAt = startedAt ?? sent.startedAt
            for var attempt in sent.attempts {
                attempt.number = attempts.count + 1
                attempts.append(attempt)
            }
            last = sent
            guard sent.response.attemptClass == .ok else { break }
            trace.turns = turn
            let calls = sent.response.toolCalls.enumerated().map { offset, call in
                ToolCall(
                    id: call.id.isEmpty ? "call_\(turn)_\(offset)" : call.id,
                    name: call.name,
                    arguments: call.arguments
                )
            }
            messages.append(
                Message(role: "assistant", content: sent.response.output, toolCalls: calls.isEmpty ? nil : calls)
            )
            guard !calls.isEmpty else { break }
            trace.calls += calls
            if turn == maxTurns {
                trace.maxTurnsReached = true
                break
            }
            for call in calls {
                var result = await toolResult(call, scripts: scripts, testCase: testCase, turn: turn)
                if let payload = testCase.attack?.toolResultPayload { result += payload }
                messages.append(Message(role: "tool", content: result, toolCallID: call.id))
            }
        }
        guard let last else { throw CancellationError() }
        let sampled = Sampled(
            response: last.response,
            attempts: attempts,
            servedBy: last.servedBy,
            startedAt: startedAt ?? last.startedAt,
            elapsed: Monotonic.seconds(from: start, to: Monotonic.now())
        )
        return (sampled, trace, messages)
    }

    /// The scripted result of one call (an error result when the case scripts none for the tool).
    func toolResult(_ call: ToolCall, scripts: [String: ToolScript], testCase: Case, turn: Int) async -> String {
        guard let script = scripts[call.name] else {
            return JSONValue.object(["error": .string("unknown tool \(call.name)")]).jsonText
        }
        switch script {
        case .value(let text):
            return text
        case .table(let rows, let otherwise):
            return ToolScript.lookup(rows: rows, otherwise: otherwise, arguments: call.arguments)
        case .command(let arguments):
            var request: [String: JSONValue] = [
                "name": .string(call.name),
                "arguments": JSONValue.parse(Data(call.arguments.utf8)) ?? .string(call.arguments),
                "case": .string(testCase.attack?.baseCase ?? testCase.id),
                "turn": .number(Double(turn)),
            ]
            if let user = testCase.sessionUser { request["session_user"] = .string(user) }
            do {
                let result = try await ProcessRunner.run(
                    arguments,
                    input: Data(JSONValue.object(request).jsonText.utf8),
                    timeout: 60,
                    environment: ProcessInfo.processInfo.environment,
                    workingDirectory: suite.directory
                )
                if result.timedOut { return #"{"error": "the tool program timed out"}"# }
                let text = String(decoding: result.standardOutput, as: UTF8.self)
                    .trimmingCharacters(in: .whitespacesAndNewlines)
                guard result.status == 0 else {
                    let stderr = String(decoding: result.standardError.suffix(200), as: UTF8.self)
                    return JSONValue.object(["error": .string("tool program exited \(result.status): \(stderr)")])
                        .jsonText
                }
                return text
            } catch {
                return JSONValue.object(["error": .string("tool program could not run: \(error)")]).jsonText
            }
        }
    }
}
