import Foundation
import RoadtestCore

extension Simulator {
    /// One response being produced: what to send, in which wire format.
    struct Plan: Sendable {
        var model: String
        var behavior: ModelBehavior
        var fault: SimulatedFault
        var chunks: [String]
        var promptTokens: Int
        var includeUsage: Bool
        var receivedAt: UInt64
        var serviceStart: UInt64
        var format: WireFormat

        var id: String { "sim-\(receivedAt)" }

        func sse(_ value: JSONValue, event: String? = nil) -> String {
            (event.map { "event: \($0)\n" } ?? "") + "data: " + value.jsonText + "\n\n"
        }

        /// Sent at once: a role-only chunk (OpenAI) or message_start (Anthropic). Never counts as content.
        func openingEvents() -> String {
            switch format {
            case .openAI:
                return sse(chunk(delta: ["role": .string("assistant"), "content": .string("")], finish: nil))
            case .anthropic:
                let message: JSONValue = .object([
                    "id": .string(id), "type": .string("message"), "role": .string("assistant"), "model": .string(model),
                    "content": .array([]),
                    "usage": .object(["input_tokens": .number(Double(promptTokens)), "output_tokens": .number(0)]),
                ])
                return sse(.object(["type": .string("message_start"), "message": message]), event: "message_start")
                    + sse(
                        .object([
                            "type": .string("content_block_start"), "index": .number(0),
                            "content_block": .object(["type": .string("text"), "text": .string("")]),
                        ]), event: "content_block_start")
            }
        }

        func contentEvent(_ text: String) -> String {
            switch format {
            case .openAI:
                return sse(chunk(delta: ["content": .string(text)], finish: nil))
            case .anthropic:
                return sse(
                    .object([
                        "type": .string("content_block_delta"), "index": .number(0),
                        "delta": .object(["type": .string("text_delta"), "text": .string(text)]),
                    ]), event: "content_block_delta")
            }
        }

        func closingEvents(sent: Int) -> String {
            switch format {
            case .openAI:
                var text = sse(chunk(delta: [:], finish: "stop"))
                if includeUsage && behavior.reportsUsage {
                    text += sse(
                        .object([
                            "id": .string(id), "object": .string("chat.completion.chunk"), "model": .string(model), "choices": .array([]),
                            "usage": usage(sent),
                        ]))
                }
                return text + "data: [DONE]\n\n"
            case .anthropic:
                var delta: [String: JSONValue] = ["type": .string("message_delta"), "delta": .object(["stop_reason": .string("end_turn")])]
                if behavior.reportsUsage { delta["usage"] = .object(["output_tokens": .number(Double(sent))]) }
                return sse(.object(["type": .string("content_block_stop"), "index": .number(0)]), event: "content_block_stop")
                    + sse(.object(delta), event: "message_delta")
                    + sse(.object(["type": .string("message_stop")]), event: "message_stop")
            }
        }

        func usage(_ completion: Int) -> JSONValue {
            .object([
                "prompt_tokens": .number(Double(promptTokens)), "completion_tokens": .number(Double(completion)),
                "total_tokens": .number(Double(promptTokens + completion)),
            ])
        }

        func chunk(delta: [String: JSONValue], finish: String?) -> JSONValue {
            .object([
                "id": .string(id), "object": .string("chat.completion.chunk"), "model": .string(model),
                "choices": .array([
                    .object(["index": .number(0), "delta": .object(delta), "finish_reason": finish.map(JSONValue.string) ?? .null])
                ]),
            ])
        }

        /// A whole non-streaming response body.
        func completeBody() -> JSONValue {
            let text = chunks.joined()
            switch format {
            case .openAI:
                var body: [String: JSONValue] = [
                    "id": .string(id), "object": .string("chat.completion"), "model": .string(model),
                    "choices": .array([
                        .object([
                            "index": .number(0), "message": .object(["role": .string("assistant"), "content": .string(text)]),
                            "finish_reason": .string("stop"),
                        ])
                    ]),
                ]
                if behavior.reportsUsage { body["usage"] = usage(chunks.count) }
                return .object(body)
            case .anthropic:
                var body: [String: JSONValue] = [
                    "id": .string(id), "type": .string("message"), "role": .string("assistant"), "model": .string(model),
                    "content": .array([.object(["type": .string("text"), "text": .string(text)])]),
                    "stop_reason": .string("end_turn"),
                ]
                if behavior.reportsUsage {
                    body["usage"] = .object(["input_tokens": .number(Double(promptTokens)), "output_tokens": .number(Double(chunks.count))])
                }
                return .object(body)
            }
        }
    }
}
