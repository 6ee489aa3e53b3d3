import RoadtestCore
import Testing

/// The gateway's route planner and outcomes, without a server.
@Suite struct RoutePlanTests {
    static let policy: GatewayPolicy = {
        var canary = GatewayPolicy.Route(name: "canary", candidate: "a", fallback: ["b"])
        canary.weights = ["a": 1, "c": 3]
        return GatewayPolicy(
            path: "policy.yaml",
            candidates: [],
            routes: [
                GatewayPolicy.Route(name: "default", candidate: "a", fallback: ["b"], budgetPerDay: 1.0),
                GatewayPolicy.Route(name: "tagged", candidate: "b", matchTag: "support"),
                canary,
            ]
        )
    }()

    static func plan(
        _ model: String?,
        tag: String? = nil,
        draw: Double = 0,
        spent: Double = 0,
        rolledBack: GatewayPolicy.Route? = nil
    ) -> RoutePlan {
        policy.plan(model: model, tag: tag, rolledBack: { _ in rolledBack }, draw: draw, spentToday: { _ in spent })
    }

    @Test(
        arguments: [
            // (model, tag, draw, spent) -> serving candidate, or nil when refused
            ("default", nil, 0.0, 0.0, "a"),
            ("default", nil, 0.0, 0.99, "a"),
            ("anything", "support", 0.0, 0.0, "b"),  // a tag wins over the model name
            ("canary", nil, 0.1, 0.0, "a"),  // weights a:1, c:3 -> draws below 1/4 go to a
            ("canary", nil, 0.5, 0.0, "c"),
        ] as [(String, String?, Double, Double, String)]
    )
    func servesTheRouteItShould(model: String, tag: String?, draw: Double, spent: Double, candidate: String) {
        guard case .serve(let route) = Self.plan(model, tag: tag, draw: draw, spent: spent) else {
            Issue.record("not served")
            return
        }
        #expect(route.candidate == candidate)
    }

    @Test func refusesUnknownRoutesAndSpentBudgets() {
        #expect(Self.plan("nope") == .unknownRoute(requested: "nope", known: ["default", "tagged", "canary"]))
        #expect(Self.plan(nil) == .unknownRoute(requested: "", known: ["default", "tagged", "canary"]))
        #expect(Self.plan("default", spent: 1.0) == .overBudget(route: "default", budget: 1.0))
    }

    @Test func aRolledBackRouteServesItsTargetAndSkipsTheCanaryDraw() {
        let rolled = GatewayPolicy.Route(name: "canary", candidate: "b")
        #expect(Self.plan("canary", draw: 0.9, rolledBack: rolled) == .serve(rolled))
    }

    @Test(arguments: [
        ("ok", GatewayOutcome.answered, true),
        ("budget", .refused(.budget), false),
        ("rate_limited", .refused(.rateLimited), false),
        ("stream_cut", .failed(.streamCut), true),
        ("http_429", .failed(.http429), true),
        ("client_gone", .clientGone, false),
        ("cancelled", .cancelled, false),
    ])
    func outcomesRoundTripTheirStoredNames(name: String, outcome: GatewayOutcome, counts: Bool) {
        #expect(outcome.rawValue == name)
        #expect(GatewayOutcome(rawValue: name) == outcome)
        #expect(outcome.countsTowardSLO == counts)
    }

    @Test func unknownOutcomeNamesAreRejected() {
        #expect(GatewayOutcome(rawValue: "fine") == nil)
        #expect(GatewayOutcome(rawValue: "") == nil)
    }
}
