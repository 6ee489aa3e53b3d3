import RoadtestCore
import Tracing

/// What a run's span says when the run ends: per candidate a `roadtest.scorecard` event with the pass rate and its
/// 95% Wilson interval (`roadtest.score.value`, `roadtest.score.ci.lower`, `.upper`, `.level`), the cost and whether
/// the bars were met; an interrupted run says how far it got.
enum RunSpan {
    static func finish(_ ending: RunSession.Ending, span: any Span) {
        switch ending {
        case .interrupted(let runID, let stored, let total):
            span.attributes["roadtest.run_id"] = runID
            span.attributes["roadtest.status"] = "interrupted"
            span.attributes["roadtest.trials.stored"] = stored
            span.attributes["roadtest.trials.total"] = total
        case .finished(let report):
            span.attributes["roadtest.status"] = "finished"
            for card in report.candidates {
                var attributes: SpanAttributes = [:]
                attributes["roadtest.candidate"] = card.id
                attributes["gen_ai.provider.name"] = card.provider
                if let model = card.model { attributes["gen_ai.request.model"] = model }
                attributes["roadtest.trials"] = card.trials
                attributes["roadtest.score.value"] = card.passRate
                if card.passRateCI95.count == 2 {
                    attributes["roadtest.score.ci.lower"] = card.passRateCI95[0]
                    attributes["roadtest.score.ci.upper"] = card.passRateCI95[1]
                    attributes["roadtest.score.ci.level"] = 0.95
                }
                attributes["roadtest.cost_usd"] = card.costUSD.total
                attributes["roadtest.bars.met"] = card.bars.met
                span.addEvent(SpanEvent(name: "roadtest.scorecard", attributes: attributes))
            }
        }
    }
}
