import Foundation
import RoadtestCore
import RoadtestWire

extension Simulator {
    /// One response being produced: what to send, when, in which wire format. Every body and event is built from
    /// the wire types.
    struct Plan: Sendable {
        var model: String
        var behavior: ModelBehavior
        var fault: SimulatedFault
        /// Answer text chunks (one per word), or the tool call's argument fragments.
        var chunks: [String]
        var promptTokens: Int
        var includeUsage: Bool
        var receivedAt: UInt64
        var serviceStart: UInt64
        var format: WireFormat

        var id: String { "sim-\(receivedAt)" }
        var toolCallID: String { "call_\(receivedAt)" }
        var isToolCall: Bool { behavior.toolCall != nil }
        var finishReason: FinishReason { behavior.finish ?? (isToolCall ? .toolCalls : .stop) }
        /// Reasoning deltas, sent before the answer.
        var reasoning: [String] { (0..<behavior.reasoningDeltas).map { "thinking step \($0 + 1). " } }
        /// The Anthropic content block of the answer (after a thinking block, when there is one).
        var answerBlock: Int { behavior.reasoningDeltas > 0 ? 1 : 0 }

        /// Seconds after service start when reasoning delta `index` is due.
        func reasoningDue(_ index: Int) -> Double {
            min(Double(index) * behavior.interTokenLatency, behavior.timeToFirstToken)
        }

        // MARK: - Streams

        /// Sent at once: a role-only chunk (OpenAI) or message_start (Anthropic). Never counts as content.
        func openingEvents() -> String {
            switch format {
            case .responses: return responsesOpening()
            case .bedrock, .gemini: return ""
            case .openAI:
                return openAIChunk(.init(role: "assistant", content: ""))
            case .anthropic:
                let message = AnthropicMessages.Response(
                    id: id,
                    model: model,
                    content: [],
                    stop_reason: nil,
                    usage: .init(
                        input_tokens: TokenCount(promptTokens),
                        output_tokens: 1,
                        cache_read_input_tokens: behavior.cacheRead > 0 ? TokenCount(behavior.cacheRead) : nil,
                        cache_creation_input_tokens: behavior.cacheWrite > 0 ? TokenCount(behavior.cacheWrite) : nil
                    )
                )
                return ServerSentEventEncoder.event(
                    AnthropicMessages.StreamEvent.messageStart(message),
                    name: "message_start"
                )
            }
        }

        /// The `index`-th reasoning delta.
        func reasoningEvent(_ index: Int) -> String {
            let text = reasoning[index]
            switch format {
            case .responses: return responsesReasoning(index)
            case .gemini: return geminiReasoning(index)
            case .bedrock: return ""
            case .openAI:
                return openAIChunk(.init(reasoning_content: text))
            case .anthropic:
                var delta = AnthropicMessages.StreamEvent.Delta(type: "thinking_delta")
                delta.thinking = text
                var events = ""
                if index == 0 {
                    var block = AnthropicMessages.ContentBlock(type: "thinking")
                    block.thinking = ""
                    events += anthropic(.blockStart(0, block))
                }
                events += anthropic(.blockDelta(0, delta))
                if index == reasoning.count - 1 { events += anthropic(.blockStop(0)) }
                return events
            }
        }

        /// The `index`-th piece of the answer: a text chunk or a tool-call fragment.
        func contentEvent(_ index: Int) -> String {
            let piece = chunks[index]
            switch format {
            case .responses: return responsesContent(index)
            case .gemini: return geminiContent(index)
            case .bedrock: return ""
            case .openAI:
                guard let name = behavior.toolCall else { return openAIChunk(.init(content: piece)) }
                let call = OpenAIChat.ToolCall(
                    index: 0,
                    id: index == 0 ? toolCallID : nil,
                    type: index == 0 ? "function" : nil,
                    function: .init(name: index == 0 ? name : nil, arguments: piece)
                )
                return openAIChunk(.init(tool_calls: [call]))
            case .anthropic:
                var events = ""
                if index == 0 { events += blockStart() }
                var delta = AnthropicMessages.StreamEvent.Delta(type: isToolCall ? "input_json_delta" : "text_delta")
                if isToolCall { delta.partial_json = piece } else { delta.text = piece }
                return events + anthropic(.blockDelta(answerBlock, delta))
            }
        }

        func blockStart() -> String {
            if let name = behavior.toolCall {
                return anthropic(.blockStart(answerBlock, .toolUse(id: toolCallID, name: name, input: .object([:]))))
            }
            return anthropic(.blockStart(answerBlock, .text("")))
        }

        func closingEvents(sent: Int) -> String {
            let stopReason = finishReason.rawValue
            switch format {
            case .responses: return responsesClosing(sent: sent)
            case .gemini: return geminiClosing(sent: sent)
            case .bedrock: return ""
            case .openAI:
                var text = openAIChunk(.init(), finish: stopReason)
                if includeUsage && behavior.reportsUsage {
                    text += ServerSentEventEncoder.event(
                        OpenAIChat.Chunk(id: id, model: model, choices: [], usage: openAIUsage(sent))
                    )
                }
                return text + ServerSentEventEncoder.done
            case .anthropic:
                var usage: AnthropicMessages.Usage?
                if behavior.reportsUsage {
                    usage = .init(input_tokens: nil, output_tokens: TokenCount(outputTokens(sent)))
                }
                return (sent == 0 ? blockStart() : "") + anthropic(.blockStop(answerBlock))
                    + anthropic(.messageDelta(stopReason: finishReason.anthropic, usage: usage))
                    + anthropic(AnthropicMessages.StreamEvent(type: "message_stop"))
            }
        }

        func outputTokens(_ sent: Int) -> Int { sent + behavior.reasoningDeltas }

        func openAIUsage(_ sent: Int) -> OpenAIChat.Usage {
            OpenAIChat.Usage(
                prompt_tokens: TokenCount(promptTokens + behavior.cacheRead + behavior.cacheWrite),
                completion_tokens: TokenCount(outputTokens(sent)),
                cached_tokens: behavior.cacheRead > 0 ? TokenCount(behavior.cacheRead) : nil,
                reasoning_tokens: behavior.reasoningDeltas > 0 ? TokenCount(behavior.reasoningDeltas) : nil
            )
        }

        func openAIChunk(_ delta: OpenAIChat.Chunk.Delta, finish: String? = nil) -> String {
            ServerSentEventEncoder.event(
                OpenAIChat.Chunk(id: id, model: model, choices: [.init(index: 0, delta: delta, finish_reason: finish)])
            )
        }

        /// Bytes of the stream: the format's binary messages (Bedrock), or its server-sent events' text.
        func wire(_ text: @autoclosure () -> String, binary: @autoclosure () -> [UInt8]) -> [UInt8] {
            format == .bedrock ? binary() : Array(text().utf8)
        }

        /// A failure inside the stream, in the format's own words.
        func errorEvent() -> String {
            switch format {
            case .responses: return responsesErrorEvent()
            case .gemini:
                return
                    "data: {\"error\":{\"code\":500,\"message\":\"simulated stream error\",\"status\":\"INTERNAL\"}}\n\n"
            case .openAI, .anthropic, .bedrock:
                return
                    "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"simulated stream error\"}}\n\n"
            }
        }

        func anthropic(_ event: AnthropicMessages.StreamEvent) -> String {
            ServerSentEventEncoder.event(event, name: event.type)
        }

        // MARK: - Whole bodies

        /// A whole non-streaming response body.
        func completeBody() -> Data {
            let text = chunks.joined()
            let thinking = reasoning.joined()
            switch format {
            case .responses: return WireJSON.data(responsesObject(final: true, sent: chunks.count))
            case .bedrock: return bedrockBody()
            case .gemini: return geminiBody()
            case .openAI:
                var message = OpenAIChat.Message(role: "assistant", content: isToolCall ? nil : .text(text))
                if let name = behavior.toolCall {
                    message.tool_calls = [
                        OpenAIChat.ToolCall(id: toolCallID, function: .init(name: name, arguments: text))
                    ]
                }
                if !thinking.isEmpty { message.reasoning_content = thinking }
                let choice = OpenAIChat.Completion.Choice(
                    index: 0,
                    message: message,
                    finish_reason: finishReason.rawValue
                )
                return WireJSON.data(
                    OpenAIChat.Completion(
                        id: id,
                        model: model,
                        choices: [choice],
                        usage: behavior.reportsUsage ? openAIUsage(chunks.count) : nil
                    )
                )
            case .anthropic:
                var blocks: [AnthropicMessages.ContentBlock] = []
                if !thinking.isEmpty {
                    var block = AnthropicMessages.ContentBlock(type: "thinking")
                    block.thinking = thinking
                    blocks.append(block)
                }
                if let name = behavior.toolCall {
                    blocks.append(.toolUse(id: toolCallID, name: name, input: JSONValue.parse(text) ?? .object([:])))
                } else {
                    blocks.append(.text(text))
                }
                let usage = AnthropicMessages.Usage(
                    input_tokens: TokenCount(promptTokens),
                    output_tokens: TokenCount(outputTokens(chunks.count)),
                    cache_read_input_tokens: behavior.cacheRead > 0 ? TokenCount(behavior.cacheRead) : nil,
                    cache_creation_input_tokens: behavior.cacheWrite > 0 ? TokenCount(behavior.cacheWrite) : nil
                )
                return WireJSON.data(
                    AnthropicMessages.Response(
                        id: id,
                        model: model,
                        content: blocks,
                        stop_reason: finishReason.anthropic,
                        usage: behavior.reportsUsage ? usage : nil
                    )
                )
            }
        }
    }

    /// A tool call's arguments in about three fragments, split at character boundaries.
    static func fragments(of arguments: String) -> [String] {
        let characters = Array(arguments)
        guard characters.count > 2 else { return [arguments] }
        let size = max(1, (characters.count + 2) / 3)
        return stride(from: 0, to: characters.count, by: size).map {
            String(characters[$0..<min(characters.count, $0 + size)])
        }
    }
}
