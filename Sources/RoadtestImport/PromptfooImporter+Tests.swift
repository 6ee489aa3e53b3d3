import Foundation
import RoadtestCore

extension PromptfooConversion {
    // MARK: - Tests

    /// Every test with the file it was read from: inline, or from `file://` CSV, JSONL, JSON or YAML files.
    mutating func tests(_ node: SourceNode?) throws -> [(PromptfooTest, String)] {
        guard let node else { return [] }
        var result: [(PromptfooTest, String)] = []
        let entries = node.items ?? [node]
        for entry in entries {
            if let text = entry.string {
                guard text.hasPrefix("file://") else {
                    notCarried("test", entry, "a test must be a mapping or a file:// path")
                    continue
                }
                let written = String(text.dropFirst(7))
                let paths = written.contains("*") ? SourceReader.glob(written, from: file) : [written]
                if paths.isEmpty {
                    throw RoadtestError(.notFound, "no file matches \(written)", location: location(entry))
                }
                for relative in paths {
                    let path = SourceReader.resolve(relative, from: file)
                    for row in try testRows(path, referencedAt: location(entry)) {
                        result.append((try test(from: row, in: path), path))
                    }
                }
            } else {
                result.append((try test(from: entry, in: file), file))
            }
        }
        return result
    }

    /// The tests of a test file.
    mutating func testRows(_ path: String, referencedAt location: SourceLocation) throws -> [SourceNode] {
        switch (path as NSString).pathExtension.lowercased() {
        case "csv": return try SourceReader.csvRows(path, referencedAt: location).map(Self.csvTest)
        case "jsonl": return try SourceReader.jsonLines(path, referencedAt: location)
        case "json", "yaml", "yml":
            let document = try SourceReader.document(path, referencedAt: location)
            return document.items ?? [document]
        default:
            throw RoadtestError(
                .invalidArgument,
                "cannot read tests from \(path)",
                hint: "promptfoo test files are .csv, .jsonl, .json or .yaml",
                location: location
            )
        }
    }

    /// A promptfoo CSV row as a test: `__expected`, `__expected1`... are assertions written as text
    /// (`contains: x`, `grade: rubric`, `javascript: ...`), `__description` and `__threshold` are the test's own,
    /// every other column is a var.
    static func csvTest(_ row: SourceNode) -> SourceNode {
        let line = row.line
        var vars: [(key: String, value: SourceNode)] = []
        var pairs: [(key: String, value: SourceNode)] = []
        var asserts: [SourceNode] = []
        for (column, cell) in row.pairs ?? [] {
            let text = cell.string ?? ""
            if column.hasPrefix("__expected") {
                if !text.isEmpty { asserts.append(assertion(fromText: text, line: line)) }
            } else if column == "__description" {
                if !text.isEmpty { pairs.append(("description", cell)) }
            } else if column == "__threshold" {
                if !text.isEmpty { pairs.append(("threshold", .scalar(text, isQuoted: false, line: line))) }
            } else if column == "__prefix" || column == "__suffix" {
                pairs.append((String(column.dropFirst(2)), cell))
            } else if column.hasPrefix("__") {
                pairs.append((column, cell))
            } else {
                vars.append((column, cell))
            }
        }
        pairs.append(("vars", .mapping(vars, line: line)))
        pairs.append(("assert", .sequence(asserts, line: line)))
        return .mapping(pairs, line: line)
    }

    /// promptfoo's assertion shorthand (`contains: x`, `not-icontains: y`, `similar(0.8): z`, `grade: rubric`,
    /// `fn:`/`javascript:`/`python:` code); text without a type is an `equals`.
    static func assertion(fromText text: String, line: Int) -> SourceNode {
        func node(_ type: String, _ value: String?, threshold: String? = nil) -> SourceNode {
            var pairs: [(key: String, value: SourceNode)] = [("type", .scalar(type, isQuoted: true, line: line))]
            if let value { pairs.append(("value", .scalar(value, isQuoted: true, line: line))) }
            if let threshold { pairs.append(("threshold", .scalar(threshold, isQuoted: false, line: line))) }
            return .mapping(pairs, line: line)
        }
        for (prefix, type) in [
            ("javascript:", "javascript"), ("fn:", "javascript"), ("eval:", "javascript"), ("python:", "python"),
            ("grade:", "llm-rubric"),
        ] where text.hasPrefix(prefix) {
            return node(type, String(text.dropFirst(prefix.count)).trimmingCharacters(in: .whitespaces))
        }
        let pattern = #"^(not-)?([a-z][a-z0-9-]*)(?:\(([0-9.]+)\))?(?::\s?([\s\S]*))?$"#
        let range = NSRange(text.startIndex..., in: text)
        if let match = try? NSRegularExpression(pattern: pattern).firstMatch(in: text, range: range),
            let typeRange = Range(match.range(at: 2), in: text),
            match.range(at: 4).location != NSNotFound || PromptfooAssertions.valueless.contains(String(text[typeRange]))
        {
            let type = String(text[typeRange])
            if PromptfooAssertions.known.contains(type) {
                let negated = match.range(at: 1).location != NSNotFound
                let threshold = Range(match.range(at: 3), in: text).map { String(text[$0]) }
                let value = Range(match.range(at: 4), in: text).map { String(text[$0]) }
                return node((negated ? "not-" : "") + type, value, threshold: threshold)
            }
        }
        return node("equals", text)
    }

    /// A test mapping (`description`, `vars`, `assert`, `options`, `threshold`, `metadata`).
    mutating func test(from node: SourceNode, in testFile: String) throws -> PromptfooTest {
        guard node.pairs != nil else {
            throw RoadtestError(
                .invalidArgument,
                "a test must be a mapping with 'vars' and 'assert'",
                location: location(node, in: testFile)
            )
        }
        var test = PromptfooTest(location: location(node, in: testFile))
        test.description = node["description"]?.string
        if let vars = node["vars"] {
            if let text = vars.string, text.hasPrefix("file://") {
                let path = SourceReader.resolve(String(text.dropFirst(7)), from: testFile)
                test.vars = try SourceReader.document(path, referencedAt: location(vars, in: testFile)).pairs ?? []
            } else {
                test.vars = vars.pairs ?? []
            }
        }
        test.asserts = node["assert"]?.items ?? []
        if let threshold = node["threshold"] {
            if let value = threshold.double, (0...1).contains(value) {
                test.threshold = value
            } else {
                notCarried("test threshold", threshold, in: testFile, "a case's threshold is a score from 0 to 1")
            }
        }
        for (key, value) in node["metadata"]?.pairs ?? [] {
            if let text = value.string { test.tags.append("\(key):\(text)") }
        }
        let known = ["description", "vars", "assert", "options", "threshold", "metadata", "prefix", "suffix"]
        for (key, value) in node.pairs ?? [] where !known.contains(key) {
            notCarried("test \(key)", value, in: testFile, "'\(key)' on a test has no counterpart in a Roadtest case")
        }
        let options = node["options"]
        test.prefix = (options?["prefix"] ?? node["prefix"])?.string ?? ""
        test.suffix = (options?["suffix"] ?? node["suffix"])?.string ?? ""
        for (key, value) in options?.pairs ?? [] where !["prefix", "suffix", "provider"].contains(key) {
            notCarried(
                "option \(key)",
                value,
                in: testFile,
                key == "transform"
                    ? "output transforms are code; the checks grade the untransformed output"
                    : "test option '\(key)' has no counterpart in a Roadtest case"
            )
        }
        return test
    }

    // MARK: - Cases

    /// The cases of one test: its vars expanded (a list value makes one test per item, as promptfoo does), times
    /// every prompt.
    mutating func addCases(
        for test: PromptfooTest,
        in testFile: String,
        defaults: PromptfooTest,
        prompts: [PromptfooPrompt],
        number: Int
    ) throws {
        var merged: [(key: String, value: SourceNode)] = defaults.vars
        for pair in test.vars {
            merged.removeAll { $0.key == pair.key }
            merged.append(pair)
        }
        var expansions: [[String: String]] = [[:]]
        for (key, value) in merged {
            // An empty list is written as the text `[]`, not expanded into no case at all.
            let items = value.items.flatMap { $0.isEmpty ? nil : $0 } ?? [value]
            let values = try items.map { try varValue($0, in: testFile) }
            var next: [[String: String]] = []
            for expansion in expansions {
                for flat in values {
                    var vars = expansion
                    for (name, text) in flat { vars[name == "" ? key : "\(key).\(name)"] = text }
                    next.append(vars)
                }
            }
            expansions = next
        }
        let base = test.description.map { Identifier.slug($0, fallback: "test") } ?? "test-\(number)"
        var checks: [ImportedCheck] = []
        var notes: [String] = []
        let asserts =
            defaults.asserts.map { ($0, defaults.location.file) } + test.asserts.map { ($0, test.location.file) }
        for (node, assertFile) in asserts {
            switch convertAssertion(node, in: assertFile) {
            case .carried(let check, let note):
                checks.append(check)
                if let note { notes.append(note) }
            case .notCarried(let type, let reason):
                notes.append("not carried: \(type) (\(location(node, in: assertFile))): \(reason)")
            }
        }
        for (expansionIndex, vars) in expansions.enumerated() {
            for prompt in prompts {
                var id = base
                if expansions.count > 1 { id += "-\(expansionIndex + 1)" }
                if prompts.count > 1 { id += "-\(prompt.label)" }
                var testCase = ImportedCase(id: Identifier.unique(id, in: &takenCaseIDs))
                testCase.description = test.description
                testCase.tags = (prompts.count > 1 ? ["prompt:\(prompt.label)"] : []) + defaults.tags + test.tags
                testCase.vars = vars
                testCase.threshold = test.threshold ?? defaults.threshold
                testCase.notes = notes
                let prefix = test.prefix.isEmpty ? defaults.prefix : test.prefix
                let suffix = test.suffix.isEmpty ? defaults.suffix : test.suffix
                if let messages = prompt.messages {
                    testCase.messages = messages
                } else {
                    testCase.prompt = prefix + (prompt.text ?? "") + suffix
                }
                let texts = [testCase.prompt ?? ""] + (testCase.messages ?? []).map(\.content)
                let unsupported = texts.flatMap(Templates.unsupported)
                if !unsupported.isEmpty {
                    suite.findings.append(
                        ImportFinding(
                            .notCarried,
                            type: "nunjucks",
                            at: prompt.location,
                            "case \(testCase.id) not written: its prompt uses "
                                + Set(unsupported).sorted().joined(separator: ", ")
                                + " (Roadtest's templates fill plain {{name}} only)"
                        )
                    )
                    continue
                }
                testCase.checks = checks.compactMap { check in
                    if check.type == "similar", case .string(let expected) = check.argument {
                        var rendered = check
                        rendered.argument = .string(Template.render(expected, vars: vars).text)
                        return rendered
                    }
                    return check
                }
                // promptfoo renders an undefined variable as empty text; Roadtest refuses it, so it is written empty.
                let referenced =
                    texts.flatMap(Templates.references) + testCase.checks.flatMap(\.argument.templateReferences)
                let missing = Set(referenced.filter { testCase.vars[$0] == nil }).sorted()
                for name in missing { testCase.vars[name] = "" }
                if !missing.isEmpty {
                    testCase.notes.append("undefined in promptfoo (rendered empty): " + missing.joined(separator: ", "))
                }
                suite.cases.append(testCase)
            }
        }
    }

    /// A var's value: text, a `file://` file's text, or an object flattened into `name.key` entries (`""` is the
    /// var itself).
    func varValue(_ node: SourceNode, in testFile: String) throws -> [(String, String)] {
        if let text = node.string, text.hasPrefix("file://") {
            let path = SourceReader.resolve(String(text.dropFirst(7)), from: testFile)
            return [("", try SourceReader.text(path, referencedAt: location(node, in: testFile)))]
        }
        guard let pairs = node.pairs else { return [("", node.varText)] }
        var result = [("", node.varText)]
        for (key, value) in pairs {
            result += try varValue(value, in: testFile).map { ($0.0.isEmpty ? key : "\(key).\($0.0)", $0.1) }
        }
        return result
    }
}

extension YAMLValue {
    /// The `{{name}}` references in this value's text.
    var templateReferences: [String] {
        switch self {
        // Every reference, plain or not: Roadtest fills `{{ anything }}` in a check's text from the vars.
        case .string(let text): return Templates.references(in: text)
        case .list(let items): return items.flatMap(\.templateReferences)
        case .map(let entries): return entries.flatMap(\.value.templateReferences)
        default: return []
        }
    }
}
