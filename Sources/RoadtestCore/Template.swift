import Foundation

/// `{{name}}` substitution for prompts, messages and system prompts.
public enum Template {
    /// Substitutes `{{ name }}` with `vars[name]`; returns the names that had no value.
    public static func render(_ text: String, vars: [String: String]) -> (text: String, missing: [String]) {
        guard text.contains("{{") else { return (text, []) }
        var result = ""
        var missing: [String] = []
        var rest = Substring(text)
        while let open = rest.range(of: "{{") {
            result += rest[..<open.lowerBound]
            guard let close = rest[open.upperBound...].range(of: "}}") else {
                result += rest[open.lowerBound...]
                return (result, missing)
            }
            let name = rest[open.upperBound..<close.lowerBound].trimmingCharacters(in: .whitespaces)
            if let value = vars[name] {
                result += value
            } else {
                missing.append(name)
                result += rest[open.lowerBound..<close.upperBound]
            }
            rest = rest[close.upperBound...]
        }
        result += rest
        return (result, missing)
    }
}
