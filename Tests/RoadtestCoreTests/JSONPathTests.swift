import Foundation
import RoadtestCore
import Testing

@Suite struct JSONPathTests {
    static let document = """
        {
          "a": {"b": 1, "c": [10, 20, 30]},
          "items": [{"id": "x", "name": "first"}, {"id": "y"}, {"name": "third"}],
          "key with space": true,
          "it's": "quoted",
          "empty": [],
          "n": null
        }
        """

    /// A path and the values it selects in `document`, as JSON text.
    @Test(arguments: [
        ("$", [document]),
        ("$.a.b", ["1"]),
        ("a.b", ["1"]),
        ("  $.a.b  ", ["1"]),
        ("$.a.c[0]", ["10"]),
        ("$.a.c[2]", ["30"]),
        ("$.a.c[-1]", ["30"]),
        ("$.a.c[-3]", ["10"]),
        ("$.a.c[3]", []),
        ("$.a.c[-4]", []),
        ("$.a.c[ 1 ]", ["20"]),
        ("$.a.c[*]", ["10", "20", "30"]),
        ("$.a.c.*", ["10", "20", "30"]),
        ("$.items[*].id", ["\"x\"", "\"y\""]),
        ("$.items[*].name", ["\"first\"", "\"third\""]),
        ("$.items[1].id", ["\"y\""]),
        ("$['key with space']", ["true"]),
        ("$[\"key with space\"]", ["true"]),
        ("$[\"it's\"]", ["\"quoted\""]),
        ("$.a[*]", ["1", "[10, 20, 30]"]),  // an object's members, by key
        ("$.a.*[1]", ["20"]),
        ("$.empty[*]", []),
        ("$.n", ["null"]),
        ("$.missing", []),
        ("$.a.b.c", []),  // a key of a number
        ("$.a[0]", []),  // an index of an object
        ("$.items.id", []),  // a key of an array
    ])
    func selects(path: String, expected: [String]) throws {
        let parsed = try #require(JSONPath(path), "\(path) should parse")
        let root = try #require(JSONValue.parse(Self.document))
        let expectedValues = try expected.map { try #require(JSONValue.parse($0)) }
        #expect(parsed.select(in: root) == expectedValues, "\(path)")
    }

    @Test(arguments: [
        "$.",
        "$..id",
        "$.a.",
        "$[",
        "$[0",
        "$[abc]",
        "$['unterminated]",
        "$['mismatched\"]",
        "$[']",
        "$.a b[0]x",
    ])
    func rejects(path: String) {
        #expect(JSONPath(path) == nil, "\(path) should not parse")
    }

    @Test func equalPathsAreEqual() {
        // `$` is optional, so `$a` is the bare path `a`.
        #expect(JSONPath("$a") == JSONPath("$.a"))
        #expect(JSONPath("$.a.b") == JSONPath("a.b"))
        #expect(JSONPath("$['a'][0]") == JSONPath("$.a[0]"))
        #expect(JSONPath("$.a[*]") == JSONPath("$.a.*"))
        #expect(JSONPath("$.a[0]") != JSONPath("$.a[1]"))
    }
}
