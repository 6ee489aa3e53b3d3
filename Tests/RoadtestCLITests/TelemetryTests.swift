import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import RoadtestCore
import RoadtestProviders
import RoadtestTestSupport
import Testing

/// OpenTelemetry out: the built CLI exports traces over OTLP/HTTP to a receiver that decodes them with the official
/// `opentelemetry-proto` package (Tests/scripts/otlp_receiver.py), configured only by the standard `OTEL_*`
/// variables. Checked: the span tree (run → trial → attempt; gateway request → upstream attempts as siblings), the
/// GenAI attribute names and values, evaluation events, the scorecard's interval, resource and headers, and that no
/// prompt or output leaves without `--otel-content`.
@Suite(.serialized, .enabled(if: TestEnvironment.binary != nil, "build the roadtest executable first (swift build)"))
struct TelemetryTests {
    static let receiverScript = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../scripts/otlp_receiver.py").standardizedFileURL.path

    /// A decoded span: its ids, name, kind, attributes (as plain values) and events.
    struct Span {
        let traceID: String
        let spanID: String
        let parentID: String?
        let name: String
        let kind: String
        let attributes: [String: JSONValue]
        let events: [(name: String, attributes: [String: JSONValue])]
        let status: String?
        let start: UInt64
    }

    /// What the receiver got: the spans, each request's resource attributes and headers, and any decoding error.
    struct Received {
        var spans: [Span] = []
        var resources: [[String: JSONValue]] = []
        var headers: [[String: String]] = []
        var errors: [String] = []
        /// Each exported metric data point: metric name, attributes, and its value (a sum's, or a histogram's count).
        var points: [(metric: String, attributes: [String: JSONValue], value: Double)] = []

        /// The latest exported value of `metric` at the point whose attributes include `attributes`.
        func latest(_ metric: String, _ attributes: [String: String]) -> Double? {
            points.last {
                point in
                point.metric == metric
                    && attributes.allSatisfy { name, value in point.attributes[name] == .string(value) }
            }?.value
        }

        /// A span's children, in the order they started.
        func children(of span: Span) -> [Span] {
            spans.filter { $0.parentID == span.spanID }.sorted { $0.start < $1.start }
        }
        func named(_ prefix: String) -> [Span] { spans.filter { $0.name.hasPrefix(prefix) } }
    }

    /// OTLP JSON's `AnyValue` as a plain JSON value (`intValue` is a string in the JSON mapping).
    static func plain(_ value: JSONValue?) -> JSONValue {
        guard let value else { return .null }
        if let text = value["stringValue"] { return text }
        if let number = value["intValue"]?.stringValue, let int = Int(number) { return .number(Double(int)) }
        if let number = value["doubleValue"] { return number }
        if let flag = value["boolValue"] { return flag }
        if let array = value["arrayValue"]?["values"]?.arrayValue { return .array(array.map { plain($0) }) }
        return .null
    }

    static func attributes(_ list: JSONValue?) -> [String: JSONValue] {
        var out: [String: JSONValue] = [:]
        for attribute in list?.arrayValue ?? [] {
            if let key = attribute["key"]?.stringValue { out[key] = plain(attribute["value"]) }
        }
        return out
    }

    static func read(_ file: URL) throws -> Received {
        var received = Received()
        guard let text = try? String(contentsOf: file, encoding: .utf8) else { return received }
        for line in text.split(separator: "\n") {
            let entry = try #require(JSONValue.parse(Data(line.utf8)))
            if let error = entry["error"]?.stringValue {
                received.errors.append(error)
                continue
            }
            var headers: [String: String] = [:]
            for (name, value) in entry["headers"]?.objectValue ?? [:] { headers[name] = value.stringValue }
            received.headers.append(headers)
            for resourceMetrics in entry["metrics"]?["resourceMetrics"]?.arrayValue ?? [] {
                for scope in resourceMetrics["scopeMetrics"]?.arrayValue ?? [] {
                    for metric in scope["metrics"]?.arrayValue ?? [] {
                        let name = metric["name"]?.stringValue ?? ""
                        for point in metric["sum"]?["dataPoints"]?.arrayValue ?? [] {
                            let value =
                                point["asDouble"]?.doubleValue ?? point["asInt"]?.stringValue.flatMap(Double.init)
                            received.points.append((name, attributes(point["attributes"]), value ?? .nan))
                        }
                        for point in metric["histogram"]?["dataPoints"]?.arrayValue ?? [] {
                            let count = point["count"]?.stringValue.flatMap(Double.init) ?? .nan
                            received.points.append((name, attributes(point["attributes"]), count))
                        }
                    }
                }
            }
            for resourceSpans in entry["traces"]?["resourceSpans"]?.arrayValue ?? [] {
                received.resources.append(attributes(resourceSpans["resource"]?["attributes"]))
                for scope in resourceSpans["scopeSpans"]?.arrayValue ?? [] {
                    for span in scope["spans"]?.arrayValue ?? [] {
                        received.spans.append(
                            Span(
                                traceID: span["traceId"]?.stringValue ?? "",
                                spanID: span["spanId"]?.stringValue ?? "",
                                parentID: span["parentSpanId"]?.stringValue,
                                name: span["name"]?.stringValue ?? "",
                                kind: span["kind"]?.stringValue ?? "",
                                attributes: attributes(span["attributes"]),
                                events: (span["events"]?.arrayValue ?? []).map {
                                    ($0["name"]?.stringValue ?? "", attributes($0["attributes"]))
                                },
                                status: span["status"]?["code"]?.stringValue,
                                start: UInt64(span["startTimeUnixNano"]?.stringValue ?? "") ?? 0
                            )
                        )
                    }
                }
            }
        }
        return received
    }

    /// Runs the OTLP receiver for `body`, which gets its endpoint (`http://127.0.0.1:PORT`) and the file it writes.
    static func withReceiver(in directory: URL, _ body: (String, URL) async throws -> Void) async throws {
        let python = try #require(OfficialSDK.python, "make pyclients installs opentelemetry-proto")
        let port = await TestEnvironment.unusedPort()
        let out = directory.appendingPathComponent("spans.jsonl")
        try await TestProcess.run(
            [python, receiverScript, "--port", "\(port)", "--out", out.path],
            in: directory,
            errorLog: directory.appendingPathComponent("receiver.log")
        ) { receiver in
            defer { try? receiver.send(SIGTERM) }
            let up = try await eventually(timeout: .seconds(30)) {
                var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/up")
                request.method = .POST
                return (try? await HTTPClient.shared.execute(request, timeout: .seconds(1))) != nil
            }
            try #require(up, "the OTLP receiver did not start")
            try? FileManager.default.removeItem(at: out)  // the readiness probe's own 400
            try await body("http://127.0.0.1:\(port)", out)
        }
    }

    /// Runs the built CLI in `directory` with `environment` added.
    static func roadtest(
        _ arguments: [String],
        in directory: URL,
        environment: [String: String]
    ) async throws
        -> CommandOutcome
    {
        let binary = try #require(TestEnvironment.binary)
        var variables = ProcessInfo.processInfo.environment
        variables["NO_COLOR"] = "1"
        for name in variables.keys where name.hasPrefix("OTEL_") { variables[name] = nil }
        for (name, value) in environment { variables[name] = value }
        let result = try await ProcessRunner.run(
            ["/bin/sh", "-c", "cd \"$0\" && exec \"$@\"", directory.path, binary.path] + arguments,
            timeout: 120,
            environment: variables
        )
        return CommandOutcome(
            status: result.status,
            output: String(decoding: result.standardOutput, as: UTF8.self),
            errors: String(decoding: result.standardError, as: UTF8.self)
        )
    }

    static func suite(_ baseURL: String) -> String {
        """
        name: otel-demo
        candidates:
          - {id: sim, base_url: "\(baseURL)", model: echo, price: {input: 1.0, output: 2.0}}
        defaults:
          temperature: 0.25
          max_tokens: 32
        cases:
          - id: paris
            prompt: "Say Paris"
            checks: [{contains: Paris}, {max-length: 200}]
          - id: berlin
            prompt: "Say Berlin"
            checks: [{contains: Madrid}]
        """
    }

    @Test func aRunArrivesAsRunTrialAndAttemptSpansWithTheGenAIAttributes() async throws {
        try await withSimulator { baseURL, _ in
            try await withTemporaryDirectory { directory in
                try writeFiles(["suite.yaml": Self.suite(baseURL)], in: directory)
                try await Self.withReceiver(in: directory) { endpoint, file in
                    let run = try await Self.roadtest(
                        ["run", "suite.yaml", "--store", "runs.db"],
                        in: directory,
                        environment: [
                            "OTEL_EXPORTER_OTLP_ENDPOINT": endpoint,
                            "OTEL_EXPORTER_OTLP_HEADERS": "x-team=evals",
                            "OTEL_SERVICE_NAME": "roadtest-ci",
                            "OTEL_RESOURCE_ATTRIBUTES": "deployment.environment.name=staging",
                        ]
                    )
                    #expect(run.status == 0, "\(run.errors)")
                    // Every span ended before the command returned was exported before it exited.
                    let received = try Self.read(file)
                    #expect(received.errors.isEmpty, "\(received.errors)")
                    #expect(received.headers.allSatisfy { $0["x-team"] == "evals" })
                    #expect(received.resources.allSatisfy { $0["service.name"] == .string("roadtest-ci") })
                    #expect(
                        received.resources.allSatisfy {
                            $0["deployment.environment.name"] == .string("staging")
                        }
                    )

                    let runs = received.named("run ")
                    try #require(runs.count == 1, "\(received.spans.map(\.name))")
                    let runSpan = runs[0]
                    #expect(runSpan.name == "run otel-demo")
                    #expect(runSpan.parentID == nil)
                    #expect(runSpan.attributes["roadtest.suite"] == .string("otel-demo"))
                    let runID = try #require(runSpan.attributes["roadtest.run_id"]?.stringValue)
                    #expect(run.output.contains(runID))
                    let trials = received.children(of: runSpan)
                    #expect(Set(trials.map(\.name)) == ["trial paris", "trial berlin"])
                    #expect(received.spans.allSatisfy { $0.traceID == runSpan.traceID })

                    for trial in trials {
                        #expect(trial.kind == "SPAN_KIND_INTERNAL")
                        #expect(trial.attributes["roadtest.run_id"] == .string(runID))
                        #expect(trial.attributes["roadtest.candidate"] == .string("sim"))
                        #expect(trial.attributes["roadtest.attempt_class"] == .string("ok"))
                        #expect(trial.attributes["roadtest.cost_usd"]?.doubleValue ?? 0 > 0)
                        let attempts = received.children(of: trial)
                        try #require(attempts.count == 1)
                        let attempt = attempts[0]
                        #expect(attempt.name == "chat echo")
                        #expect(attempt.kind == "SPAN_KIND_CLIENT")
                        #expect(attempt.attributes["gen_ai.operation.name"] == .string("chat"))
                        #expect(attempt.attributes["gen_ai.provider.name"] == .string("openai"))
                        #expect(attempt.attributes["gen_ai.request.model"] == .string("echo"))
                        #expect(attempt.attributes["gen_ai.request.max_tokens"] == .number(32))
                        #expect(attempt.attributes["gen_ai.request.temperature"] == .number(0.25))
                        #expect(attempt.attributes["gen_ai.usage.input_tokens"]?.doubleValue ?? 0 > 0)
                        #expect(attempt.attributes["gen_ai.usage.output_tokens"]?.doubleValue ?? 0 > 0)
                        #expect(attempt.attributes["gen_ai.response.finish_reasons"] == .array([.string("stop")]))
                        #expect(attempt.attributes["gen_ai.response.time_to_first_chunk"]?.doubleValue != nil)
                        #expect(attempt.attributes["roadtest.attempt.class"] == .string("ok"))
                        #expect(attempt.attributes["error.type"] == nil)
                    }

                    // Checks are evaluation events on their trial.
                    let berlin = try #require(trials.first { $0.name == "trial berlin" })
                    #expect(berlin.attributes["roadtest.passed"] == .bool(false))
                    let evaluations = berlin.events.filter { $0.name == "gen_ai.evaluation.result" }
                    try #require(evaluations.count == 1)
                    #expect(evaluations[0].attributes["gen_ai.evaluation.name"] == .string("contains"))
                    #expect(evaluations[0].attributes["gen_ai.evaluation.score.label"] == .string("fail"))
                    #expect(evaluations[0].attributes["gen_ai.evaluation.score.value"] == .number(0))
                    #expect(
                        evaluations[0].attributes["gen_ai.evaluation.explanation"]
                            == .string(#"does not contain "Madrid""#)
                    )
                    let paris = try #require(trials.first { $0.name == "trial paris" })
                    #expect(paris.events.filter { $0.name == "gen_ai.evaluation.result" }.count == 2)

                    // The scorecard, with its interval, ends the run.
                    let card = try #require(runSpan.events.first { $0.name == "roadtest.scorecard" })
                    #expect(card.attributes["roadtest.candidate"] == .string("sim"))
                    #expect(card.attributes["roadtest.score.value"] == .number(0.5))
                    let lower = try #require(card.attributes["roadtest.score.ci.lower"]?.doubleValue)
                    let upper = try #require(card.attributes["roadtest.score.ci.upper"]?.doubleValue)
                    #expect(abs(lower - 0.0945) < 0.001 && abs(upper - 0.9055) < 0.001, "\(lower) \(upper)")
                    #expect(card.attributes["roadtest.score.ci.level"] == .number(0.95))

                    // No prompt or output left the process.
                    let everything = try String(contentsOf: file, encoding: .utf8)
                    #expect(!everything.contains("Say Paris") && !everything.contains("Say Berlin"))
                    #expect(!everything.contains("gen_ai.input.messages"))
                    #expect(!everything.contains("gen_ai.output.messages"))
                }
            }
        }
    }

    @Test func promptsAndOutputsOnlyWithOtelContent() async throws {
        try await withSimulator { baseURL, _ in
            try await withTemporaryDirectory { directory in
                try writeFiles(["suite.yaml": Self.suite(baseURL)], in: directory)
                try await Self.withReceiver(in: directory) { endpoint, file in
                    let run = try await Self.roadtest(
                        ["run", "suite.yaml", "--store", "runs.db", "--otel-content"],
                        in: directory,
                        environment: ["OTEL_EXPORTER_OTLP_ENDPOINT": endpoint]
                    )
                    #expect(run.status == 0, "\(run.errors)")
                    let received = try Self.read(file)
                    let paris = try #require(received.named("trial paris").first)
                    // The conventions' shapes: JSON messages of role and parts.
                    let input = try #require(
                        paris.attributes["gen_ai.input.messages"]?.stringValue.flatMap {
                            JSONValue.parse(Data($0.utf8))
                        }
                    )
                    #expect(input.arrayValue?.first?["role"] == .string("user"))
                    #expect(input.arrayValue?.first?["parts"]?.arrayValue?.first?["content"] == .string("Say Paris"))
                    let output = try #require(
                        paris.attributes["gen_ai.output.messages"]?.stringValue.flatMap {
                            JSONValue.parse(Data($0.utf8))
                        }
                    )
                    #expect(output.arrayValue?.first?["role"] == .string("assistant"))
                    #expect(output.arrayValue?.first?["parts"]?.arrayValue?.first?["content"] == .string("Say Paris"))
                    // The attempt carries what was sent and what came back.
                    let attempt = try #require(received.children(of: paris).first)
                    #expect(attempt.attributes["gen_ai.input.messages"]?.stringValue?.contains("Say Paris") == true)
                    #expect(attempt.attributes["gen_ai.output.messages"]?.stringValue?.contains("Say Paris") == true)
                }
            }
        }
    }

    @Test func nothingIsExportedWhenTheSDKIsDisabledOrNoEndpointIsSet() async throws {
        try await withSimulator { baseURL, _ in
            try await withTemporaryDirectory { directory in
                try writeFiles(["suite.yaml": Self.suite(baseURL)], in: directory)
                try await Self.withReceiver(in: directory) { endpoint, file in
                    let disabled = try await Self.roadtest(
                        ["run", "suite.yaml", "--store", "runs.db"],
                        in: directory,
                        environment: ["OTEL_EXPORTER_OTLP_ENDPOINT": endpoint, "OTEL_SDK_DISABLED": "true"]
                    )
                    #expect(disabled.status == 0, "\(disabled.errors)")
                    let unset = try await Self.roadtest(
                        ["run", "suite.yaml", "--store", "runs.db"],
                        in: directory,
                        environment: [:]
                    )
                    #expect(unset.status == 0, "\(unset.errors)")
                    #expect(try Self.read(file).spans.isEmpty)
                }
            }
        }
    }

    @Test func aGatewayRequestIsAServerSpanWithItsFallbackAttemptsAsSiblings() async throws {
        try await withSimulator { baseURL, _ in
            try await withTemporaryDirectory { directory in
                try writeFiles(
                    [
                        "policy.yaml": """
                        candidates:
                          - {id: main, base_url: \(baseURL), model: "main;faults=500;cycle=true", retries: 0}
                          - {id: spare, base_url: \(baseURL), model: spare}
                        routes:
                          - {name: default, candidate: main, fallback: [spare]}
                        """
                    ],
                    in: directory
                )
                try await Self.withReceiver(in: directory) { endpoint, file in
                    let status = try await GatewayDrainTests.withGateway(
                        ["--policy", "policy.yaml", "--store", "gw.db"],
                        in: directory,
                        environment: ["OTEL_EXPORTER_OTLP_ENDPOINT": endpoint, "OTEL_METRIC_EXPORT_INTERVAL": "500"]
                    ) { port, gateway in
                        for stream in [false, true] {
                            var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/v1/chat/completions")
                            request.method = .POST
                            request.headers.add(name: "content-type", value: "application/json")
                            request.body = .bytes(
                                ByteBuffer(
                                    string:
                                        #"{"model": "default", "stream": \#(stream), "messages": [{"role": "user", "content": "hello"}]}"#
                                )
                            )
                            let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
                            _ = try await response.body.collect(upTo: 1 << 20)
                            #expect(response.status == .ok)
                        }
                        try gateway.send(SIGTERM)
                    }
                    #expect(status == 0)
                    let received = try Self.read(file)
                    // (The harness's readiness probes of /health are server spans too.)
                    let servers = received.spans.filter {
                        $0.kind == "SPAN_KIND_SERVER" && $0.name.contains("/v1/chat/completions")
                    }
                    try #require(servers.count == 2, "\(received.spans.map { ($0.name, $0.kind) })")
                    for server in servers {
                        #expect(server.parentID == nil)
                        let attempts = received.children(of: server).filter { $0.kind == "SPAN_KIND_CLIENT" }
                        #expect(
                            attempts.map(\.name) == ["chat main;faults=500;cycle=true", "chat spare"],
                            "\(received.spans.map { ($0.name, $0.kind, $0.parentID ?? "-", $0.spanID) })"
                        )
                        guard attempts.count == 2 else { continue }
                        #expect(attempts[0].attributes["error.type"] == .string("http_5xx"))
                        #expect(attempts[0].attributes["roadtest.candidate"] == .string("main"))
                        #expect(attempts[0].status == "STATUS_CODE_ERROR")
                        #expect(attempts[1].attributes["roadtest.candidate"] == .string("spare"))
                        #expect(attempts[1].attributes["gen_ai.provider.name"] == .string("openai"))
                        #expect(attempts[1].attributes["gen_ai.usage.output_tokens"]?.doubleValue ?? 0 > 0)
                        #expect(attempts[1].attributes["error.type"] == nil)
                    }

                    // The gateway's Prometheus families arrive over OTLP under the same names (counters without the
                    // `_total` a Prometheus exporter adds back) and labels.
                    let served = ["route": "default", "candidate": "spare"]
                    #expect(received.latest("roadtest_gateway_requests", served.merging(["outcome": "ok"]) { $1 }) == 2)
                    #expect(received.latest("roadtest_gateway_fallbacks", served) == 2)
                    #expect(received.latest("roadtest_gateway_e2e_seconds", served) == 2)
                    #expect(received.latest("roadtest_gateway_output_tokens", served) ?? 0 > 0)
                }
            }
        }
    }
}
