import Foundation
import RoadtestCore
import Testing

/// Every row's verdict (valid or not) agrees with python-jsonschema 4.26.0's `Draft202012Validator.is_valid`; the
/// problem texts are Roadtest's own.
@Suite struct JSONSchemaValidatorTests {
    @Test(arguments: [
        // type
        (#"{"type":"string"}"#, #""hi""#, []),
        (#"{"type":"string"}"#, "3", ["$ should be string, is number"]),
        (#"{"type":["string","null"]}"#, "null", []),
        (#"{"type":["string","null"]}"#, "true", ["$ should be string or null, is boolean"]),
        (#"{"type":"integer"}"#, "3", []),
        (#"{"type":"integer"}"#, "3.0", []),
        (#"{"type":"integer"}"#, "3.5", ["$ should be integer, is number"]),
        (#"{"type":"number"}"#, "false", ["$ should be number, is boolean"]),
        (#"{"type":"array"}"#, "{}", ["$ should be array, is object"]),
        // objects
        (#"{"type":"object","required":["a","b"]}"#, #"{"a":1}"#, [#"$ is missing required "b""#]),
        (#"{"properties":{"a":{"type":"string"}}}"#, #"{"a":1,"b":2}"#, ["$.a should be string, is number"]),
        (
            #"{"properties":{"a":{}},"additionalProperties":false}"#, #"{"a":1,"z":2,"y":3}"#,
            [#"$ has unexpected "y""#, #"$ has unexpected "z""#]
        ),
        (#"{"additionalProperties":{"type":"number"}}"#, #"{"a":1,"b":"x"}"#, ["$.b should be number, is string"]),
        (#"{"properties":{"o":{"properties":{"p":{"minimum":0}}}}}"#, #"{"o":{"p":-1}}"#, ["$.o.p should be ≥ 0"]),
        // arrays
        (#"{"items":{"type":"number"},"minItems":2}"#, #"[1,"x"]"#, ["$[1] should be number, is string"]),
        (#"{"minItems":2}"#, "[1]", ["$ should have at least 2 items"]),
        (#"{"maxItems":1}"#, "[1,2]", ["$ should have at most 1 items"]),
        // enum and const
        (#"{"enum":["red","green"]}"#, #""blue""#, [#"$ should be one of ["red","green"]"#]),
        (#"{"enum":["red","green"]}"#, #""green""#, []),
        (#"{"enum":[1,null]}"#, "null", []),
        (#"{"const":{"a":[1,2]}}"#, #"{"a":[1,2]}"#, []),
        (#"{"const":{"a":[1,2]}}"#, #"{"a":[2,1]}"#, [#"$ should be {"a":[1,2]}"#]),
        // numbers
        (#"{"minimum":1.5,"maximum":3}"#, "1", ["$ should be ≥ 1.5"]),
        (#"{"minimum":1.5,"maximum":3}"#, "3", []),
        (#"{"minimum":1.5,"maximum":3}"#, "3.25", ["$ should be ≤ 3"]),
        // strings
        (#"{"minLength":2,"maxLength":3}"#, #""a""#, ["$ should be at least 2 characters"]),
        (#"{"minLength":2,"maxLength":3}"#, #""abcd""#, ["$ should be at most 3 characters"]),
        (#"{"maxLength":3}"#, #""h\u00e9\u00e9""#, []),
        (#"{"pattern":"^[A-Z]{3}-\\d+$"}"#, #""ABC-12""#, []),
        (#"{"pattern":"^[A-Z]{3}-\\d+$"}"#, #""abc-12""#, [#"$ should match /^[A-Z]{3}-\d+$/"#]),
        (#"{"pattern":"b"}"#, #""abc""#, []),  // unanchored: a match anywhere
        (#"{"minimum":5,"minLength":5}"#, #""short""#, []),  // number keywords ignore strings
        // combinators
        (#"{"anyOf":[{"type":"string"},{"type":"number"}]}"#, "2", []),
        (#"{"anyOf":[{"type":"string"},{"type":"number"}]}"#, "null", ["$ matches none of anyOf"]),
        (#"{"oneOf":[{"type":"number"},{"minimum":0}]}"#, "-1", []),
        (#"{"oneOf":[{"type":"number"},{"minimum":0}]}"#, "1", ["$ should match exactly one of oneOf"]),
        (#"{"oneOf":[{"type":"number"},{"type":"string"}]}"#, "true", ["$ should match exactly one of oneOf"]),
        (#"{"allOf":[{"minimum":0},{"maximum":10}]}"#, "11", ["$ should be ≤ 10"]),
        (#"{"allOf":[{"minimum":0},{"maximum":10}]}"#, "5", []),
        // nested, problems in order: required first, then members by name
        (
            #"{"type":"object","properties":{"tags":{"type":"array","items":{"enum":["a","b"]}}},"required":["id"]}"#,
            #"{"tags":["a","c"]}"#,
            [#"$ is missing required "id""#, #"$.tags[1] should be one of ["a","b"]"#]
        ),
        // schemas that allow everything
        ("true", "42", []),
        ("{}", #"{"anything":[1,2,3]}"#, []),
    ])
    func validates(row: (schema: String, value: String, expected: [String])) throws {
        let schema = try #require(JSONValue.parse(row.schema))
        let value = try #require(JSONValue.parse(row.value))
        #expect(JSONSchemaValidator.validate(value, against: schema) == row.expected, "\(row.schema) \(row.value)")
    }

    /// A string's length is its count of Unicode code points (RFC 8259 characters), as python-jsonschema counts it,
    /// not of grapheme clusters.
    @Test(arguments: [
        (#"{"maxLength":1}"#, "\"\u{1F44D}\u{1F3FD}\"", ["$ should be at most 1 characters"]),  // thumbs up, skin tone
        (#"{"minLength":2}"#, "\"e\u{301}\"", []),  // e and a combining acute accent
        (#"{"maxLength":1}"#, "\"\u{E9}\"", []),
    ])
    func lengthsCountCodePoints(row: (schema: String, value: String, expected: [String])) throws {
        let schema = try #require(JSONValue.parse(row.schema))
        let value = try #require(JSONValue.parse(row.value))
        #expect(JSONSchemaValidator.validate(value, against: schema) == row.expected)
    }

    @Test func problemsNameTheLocationGiven() throws {
        let schema = try #require(JSONValue.parse(#"{"type":"number"}"#))
        #expect(
            JSONSchemaValidator.validate(.string("x"), against: schema, at: "$.reply") == [
                "$.reply should be number, is string"
            ]
        )
    }

    @Test(arguments: [
        (JSONValue.null, "null"), (.bool(true), "boolean"), (.number(1), "number"), (.string(""), "string"),
        (.array([]), "array"), (.object([:]), "object"),
    ])
    func typeNames(value: JSONValue, name: String) {
        #expect(JSONSchemaValidator.typeName(value) == name)
    }
}
