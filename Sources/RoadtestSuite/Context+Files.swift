import Foundation
import RoadtestCore

/// Case files: JSONL rows (a large file held as rows, `CaseRows`) and where each row is.
extension Context {
    mutating func cases(fromFile relative: String, template: RawCase, at node: Node) -> CaseList {
        let url = relative.hasPrefix("/") ? URL(fileURLWithPath: relative) : directory.appendingPathComponent(relative)
        // The file's bytes are let go once they are text (a large file is not held twice).
        guard let text = FileManager.default.contents(atPath: url.path).flatMap({ String(data: $0, encoding: .utf8) })
        else {
            error(
                node,
                "cannot read case file '\(relative)'",
                hint: "paths are relative to the suite file's folder (\(directory.path))"
            )
            return []
        }
        let fileName = relative
        let fileDirectory = url.deletingLastPathComponent()
        var fileContext = Context(file: fileName, directory: fileDirectory)
        var cases: [Case] = []
        var rowCount = 0
        let stem = URL(fileURLWithPath: relative).deletingPathExtension().lastPathComponent
        /// A row's case (its keys checked by the caller).
        @Sendable func testCase(_ row: Node, _ pairs: [Node.Pair], _ fileContext: inout Context) -> Case? {
            var raw = template.overlaid(with: fileContext.rawCase(fromPairs: pairs, node: row))
            raw.location = fileContext.location(row)
            if raw.id == nil { raw.id = "\(stem)-\(row.line)" }
            return fileContext.finalize(raw)
        }
        // A large JSONL file keeps each good row's place instead of its case.
        let heldAsBytes =
            ["jsonl", "ndjson"].contains(url.pathExtension.lowercased())
            && Self.lineCount(text) > Self.rowsHeldAsBytes
        var places: [(start: Int, length: Int, line: Int)] = []
        // Each row becomes a case as it is read: the file's parse trees are never all held at once.
        func add(_ row: Node, _ fileContext: inout Context, place: Range<Int>? = nil) {
            rowCount += 1
            guard case .mapping(let pairs, _) = row else { return }
            fileContext.checkKeys(pairs, valid: Keys.testCase, in: "a case")
            guard let made = testCase(row, pairs, &fileContext) else { return }
            if heldAsBytes, let place {
                places.append((place.lowerBound, place.count, row.line))
            } else {
                cases.append(made)
            }
        }
        switch url.pathExtension.lowercased() {
        case "jsonl", "ndjson":
            fileContext.jsonlRows(text) { row, context, place in add(row, &context, place: place) }
        case "csv":
            for row in fileContext.csvRows(text) { add(row, &fileContext) }
        case "yaml", "yml":
            error(
                node,
                "case file '\(relative)' is YAML",
                hint: "list YAML cases inline under 'cases:'; files are JSONL or CSV"
            )
            return []
        default:
            error(
                node,
                "case file '\(relative)' must end in .jsonl or .csv",
                hint: "use JSONL (one case object per line) or CSV with a header row"
            )
            return []
        }
        if rowCount == 0 && fileContext.diagnostics.isEmpty {
            error(node, "case file '\(relative)' has no cases")
        }
        diagnostics += fileContext.diagnostics
        guard heldAsBytes else { return CaseList(cases) }
        var list = CaseList()
        list.append(
            rows: CaseRows(text: text, rows: places) { bytes, line in
                // The row as the loader read it above: parsed in place, or trimmed of Unicode whitespace first.
                let value =
                    JSONValue.parse(utf8: bytes)
                    ?? JSONValue.parse(
                        String(decoding: bytes, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
                    )
                guard let value else { return nil }
                let row = Node(json: value, line: line)
                guard case .mapping(let pairs, _) = row else { return nil }
                var context = Context(file: fileName, directory: fileDirectory)
                return testCase(row, pairs, &context)
            }
        )
        return list
    }

    /// Each JSON object line of `text`, in order, handed to `body` with this context (for its diagnostics). Lines
    /// are found and parsed on the text's UTF-8 bytes in place (a large file is read at the parser's speed); a line
    /// that does not parse is tried again trimmed of Unicode whitespace before it is reported.
    mutating func jsonlRows(_ text: String, _ body: (Node, inout Context, Range<Int>) -> Void) {
        var text = text
        text.withUTF8 { utf8 in
            var lineStart = 0
            var number = 0
            while lineStart <= utf8.count {
                number += 1
                var lineEnd = lineStart
                while lineEnd < utf8.count && utf8[lineEnd] != 0x0A { lineEnd += 1 }
                defer { lineStart = lineEnd + 1 }
                var first = lineStart
                var last = lineEnd
                while first < last && Self.isASCIISpace(utf8[first]) { first += 1 }
                while last > first && Self.isASCIISpace(utf8[last - 1]) { last -= 1 }
                if first == last { continue }
                if last - first >= 2 && utf8[first] == UInt8(ascii: "/") && utf8[first + 1] == UInt8(ascii: "/") {
                    continue
                }
                let bytes = UnsafeBufferPointer(rebasing: utf8[first..<last])
                let value: JSONValue
                if let parsed = JSONValue.parse(utf8: bytes) {
                    value = parsed
                } else {
                    let trimmed = String(decoding: bytes, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
                    if trimmed.isEmpty || trimmed.hasPrefix("//") { continue }
                    guard let parsed = JSONValue.parse(trimmed) else {
                        diagnostics.append(
                            SuiteDiagnostic(
                                SourceLocation(file: file, line: number),
                                "not valid JSON",
                                hint: "each line must be one JSON object, e.g. {\"id\": \"a\", \"prompt\": \"...\"}"
                            )
                        )
                        continue
                    }
                    value = parsed
                }
                guard case .object = value else {
                    diagnostics.append(
                        SuiteDiagnostic(
                            SourceLocation(file: file, line: number),
                            "each line must be a JSON object, found \(JSONSchemaValidator.typeName(value))"
                        )
                    )
                    continue
                }
                body(Node(json: value, line: number), &self, first..<last)
            }
        }
    }

    private static func isASCIISpace(_ byte: UInt8) -> Bool {
        byte == 0x20 || (byte >= 0x09 && byte <= 0x0D)
    }
}
