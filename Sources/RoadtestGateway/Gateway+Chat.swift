import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import RoadtestCore
import RoadtestProviders
import RoadtestWire

extension Gateway {
    /// `POST /v1/chat/completions` and `POST /v1/messages`: decode, plan the route, answer (streaming or not).
    func chat(_ request: Request, _ context: GatewayRequestContext, format: ClientFormat) async -> Response {
        var record = GatewayRecord(
            id: context.requestID,
            receivedAt: context.receivedAt,
            status: 200,
            outcome: .answered
        )
        func refuse(_ refusal: GatewayOutcome.Refusal, _ response: Response) -> Response {
            record.status = Int(response.status.code)
            record.outcome = .refused(refusal)
            finish(record)
            return response
        }
        var request = request
        let body: ByteBuffer
        do {
            body = try await request.body.collect(upTo: policy.maxBodyBytes)
        } catch {
            return refuse(
                .tooLarge,
                Self.error(
                    format: format,
                    .contentTooLarge,
                    "request body over \(policy.maxBodyBytes) bytes",
                    type: "invalid_request_error"
                )
            )
        }
        let decoded: Result<Incoming, WireError> =
            format == .anthropic
            ? WireJSON.decode(AnthropicMessages.Request.self, from: Data(body.readableBytesView)).map(
                Incoming.init(anthropic:)
            )
            : WireJSON.decode(OpenAIChat.Request.self, from: Data(body.readableBytesView)).map(Incoming.init(openAI:))
        let wire: Incoming
        switch decoded {
        case .success(let incoming): wire = incoming
        case .failure(let error):
            return refuse(
                .badRequest,
                Self.error(
                    format: format,
                    .badRequest,
                    "not a \(format == .anthropic ? "messages" : "chat completions") request: \(error.reason)",
                    type: "invalid_request_error"
                )
            )
        }
        let plan = policy.plan(
            model: wire.model,
            tag: request.headers[HTTPField.Name("x-roadtest-tag")!],
            rolledBack: { name in
                self.rollbacks.event(name) == nil
                    ? nil : self.policy.routes.first { $0.name == name }.map(self.rollbacks.active)
            },
            draw: Double.random(in: 0..<1),
            spentToday: { self.allowances.local.spent($0) }
        )
        let route: GatewayPolicy.Route
        switch plan {
        case .unknownRoute(let requested, let known):
            return refuse(
                .unknownRoute,
                Self.error(
                    format: format,
                    .notFound,
                    "no route named '\(requested)'; routes: \(known.joined(separator: ", "))",
                    type: "invalid_request_error",
                    code: "model_not_found"
                )
            )
        case .overBudget(let name, let budget):
            record.route = name
            return refuse(
                .budget,
                Self.error(
                    format: format,
                    .tooManyRequests,
                    String(format: "route '%@' has spent its budget of $%.2f for today (UTC)", name, budget),
                    type: "budget_exceeded"
                )
            )
        case .serve(let planned):
            route = planned
        }
        record.route = route.name
        let links = self.links(for: route, wire: wire)
        guard !links.isEmpty else {
            return refuse(
                .noCandidate,
                Self.error(
                    format: format,
                    .serviceUnavailable,
                    "route '\(route.name)' has no candidate to serve it",
                    type: "api_error"
                )
            )
        }
        // A budgeted route admits a request only when its worst-case cost fits what is left of the budget, reserved
        // atomically (in this process, or in the shared ledger): requests in flight together, on every replica,
        // can never spend more than the cap.
        let worstCase = route.budgetPerDay == nil ? 0 : worstCaseCost(links)
        let reservation: Reservation
        switch await allowances.reserve(worstCase, route: route.name, cap: route.budgetPerDay) {
        case .admitted(let admitted):
            reservation = admitted
        case .refused:
            return refuse(
                .budget,
                Self.error(
                    format: format,
                    .tooManyRequests,
                    String(
                        format: "route '%@' cannot fit this request (up to $%.4f) in its budget of $%.2f for "
                            + "today (UTC)",
                        route.name,
                        worstCase,
                        route.budgetPerDay ?? 0
                    ),
                    type: "budget_exceeded"
                )
            )
        case .unavailable:
            return refuse(
                .budget,
                Self.error(
                    format: format,
                    .serviceUnavailable,
                    "route '\(route.name)' has a budget, and the shared store that keeps it cannot be reached",
                    type: "api_error"
                )
            )
        }
        record.stream = wire.stream
        let shadow = shadowLinks(for: route, wire: wire)
        if wire.stream {
            return await stream(
                links: links,
                route: route,
                includeUsage: wire.includeUsage,
                record: record,
                arrival: context.arrival,
                reservation: reservation,
                shadow: shadow,
                format: format
            )
        }
        return await whole(
            links: links,
            route: route,
            record: record,
            arrival: context.arrival,
            reservation: reservation,
            shadow: shadow,
            format: format
        )
    }

    /// The most a request can cost on any candidate of its chain: every byte of its input counted as a token (no
    /// tokenizer yields more tokens than bytes) plus framing, and its `max_tokens` (else the candidate's, else the
    /// policy's `reserve_output_tokens`) of output, at the dearest price in the chain.
    func worstCaseCost(_ links: [ChainLink]) -> Double {
        links.map { link in
            let request = link.request
            var bytes = (request.system?.utf8.count ?? 0) + 64
            for message in request.messages { bytes += message.content.utf8.count + 16 }
            for tool in request.tools { bytes += tool.jsonText.utf8.count }
            let output = request.maxTokens ?? policy.reserveOutputTokens
            // Whichever is dearer: the input at the plain price, or written to a cache.
            return max(
                link.price.cost(inputTokens: bytes, outputTokens: output),
                link.price.cost(inputTokens: bytes, outputTokens: output, cacheWriteTokens: bytes)
            )
        }.max() ?? 0
    }

    // MARK: - Requests upstream

    /// The request for each candidate of the route's chain: the client's request with the candidate's model, and
    /// the candidate's settings where the client set none.
    func links(for route: GatewayPolicy.Route, wire: Incoming) -> [ChainLink] {
        let system = wire.system
        let messages = wire.messages
        let tools = wire.tools
        return policy.chain(of: route).compactMap { candidate in
            guard let provider = providers[candidate.id] else { return nil }
            let settings = policy.defaults.overlaid(with: candidate.settings)
            var extra = settings.extra
            extra.merge(wire.extra) { _, client in client }
            let request = ChatRequest(
                model: candidate.model,
                system: system.isEmpty ? settings.system : system.joined(separator: "\n\n"),
                messages: messages,
                temperature: wire.temperature ?? settings.temperature,
                maxTokens: wire.maxTokens ?? settings.maxTokens,
                stream: wire.stream,
                extra: extra,
                timeout: settings.timeout ?? Settings.builtInTimeout,
                tools: tools,
                toolChoice: wire.toolChoice
            )
            return ChainLink(
                id: candidate.id,
                provider: provider,
                request: request,
                price: candidate.effectivePrice,
                retryPolicy: RetryPolicy(settings: settings),
                cooldown: candidate.cooldown,
                providerName: candidate.genAIProviderName
            )
        }
    }

    /// The shadow candidates' requests for this live request, when the route's sample picks it.
    func shadowLinks(for route: GatewayPolicy.Route, wire: Incoming) -> [ChainLink] {
        guard !route.shadow.isEmpty, Double.random(in: 0..<1) < route.shadowSample else { return [] }
        return route.shadow.flatMap { id -> [ChainLink] in
            links(for: GatewayPolicy.Route(name: route.name, candidate: id), wire: wire).prefix(1).map { link in
                var link = link
                link.request.stream = false
                return link
            }
        }
    }

    /// Keeps the input and output of a sampled share of answered requests (redacted), off the client's path.
    func keepBody(_ links: [ChainLink], record: GatewayRecord, output: String) {
        guard policy.bodySample > 0, record.outcome.isAnswered, let route = record.route, store != nil,
            let request = links.first?.request, Double.random(in: 0..<1) < policy.bodySample
        else { return }
        let subject = FeedbackSubject(
            subject: "request:" + record.id,
            tag: route,
            system: request.system.map(policy.redacted),
            input: policy.redacted(request.messages.last(where: { $0.role == "user" })?.content ?? ""),
            output: policy.redacted(output),
            receivedAt: record.receivedAt
        )
        recorder.keep(subject)
    }

    /// Queues the shadow copies of a finished live request (never awaited by the client).
    func shadow(_ links: [ChainLink], record: GatewayRecord, output: String) {
        guard !links.isEmpty, record.outcome.isAnswered, let route = record.route, let live = record.servedBy else {
            return
        }
        let input = links[0].request.messages.last(where: { $0.role == "user" })?.content ?? ""
        for link in links {
            let pair = ShadowPair(
                requestID: record.id,
                route: route,
                receivedAt: record.receivedAt,
                input: input,
                liveCandidate: live,
                liveOutput: output,
                liveOutcome: record.outcome.rawValue,
                liveEndToEnd: record.endToEnd,
                liveCostUSD: record.costUSD,
                shadowCandidate: link.id,
                shadowOutput: "",
                shadowOutcome: "pending",
                shadowEndToEnd: nil,
                shadowCostUSD: 0
            )
            if !shadower.submit(.init(pair: pair, link: link)) { metrics.recordShadowDropped(route: route) }
        }
    }

    /// A non-streaming request: the chain's answer as an OpenAI chat completion.
    func whole(
        links: [ChainLink],
        route: GatewayPolicy.Route,
        record: GatewayRecord,
        arrival: UInt64,
        reservation: Reservation,
        shadow shadowLinks: [ChainLink] = [],
        format: ClientFormat = .openAI
    ) async -> Response {
        var record = record
        let result: FallbackChain.Result
        do {
            result = try await FallbackChain(links: links, breakers: breakers).send(role: .task)
        } catch {
            reservation.settle(cost: 0)
            record.status = 499
            record.outcome = .cancelled
            finish(record)
            return Self.error(format: format, .init(code: 499), "cancelled", type: "api_error")
        }
        let response = result.response
        record.attempts = result.attempts.count
        record.costUSD = result.attempts.reduce(0) { $0 + $1.costUSD }
        record.inputTokens = result.attempts.reduce(0) { $0 + $1.inputTokens }
        record.outputTokens = result.attempts.reduce(0) { $0 + $1.outputTokens }
        record.endToEnd = Monotonic.seconds(from: arrival, to: Monotonic.now())
        reservation.settle(cost: record.costUSD)
        // A filtered answer goes to the client as the provider gave it (its finish reason says so).
        let filteredAnswer = response.attemptClass == .contentFilter && response.finishReason == .contentFilter
        guard response.attemptClass == .ok || filteredAnswer else {
            return chainFailed(
                record,
                route: route,
                attemptClass: response.attemptClass,
                message: response.message ?? "",
                retryAfter: response.retryAfter,
                format: format
            )
        }
        record.servedBy = result.servedBy
        record.fellBack = result.servedBy != route.candidate
        record.timeToFirstToken = record.endToEnd
        finish(record)
        shadow(shadowLinks, record: record, output: response.output)
        keepBody(links, record: record, output: response.output)
        if format == .anthropic {
            let headers = Self.headers(servedBy: result.servedBy)
            let body = WireJSON.data(Self.anthropicResponse(id: record.id, model: route.name, response: response))
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: body)))
        }
        var message = OpenAIChat.Message(
            role: "assistant",
            content: response.toolCalls.isEmpty || !response.output.isEmpty ? .text(response.output) : nil
        )
        if !response.toolCalls.isEmpty {
            message.tool_calls = response.toolCalls.map {
                OpenAIChat.ToolCall(id: $0.id, function: .init(name: $0.name, arguments: $0.arguments))
            }
        }
        var completion = OpenAIChat.Completion(
            id: record.id,
            model: route.name,
            choices: [
                .init(
                    index: 0,
                    message: message,
                    finish_reason: (response.finishReason ?? (response.toolCalls.isEmpty ? .stop : .toolCalls)).rawValue
                )
            ],
            usage: .init(
                prompt_tokens: TokenCount(response.inputTokens),
                completion_tokens: TokenCount(response.outputTokens)
            )
        )
        completion.created = Int(record.receivedAt)
        let headers = Self.headers(servedBy: result.servedBy)
        return Response(
            status: .ok,
            headers: headers,
            body: .init(byteBuffer: ByteBuffer(bytes: WireJSON.data(completion, sortedKeys: false)))
        )
    }

    /// Records and answers a request every candidate of its route failed (before any content, when streaming):
    /// the status of the last failure, its message, and `Retry-After` on a 429.
    func chainFailed(
        _ record: GatewayRecord,
        route: GatewayPolicy.Route,
        attemptClass: AttemptClass,
        message: String,
        retryAfter: Double?,
        format: ClientFormat
    ) -> Response {
        var record = record
        let (status, type) = Self.status(for: attemptClass)
        record.status = Int(status.code)
        record.outcome = .failed(attemptClass)
        finish(record)
        var response = Self.error(
            format: format,
            status,
            "every candidate of route '\(route.name)' failed before answering; last: \(attemptClass.rawValue)"
                + (message.isEmpty ? "" : " (\(message.prefix(200)))"),
            type: type
        )
        if let retryAfter, status == .tooManyRequests {
            response.headers[.retryAfter] = String(Int(retryAfter.rounded(.up)))
        }
        return response
    }
}
