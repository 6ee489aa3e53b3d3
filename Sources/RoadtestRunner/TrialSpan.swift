import RoadtestCore
import Tracing

/// A trial as an OpenTelemetry span (`trial {case}`, a child of the run's span; its attempts are client spans
/// beneath it): Roadtest's facts under `roadtest.*` and every graded check as a `gen_ai.evaluation.result` event
/// (`gen_ai.evaluation.name`, `.score.value`, `.score.label` pass/fail, `.explanation`). Prompts, outputs and the
/// explanations of judge and command checks (which quote the model) only with `TelemetryContent` on.
enum TrialSpan {
    static func start(_ key: TrialKey, runID: String, span: any Span) {
        span.attributes["roadtest.run_id"] = runID
        span.attributes["roadtest.candidate"] = key.candidate
        span.attributes["roadtest.case"] = key.caseID
        span.attributes["roadtest.sample"] = key.sample
        span.attributes["roadtest.variant"] = key.variant.description
    }

    static func finish(_ outcome: Outcome, span: any Span) {
        span.attributes["roadtest.passed"] = outcome.passed
        span.attributes["roadtest.score"] = outcome.score
        span.attributes["roadtest.attempt_class"] = outcome.finalClass.rawValue
        span.attributes["roadtest.attempts"] = outcome.attempts.count
        span.attributes["roadtest.cost_usd"] = outcome.costUSD
        if let servedBy = outcome.servedBy { span.attributes["roadtest.served_by"] = servedBy }
        if let elapsed = outcome.elapsed { span.attributes["roadtest.e2e_seconds"] = elapsed }
        if let ttft = outcome.attempts.last(where: { $0.role == .task })?.timeToFirstToken {
            span.attributes["roadtest.ttft_seconds"] = ttft
        }
        if outcome.finalClass != .ok {
            span.attributes["error.type"] = outcome.finalClass.rawValue
            span.setStatus(SpanStatus(code: .error))
        }
        let content = TelemetryContent.isEnabled
        if content {
            if let system = outcome.system {
                span.attributes["gen_ai.system_instructions"] = GenAIContent.system(system)
            }
            if let input = outcome.input {
                span.attributes["gen_ai.input.messages"] = GenAIContent.input([Message(role: "user", content: input)])
            }
            span.attributes["gen_ai.output.messages"] = GenAIContent.output(outcome.output)
        }
        for check in outcome.checks {
            var attributes: SpanAttributes = [:]
            attributes["gen_ai.evaluation.name"] = check.check
            attributes["gen_ai.evaluation.score.value"] = check.score
            attributes["gen_ai.evaluation.score.label"] = check.passed ? "pass" : "fail"
            if content || !quotesTheModel(check.check) {
                attributes["gen_ai.evaluation.explanation"] = check.reason
            }
            if check.isConstraint { attributes["roadtest.check.constraint"] = true }
            span.addEvent(SpanEvent(name: "gen_ai.evaluation.result", attributes: attributes))
        }
    }

    /// Judge and command checks explain themselves in the model's words (a judge's reasoning, a program's output);
    /// deterministic checks name only what the suite expected.
    static func quotesTheModel(_ check: String) -> Bool {
        let name = check.hasPrefix("not-") ? String(check.dropFirst(4)) : check
        return name.hasPrefix("judge") || name.hasPrefix("command") || name == "response"
    }
}
