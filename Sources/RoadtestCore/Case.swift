import Foundation

/// Where something was written: a file and a 1-based line.
public struct SourceLocation: Sendable, Hashable, Codable, CustomStringConvertible {
    public var file: String
    public var line: Int

    public init(file: String, line: Int) {
        self.file = file
        self.line = line
    }

    public var description: String { "\(file):\(line)" }
}

/// One chat message: text, an assistant's tool calls, or a tool's result (`role: tool` with `toolCallID`).
public struct Message: Sendable, Hashable, Codable {
    public var role: String
    public var content: String
    /// Tool calls an assistant message made.
    public var toolCalls: [ToolCall]?
    /// The call a `tool` message answers.
    public var toolCallID: String?
    /// Images and documents sent with a user message.
    public var attachments: [Attachment]?

    public init(
        role: String,
        content: String,
        toolCalls: [ToolCall]? = nil,
        toolCallID: String? = nil,
        attachments: [Attachment]? = nil
    ) {
        self.role = role
        self.content = content
        self.toolCalls = toolCalls
        self.toolCallID = toolCallID
        self.attachments = attachments
    }
}

/// A call a model made to a tool: its id, the function's name, and the arguments as JSON text (as the model wrote
/// them; they may not be valid JSON).
public struct ToolCall: Sendable, Hashable, Codable {
    public var id: String
    public var name: String
    public var arguments: String

    public init(id: String, name: String, arguments: String) {
        self.id = id
        self.name = name
        self.arguments = arguments
    }
}

/// What a case expects of the model.
public enum CaseKind: String, Sendable, Hashable, Codable {
    /// An ordinary task with a right answer.
    case normal
    /// The right response is to ask a clarifying question or to abstain.
    case ambiguous
}

/// One test case: an input (a prompt or a conversation) and the checks its output must pass.
public struct Case: Sendable, Hashable, Codable {
    public var id: String
    public var tags: [String]
    public var kind: CaseKind
    /// The conversation after template substitution; the system prompt lives in `settings.system`.
    public var messages: [Message]
    public var checks: [Check]
    /// When set, the case passes if the weighted check score reaches it; otherwise every check must pass.
    public var threshold: Double?
    public var samples: Int?
    public var settings: Settings
    public var location: SourceLocation?
    /// A holdout case: its input, expected values and outputs stay out of every report (id and a hash only).
    public var isPrivate: Bool
    /// Tools this case must never call (the `excessive-agency` attacks ask for them).
    public var forbiddenTools: [String]
    /// The user the conversation acts for: a tool call for another user's id is a breach (`cross-user`).
    public var sessionUser: String?
    /// Set on the cases a security drill derives from this suite's own: the attack and how to detect it.
    public var attack: Attack?

    public init(
        id: String,
        tags: [String] = [],
        kind: CaseKind = .normal,
        messages: [Message],
        checks: [Check] = [],
        threshold: Double? = nil,
        samples: Int? = nil,
        settings: Settings = Settings(),
        location: SourceLocation? = nil,
        isPrivate: Bool = false,
        forbiddenTools: [String] = [],
        sessionUser: String? = nil,
        attack: Attack? = nil
    ) {
        self.isPrivate = isPrivate
        self.forbiddenTools = forbiddenTools
        self.sessionUser = sessionUser
        self.attack = attack
        self.id = id
        self.tags = tags
        self.kind = kind
        self.messages = messages
        self.checks = checks
        self.threshold = threshold
        self.samples = samples
        self.settings = settings
        self.location = location
    }

    enum CodingKeys: String, CodingKey {
        case id, tags, kind, messages, checks, threshold, samples, settings, location, isPrivate, forbiddenTools
        case sessionUser, attack
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        id = try container.decode(String.self, forKey: .id)
        tags = try container.decode([String].self, forKey: .tags)
        kind = try container.decode(CaseKind.self, forKey: .kind)
        messages = try container.decode([Message].self, forKey: .messages)
        checks = try container.decode([Check].self, forKey: .checks)
        threshold = try container.decodeIfPresent(Double.self, forKey: .threshold)
        samples = try container.decodeIfPresent(Int.self, forKey: .samples)
        settings = try container.decode(Settings.self, forKey: .settings)
        location = try container.decodeIfPresent(SourceLocation.self, forKey: .location)
        // Suites stored before private cases existed have no such key.
        isPrivate = try container.decodeIfPresent(Bool.self, forKey: .isPrivate) ?? false
        forbiddenTools = try container.decodeIfPresent([String].self, forKey: .forbiddenTools) ?? []
        sessionUser = try container.decodeIfPresent(String.self, forKey: .sessionUser)
        attack = try container.decodeIfPresent(Attack.self, forKey: .attack)
    }

    /// The last user message, the case's input as a reader sees it.
    public var input: String {
        messages.last(where: { $0.role == "user" })?.content ?? messages.last?.content ?? ""
    }
}
