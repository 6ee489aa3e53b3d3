import Foundation
import RoadtestCore

/// A value to write into the suite file: text, numbers, flags, lists and mappings whose keys keep the order given.
public indirect enum YAMLValue: Sendable, Equatable {
    case string(String)
    case number(Double)
    case bool(Bool)
    case list([YAMLValue])
    case map([YAMLEntry])
}

extension YAMLValue {
    /// A JSON value to write (object keys sorted; null as an empty string).
    init(json: JSONValue) {
        switch json {
        case .null: self = .string("")
        case .bool(let flag): self = .bool(flag)
        case .number(let number): self = .number(number)
        case .string(let text): self = .string(text)
        case .array(let items): self = .list(items.map(YAMLValue.init(json:)))
        case .object(let members):
            self = .map(members.keys.sorted().map { YAMLEntry($0, YAMLValue(json: members[$0]!)) })
        }
    }
}

/// One key of a mapping to write.
public struct YAMLEntry: Sendable, Equatable {
    public var key: String
    public var value: YAMLValue

    public init(_ key: String, _ value: YAMLValue) {
        self.key = key
        self.value = value
    }
}

/// A check to write: its name as the suite spells it (`not-contains`), its argument, and options beside it.
public struct ImportedCheck: Sendable, Equatable {
    public var name: String
    public var argument: YAMLValue
    public var options: [YAMLEntry]

    public init(_ name: String, _ argument: YAMLValue, options: [YAMLEntry] = []) {
        self.name = name
        self.argument = argument
        self.options = options
    }

    /// The check's type without its `not-` prefix, for the summary.
    public var type: String { name.hasPrefix("not-") ? String(name.dropFirst(4)) : name }
}

/// A case to write.
public struct ImportedCase: Sendable, Equatable {
    public var id: String
    public var description: String?
    public var tags: [String] = []
    public var vars: [String: String] = [:]
    /// The user input, or `messages` for a conversation.
    public var prompt: String?
    public var messages: [(role: String, content: String)]?
    public var checks: [ImportedCheck] = []
    public var threshold: Double?
    /// Request settings for this case (temperature, max_tokens...), written as given.
    public var settings: [YAMLEntry] = []
    /// Comment lines written above the case: what was not carried or only approximated, and where.
    public var notes: [String] = []

    public init(id: String) { self.id = id }

    public static func == (lhs: ImportedCase, rhs: ImportedCase) -> Bool {
        lhs.id == rhs.id && lhs.description == rhs.description && lhs.tags == rhs.tags && lhs.vars == rhs.vars
            && lhs.prompt == rhs.prompt && lhs.checks == rhs.checks && lhs.threshold == rhs.threshold
            && lhs.settings == rhs.settings && lhs.notes == rhs.notes
            && lhs.messages?.map { [$0.role, $0.content] } == rhs.messages?.map { [$0.role, $0.content] }
    }
}

/// Something in the source that the suite does not carry as written.
public struct ImportFinding: Sendable, Equatable, CustomStringConvertible {
    public enum Kind: String, Sendable {
        /// Left out: the suite has nothing that does the same.
        case notCarried = "not carried"
        /// Carried by something close but not identical (said how in `detail`).
        case approximated
    }

    public var kind: Kind
    /// What it is: an assertion or grader type (`javascript`, `python`), or `provider http`, `field sandbox`...
    public var type: String
    public var location: SourceLocation
    public var detail: String

    public init(_ kind: Kind, type: String, at location: SourceLocation, _ detail: String) {
        self.kind = kind
        self.type = type
        self.location = location
        self.detail = detail
    }

    public var description: String { "\(location): \(type): \(detail)" }
}

/// What an importer produced: the suite to write and every finding.
public struct ImportedSuite: Sendable, Equatable {
    /// Where it came from, for the header comment (`promptfoo config promptfooconfig.yaml`).
    public var source: String
    public var name: String
    public var description: String?
    /// Candidate mappings in the order they are written.
    public var candidates: [[YAMLEntry]] = []
    /// Comment lines above the candidates (placeholders to edit, defaults chosen).
    public var candidateNotes: [String] = []
    public var defaults: [YAMLEntry] = []
    public var cases: [ImportedCase] = []
    public var findings: [ImportFinding] = []

    public init(source: String, name: String) {
        self.source = source
        self.name = name
    }

    /// Checks written, by type (`contains`, `judge`...), a `not-` check counted under its type.
    public var carriedChecks: [(type: String, count: Int)] {
        var counts: [String: Int] = [:]
        for testCase in cases { for check in testCase.checks { counts[check.type, default: 0] += 1 } }
        return counts.keys.sorted().map { (type: $0, count: counts[$0]!) }
    }

    /// Findings of one kind, in source order (file, then line).
    public func findings(_ kind: ImportFinding.Kind) -> [ImportFinding] {
        findings.filter { $0.kind == kind }.sorted {
            ($0.location.file, $0.location.line, $0.type) < ($1.location.file, $1.location.line, $1.type)
        }
    }

    /// The summary printed after writing: counts of cases, checks carried by type, and each check not carried by
    /// type with file:line.
    public func summary(writtenTo path: String) -> String {
        var lines: [String] = []
        let carried = carriedChecks
        let judges = candidates.filter { $0.contains(YAMLEntry("judge", .bool(true))) }.count
        let embeddings = candidates.filter { $0.contains(YAMLEntry("embeddings", .bool(true))) }.count
        let scored = candidates.count - judges - embeddings
        lines.append(
            "Wrote \(path): \(cases.count) case\(cases.count == 1 ? "" : "s"), \(scored) "
                + "candidate\(scored == 1 ? "" : "s")"
                + (judges > 0 ? " and \(judges) judge\(judges == 1 ? "" : "s")" : "")
                + (embeddings > 0 ? " (and an embeddings candidate for 'similar')" : "")
                + " from \(source)"
        )
        let total = carried.reduce(0) { $0 + $1.count }
        lines.append(
            "Checks carried: \(total)"
                + (carried.isEmpty ? "" : " (" + carried.map { "\($0.type) \($0.count)" }.joined(separator: ", ") + ")")
        )
        let notCarried = findings(.notCarried)
        if notCarried.isEmpty {
            lines.append("Not carried: nothing")
        } else {
            var byType: [String: Int] = [:]
            for finding in notCarried { byType[finding.type, default: 0] += 1 }
            lines.append(
                "Not carried: \(notCarried.count) ("
                    + byType.keys.sorted().map { "\($0) \(byType[$0]!)" }.joined(separator: ", ") + ")"
            )
            for finding in notCarried { lines.append("  warning: \(finding)") }
        }
        let approximated = findings(.approximated)
        if !approximated.isEmpty {
            lines.append("Approximated: \(approximated.count)")
            for finding in approximated { lines.append("  note: \(finding)") }
        }
        return lines.joined(separator: "\n")
    }
}

// MARK: - Names

enum Identifier {
    /// A readable id from any text: lower case letters, digits and dashes.
    static func slug(_ text: String, fallback: String) -> String {
        var result = ""
        var lastDash = true
        for character in text.lowercased() {
            if character.isASCII, character.isLetter || character.isNumber || character == "." || character == "_" {
                result.append(character)
                lastDash = false
            } else if !lastDash {
                result.append("-")
                lastDash = true
            }
        }
        while result.hasSuffix("-") { result.removeLast() }
        if result.count > 60 { result = String(result.prefix(60)) }
        while result.hasSuffix("-") { result.removeLast() }
        return result.isEmpty ? fallback : result
    }

    /// `id`, or `id-2`, `id-3`... when it is taken; records the one returned.
    static func unique(_ id: String, in taken: inout Set<String>) -> String {
        var candidate = id
        var number = 2
        while taken.contains(candidate) {
            candidate = "\(id)-\(number)"
            number += 1
        }
        taken.insert(candidate)
        return candidate
    }
}

// MARK: - Templates

enum Templates {
    /// The names inside `{{ }}` in `text`, trimmed.
    static func references(in text: String) -> [String] {
        var names: [String] = []
        var rest = Substring(text)
        while let open = rest.range(of: "{{") {
            guard let close = rest[open.upperBound...].range(of: "}}") else { break }
            names.append(rest[open.upperBound..<close.lowerBound].trimmingCharacters(in: .whitespaces))
            rest = rest[close.upperBound...]
        }
        return names
    }

    /// True when a reference is a plain variable name Roadtest's `{{name}}` templates can fill (dots allowed:
    /// object variables are written flattened, `user.name`).
    static func isPlainName(_ name: String) -> Bool {
        guard let first = name.first, first.isLetter || first == "_" else { return false }
        return name.allSatisfy { $0.isLetter || $0.isNumber || $0 == "_" || $0 == "." || $0 == "-" }
    }

    /// Every `{{...}}` reference in `text` that is not a plain name, and any `{% %}` block.
    static func unsupported(in text: String) -> [String] {
        var found = references(in: text).filter { !isPlainName($0) }.map { "{{\($0)}}" }
        if text.contains("{%") { found.append("{% ... %}") }
        return found
    }
}
