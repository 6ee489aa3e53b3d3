import Foundation

/// A small JSONPath: `$.a.b`, `$.items[0].name`, `$['key with space']`, `$.items[*].id`, `$..id` is not supported.
public struct JSONPath: Sendable, Hashable {
    enum Segment: Hashable {
        case key(String)
        case index(Int)
        case wildcard
    }

    let segments: [Segment]

    /// Parses a path; nil when it is not one this implementation understands.
    public init?(_ text: String) {
        var chars = Array(text.trimmingCharacters(in: .whitespaces))
        if chars.first == "$" { chars.removeFirst() }
        var segments: [Segment] = []
        var i = 0
        while i < chars.count {
            switch chars[i] {
            case ".":
                i += 1
                var name = ""
                while i < chars.count, chars[i] != ".", chars[i] != "[" {
                    name.append(chars[i])
                    i += 1
                }
                guard !name.isEmpty else { return nil }
                segments.append(name == "*" ? .wildcard : .key(name))
            case "[":
                i += 1
                guard let close = chars[i...].firstIndex(of: "]") else { return nil }
                let inner = String(chars[i..<close]).trimmingCharacters(in: .whitespaces)
                i = close + 1
                if inner == "*" {
                    segments.append(.wildcard)
                } else if let index = Int(inner) {
                    segments.append(.index(index))
                } else if inner.count >= 2, let first = inner.first, first == "'" || first == "\"", inner.last == first
                {
                    segments.append(.key(String(inner.dropFirst().dropLast())))
                } else {
                    return nil
                }
            default:
                if segments.isEmpty && i == 0 {
                    // Allow a bare `a.b` without `$`.
                    chars.insert(".", at: 0)
                    continue
                }
                return nil
            }
        }
        self.segments = segments
    }

    /// Every value the path selects.
    public func select(in root: JSONValue) -> [JSONValue] {
        var current = [root]
        for segment in segments {
            var next: [JSONValue] = []
            for value in current {
                switch (segment, value) {
                case (.key(let key), .object(let members)):
                    if let member = members[key] { next.append(member) }
                case (.index(let index), .array(let items)):
                    let resolved = index < 0 ? items.count + index : index
                    if items.indices.contains(resolved) { next.append(items[resolved]) }
                case (.wildcard, .array(let items)): next.append(contentsOf: items)
                case (.wildcard, .object(let members)):
                    next.append(contentsOf: members.keys.sorted().compactMap { members[$0] })
                default: break
                }
            }
            current = next
        }
        return current
    }
}
