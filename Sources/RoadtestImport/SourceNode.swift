import Foundation
import RoadtestCore
import RoadtestSuite
import Yams

/// A value read from a source file (YAML, JSON, one JSONL line or one CSV row) with the line it is written on, so
/// every finding and error names file:line.
indirect enum SourceNode: Sendable {
    case scalar(String, isQuoted: Bool, line: Int)
    case null(line: Int)
    case sequence([SourceNode], line: Int)
    case mapping([(key: String, value: SourceNode)], line: Int)

    var line: Int {
        switch self {
        case .scalar(_, _, let line), .null(let line), .sequence(_, let line), .mapping(_, let line): return line
        }
    }

    /// A scalar's text (numbers and booleans as written).
    var string: String? {
        if case .scalar(let text, _, _) = self { return text }
        return nil
    }

    var double: Double? {
        guard case .scalar(let text, _, _) = self else { return nil }
        return Double(text.trimmingCharacters(in: .whitespaces))
    }

    var items: [SourceNode]? {
        if case .sequence(let items, _) = self { return items }
        return nil
    }

    var pairs: [(key: String, value: SourceNode)]? {
        if case .mapping(let pairs, _) = self { return pairs }
        return nil
    }

    subscript(key: String) -> SourceNode? {
        pairs?.first { $0.key == key }?.value
    }

    /// The value as JSON (unquoted YAML scalars resolved to numbers, booleans and null).
    var json: JSONValue {
        switch self {
        case .null: return .null
        case .scalar(let text, let isQuoted, _):
            if isQuoted { return .string(text) }
            switch text {
            case "true", "True", "TRUE": return .bool(true)
            case "false", "False", "FALSE": return .bool(false)
            case "null", "~": return .null
            default: break
            }
            if let number = Double(text), !text.isEmpty, text.first != ".", !text.hasSuffix(".") {
                return .number(number)
            }
            return .string(text)
        case .sequence(let items, _): return .array(items.map(\.json))
        case .mapping(let pairs, _):
            var members: [String: JSONValue] = [:]
            for pair in pairs { members[pair.key] = pair.value.json }
            return .object(members)
        }
    }

    /// The value as a template variable: text as is, anything else as compact JSON.
    var varText: String {
        switch self {
        case .scalar(let text, _, _): return text
        case .null: return ""
        default: return json.jsonText
        }
    }

    init(yaml node: Yams.Node) {
        let line = node.mark?.line ?? 1
        switch node {
        case .scalar(let scalar):
            let isQuoted = scalar.style != .plain && scalar.style != .any
            if !isQuoted, ["", "~", "null", "Null", "NULL"].contains(scalar.string) {
                self = .null(line: line)
            } else {
                self = .scalar(scalar.string, isQuoted: isQuoted, line: line)
            }
        case .sequence(let sequence):
            self = .sequence(sequence.map { SourceNode(yaml: $0) }, line: line)
        case .mapping(let mapping):
            self = .mapping(mapping.map { (key: $0.key.string ?? "", value: SourceNode(yaml: $0.value)) }, line: line)
        case .alias:
            self = .null(line: line)
        }
    }

    /// The same value with every line moved down `offset` lines (a JSONL line parsed on its own).
    func shifted(by offset: Int) -> SourceNode {
        guard offset != 0 else { return self }
        switch self {
        case .scalar(let text, let isQuoted, let line): return .scalar(text, isQuoted: isQuoted, line: line + offset)
        case .null(let line): return .null(line: line + offset)
        case .sequence(let items, let line): return .sequence(items.map { $0.shifted(by: offset) }, line: line + offset)
        case .mapping(let pairs, let line):
            return .mapping(pairs.map { (key: $0.key, value: $0.value.shifted(by: offset)) }, line: line + offset)
        }
    }

    /// A JSON value placed on one line (a CSV cell read as JSON).
    init(json: JSONValue, line: Int) {
        switch json {
        case .null: self = .null(line: line)
        case .bool(let value): self = .scalar(value ? "true" : "false", isQuoted: false, line: line)
        case .number: self = .scalar(json.jsonText, isQuoted: false, line: line)
        case .string(let value): self = .scalar(value, isQuoted: true, line: line)
        case .array(let items): self = .sequence(items.map { SourceNode(json: $0, line: line) }, line: line)
        case .object(let members):
            self = .mapping(
                members.keys.sorted().map { (key: $0, value: SourceNode(json: members[$0]!, line: line)) },
                line: line
            )
        }
    }
}

// MARK: - Reading source files

/// Reads the files an importer is given, turning every failure into a `RoadtestError` that names file:line.
struct SourceReader: Sendable {
    /// The text of `path` (relative paths from the current directory).
    static func text(_ path: String, referencedAt location: SourceLocation? = nil) throws -> String {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw RoadtestError(
                .notFound,
                "cannot read \(path)",
                hint: "check the path exists and is readable",
                location: location
            )
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw RoadtestError(.invalidArgument, "\(path) is not UTF-8 text", location: location)
        }
        return text
    }

    /// A YAML or JSON document.
    static func document(_ path: String, referencedAt location: SourceLocation? = nil) throws -> SourceNode {
        try parse(try text(path, referencedAt: location), file: path)
    }

    static func parse(_ text: String, file: String, line: Int = 1) throws -> SourceNode {
        let text = Self.escapingYAMLLineBreaks(text.hasPrefix("\u{FEFF}") ? String(text.dropFirst()) : text)
        do {
            guard let node = try Yams.compose(yaml: text) else {
                throw RoadtestError(
                    .invalidArgument,
                    "\(file) is empty",
                    location: SourceLocation(file: file, line: line)
                )
            }
            return SourceNode(yaml: node).shifted(by: line - 1)
        } catch let error as RoadtestError {
            throw error
        } catch let YamlError.scanner(_, problem, mark, _), let YamlError.parser(_, problem, mark, _) {
            throw RoadtestError(
                .invalidArgument,
                "cannot parse \(file): \(problem) at column \(mark.column)",
                hint: "check the quoting and indentation on this line or the one before",
                // libyaml places an error at the end of the input on the line after it.
                location: SourceLocation(file: file, line: line + min(mark.line, text.split(separator: "\n").count) - 1)
            )
        } catch {
            throw RoadtestError(
                .invalidArgument,
                "cannot parse \(file): \(error)",
                location: SourceLocation(file: file, line: line)
            )
        }
    }

    /// JSON text (it starts with `{` or `[`) with NEL, LINE SEPARATOR, PARAGRAPH SEPARATOR and BOM written as
    /// `\u` escapes: JSON allows them raw inside strings, where they can only be, but YAML reads the first three as
    /// line breaks (folded to a space in a quoted scalar) and drops the BOM.
    static func escapingYAMLLineBreaks(_ text: String) -> String {
        guard let first = text.first(where: { !$0.isWhitespace }), first == "{" || first == "[" else { return text }
        let escaped: [Unicode.Scalar: String] = [
            "\u{85}": "\\u0085", "\u{2028}": "\\u2028", "\u{2029}": "\\u2029", "\u{FEFF}": "\\uFEFF",
        ]
        guard text.unicodeScalars.contains(where: { escaped[$0] != nil }) else { return text }
        var result = ""
        result.unicodeScalars.reserveCapacity(text.unicodeScalars.count)
        for scalar in text.unicodeScalars {
            if let replacement = escaped[scalar] {
                result += replacement
            } else {
                result.unicodeScalars.append(scalar)
            }
        }
        return result
    }

    /// One node per non-empty line of a JSONL file, each with its line number.
    static func jsonLines(_ path: String, referencedAt location: SourceLocation? = nil) throws -> [SourceNode] {
        var nodes: [SourceNode] = []
        let lines = try text(path, referencedAt: location).split(separator: "\n", omittingEmptySubsequences: false)
        for (index, line) in lines.enumerated() {
            let trimmed = line.trimmingCharacters(in: .whitespacesAndNewlines)
            if trimmed.isEmpty { continue }
            guard trimmed.hasPrefix("{") else {
                throw RoadtestError(
                    .invalidArgument,
                    "a JSONL line must be a JSON object",
                    location: SourceLocation(file: path, line: index + 1)
                )
            }
            nodes.append(try parse(trimmed, file: path, line: index + 1))
        }
        return nodes
    }

    /// The rows of a CSV file with a header row, each a mapping of column name to cell (text), on its line.
    static func csvRows(_ path: String, referencedAt location: SourceLocation? = nil) throws -> [SourceNode] {
        let records: [(line: Int, fields: [String])]
        do {
            records = try CSVReader.records(try text(path, referencedAt: location))
        } catch let failure as CSVReader.Failure {
            throw RoadtestError(
                .invalidArgument,
                failure.message,
                hint: "quote fields containing commas or quotes with \"...\" and double inner quotes",
                location: SourceLocation(file: path, line: failure.line)
            )
        }
        guard let header = records.first else { return [] }
        let columns = header.fields.map { $0.trimmingCharacters(in: .whitespaces) }
        var rows: [SourceNode] = []
        for record in records.dropFirst() {
            if record.fields.allSatisfy({ $0.trimmingCharacters(in: .whitespaces).isEmpty }) { continue }
            guard record.fields.count == columns.count else {
                throw RoadtestError(
                    .invalidArgument,
                    "row has \(record.fields.count) fields, the header has \(columns.count)",
                    hint: "quote fields that contain commas",
                    location: SourceLocation(file: path, line: record.line)
                )
            }
            let pairs = zip(columns, record.fields).map {
                (key: $0, value: SourceNode.scalar($1, isQuoted: true, line: record.line))
            }
            rows.append(.mapping(pairs, line: record.line))
        }
        return rows
    }

    /// The files a `*` pattern in a path's last component names (`prompts/*.txt`), sorted, written as the pattern is
    /// (relative to the file that names it).
    static func glob(_ pattern: String, from file: String) -> [String] {
        let directoryPart = (pattern as NSString).deletingLastPathComponent
        let namePattern = (pattern as NSString).lastPathComponent
        let directory = resolve(directoryPart.isEmpty ? "." : directoryPart, from: file)
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return [] }
        let expression =
            "^"
            + NSRegularExpression.escapedPattern(for: namePattern).replacingOccurrences(of: "\\*", with: ".*")
            .replacingOccurrences(of: "\\?", with: ".") + "$"
        return names.filter { $0.range(of: expression, options: .regularExpression) != nil }.sorted().map {
            directoryPart.isEmpty ? $0 : directoryPart + "/" + $0
        }
    }

    /// `path` resolved against the folder of the file that names it.
    static func resolve(_ path: String, from file: String) -> String {
        if path.hasPrefix("/") { return path }
        let directory = (file as NSString).deletingLastPathComponent
        let relative = path.hasPrefix("./") ? String(path.dropFirst(2)) : path
        return directory.isEmpty ? relative : directory + "/" + relative
    }
}
