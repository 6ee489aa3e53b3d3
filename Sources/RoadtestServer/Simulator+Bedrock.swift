import Foundation
import RoadtestCore
import RoadtestWire

/// The simulator's Bedrock Converse format: the request read as a chat request (the model from the path), the answer
/// as a Converse response or ConverseStream's events, each an event-stream message named by `:event-type`
/// (`messageStart`, content block `Start`/`Delta`/`Stop`, `messageStop`, then `metadata` with usage).
extension Simulator {
    /// A Converse request as the chat request the simulator reads.
    static func chatObject(fromConverse object: [String: JSONValue], model: String, stream: Bool) -> [String: JSONValue]
    {
        var messages: [JSONValue] = []
        for message in object["messages"]?.arrayValue ?? [] {
            let role = message["role"]?.stringValue ?? "user"
            var text = ""
            var calls: [JSONValue] = []
            for block in message["content"]?.arrayValue ?? [] {
                if let piece = block["text"]?.stringValue { text += piece }
                if let use = block["toolUse"] {
                    calls.append(
                        .object([
                            "id": use["toolUseId"] ?? .string(""), "type": .string("function"),
                            "function": .object([
                                "name": use["name"] ?? .string(""),
                                "arguments": .string((use["input"] ?? .object([:])).jsonText),
                            ]),
                        ])
                    )
                }
                if let result = block["toolResult"] {
                    let output = (result["content"]?.arrayValue ?? []).compactMap { $0["text"]?.stringValue }.joined()
                    messages.append(
                        .object([
                            "role": .string("tool"), "tool_call_id": result["toolUseId"] ?? .string(""),
                            "content": .string(output),
                        ])
                    )
                }
            }
            if !text.isEmpty || !calls.isEmpty || role != "user" {
                var chat: [String: JSONValue] = ["role": .string(role), "content": .string(text)]
                if !calls.isEmpty { chat["tool_calls"] = .array(calls) }
                messages.append(.object(chat))
            }
        }
        var chat: [String: JSONValue] = [
            "model": .string(model), "messages": .array(messages), "stream": .bool(stream),
        ]
        let system = (object["system"]?.arrayValue ?? []).compactMap { $0["text"]?.stringValue }.joined()
        if !system.isEmpty { chat["system"] = .string(system) }
        chat["max_tokens"] = object["inferenceConfig"]?["maxTokens"]
        if let tools = object["toolConfig"]?["tools"]?.arrayValue {
            chat["tools"] = .array(
                tools.map { tool in
                    let spec = tool["toolSpec"] ?? .object([:])
                    return .object([
                        "type": .string("function"),
                        "function": .object([
                            "name": spec["name"] ?? .string(""), "description": spec["description"] ?? .null,
                            "parameters": spec["inputSchema"]?["json"] ?? .object([:]),
                        ]),
                    ])
                }
            )
        }
        return chat
    }
}

extension Simulator.Plan {
    var bedrockStopReason: String {
        switch finishReason {
        case .stop: "end_turn"
        case .length: "max_tokens"
        case .toolCalls: "tool_use"
        case .contentFilter: "content_filtered"
        }
    }

    /// One ConverseStream event as an event-stream message.
    func bedrockEvent(_ type: String, _ event: BedrockConverse.StreamEvent) -> [UInt8] {
        EventStreamMessage(
            headers: [
                ":event-type": .string(type), ":content-type": .string("application/json"),
                ":message-type": .string("event"),
            ],
            payload: Array(WireJSON.data(event))
        ).encoded()
    }

    func bedrockEvent(_ type: String, _ fill: (inout BedrockConverse.StreamEvent) -> Void) -> [UInt8] {
        var event = BedrockConverse.StreamEvent()
        fill(&event)
        return bedrockEvent(type, event)
    }

    func bedrockOpening() -> [UInt8] {
        bedrockEvent("messageStart") { $0.role = "assistant" }
    }

    func bedrockReasoning(_ index: Int) -> [UInt8] {
        var bytes = bedrockEvent("contentBlockDelta") {
            $0.contentBlockIndex = 0
            $0.delta = .init(reasoningContent: .init(text: reasoning[index]))
        }
        if index == reasoning.count - 1 { bytes += bedrockEvent("contentBlockStop") { $0.contentBlockIndex = 0 } }
        return bytes
    }

    func bedrockAnswerStart() -> [UInt8] {
        guard let name = behavior.toolCall else { return [] }
        return bedrockEvent("contentBlockStart") {
            $0.contentBlockIndex = answerBlock
            $0.start = .init(toolUse: .init(toolUseId: toolCallID, name: name, input: nil))
        }
    }

    func bedrockContent(_ index: Int) -> [UInt8] {
        let start = index == 0 ? bedrockAnswerStart() : []
        return start
            + bedrockEvent("contentBlockDelta") {
                $0.contentBlockIndex = answerBlock
                $0.delta = isToolCall ? .init(toolUse: .init(input: chunks[index])) : .init(text: chunks[index])
            }
    }

    func bedrockClosing(sent: Int) -> [UInt8] {
        var bytes = sent == 0 ? bedrockAnswerStart() : []
        bytes += bedrockEvent("contentBlockStop") { $0.contentBlockIndex = answerBlock }
        bytes += bedrockEvent("messageStop") { $0.stopReason = bedrockStopReason }
        bytes += bedrockEvent("metadata") {
            $0.usage = behavior.reportsUsage ? bedrockUsage(sent) : nil
            $0.metrics = .init(latencyMs: Int(Monotonic.seconds(from: receivedAt, to: Monotonic.now()) * 1000))
        }
        return bytes
    }

    func bedrockUsage(_ sent: Int) -> BedrockConverse.Usage {
        BedrockConverse.Usage(
            input: promptTokens,
            output: outputTokens(sent),
            cacheRead: behavior.cacheRead > 0 ? behavior.cacheRead : nil,
            cacheWrite: behavior.cacheWrite > 0 ? behavior.cacheWrite : nil
        )
    }

    /// A failure inside the stream: an exception message, as Bedrock sends one.
    func bedrockException() -> [UInt8] {
        EventStreamMessage(
            headers: [
                ":exception-type": .string("modelStreamErrorException"),
                ":content-type": .string("application/json"), ":message-type": .string("exception"),
            ],
            payload: Array(#"{"message":"simulated stream error"}"#.utf8)
        ).encoded()
    }

    /// A message whose checksum does not match its bytes.
    func bedrockCorrupted() -> [UInt8] {
        var bytes = bedrockEvent("contentBlockDelta") {
            $0.contentBlockIndex = answerBlock
            $0.delta = .init(text: "broken")
        }
        bytes[bytes.count - 5] ^= 0xFF
        return bytes
    }

    func bedrockBody() -> Data {
        var blocks: [BedrockConverse.ContentBlock] = []
        if !reasoning.isEmpty { blocks.append(.init(reasoningContent: .init(text: reasoning.joined()))) }
        let text = chunks.joined()
        if let name = behavior.toolCall {
            blocks.append(
                .init(toolUse: .init(toolUseId: toolCallID, name: name, input: JSONValue.parse(text) ?? .object([:])))
            )
        } else {
            blocks.append(.init(text: text))
        }
        return WireJSON.data(
            BedrockConverse.Response(
                output: .init(message: .init(role: "assistant", content: blocks)),
                stopReason: bedrockStopReason,
                usage: behavior.reportsUsage ? bedrockUsage(chunks.count) : nil,
                metrics: .init(latencyMs: Int(Monotonic.seconds(from: receivedAt, to: Monotonic.now()) * 1000))
            )
        )
    }
}
