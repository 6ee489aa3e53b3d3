import Foundation
import RoadtestCore
import Testing

/// The JSON parser every provider chunk goes through: strict, exact, and bounded on hostile input.
@Suite struct JSONParserTests {
    @Test func parsesEveryKindOfValue() {
        let text = #"{"a": [1, -2.5, 3e2, 0, true, false, null], "s": "x\"y\\z\n\u00e9\ud83d\ude00", "o": {}, "e": []}"#
        let value = JSONValue.parse(text)
        #expect(
            value?["a"]
                == .array([.number(1), .number(-2.5), .number(300), .number(0), .bool(true), .bool(false), .null])
        )
        #expect(value?["s"] == .string("x\"y\\z\né😀"))
        #expect(value?["o"] == .object([:]) && value?["e"] == .array([]))
        #expect(JSONValue.parse(" 42 ") == .number(42))
        #expect(JSONValue.parse("1e40") == .number(1e40))
    }

    @Test func rejectsWhatIsNotJSON() {
        for text in [
            "", "{", "[1,]", "{\"a\":1,}", "01", "1.", ".5", "+1", "-", "tru", "nul", "\"\u{01}\"", "\"\\x\"", "[1] 2",
            "{'a': 1}", "{\"a\" 1}", "NaN", "\"unterminated", "[\"\\u12\"]",
            // Too large for a Double: it could not be written back as JSON (the libFuzzer target `json` found it).
            "1E+89073340", "[0,-1e999]", "{\"x\": 1e309}",
        ] {
            #expect(JSONValue.parse(text) == nil, "\(text)")
        }
    }

    @Test func deepNestingIsRejectedNotACrash() {
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        #expect(JSONValue.parse(deep) == nil)
        let fine = String(repeating: "[", count: 100) + String(repeating: "]", count: 100)
        #expect(JSONValue.parse(fine) != nil)
    }

    @Test func agreesWithFoundationOnMutatedInput() {
        // Seeded mutations of a realistic chunk: whatever Foundation accepts we accept with the same value,
        // and whatever it rejects we reject.
        let seed =
            #"{"id":"c1","choices":[{"index":0,"delta":{"content":"Hi \"there\"","tool_calls":[{"index":0,"function":{"arguments":"{\"q\":1}"}}]},"finish_reason":null}],"usage":{"prompt_tokens":12,"completion_tokens":3.5e1}}"#
        var random = SplitMix64(seed: 11)
        let alphabet = Array(#"{}[]",:\"0123456789-+.eEtrufalsn \u"#.utf8)
        for _ in 0..<3000 {
            var bytes = Array(seed.utf8)
            for _ in 0..<(1 + Int(random.next() % 3)) {
                let position = Int(random.next() % UInt64(bytes.count))
                switch random.next() % 3 {
                case 0: bytes.remove(at: position)
                case 1: bytes.insert(alphabet[Int(random.next() % UInt64(alphabet.count))], at: position)
                default: bytes[position] = alphabet[Int(random.next() % UInt64(alphabet.count))]
                }
            }
            let data = Data(bytes)
            let text = String(decoding: bytes, as: UTF8.self)
            // Foundation tolerates trailing commas; RFC 8259 (and we) do not.
            if text.range(of: #",\s*[\]}]"#, options: .regularExpression) != nil {
                #expect(JSONValue.parse(data) == nil)
                continue
            }
            let ours = JSONValue.parse(data)
            let foundation = (try? JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed]))
                .map(JSONValue.init(foundationObject:))
            #expect((ours == nil) == (foundation == nil), "\(String(decoding: bytes, as: UTF8.self))")
            if let ours, let foundation, !containsBooleanNumberAmbiguity(foundation) {
                #expect(ours == foundation, "\(String(decoding: bytes, as: UTF8.self))")
            }
        }
    }

    /// Foundation reports 0 and 1 as NSNumber that may read back as booleans; those values are not compared.
    func containsBooleanNumberAmbiguity(_ value: JSONValue) -> Bool {
        switch value {
        case .bool: return true
        case .array(let items): return items.contains(where: containsBooleanNumberAmbiguity)
        case .object(let members): return members.values.contains(where: containsBooleanNumberAmbiguity)
        default: return false
        }
    }
}
