import Foundation
import RoadtestCore
import RoadtestSuite

/// Writes an `ImportedSuite` as suite YAML that Roadtest's own loader reads back: a header comment naming the
/// source and listing what was not carried, then `name`, `candidates`, `defaults` and `cases`, each case with its
/// own comments. The output depends only on the suite (keys in a fixed order, vars sorted), so importing the same
/// source twice writes the same bytes.
public struct SuiteWriter: Sendable {
    public init() {}

    /// The suite file's text.
    public func yaml(for suite: ImportedSuite) -> String {
        var out: [String] = []
        out.append("# Imported by `roadtest import` from \(suite.source).")
        out.append("# Check it with `roadtest validate`; edit freely: this file is now the suite.")
        let notCarried = suite.findings(.notCarried)
        let approximated = suite.findings(.approximated)
        if !notCarried.isEmpty {
            out.append("#")
            out.append("# Not carried (\(notCarried.count)):")
            for finding in notCarried { out.append("#   \(Self.oneLine(finding.description))") }
        }
        if !approximated.isEmpty {
            out.append("#")
            out.append("# Approximated (\(approximated.count)):")
            for finding in approximated { out.append("#   \(Self.oneLine(finding.description))") }
        }
        out.append("")
        out.append("name: \(Self.scalar(suite.name))")
        if let description = suite.description { out.append("description: \(Self.scalar(description))") }
        out.append("candidates:")
        for note in suite.candidateNotes { out.append("  # \(Self.oneLine(note))") }
        for candidate in suite.candidates { Self.item(.map(candidate), indent: 1, into: &out) }
        if !suite.defaults.isEmpty {
            out.append("defaults:")
            Self.entries(suite.defaults, indent: 1, into: &out)
        }
        out.append("cases:")
        for testCase in suite.cases {
            for note in testCase.notes { out.append("  # \(Self.oneLine(note))") }
            Self.item(.map(Self.entries(of: testCase)), indent: 1, into: &out)
        }
        return out.joined(separator: "\n") + "\n"
    }

    static func entries(of testCase: ImportedCase) -> [YAMLEntry] {
        var entries = [YAMLEntry("id", .string(testCase.id))]
        if let description = testCase.description { entries.append(YAMLEntry("description", .string(description))) }
        if !testCase.tags.isEmpty { entries.append(YAMLEntry("tags", .list(testCase.tags.map(YAMLValue.string)))) }
        if !testCase.vars.isEmpty {
            entries.append(
                YAMLEntry("vars", .map(testCase.vars.keys.sorted().map { YAMLEntry($0, .string(testCase.vars[$0]!)) }))
            )
        }
        if let messages = testCase.messages {
            let list = messages.map {
                YAMLValue.map([YAMLEntry("role", .string($0.role)), .init("content", .string($0.content))])
            }
            entries.append(YAMLEntry("messages", .list(list)))
        } else if let prompt = testCase.prompt {
            entries.append(YAMLEntry("prompt", .string(prompt)))
        }
        entries += testCase.settings
        if let threshold = testCase.threshold { entries.append(YAMLEntry("threshold", .number(threshold))) }
        let checks = testCase.checks.map { check in
            YAMLValue.map([YAMLEntry(check.name, check.argument)] + check.options)
        }
        entries.append(YAMLEntry("checks", .list(checks)))
        return entries
    }

    // MARK: - Emitting

    /// A list item (`- key: value` with the rest of the mapping under it).
    static func item(_ value: YAMLValue, indent: Int, into out: inout [String]) {
        let pad = String(repeating: "  ", count: indent)
        switch value {
        case .map(let entries) where !entries.isEmpty:
            var lines: [String] = []
            Self.entries(entries, indent: indent + 1, into: &lines)
            let innerPad = String(repeating: "  ", count: indent + 1)
            if let first = lines.first, first.hasPrefix(innerPad) {
                lines[0] = pad + "- " + String(first.dropFirst(innerPad.count))
            }
            out += lines
        case .list(let items) where !items.isEmpty:
            out.append(pad + "-")
            for item in items { Self.item(item, indent: indent + 1, into: &out) }
        default:
            Self.scalarLines(value, prefix: pad + "- ", indent: indent + 1, into: &out)
        }
    }

    static func entries(_ entries: [YAMLEntry], indent: Int, into out: inout [String]) {
        let pad = String(repeating: "  ", count: indent)
        for entry in entries {
            let key = scalar(entry.key)
            switch entry.value {
            case .map(let inner) where !inner.isEmpty:
                out.append(pad + key + ":")
                Self.entries(inner, indent: indent + 1, into: &out)
            case .list(let items) where !items.isEmpty:
                if items.allSatisfy(\.isShortScalar), items.count <= 8 {
                    out.append(pad + key + ": [" + items.map(flowScalar).joined(separator: ", ") + "]")
                } else {
                    out.append(pad + key + ":")
                    for item in items { Self.item(item, indent: indent + 1, into: &out) }
                }
            default:
                Self.scalarLines(entry.value, prefix: pad + key + ": ", indent: indent + 1, into: &out)
            }
        }
    }

    /// A scalar after `prefix`: plain, double-quoted, or a literal block for multi-line text.
    static func scalarLines(_ value: YAMLValue, prefix: String, indent: Int, into out: inout [String]) {
        switch value {
        case .string(let text) where isLiteralBlock(text):
            let body = text.hasSuffix("\n") ? String(text.dropLast()) : text
            out.append(prefix + (text.hasSuffix("\n") ? "|" : "|-"))
            let pad = String(repeating: "  ", count: indent)
            for line in body.split(separator: "\n", omittingEmptySubsequences: false) {
                out.append(line.isEmpty ? "" : pad + line)
            }
        case .string(let text): out.append(prefix + scalar(text))
        case .number(let number): out.append(prefix + format(number))
        case .bool(let flag): out.append(prefix + (flag ? "true" : "false"))
        case .list: out.append(prefix + "[]")
        case .map: out.append(prefix + "{}")
        }
    }

    static func flowScalar(_ value: YAMLValue) -> String {
        switch value {
        case .string(let text): return scalar(text, inFlow: true)
        case .number(let number): return format(number)
        case .bool(let flag): return flag ? "true" : "false"
        case .list: return "[]"
        case .map: return "{}"
        }
    }

    static func format(_ number: Double) -> String {
        if number.rounded() == number, abs(number) < 1e15 { return String(Int(number)) }
        return String(number)
    }

    /// Multi-line text without carriage returns, tabs or control characters, whose lines do not start with a
    /// space (a literal block would need an indentation indicator) and that does not end in blank lines.
    static func isLiteralBlock(_ text: String) -> Bool {
        guard text.contains("\n"), !text.hasPrefix(" "), !text.hasPrefix("\n"), !text.hasSuffix("\n\n") else {
            return false
        }
        for scalar in text.unicodeScalars where scalar != "\n" {
            if scalar.value < 0x20 || scalar.value == 0x7F || scalar.value == 0xFEFF || scalar.value == 0x85
                || scalar.value == 0x2028 || scalar.value == 0x2029
            {
                return false
            }
        }
        return !text.split(separator: "\n").contains { $0.hasSuffix(" ") }
    }

    /// Text as a plain scalar when YAML reads it back as the same string, else double-quoted.
    static func scalar(_ text: String, inFlow: Bool = false) -> String {
        isPlain(text, inFlow: inFlow) ? text : quoted(text)
    }

    static func isPlain(_ text: String, inFlow: Bool) -> Bool {
        guard let first = text.first, let last = text.last, first != " ", last != " " else { return false }
        let reserved: Set<String> = [
            "true", "false", "yes", "no", "on", "off", "y", "n", "null", "~", "True", "False", "Yes", "No", "On", "Off",
            "TRUE", "FALSE", "YES", "NO", "ON", "OFF", "Null", "NULL", "Y", "N",
        ]
        if reserved.contains(text) { return false }
        if Double(text) != nil || Int(text) != nil || text.hasPrefix("0x") || text.hasPrefix("0o")
            || text.hasPrefix(".")
        {
            return false
        }
        if "-?:,[]{}#&*!|>'\"%@`".contains(first) { return false }
        if text.contains(": ") || text.contains(" #") || text.hasSuffix(":") { return false }
        if inFlow, text.contains(where: { ",[]{}".contains($0) }) { return false }
        return text.unicodeScalars.allSatisfy { $0.value >= 0x20 && $0.value < 0x7F }
    }

    /// A double-quoted YAML scalar (JSON's escapes, which YAML's double-quoted style shares).
    static func quoted(_ text: String) -> String {
        var result = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            case "\n": result += "\\n"
            case "\t": result += "\\t"
            case "\r": result += "\\r"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F || (0x80...0x9F).contains(scalar.value)
                    || scalar.value == 0x2028 || scalar.value == 0x2029 || scalar.value == 0xFEFF
                {
                    result += String(format: "\\u%04X", scalar.value)
                } else {
                    result.unicodeScalars.append(scalar)
                }
            }
        }
        return result + "\""
    }

    /// A comment's text on one line.
    static func oneLine(_ text: String) -> String {
        text.replacingOccurrences(of: "\r", with: " ").replacingOccurrences(of: "\n", with: " ")
    }
}

extension YAMLValue {
    var isShortScalar: Bool {
        switch self {
        case .string(let text): return text.count <= 40 && !text.contains("\n")
        case .number, .bool: return true
        default: return false
        }
    }
}

extension SuiteWriter {
    /// The suite file's text, read back by Roadtest's own loader first: an imported suite that would not validate
    /// is an error here (naming the written line), never a file handed to the user.
    public func checkedYAML(for suite: ImportedSuite, path: String) throws -> String {
        let text = yaml(for: suite)
        do {
            _ = try SuiteLoader().load(yaml: text, path: path)
        } catch let error as RoadtestError {
            throw RoadtestError(
                error.code,
                "the imported suite does not validate (a bug in `roadtest import`; please report it)",
                diagnostics: error.diagnostics,
                cause: error.diagnostics.isEmpty ? error : nil
            )
        }
        return text
    }
}
