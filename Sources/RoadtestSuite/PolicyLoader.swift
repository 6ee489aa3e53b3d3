import Foundation
import RoadtestCore

/// Loads a gateway policy: `candidates:` (a suite's candidate keys), `routes:`, `defaults:`, `auth:`, `limits:`.
/// Every mistake is reported with file:line, like a suite's.
public struct PolicyLoader: Sendable {
    public init() {}

    public func load(path: String) throws -> GatewayPolicy {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw RoadtestError.invalidSuite([
                SuiteDiagnostic(
                    nil,
                    "cannot read policy file \(path)",
                    hint: "write one with `roadtest pick RUN --policy FILE`"
                )
            ])
        }
        var context = Context(file: path, directory: URL(fileURLWithPath: path).deletingLastPathComponent())
        let root = try SuiteLoader.compose(
            text,
            path: path,
            empty: "the policy file is empty",
            hint: "write one with `roadtest pick RUN --policy FILE`"
        )
        let policy = context.policy(from: root)
        if !context.diagnostics.isEmpty {
            var error = RoadtestError.invalidSuite(context.diagnostics)
            error.message = error.message.replacingOccurrences(of: "the suite", with: "the policy")
            throw error
        }
        return policy!
    }
}

extension Context {
    /// `20%` or `0.2` as 0.2 (between 0 and 1).
    static func share(_ node: Node) -> Double? {
        guard let text = node.string?.trimmingCharacters(in: .whitespaces) else { return nil }
        let value = text.hasSuffix("%") ? Double(text.dropLast()).map { $0 / 100 } : Double(text)
        guard let value, (0...1).contains(value) else { return nil }
        return value
    }

    /// `rollback: {to: ID, slo: {error_rate: 5%, e2e_p95: 3s}, window: 60s, min_requests: 10}`; `to` defaults to the
    /// route's first fallback.
    mutating func rollback(from node: Node, route: GatewayPolicy.Route, known: Set<String>) -> GatewayPolicy.Rollback? {
        guard case .mapping(let pairs, _) = node else {
            error(node, "'rollback' must be a mapping like {slo: {error_rate: 5%, e2e_p95: 3s}, window: 60s}")
            return nil
        }
        checkKeys(pairs, valid: ["to", "slo", "window", "min_requests"], in: "a route's rollback")
        let map = Dictionary(pairs.map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a })
        guard let to = map["to"].flatMap({ string($0, "to") }) ?? route.fallback.first else {
            error(node, "route '\(route.name)': 'rollback' needs 'to' (the candidate to switch to) or a fallback")
            return nil
        }
        if !known.contains(to) {
            error(node, "route '\(route.name)' rolls back to '\(to)', which the policy does not define")
        }
        var rollback = GatewayPolicy.Rollback(to: to)
        if case .mapping(let sloPairs, _)? = map["slo"] {
            checkKeys(sloPairs, valid: ["error_rate", "e2e_p95"], in: "an SLO")
            for (key, value, _) in sloPairs {
                if key == "error_rate" {
                    if let share = Self.share(value) {
                        rollback.errorRate = share
                    } else {
                        error(value, "'error_rate' is a share like 5%")
                    }
                }
                if key == "e2e_p95" { rollback.e2eP95 = duration(value, key) }
            }
        } else {
            error(node, "'rollback' needs 'slo' with error_rate and/or e2e_p95")
        }
        if let window = map["window"] { rollback.window = duration(window, "window") ?? rollback.window }
        if let minimum = map["min_requests"] { rollback.minimumRequests = positiveInt(minimum, "min_requests") ?? 10 }
        return rollback
    }

    /// A connection timeout: a duration above 0.
    mutating func timeout(_ node: Node, _ key: String) -> Double? {
        guard let seconds = duration(node, key) else { return nil }
        guard seconds > 0 else {
            error(node, "'\(key)' must be a duration above 0", hint: "write it like 10s or 2m")
            return nil
        }
        return seconds
    }

    mutating func policy(from root: Node) -> GatewayPolicy? {
        guard case .mapping(let pairs, _) = root else {
            error(root, "a policy must be a mapping with 'candidates' and 'routes'")
            return nil
        }
        checkKeys(
            pairs,
            valid: ["candidates", "routes", "defaults", "auth", "limits", "name", "bodies", "otel"],
            in: "the policy"
        )
        let fields = Dictionary(pairs.map { ($0.key, $0.value) }, uniquingKeysWith: { first, _ in first })
        var candidates: [Candidate] = []
        if case .sequence(let items, _)? = fields["candidates"] {
            for item in items { if let candidate = candidate(from: item) { candidates.append(candidate) } }
        } else {
            error(
                fields["candidates"] ?? root,
                "the policy needs a 'candidates' list",
                hint: "the same keys as a suite's candidates"
            )
        }
        let defaults =
            fields["defaults"].map { settings(from: $0, in: "defaults", valid: Keys.settings + Keys.passThrough) }
            ?? Settings()
        let known = Set(candidates.map(\.id))
        var routes: [GatewayPolicy.Route] = []
        if case .sequence(let items, _)? = fields["routes"] {
            for item in items {
                guard case .mapping(let routePairs, _) = item else {
                    error(item, "a route must be a mapping with 'name' and 'candidate'")
                    continue
                }
                checkKeys(
                    routePairs,
                    valid: ["name", "candidate", "fallback", "match", "budget", "shadow", "rollback", "weights"],
                    in: "a route"
                )
                let map = Dictionary(routePairs.map { ($0.key, $0.value) }, uniquingKeysWith: { first, _ in first })
                guard let name = map["name"].flatMap({ string($0, "name") }),
                    let candidate = map["candidate"].flatMap({ string($0, "candidate") })
                else {
                    error(item, "a route needs 'name' (what clients send as model) and 'candidate'")
                    continue
                }
                var route = GatewayPolicy.Route(name: name, candidate: candidate, location: location(item))
                if let node = map["fallback"] { route.fallback = stringList(node, "fallback") ?? [] }
                for id in [candidate] + route.fallback where !known.contains(id) {
                    error(
                        item,
                        "route '\(name)' names candidate '\(id)', which the policy does not define",
                        hint: Suggest.hint(for: id, in: known.sorted())
                    )
                }
                if case .mapping(let matchPairs, _)? = map["match"] {
                    checkKeys(matchPairs, valid: ["tag"], in: "a route's match")
                    route.matchTag = matchPairs.first { $0.key == "tag" }.flatMap { string($0.value, "tag") }
                } else if let node = map["match"] {
                    error(node, "'match' must be a mapping like {tag: billing}")
                }
                if case .mapping(let budgetPairs, _)? = map["budget"] {
                    checkKeys(budgetPairs, valid: ["usd_per_day"], in: "a route's budget")
                    route.budgetPerDay = budgetPairs.first { $0.key == "usd_per_day" }.flatMap {
                        number($0.value, "usd_per_day")
                    }
                } else if let node = map["budget"] {
                    error(node, "'budget' must be a mapping like {usd_per_day: 20}")
                }
                if case .mapping(let shadowPairs, _)? = map["shadow"] {
                    checkKeys(shadowPairs, valid: ["candidates", "sample"], in: "a route's shadow")
                    let shadowMap = Dictionary(shadowPairs.map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a })
                    route.shadow = shadowMap["candidates"].flatMap { stringList($0, "candidates") } ?? []
                    for id in route.shadow where !known.contains(id) {
                        error(item, "route '\(name)' shadows candidate '\(id)', which the policy does not define")
                    }
                    route.shadowSample = 1
                    if let sample = shadowMap["sample"] {
                        if let share = Self.share(sample) {
                            route.shadowSample = share
                        } else {
                            error(sample, "'sample' is a share like 20% or 0.2")
                        }
                    }
                } else if let node = map["shadow"] {
                    error(node, "'shadow' must be a mapping like {candidates: [candidate-b], sample: 20%}")
                }
                if let node = map["rollback"] { route.rollback = rollback(from: node, route: route, known: known) }
                if case .mapping(let weightPairs, _)? = map["weights"] {
                    for (id, value, _) in weightPairs {
                        guard known.contains(id) else {
                            error(value, "route '\(name)' weighs candidate '\(id)', which the policy does not define")
                            continue
                        }
                        if let weight = number(value, "weight"), weight >= 0 {
                            route.weights[id] = weight
                        } else {
                            error(value, "a weight is a number of 0 or more (a share of the traffic)")
                        }
                    }
                } else if let node = map["weights"] {
                    error(node, "'weights' must be a mapping like {main: 90, canary: 10}")
                }
                if routes.contains(where: { $0.name == name }) { error(item, "route name '\(name)' is used twice") }
                routes.append(route)
            }
        } else if let node = fields["routes"], case .null = node {
            error(
                node,
                "the policy has no routes",
                hint:
                    "`roadtest pick --policy` writes none when no candidate clears every bar; add - {name: default, candidate: ID}"
            )
        } else {
            error(
                fields["routes"] ?? root,
                "the policy needs a 'routes' list",
                hint: "- {name: default, candidate: ID}"
            )
        }
        var policy = GatewayPolicy(path: file, candidates: candidates, defaults: defaults, routes: routes)
        if let node = fields["auth"] {
            if case .mapping(let authPairs, _) = node {
                checkKeys(authPairs, valid: ["tokens_env"], in: "auth")
                policy.tokensEnvironmentVariable = authPairs.first { $0.key == "tokens_env" }.flatMap {
                    string($0.value, "tokens_env")
                }
            } else {
                error(node, "'auth' must be a mapping like {tokens_env: ROADTEST_GATEWAY_TOKENS}")
            }
        }
        if let node = fields["bodies"] {
            if case .mapping(let bodyPairs, _) = node {
                checkKeys(bodyPairs, valid: ["sample", "redact"], in: "bodies")
                for (key, value, _) in bodyPairs {
                    if key == "sample" {
                        if let share = Self.share(value) {
                            policy.bodySample = share
                        } else {
                            error(value, "'sample' is a share like 10%")
                        }
                    }
                    if key == "redact" {
                        policy.redactions = stringList(value, key) ?? []
                        for pattern in policy.redactions where (try? NSRegularExpression(pattern: pattern)) == nil {
                            error(value, "invalid regular expression '\(pattern)' in 'redact'")
                        }
                    }
                }
            } else {
                error(node, "'bodies' must be a mapping like {sample: 10%, redact: ['\\b\\d{16}\\b']}")
            }
        }
        if let node = fields["otel"] {
            if case .mapping(let otelPairs, _) = node {
                checkKeys(otelPairs, valid: ["content"], in: "otel")
                for (key, value, _) in otelPairs where key == "content" {
                    policy.otelContent = bool(value, key) ?? false
                }
            } else {
                error(node, "'otel' must be a mapping like {content: true}")
            }
        }
        if let node = fields["limits"] {
            if case .mapping(let limitPairs, _) = node {
                checkKeys(
                    limitPairs,
                    valid: [
                        "max_body_bytes", "requests_per_minute", "shadow_queue", "reserve_output_tokens",
                        "header_timeout", "body_timeout", "idle_timeout", "max_connections_per_client",
                    ],
                    in: "limits"
                )
                for (key, value, _) in limitPairs {
                    if key == "max_body_bytes" { policy.maxBodyBytes = positiveInt(value, key) ?? policy.maxBodyBytes }
                    if key == "requests_per_minute" { policy.requestsPerMinute = positiveInt(value, key) }
                    if key == "shadow_queue" { policy.shadowQueue = positiveInt(value, key) ?? policy.shadowQueue }
                    if key == "reserve_output_tokens" {
                        policy.reserveOutputTokens = positiveInt(value, key) ?? policy.reserveOutputTokens
                    }
                    if key == "header_timeout" { policy.headerTimeout = timeout(value, key) ?? policy.headerTimeout }
                    if key == "body_timeout" { policy.bodyTimeout = timeout(value, key) ?? policy.bodyTimeout }
                    if key == "idle_timeout" { policy.idleTimeout = timeout(value, key) ?? policy.idleTimeout }
                    if key == "max_connections_per_client", let limit = positiveInt(value, key, allowZero: true) {
                        policy.maxConnectionsPerClient = limit == 0 ? nil : limit
                    }
                }
            } else {
                error(node, "'limits' must be a mapping like {max_body_bytes: 1048576, requests_per_minute: 600}")
            }
        }
        return policy
    }
}
