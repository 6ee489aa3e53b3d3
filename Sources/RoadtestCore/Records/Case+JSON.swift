import Foundation

extension Case {
    /// The case as sorted-keys JSON, byte for byte what `SuiteFingerprint.encoder()` writes (a test holds them to
    /// the same output): what a run stores for each case and fingerprints. Cases of the common shape (text
    /// messages, text checks, plain settings) are written in one pass by `JSONWriter`, at a fraction of the Codable
    /// encoder's cost; anything else (tools, attacks, structured checks) goes through `encoder`.
    public func sortedJSON(encoder: JSONEncoder) throws -> [UInt8] {
        guard attack == nil, settings.isPlain, messages.allSatisfy(\.isPlainText) else {
            return Array(try encoder.encode(self))
        }
        var writer = JSONWriter(capacity: 320, escapesSlashes: true)
        writer.raw("{\"checks\":[")
        for (index, check) in checks.enumerated() {
            if index > 0 { writer.raw(",") }
            writer.raw("{\"isConstraint\":")
            writer.raw(check.isConstraint ? "true" : "false")
            writer.raw(",\"isNegated\":")
            writer.raw(check.isNegated ? "true" : "false")
            writer.raw(",\"kind\":")
            guard check.kind.write(to: &writer) else { return Array(try encoder.encode(self)) }
            writer.raw(",\"weight\":")
            writer.number(check.weight)
            writer.raw("}")
        }
        writer.raw("],\"forbiddenTools\":")
        writer.strings(forbiddenTools)
        writer.raw(",\"id\":")
        writer.string(id)
        writer.raw(",\"isPrivate\":")
        writer.raw(isPrivate ? "true" : "false")
        writer.raw(",\"kind\":")
        writer.string(kind.rawValue)
        if let location {
            writer.raw(",\"location\":{\"file\":")
            writer.string(location.file)
            writer.raw(",\"line\":")
            writer.integer(location.line)
            writer.raw("}")
        }
        writer.raw(",\"messages\":[")
        for (index, message) in messages.enumerated() {
            if index > 0 { writer.raw(",") }
            writer.raw("{\"content\":")
            writer.string(message.content)
            writer.raw(",\"role\":")
            writer.string(message.role)
            writer.raw("}")
        }
        writer.raw("]")
        if let samples {
            writer.raw(",\"samples\":")
            writer.integer(samples)
        }
        if let sessionUser {
            writer.raw(",\"sessionUser\":")
            writer.string(sessionUser)
        }
        writer.raw(",\"settings\":")
        settings.writePlain(to: &writer)
        writer.raw(",\"tags\":")
        writer.strings(tags)
        if let threshold {
            writer.raw(",\"threshold\":")
            writer.number(threshold)
        }
        writer.raw("}")
        return writer.bytes
    }
}

extension Message {
    fileprivate var isPlainText: Bool { toolCalls == nil && toolCallID == nil && attachments == nil }
}

extension Settings {
    /// No tools, tool scripts, tool choice or extra parameters: the settings `writePlain` writes.
    fileprivate var isPlain: Bool { extra.isEmpty && tools == nil && toolResults == nil && toolChoice == nil }

    fileprivate func writePlain(to writer: inout JSONWriter) {
        writer.raw("{")
        if let concurrency {
            writer.raw("\"concurrency\":")
            writer.integer(concurrency)
            writer.raw(",")
        }
        writer.raw("\"extra\":{}")
        if let maxTokens {
            writer.raw(",\"maxTokens\":")
            writer.integer(maxTokens)
        }
        if let maxTurns {
            writer.raw(",\"maxTurns\":")
            writer.integer(maxTurns)
        }
        if let retries {
            writer.raw(",\"retries\":")
            writer.integer(retries)
        }
        if let retryBackoff {
            writer.raw(",\"retryBackoff\":")
            writer.number(retryBackoff)
        }
        if let stream {
            writer.raw(",\"stream\":")
            writer.raw(stream ? "true" : "false")
        }
        if let system {
            writer.raw(",\"system\":")
            writer.string(system)
        }
        if let temperature {
            writer.raw(",\"temperature\":")
            writer.number(temperature)
        }
        if let timeout {
            writer.raw(",\"timeout\":")
            writer.number(timeout)
        }
        writer.raw("}")
    }
}

extension CheckKind {
    /// Writes the kinds with text or list arguments as the synthesized Codable conformance does (`{"contains":
    /// {"_0":"ok"}}`); false for the others, which the caller encodes with Codable.
    fileprivate func write(to writer: inout JSONWriter) -> Bool {
        // The case's name as Swift spells it (the synthesized conformance's key), then its unnamed argument.
        let name: StaticString
        switch self {
        case .equals: name = "{\"equals\":{\"_0\":"
        case .contains: name = "{\"contains\":{\"_0\":"
        case .icontains: name = "{\"icontains\":{\"_0\":"
        case .startsWith: name = "{\"startsWith\":{\"_0\":"
        case .regex: name = "{\"regex\":{\"_0\":"
        case .maxLength: name = "{\"maxLength\":{\"_0\":"
        case .containsAny: name = "{\"containsAny\":{\"_0\":"
        case .containsAll: name = "{\"containsAll\":{\"_0\":"
        default: return false
        }
        writer.raw(name)
        switch self {
        case .equals(let text), .contains(let text), .icontains(let text), .startsWith(let text), .regex(let text):
            writer.string(text)
        case .maxLength(let length):
            writer.integer(length)
        case .containsAny(let texts, let caseInsensitive), .containsAll(let texts, let caseInsensitive):
            writer.strings(texts)
            writer.raw(",\"caseInsensitive\":")
            writer.raw(caseInsensitive ? "true" : "false")
        default:
            return false
        }
        writer.raw("}}")
        return true
    }
}

extension JSONWriter {
    fileprivate mutating func strings(_ texts: [String]) {
        raw("[")
        for (index, text) in texts.enumerated() {
            if index > 0 { raw(",") }
            string(text)
        }
        raw("]")
    }
}
