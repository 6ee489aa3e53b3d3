import Foundation
import RoadtestCore
import RoadtestWire

/// The simulator's Gemini format (the Gemini API and Vertex AI): the request read as a chat request (the model from
/// the path), the answer as a `GenerateContentResponse` or a stream of them, thought parts first, the last chunk
/// with the finish reason and usage.
extension Simulator {
    /// A `generateContent` request as the chat request the simulator reads.
    static func chatObject(fromGemini object: [String: JSONValue], model: String, stream: Bool) -> [String: JSONValue] {
        var messages: [JSONValue] = []
        for content in object["contents"]?.arrayValue ?? [] {
            let role = content["role"]?.stringValue == "model" ? "assistant" : "user"
            var text = ""
            var calls: [JSONValue] = []
            for part in content["parts"]?.arrayValue ?? [] {
                if let piece = part["text"]?.stringValue { text += piece }
                if let call = part["functionCall"] {
                    calls.append(
                        .object([
                            "id": .string("call_\(calls.count)"), "type": .string("function"),
                            "function": .object([
                                "name": call["name"] ?? .string(""),
                                "arguments": .string((call["args"] ?? .object([:])).jsonText),
                            ]),
                        ])
                    )
                }
                if let response = part["functionResponse"] {
                    let output =
                        response["response"]?["result"]?.stringValue ?? (response["response"] ?? .null).jsonText
                    messages.append(.object(["role": .string("tool"), "content": .string(output)]))
                }
            }
            if !text.isEmpty || !calls.isEmpty || role == "assistant" {
                var chat: [String: JSONValue] = ["role": .string(role), "content": .string(text)]
                if !calls.isEmpty { chat["tool_calls"] = .array(calls) }
                messages.append(.object(chat))
            }
        }
        var chat: [String: JSONValue] = [
            "model": .string(model), "messages": .array(messages), "stream": .bool(stream),
        ]
        let system = (object["systemInstruction"]?["parts"]?.arrayValue ?? []).compactMap { $0["text"]?.stringValue }
            .joined()
        if !system.isEmpty { chat["system"] = .string(system) }
        chat["max_tokens"] = object["generationConfig"]?["maxOutputTokens"]
        let declarations = (object["tools"]?.arrayValue ?? []).flatMap { $0["functionDeclarations"]?.arrayValue ?? [] }
        if !declarations.isEmpty {
            chat["tools"] = .array(declarations.map { .object(["type": .string("function"), "function": $0]) })
        }
        return chat
    }
}

extension Simulator.Plan {
    var geminiFinishReason: String {
        switch finishReason {
        case .stop, .toolCalls: "STOP"
        case .length: "MAX_TOKENS"
        case .contentFilter: "SAFETY"
        }
    }

    func geminiChunk(
        _ parts: [GeminiGenerate.Part],
        finish: String? = nil,
        usage: GeminiGenerate.UsageMetadata? = nil
    ) -> GeminiGenerate.Response {
        GeminiGenerate.Response(
            candidates: [.init(content: .init(role: "model", parts: parts), finishReason: finish)],
            usageMetadata: usage,
            modelVersion: model,
            responseId: "sim-\(receivedAt)"
        )
    }

    func geminiEvent(_ chunk: GeminiGenerate.Response) -> String {
        ServerSentEventEncoder.event(chunk)
    }

    func geminiUsage(_ sent: Int) -> GeminiGenerate.UsageMetadata {
        GeminiGenerate.UsageMetadata(
            prompt: promptTokens + behavior.cacheRead + behavior.cacheWrite,
            candidates: sent,
            cached: behavior.cacheRead > 0 ? behavior.cacheRead : nil,
            thoughts: behavior.reasoningDeltas > 0 ? behavior.reasoningDeltas : nil
        )
    }

    /// The tool call, whole: Gemini sends a function call complete in one part.
    var geminiCall: GeminiGenerate.Part? {
        behavior.toolCall.map {
            .init(functionCall: .init(name: $0, args: JSONValue.parse(chunks.joined()) ?? .object([:])))
        }
    }

    func geminiReasoning(_ index: Int) -> String {
        geminiEvent(geminiChunk([.init(text: reasoning[index], thought: true)]))
    }

    func geminiContent(_ index: Int) -> String {
        if let call = geminiCall { return index == 0 ? geminiEvent(geminiChunk([call])) : "" }
        return geminiEvent(geminiChunk([.init(text: chunks[index])]))
    }

    func geminiClosing(sent: Int) -> String {
        var parts: [GeminiGenerate.Part] = [.init(text: "")]
        if sent == 0, let call = geminiCall { parts = [call] }
        return geminiEvent(
            geminiChunk(parts, finish: geminiFinishReason, usage: behavior.reportsUsage ? geminiUsage(sent) : nil)
        )
    }

    func geminiBody() -> Data {
        var parts: [GeminiGenerate.Part] = []
        if !reasoning.isEmpty { parts.append(.init(text: reasoning.joined(), thought: true)) }
        parts.append(geminiCall ?? .init(text: chunks.joined()))
        return WireJSON.data(
            geminiChunk(
                parts,
                finish: geminiFinishReason,
                usage: behavior.reportsUsage ? geminiUsage(chunks.count) : nil
            )
        )
    }
}
