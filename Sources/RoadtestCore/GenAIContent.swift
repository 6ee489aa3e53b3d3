/// Prompts and outputs in the shapes the OpenTelemetry GenAI conventions give `gen_ai.input.messages`,
/// `gen_ai.output.messages` and `gen_ai.system_instructions` (JSON text: messages of `role` and `parts`, each part
/// `{type: text, content}`). Written on spans only when `TelemetryContent` is on.
public enum GenAIContent {
    public static func input(_ messages: [Message]) -> String {
        JSONValue.array(messages.map { message($0.role, $0.content) }).jsonText
    }

    public static func output(_ text: String, finishReason: String? = nil) -> String {
        var answer = message("assistant", text)
        if case .object(var fields) = answer, let finishReason {
            fields["finish_reason"] = .string(finishReason)
            answer = .object(fields)
        }
        return JSONValue.array([answer]).jsonText
    }

    public static func system(_ text: String) -> String {
        JSONValue.array([part(text)]).jsonText
    }

    static func message(_ role: String, _ text: String) -> JSONValue {
        .object(["role": .string(role), "parts": .array([part(text)])])
    }

    static func part(_ text: String) -> JSONValue {
        .object(["type": .string("text"), "content": .string(text)])
    }
}
