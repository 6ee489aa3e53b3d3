import Foundation
import RoadtestCore
import RoadtestWire

/// The simulator's OpenAI Responses format: the request read as a chat request, the answer as a response object or
/// the event sequence OpenAI streams (`response.created`, an output item's `added`, its deltas, its `done`s, then
/// `response.completed` or `response.incomplete` with usage). Sequence numbers count every event.
extension Simulator {
    /// A Responses request as the chat request the simulator reads: `instructions` as the system prompt, `input`
    /// items as messages (function calls and their outputs as tool calls and tool messages), flat tools nested.
    static func chatObject(fromResponses object: [String: JSONValue]) -> [String: JSONValue] {
        var chat = object
        var messages: [JSONValue] = []
        let items: [JSONValue]
        switch object["input"] {
        case .string(let text)?: items = [.object(["role": .string("user"), "content": .string(text)])]
        case .array(let list)?: items = list
        default: items = []
        }
        for item in items {
            switch item["type"]?.stringValue {
            case "function_call":
                let call = JSONValue.object([
                    "id": item["call_id"] ?? .string(""), "type": .string("function"),
                    "function": .object([
                        "name": item["name"] ?? .string(""), "arguments": item["arguments"] ?? .string(""),
                    ]),
                ])
                messages.append(
                    .object(["role": .string("assistant"), "content": .string(""), "tool_calls": .array([call])])
                )
            case "function_call_output":
                messages.append(
                    .object([
                        "role": .string("tool"), "tool_call_id": item["call_id"] ?? .string(""),
                        "content": item["output"] ?? .string(""),
                    ])
                )
            default:
                messages.append(
                    .object(["role": item["role"] ?? .string("user"), "content": item["content"] ?? .string("")])
                )
            }
        }
        chat["messages"] = .array(messages)
        chat["system"] = object["instructions"]
        chat["max_tokens"] = object["max_output_tokens"]
        chat["tools"] = object["tools"].map { tools in
            .array((tools.arrayValue ?? []).map { .object(["type": .string("function"), "function": $0]) })
        }
        return chat
    }
}

extension Simulator.Plan {
    var responseID: String { "resp_\(receivedAt)" }
    var messageID: String { "msg_\(receivedAt)" }
    var reasoningID: String { "rs_\(receivedAt)" }
    /// The answer's output index: after the reasoning item, when there is one.
    var answerOutput: Int { reasoning.isEmpty ? 0 : 1 }
    /// The first sequence number of the answer's events: after `created`, `in_progress` and the reasoning item's
    /// `added`, deltas and `done`.
    var answerSequence: Int { 2 + (reasoning.isEmpty ? 0 : reasoning.count + 2) }

    func responsesEvent(_ event: OpenAIResponses.StreamEvent) -> String {
        ServerSentEventEncoder.event(event, name: event.type)
    }

    func responsesEvent(
        _ type: String,
        _ sequence: Int,
        _ fill: (inout OpenAIResponses.StreamEvent) -> Void = { _ in }
    ) -> String {
        var event = OpenAIResponses.StreamEvent(type: type, sequence: sequence)
        fill(&event)
        return responsesEvent(event)
    }

    /// The response object: in progress (no output yet), or final with every output item and usage.
    func responsesObject(final: Bool, sent: Int) -> OpenAIResponses.Response {
        guard final else {
            return OpenAIResponses.Response(
                id: responseID,
                status: "in_progress",
                model: model,
                output: [],
                created_at: Int(Date().timeIntervalSince1970)
            )
        }
        var output: [OpenAIResponses.OutputItem] = []
        if !reasoning.isEmpty { output.append(reasoningItem(text: reasoning.joined())) }
        output.append(answerItem(Array(chunks.prefix(sent)).joined(), done: true))
        var incomplete: OpenAIResponses.Response.IncompleteDetails?
        switch finishReason {
        case .length: incomplete = .init(reason: "max_output_tokens")
        case .contentFilter: incomplete = .init(reason: "content_filter")
        default: break
        }
        return OpenAIResponses.Response(
            id: responseID,
            status: incomplete == nil ? "completed" : "incomplete",
            model: model,
            output: output,
            usage: behavior.reportsUsage ? responsesUsage(sent) : nil,
            incomplete_details: incomplete,
            created_at: Int(Date().timeIntervalSince1970)
        )
    }

    func responsesUsage(_ sent: Int) -> OpenAIResponses.Usage {
        OpenAIResponses.Usage(
            input: promptTokens + behavior.cacheRead + behavior.cacheWrite,
            cached: behavior.cacheRead,
            output: outputTokens(sent),
            reasoning: behavior.reasoningDeltas
        )
    }

    func reasoningItem(text: String?) -> OpenAIResponses.OutputItem {
        OpenAIResponses.OutputItem(
            type: "reasoning",
            id: reasoningID,
            summary: text.map { [OpenAIResponses.Part(type: "summary_text", text: $0)] } ?? []
        )
    }

    /// The answer's output item: a message with one `output_text` part, or a function call.
    func answerItem(_ text: String, done: Bool) -> OpenAIResponses.OutputItem {
        let status = done ? "completed" : "in_progress"
        if let name = behavior.toolCall {
            return OpenAIResponses.OutputItem(
                type: "function_call",
                id: "fc_\(receivedAt)",
                status: status,
                call_id: toolCallID,
                name: name,
                arguments: text
            )
        }
        return OpenAIResponses.OutputItem(
            type: "message",
            id: messageID,
            status: status,
            role: "assistant",
            content: done ? [OpenAIResponses.Part(type: "output_text", text: text, annotations: [])] : []
        )
    }

    func responsesOpening() -> String {
        let response = responsesObject(final: false, sent: 0)
        return responsesEvent("response.created", 0) { $0.response = response }
            + responsesEvent("response.in_progress", 1) { $0.response = response }
    }

    func responsesReasoning(_ index: Int) -> String {
        var events = ""
        if index == 0 {
            events += responsesEvent("response.output_item.added", 2) {
                $0.output_index = 0
                $0.item = reasoningItem(text: nil)
            }
        }
        events += responsesEvent("response.reasoning_summary_text.delta", 3 + index) {
            $0.item_id = reasoningID
            $0.output_index = 0
            $0.summary_index = 0
            $0.delta = reasoning[index]
        }
        if index == reasoning.count - 1 {
            events += responsesEvent("response.output_item.done", 3 + reasoning.count) {
                $0.output_index = 0
                $0.item = reasoningItem(text: reasoning.joined())
            }
        }
        return events
    }

    /// Opens the answer's output item (and, for a message, its text part).
    func responsesAnswerStart() -> String {
        var events = responsesEvent("response.output_item.added", answerSequence) {
            $0.output_index = answerOutput
            $0.item = answerItem("", done: false)
        }
        if !isToolCall {
            events += responsesEvent("response.content_part.added", answerSequence + 1) {
                $0.item_id = messageID
                $0.output_index = answerOutput
                $0.content_index = 0
                $0.part = OpenAIResponses.Part(type: "output_text", text: "", annotations: [])
            }
        }
        return events
    }

    /// The sequence number of the answer's `index`-th delta.
    func deltaSequence(_ index: Int) -> Int { answerSequence + (isToolCall ? 1 : 2) + index }

    func responsesContent(_ index: Int) -> String {
        let events = index == 0 ? responsesAnswerStart() : ""
        if isToolCall {
            return events
                + responsesEvent("response.function_call_arguments.delta", deltaSequence(index)) {
                    $0.item_id = "fc_\(receivedAt)"
                    $0.output_index = answerOutput
                    $0.delta = chunks[index]
                }
        }
        return events
            + responsesEvent("response.output_text.delta", deltaSequence(index)) {
                $0.item_id = messageID
                $0.output_index = answerOutput
                $0.content_index = 0
                $0.delta = chunks[index]
            }
    }

    func responsesClosing(sent: Int) -> String {
        var events = sent == 0 ? responsesAnswerStart() : ""
        var sequence = deltaSequence(sent)
        func next() -> Int {
            defer { sequence += 1 }
            return sequence
        }
        let text = Array(chunks.prefix(sent)).joined()
        if isToolCall {
            events += responsesEvent("response.function_call_arguments.done", next()) {
                $0.item_id = "fc_\(receivedAt)"
                $0.output_index = answerOutput
                $0.arguments = text
            }
        } else {
            events += responsesEvent("response.output_text.done", next()) {
                $0.item_id = messageID
                $0.output_index = answerOutput
                $0.content_index = 0
                $0.text = text
            }
            events += responsesEvent("response.content_part.done", next()) {
                $0.item_id = messageID
                $0.output_index = answerOutput
                $0.content_index = 0
                $0.part = OpenAIResponses.Part(type: "output_text", text: text, annotations: [])
            }
        }
        events += responsesEvent("response.output_item.done", next()) {
            $0.output_index = answerOutput
            $0.item = answerItem(text, done: true)
        }
        let response = responsesObject(final: true, sent: sent)
        let type = response.status == "completed" ? "response.completed" : "response.incomplete"
        return events + responsesEvent(type, next()) { $0.response = response }
    }

    /// A failure inside the stream, as OpenAI sends it.
    func responsesErrorEvent() -> String {
        responsesEvent("error", 9_999) {
            $0.code = "server_error"
            $0.message = "simulated stream error"
        }
    }
}
