import Foundation

/// Validates JSON against the commonly used part of JSON Schema: `type`, `properties`, `required`,
/// `additionalProperties`, `items`, `enum`, `const`, `minimum`, `maximum`, `minLength`, `maxLength`,
/// `pattern`, `minItems`, `maxItems`, `anyOf`, `oneOf`, `allOf`.
public enum JSONSchemaValidator {
    /// Problems found, each naming the JSON location; empty when valid.
    public static func validate(_ value: JSONValue, against schema: JSONValue, at path: String = "$") -> [String] {
        guard case .object(let rules) = schema else { return [] }
        var problems: [String] = []
        if let type = rules["type"] {
            let allowed = type.arrayValue?.compactMap(\.stringValue) ?? [type.stringValue].compactMap { $0 }
            if !allowed.isEmpty, !allowed.contains(where: { matches(value, type: $0) }) {
                problems.append("\(path) should be \(allowed.joined(separator: " or ")), is \(typeName(value))")
                return problems
            }
        }
        if let options = rules["enum"]?.arrayValue,
            !options.contains(where: { CheckEvaluator.loosely(value, equals: $0) })
        {
            problems.append("\(path) should be one of \(JSONValue.array(options).jsonText)")
        }
        if let constant = rules["const"], !CheckEvaluator.loosely(value, equals: constant) {
            problems.append("\(path) should be \(constant.jsonText)")
        }
        switch value {
        case .object(let members):
            for name in rules["required"]?.arrayValue?.compactMap(\.stringValue) ?? [] where members[name] == nil {
                problems.append("\(path) is missing required \"\(name)\"")
            }
            let properties = rules["properties"]?.objectValue ?? [:]
            for (name, member) in members.sorted(by: { $0.key < $1.key }) {
                if let propertySchema = properties[name] {
                    problems += validate(member, against: propertySchema, at: "\(path).\(name)")
                } else if rules["additionalProperties"] == .bool(false) {
                    problems.append("\(path) has unexpected \"\(name)\"")
                } else if let additional = rules["additionalProperties"], additional.objectValue != nil {
                    problems += validate(member, against: additional, at: "\(path).\(name)")
                }
            }
        case .array(let items):
            if let itemSchema = rules["items"] {
                for (index, item) in items.enumerated() {
                    problems += validate(item, against: itemSchema, at: "\(path)[\(index)]")
                }
            }
            if let minimum = rules["minItems"]?.doubleValue, Double(items.count) < minimum {
                problems.append("\(path) should have at least \(Int(minimum)) items")
            }
            if let maximum = rules["maxItems"]?.doubleValue, Double(items.count) > maximum {
                problems.append("\(path) should have at most \(Int(maximum)) items")
            }
        case .string(let text):
            // Lengths count code points (RFC 8259 characters), not grapheme clusters.
            if let minimum = rules["minLength"]?.doubleValue, Double(text.unicodeScalars.count) < minimum {
                problems.append("\(path) should be at least \(Int(minimum)) characters")
            }
            if let maximum = rules["maxLength"]?.doubleValue, Double(text.unicodeScalars.count) > maximum {
                problems.append("\(path) should be at most \(Int(maximum)) characters")
            }
            if let pattern = rules["pattern"]?.stringValue, let regex = RegexCache.regex(pattern),
                regex.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) == nil
            {
                problems.append("\(path) should match /\(pattern)/")
            }
        case .number(let number):
            if let minimum = rules["minimum"]?.doubleValue, number < minimum {
                problems.append("\(path) should be ≥ \(CheckEvaluator.format(minimum))")
            }
            if let maximum = rules["maximum"]?.doubleValue, number > maximum {
                problems.append("\(path) should be ≤ \(CheckEvaluator.format(maximum))")
            }
        default:
            break
        }
        if let all = rules["allOf"]?.arrayValue {
            for sub in all { problems += validate(value, against: sub, at: path) }
        }
        if let any = rules["anyOf"]?.arrayValue,
            !any.contains(where: { validate(value, against: $0, at: path).isEmpty })
        {
            problems.append("\(path) matches none of anyOf")
        }
        if let one = rules["oneOf"]?.arrayValue,
            one.filter({ validate(value, against: $0, at: path).isEmpty }).count != 1
        {
            problems.append("\(path) should match exactly one of oneOf")
        }
        return problems
    }

    static func matches(_ value: JSONValue, type: String) -> Bool {
        switch (type, value) {
        case ("object", .object), ("array", .array), ("string", .string), ("boolean", .bool), ("null", .null),
            ("number", .number):
            return true
        case ("integer", .number(let number)): return number.rounded() == number
        default: return false
        }
    }

    public static func typeName(_ value: JSONValue) -> String {
        switch value {
        case .null: return "null"
        case .bool: return "boolean"
        case .number: return "number"
        case .string: return "string"
        case .array: return "array"
        case .object: return "object"
        }
    }
}
