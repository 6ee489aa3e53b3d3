import Foundation
import RoadtestCore

/// A case as written, before `{{vars}}` are substituted.
struct RawCase {
    var id: String?
    var description: String?
    var prompt: String?
    var messages: [Message]?
    var vars: [String: String] = [:]
    var tags: [String] = []
    var kind: CaseKind?
    var checks: [Check] = []
    var threshold: Double?
    var samples: Int?
    var isPrivate: Bool?
    var forbiddenTools: [String]?
    var sessionUser: String?
    var attachments: [Attachment]?
    var settings = Settings()
    var location: SourceLocation

    /// This case with `row` written over it (a file entry's template under one of its rows).
    func overlaid(with row: RawCase) -> RawCase {
        var result = row
        result.description = row.description ?? description
        result.prompt = row.prompt ?? (row.messages == nil ? prompt : nil)
        result.messages = row.messages ?? (row.prompt == nil ? messages : nil)
        result.vars = vars.merging(row.vars) { _, new in new }
        result.tags = tags + row.tags.filter { !tags.contains($0) }
        result.kind = row.kind ?? kind
        result.checks = checks + row.checks
        result.threshold = row.threshold ?? threshold
        result.samples = row.samples ?? samples
        result.isPrivate = row.isPrivate ?? isPrivate
        result.forbiddenTools = row.forbiddenTools ?? forbiddenTools
        result.sessionUser = row.sessionUser ?? sessionUser
        result.attachments = row.attachments ?? attachments
        result.settings = settings.overlaid(with: row.settings)
        return result
    }
}

extension Context {
    // MARK: Case entries

    /// One inline case, or every case of a `file:` entry.
    mutating func caseEntries(from node: Node, index: Int) -> CaseList {
        guard case .mapping(let pairs, _) = node else {
            error(
                node,
                "a case must be a mapping",
                hint: "write '- id: NAME' with 'prompt' and 'checks', or '- file: cases.jsonl'"
            )
            return []
        }
        if let fileNode = pairs.first(where: { $0.key == "file" })?.value {
            checkKeys(pairs, valid: Keys.fileEntry, in: "a case file entry")
            guard let relative = string(fileNode, "file") else { return [] }
            let template = rawCase(fromPairs: pairs.filter { $0.key != "file" }, node: node)
            return cases(fromFile: relative, template: template, at: fileNode)
        }
        checkKeys(pairs, valid: Keys.testCase, in: "a case")
        var raw = rawCase(fromPairs: pairs, node: node)
        if raw.id == nil { raw.id = "case-\(index)" }
        return finalize(raw).map { [$0] } ?? []
    }

    /// A JSONL file with more case rows than this is held as its bytes, each row read into a case when it is read
    /// (`CaseRows`): a million-case file is not a million parsed values in memory.
    static let rowsHeldAsBytes = 200_000

    static func lineCount(_ text: String) -> Int {
        var text = text
        return text.withUTF8 { utf8 in
            var count = 0
            for byte in utf8 where byte == 0x0A { count += 1 }
            return count
        }
    }

    mutating func rawCase(fromPairs pairs: [Node.Pair], node: Node) -> RawCase {
        var raw = RawCase(location: location(node))
        for (key, value, _) in pairs {
            switch key {
            case "id": raw.id = value.string ?? value.json.displayText
            case "description": raw.description = string(value, key)
            case "prompt": raw.prompt = string(value, key)
            case "messages": raw.messages = messages(from: value)
            case "vars":
                if case .mapping(let varPairs, _) = value {
                    for pair in varPairs { raw.vars[pair.key] = pair.value.string ?? pair.value.json.jsonText }
                } else {
                    error(value, "'vars' must be a mapping of names to values", hint: "for example vars: {order: 123}")
                }
            case "tags": raw.tags = stringList(value, key) ?? []
            case "kind":
                if let text = string(value, key) {
                    if let kind = CaseKind(rawValue: text) {
                        raw.kind = kind
                    } else {
                        error(value, "unknown case kind '\(text)'", hint: "use 'normal' or 'ambiguous'")
                    }
                }
            case "checks":
                if case .sequence(let items, _) = value {
                    raw.checks = items.compactMap { check(from: $0) }
                } else if case .null = value {
                    raw.checks = []
                } else {
                    error(value, "'checks' must be a list", hint: "write each check as '- contains: text'")
                }
            case "threshold":
                if let threshold = number(value, key) {
                    if !(0...1).contains(threshold) { error(value, "'threshold' must be between 0 and 1") }
                    raw.threshold = threshold
                }
            case "samples": raw.samples = positiveInt(value, key)
            case "private": raw.isPrivate = bool(value, key)
            case "forbidden_tools": raw.forbiddenTools = stringList(value, key)
            case "session_user": raw.sessionUser = value.string ?? value.json.displayText
            case "attachments": raw.attachments = attachments(from: value)
            default: break
            }
        }
        raw.settings = settings(fromPairs: pairs)
        return raw
    }

    mutating func messages(from node: Node) -> [Message]? {
        guard case .sequence(let items, _) = node else {
            error(
                node,
                "'messages' must be a list of {role, content}",
                hint: "for example - {role: user, content: Hello}"
            )
            return nil
        }
        var result: [Message] = []
        for item in items {
            guard case .mapping(let pairs, _) = item else {
                error(item, "a message must be a mapping with 'role' and 'content'")
                continue
            }
            checkKeys(pairs, valid: ["role", "content"], in: "a message")
            let fields = Dictionary(pairs.map { ($0.key, $0.value) }, uniquingKeysWith: { first, _ in first })
            guard let role = fields["role"].flatMap({ string($0, "role") }),
                ["system", "user", "assistant"].contains(role)
            else {
                error(item, "a message needs 'role' of system, user or assistant")
                continue
            }
            guard let content = fields["content"].flatMap({ string($0, "content") }) else {
                error(item, "a message needs 'content'")
                continue
            }
            result.append(Message(role: role, content: content))
        }
        return result
    }

    /// Substitutes vars and produces the case, or records why it cannot.
    mutating func finalize(_ raw: RawCase) -> Case? {
        guard let id = raw.id, !id.isEmpty else {
            diagnostics.append(SuiteDiagnostic(raw.location, "a case needs an 'id'"))
            return nil
        }
        var missing: [String] = []
        func render(_ text: String) -> String {
            let rendered = Template.render(text, vars: raw.vars)
            missing += rendered.missing
            return rendered.text
        }
        var messages: [Message]
        var settings = raw.settings
        if let prompt = raw.prompt {
            messages = [Message(role: "user", content: render(prompt))]
        } else if let written = raw.messages, !written.isEmpty {
            messages = []
            for message in written {
                let content = render(message.content)
                if message.role == "system", messages.isEmpty, settings.system == nil {
                    settings.system = content
                } else {
                    messages.append(Message(role: message.role, content: content))
                }
            }
        } else {
            diagnostics.append(
                SuiteDiagnostic(
                    raw.location,
                    "case '\(id)' has no 'prompt' or 'messages'",
                    hint: "add 'prompt: ...' with the input to send"
                )
            )
            return nil
        }
        if messages.isEmpty {
            diagnostics.append(
                SuiteDiagnostic(raw.location, "case '\(id)' has no user message", hint: "add a message with role user")
            )
            return nil
        }
        if let attachments = raw.attachments, !attachments.isEmpty {
            // The files go with the case's input: its last user message.
            guard let last = messages.lastIndex(where: { $0.role == "user" }) else {
                diagnostics.append(SuiteDiagnostic(raw.location, "case '\(id)' has attachments but no user message"))
                return nil
            }
            messages[last].attachments = attachments
        }
        settings.system = settings.system.map(render)
        let checks = raw.checks.map { check -> Check in
            var check = check
            check.kind = check.kind.mapStrings(render)
            return check
        }
        if !missing.isEmpty {
            let names = Array(Set(missing)).sorted()
            diagnostics.append(
                SuiteDiagnostic(
                    raw.location,
                    "case '\(id)' uses undefined template variable\(names.count > 1 ? "s" : "") \(names.map { "{{\($0)}}" }.joined(separator: ", "))",
                    hint: "define \(names.count > 1 ? "them" : "it") under 'vars:' (or as a column of the case file)"
                )
            )
            return nil
        }
        return Case(
            id: id,
            tags: raw.tags,
            kind: raw.kind ?? .normal,
            messages: messages,
            checks: checks,
            threshold: raw.threshold,
            samples: raw.samples,
            settings: settings,
            location: raw.location,
            isPrivate: raw.isPrivate ?? false,
            forbiddenTools: raw.forbiddenTools ?? [],
            sessionUser: raw.sessionUser
        )
    }

    /// CSV with a header row. Columns named like case keys or checks are those; every other column is a
    /// template variable (or name it `vars.NAME` to be explicit). List cells (`tags`, `contains-any`...) split on `|`.
    mutating func csvRows(_ text: String) -> [Node] {
        let records: [(line: Int, fields: [String])]
        do {
            records = try CSVReader.records(text)
        } catch let error as CSVReader.Failure {
            diagnostics.append(
                SuiteDiagnostic(
                    SourceLocation(file: file, line: error.line),
                    error.message,
                    hint: "quote fields containing commas or quotes with \"...\" and double inner quotes"
                )
            )
            return []
        } catch {
            return []
        }
        guard let header = records.first else { return [] }
        let columns = header.fields.map { $0.trimmingCharacters(in: .whitespaces) }
        let headerLocation = SourceLocation(file: file, line: header.line)
        let knownScalars =
            ["id", "prompt", "description", "kind", "threshold", "samples", "private"]
            + Keys.settings.filter { $0 != "params" }
            + Keys.passThrough
        let listKeys = ["tags", "contains-any", "contains-all", "icontains-any", "icontains-all", "attachments"]
        let checkNames = CheckKind.names + CheckKind.names.map { "not-" + $0 }
        for column in columns
        where !(knownScalars + listKeys + checkNames).contains(column) && !column.hasPrefix("vars.") {
            if let near = Suggest.closest(to: column, in: knownScalars + ["tags"] + CheckKind.names),
                Suggest.distance(column, near) <= 2, column != near
            {
                diagnostics.append(
                    SuiteDiagnostic(
                        headerLocation,
                        "unknown column '\(column)'",
                        hint:
                            "did you mean '\(near)'? To use it as a template variable, name the column 'vars.\(column)'"
                    )
                )
            }
        }
        if !diagnostics.isEmpty { return [] }
        let numericKeys: Set<String> = [
            "threshold", "samples", "temperature", "max_tokens", "retries", "concurrency", "seed", "top_p", "top_k",
            "min_p",
        ]
        var rows: [Node] = []
        for record in records.dropFirst() {
            if record.fields.count == 1, record.fields[0].trimmingCharacters(in: .whitespaces).isEmpty { continue }
            if record.fields.count != columns.count {
                diagnostics.append(
                    SuiteDiagnostic(
                        SourceLocation(file: file, line: record.line),
                        "row has \(record.fields.count) fields, the header has \(columns.count)",
                        hint: "quote fields that contain commas"
                    )
                )
                continue
            }
            var pairs: [Node.Pair] = []
            var vars: [Node.Pair] = []
            var checks: [Node] = []
            for (column, cell) in zip(columns, record.fields) where !cell.isEmpty {
                let scalar = Node.scalar(cell, isQuoted: !numericKeys.contains(column), line: record.line)
                let split = Node.sequence(
                    cell.split(separator: "|").map {
                        .scalar($0.trimmingCharacters(in: .whitespaces), isQuoted: true, line: record.line)
                    },
                    line: record.line
                )
                if column == "tags" || column == "attachments" {
                    pairs.append((column, split, record.line))
                } else if checkNames.contains(column) {
                    let bare = column.hasPrefix("not-") ? String(column.dropFirst(4)) : column
                    checks.append(
                        .mapping([(column, listKeys.contains(bare) ? split : scalar, record.line)], line: record.line)
                    )
                } else if column.hasPrefix("vars.") {
                    vars.append((String(column.dropFirst(5)), scalar, record.line))
                } else if knownScalars.contains(column) {
                    pairs.append((column, scalar, record.line))
                } else {
                    vars.append((column, scalar, record.line))
                }
            }
            if !vars.isEmpty { pairs.append(("vars", .mapping(vars, line: record.line), record.line)) }
            if !checks.isEmpty { pairs.append(("checks", .sequence(checks, line: record.line), record.line)) }
            rows.append(.mapping(pairs, line: record.line))
        }
        return rows
    }
}

extension CheckKind {
    /// The same check with every text argument passed through `transform` (template substitution).
    func mapStrings(_ transform: (String) -> String) -> CheckKind {
        switch self {
        case .equals(let text): return .equals(transform(text))
        case .contains(let text): return .contains(transform(text))
        case .icontains(let text): return .icontains(transform(text))
        case .containsAny(let items, let ci): return .containsAny(items.map(transform), caseInsensitive: ci)
        case .containsAll(let items, let ci): return .containsAll(items.map(transform), caseInsensitive: ci)
        case .startsWith(let text): return .startsWith(transform(text))
        case .regex(let text): return .regex(transform(text))
        case .jsonPath(let path, let expected):
            if case .string(let text) = expected { return .jsonPath(path: path, expected: .string(transform(text))) }
            return self
        case .judge(let rubric, let judge): return .judge(rubric: transform(rubric), judge: judge)
        default: return self
        }
    }
}
