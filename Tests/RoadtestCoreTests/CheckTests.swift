import Foundation
import RoadtestCore
import Testing

@Suite struct CheckTests {
    func passes(_ kind: CheckKind, _ output: String, e2e: Double? = 0.1, cost: Double = 0) -> Bool {
        CheckEvaluator.evaluate(kind, output: output, context: .init(endToEnd: e2e, costUSD: cost))!.passed
    }

    @Test func textChecks() {
        #expect(passes(.equals("Paris"), "  Paris\n"))
        #expect(!passes(.equals("Paris"), "paris"))
        #expect(passes(.contains("refund"), "we will refund you"))
        #expect(!passes(.contains("Refund"), "we will refund you"))
        #expect(passes(.icontains("REFUND"), "we will refund you"))
        #expect(passes(.containsAny(["x", "refund"], caseInsensitive: false), "refund"))
        #expect(!passes(.containsAny(["x", "y"], caseInsensitive: false), "refund"))
        #expect(passes(.containsAll(["a", "B"], caseInsensitive: true), "b then A"))
        #expect(!passes(.containsAll(["a", "B"], caseInsensitive: false), "b then a"))
        #expect(passes(.startsWith("Yes"), "\nYes, indeed"))
        #expect(passes(.regex(#"order \d{3}"#), "your order 123"))
        #expect(!passes(.regex(#"^\d+$"#), "12a"))
    }

    @Test func jsonChecks() {
        #expect(passes(.isJSON(schema: nil), #" {"a": 1} "#))
        #expect(!passes(.isJSON(schema: nil), "```json\n{}\n```"))
        let schema = JSONValue.parse(
            #"{"type": "object", "required": ["priority"], "properties": {"priority": {"enum": ["low", "high"]}, "n": {"type": "integer", "minimum": 1}}}"#
        )!
        #expect(passes(.isJSON(schema: schema), #"{"priority": "high", "n": 2}"#))
        #expect(!passes(.isJSON(schema: schema), #"{"priority": "urgent"}"#))
        #expect(!passes(.isJSON(schema: schema), #"{"n": 2}"#))
        #expect(!passes(.isJSON(schema: schema), #"{"priority": "low", "n": 0.5}"#))
        #expect(passes(.jsonPath(path: "$.items[1].id", expected: .number(7)), #"{"items": [{"id": 1}, {"id": 7}]}"#))
        #expect(passes(.jsonPath(path: "$.items[*].id", expected: .number(1)), #"{"items": [{"id": 1}, {"id": 7}]}"#))
        #expect(!passes(.jsonPath(path: "$.missing", expected: nil), #"{"a": 1}"#))
        #expect(passes(.jsonPath(path: "$['a b']", expected: .string("x")), #"{"a b": "x"}"#))
    }

    @Test func numberLengthAndWordChecks() {
        #expect(passes(.number(value: 4, tolerance: 0), "The answer is 4."))
        #expect(passes(.number(value: 1234.5, tolerance: 0), "about 1,234.5 units"))
        #expect(passes(.number(value: 3.14, tolerance: 0.01), "pi is 3.141"))
        #expect(!passes(.number(value: 3.14, tolerance: 0.001), "pi is 3.2"))
        #expect(!passes(.number(value: 1, tolerance: 0), "no digits"))
        #expect(passes(.maxLength(5), "12345"))
        #expect(!passes(.maxLength(5), "123456"))
        #expect(passes(.wordCount(min: 2, max: 3), "two words"))
        #expect(!passes(.wordCount(min: 2, max: 3), "one"))
        #expect(passes(.wordCount(min: 1, max: 1), " single "))
    }

    @Test func latencyAndCostChecks() {
        #expect(passes(.latency(maxSeconds: 0.2), "x", e2e: 0.15))
        #expect(!passes(.latency(maxSeconds: 0.2), "x", e2e: 0.25))
        #expect(!passes(.latency(maxSeconds: 0.2), "x", e2e: nil))
        #expect(passes(.cost(maxUSD: 0.001), "x", cost: 0.001))
        #expect(!passes(.cost(maxUSD: 0.001), "x", cost: 0.0011))
    }

    @Test func negationWeightsAndThreshold() {
        let check = Check(kind: .contains("sorry"), isNegated: true, weight: 3)
        let raw = CheckEvaluator.evaluate(check.kind, output: "I am sorry", context: .init(endToEnd: nil, costUSD: 0))!
        let result = CheckEvaluator.result(for: check, passed: raw.passed, score: raw.score, reason: raw.reason)
        #expect(result.passed == false)
        #expect(result.check == "not-contains")
        #expect(result.weight == 3)

        let results = [
            CheckResult(check: "a", passed: true, score: 1, weight: 3, reason: ""),
            CheckResult(check: "b", passed: false, score: 0, weight: 1, reason: ""),
        ]
        #expect(CheckEvaluator.verdict(of: results, threshold: nil).passed == false)
        #expect(CheckEvaluator.verdict(of: results, threshold: 0.75).passed == true)
        #expect(CheckEvaluator.verdict(of: results, threshold: 0.8).passed == false)
        #expect(CheckEvaluator.verdict(of: results, threshold: nil).score == 0.75)
    }

    @Test func templatesReportMissingVariables() {
        let rendered = Template.render("Hi {{ name }}, order {{order}}", vars: ["name": "Ada"])
        #expect(rendered.text == "Hi Ada, order {{order}}")
        #expect(rendered.missing == ["order"])
    }
}
