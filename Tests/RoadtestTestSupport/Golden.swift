import Foundation
import RoadtestCore
import RoadtestProviders

/// Golden reference files for Roadtest's output contracts (the `schema_version` JSON documents, JUnit, Markdown).
///
/// A document is normalised (what varies from run to run becomes a placeholder, every key and every array
/// element stays), then compared with its fixture key by key; the first difference is named by its path:
///
/// ```swift
/// let golden = Golden(directory: fixtures, literals: [(directory.path, "<dir>"), (baseURL, "<simulator>")])
/// if let difference = try golden.check(json, named: "run.json") { Issue.record("\(difference)") }
/// ```
///
/// With `ROADTEST_UPDATE_GOLDEN=1` in the environment, `check` writes the fixture instead of comparing: a
/// contract change updates its fixture in the same commit.
public struct Golden: Sendable {
    /// Where the fixtures live.
    public var directory: URL
    /// Literal text replaced in every string before the patterns (a temporary directory, a loopback URL).
    public var literals: [(text: String, placeholder: String)]

    /// Keys whose values vary from run to run: wall-clock times, latencies, throughput and figures derived from
    /// them. Every scalar beneath such a key becomes `"<volatile>"`, and so does a list of scalars (a series as long
    /// as the time it covers); nested keys and the lengths of lists of objects are kept.
    public static let volatileKeys: Set<String> = [
        // wall-clock times, and seconds since a drill began
        "started_at", "finished_at", "created_at", "time", "date", "t",
        // latencies and throughput (run, compare, history, pick, shadow, drill)
        "latency_ms", "clean_latency_ms", "added_latency_ms", "output_tokens_per_s", "e2e_p95_ms", "e2e_p50_ms",
        "ttft_p50_ms", "ttft_p95_ms", "e2e_ms", "ttft_ms", "tpot_ms", "itl_ms", "corrected_ttft_ms",
        "corrected_e2e_ms", "schedule_lag_ms", "e2e_delta_p50_ms", "shadow_e2e_p95_ms", "live_e2e_p95_ms",
        // load levels: rates measured over a window of wall time, and the unmeasured requests around it (with
        // --requests, closed-loop streams keep sending until the last measured request is done)
        "duration_s", "achieved_rps", "goodput_rps", "throttled_per_s", "warmup_excluded",
        // the load generator's own ceiling, measured before the levels, and which rates held a latency bound
        "ceiling_rps", "rate_rps", "confident_rate_rps", "first_over_rps",
    ]

    /// Keys whose lists are in an order set by timing (a drill's timeline: faults and outcomes by the time they
    /// happened). Their elements, once normalised, are sorted; every element is kept.
    public static let unorderedKeys: Set<String> = ["timeline"]

    /// Whether `ROADTEST_UPDATE_GOLDEN=1` asks for the fixtures to be written instead of compared.
    public static var isUpdating: Bool { ProcessInfo.processInfo.environment["ROADTEST_UPDATE_GOLDEN"] == "1" }

    public init(directory: URL, literals: [(text: String, placeholder: String)] = []) {
        self.directory = directory
        self.literals = literals
    }

    // MARK: - Normalising

    /// The document with run-to-run variation replaced by placeholders: values under `volatileKeys`, and in every
    /// string the literals, run ids, load ids and ISO-8601 times; lists under `unorderedKeys` sorted. Keys,
    /// structure and the lengths of lists of objects are kept.
    public func normalised(_ value: JSONValue, isVolatile: Bool = false) -> JSONValue {
        switch value {
        case .object(let members):
            var result: [String: JSONValue] = [:]
            for (key, member) in members {
                let value = normalised(member, isVolatile: isVolatile || Golden.volatileKeys.contains(key))
                if Golden.unorderedKeys.contains(key), let elements = value.arrayValue {
                    result[key] = .array(elements.sorted { $0.jsonText < $1.jsonText })
                } else {
                    result[key] = value
                }
            }
            return .object(result)
        case .array(let elements):
            // A volatile series of numbers (throttled requests per second) is as long as the time it covers.
            if isVolatile && !elements.contains(where: { $0.objectValue != nil || $0.arrayValue != nil }) {
                return .string("<volatile>")
            }
            return .array(elements.map { normalised($0, isVolatile: isVolatile) })
        case .string(let text):
            return isVolatile ? .string("<volatile>") : .string(normalised(text: text))
        case .null, .bool, .number:
            return isVolatile ? .string("<volatile>") : value
        }
    }

    /// Text with the literals, run ids, load ids and ISO-8601 times replaced by placeholders, and in reports the
    /// timings (JUnit `time` attributes, the numbers on Markdown's latency rows).
    public func normalised(text: String) -> String {
        var text = text
        for (literal, placeholder) in literals where !literal.isEmpty {
            text = text.replacingOccurrences(of: literal, with: placeholder)
        }
        for (pattern, placeholder) in Golden.patterns {
            text = text.replacingOccurrences(of: pattern, with: placeholder, options: .regularExpression)
        }
        guard text.contains("\n") else { return text }
        return text.split(separator: "\n", omittingEmptySubsequences: false).map { line in
            guard Golden.volatileLinePrefixes.contains(where: { line.hasPrefix($0) }) else { return String(line) }
            return line.replacingOccurrences(of: #"\d+(\.\d+)?"#, with: "<volatile>", options: .regularExpression)
        }.joined(separator: "\n")
    }

    /// Identifiers, times and timings, wherever they appear in a string.
    static let patterns: [(String, String)] = [
        (#"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?"#, "<time>"),
        (#"\b\d{8}-\d{6}-[0-9a-f]{4,}\b"#, "<id>"),
        (#"\btime="[0-9.eE+-]+""#, #"time="<volatile>""#),
    ]

    /// Report lines made of timings (the Markdown scorecard's latency rows): their numbers become placeholders.
    static let volatileLinePrefixes = ["| TTFT", "| E2E"]

    // MARK: - Comparing

    /// Compares a normalised JSON document with its fixture; nil when they match, else the first differing path
    /// and what differs. In update mode the fixture is written and nil returned.
    public func check(_ document: JSONValue, named name: String) throws -> String? {
        let actual = normalised(document)
        let url = directory.appendingPathComponent(name)
        if Golden.isUpdating {
            try Golden.prettyText(actual).write(to: url, atomically: true, encoding: .utf8)
            return nil
        }
        guard let data = FileManager.default.contents(atPath: url.path) else {
            return "\(name): no fixture at \(url.path); write it with ROADTEST_UPDATE_GOLDEN=1"
        }
        guard let expected = JSONValue.parse(data) else { return "\(name): the fixture is not valid JSON" }
        return Golden.firstDifference(expected: expected, actual: actual).map { "\(name): \($0)" }
    }

    /// Compares normalised text (JUnit XML, Markdown) with its fixture line by line; nil when they match, else the
    /// first differing line. In update mode the fixture is written and nil returned.
    public func check(text: String, named name: String) throws -> String? {
        let actual = normalised(text: text)
        let url = directory.appendingPathComponent(name)
        if Golden.isUpdating {
            try actual.write(to: url, atomically: true, encoding: .utf8)
            return nil
        }
        guard let expected = try? String(contentsOf: url, encoding: .utf8) else {
            return "\(name): no fixture at \(url.path); write it with ROADTEST_UPDATE_GOLDEN=1"
        }
        let expectedLines = expected.split(separator: "\n", omittingEmptySubsequences: false)
        let actualLines = actual.split(separator: "\n", omittingEmptySubsequences: false)
        for index in 0..<max(expectedLines.count, actualLines.count) {
            let wanted = index < expectedLines.count ? String(expectedLines[index]) : "(end of fixture)"
            let got = index < actualLines.count ? String(actualLines[index]) : "(end of output)"
            if wanted != got { return "\(name):\(index + 1): fixture has\n  \(wanted)\nactual has\n  \(got)" }
        }
        return nil
    }

    /// The first place where `actual` differs from `expected`, as `$.path: what differs`; nil when they are equal.
    /// Keys are visited in sorted order, arrays element by element before their lengths are compared; numbers match
    /// within a relative 1e-9.
    public static func firstDifference(expected: JSONValue, actual: JSONValue, path: String = "$") -> String? {
        switch (expected, actual) {
        case (.object(let wanted), .object(let got)):
            for key in Set(wanted.keys).union(got.keys).sorted() {
                let keyPath = path + member(key)
                switch (wanted[key], got[key]) {
                case (let wantedValue?, let gotValue?):
                    if let difference = firstDifference(expected: wantedValue, actual: gotValue, path: keyPath) {
                        return difference
                    }
                case (_?, nil): return "\(keyPath): key missing in actual"
                case (nil, _?): return "\(keyPath): key not in the fixture"
                case (nil, nil): continue
                }
            }
            return nil
        case (.array(let wanted), .array(let got)):
            for index in 0..<min(wanted.count, got.count) {
                if let difference = firstDifference(
                    expected: wanted[index],
                    actual: got[index],
                    path: "\(path)[\(index)]"
                ) {
                    return difference
                }
            }
            if wanted.count != got.count {
                return "\(path): \(wanted.count) elements in the fixture, \(got.count) in actual"
            }
            return nil
        case (.number(let wanted), .number(let got)):
            // Costs are sums in the order trials finished: the last bits of a double may differ.
            if abs(wanted - got) <= 1e-9 * max(abs(wanted), abs(got)) { return nil }
            return "\(path): fixture has \(expected.jsonText), actual has \(actual.jsonText)"
        default:
            if expected == actual { return nil }
            return "\(path): fixture has \(expected.jsonText), actual has \(actual.jsonText)"
        }
    }

    /// `.key` for identifier-like keys, `["key"]` for others.
    static func member(_ key: String) -> String {
        let isIdentifier =
            !key.isEmpty && key.unicodeScalars.allSatisfy { CharacterSet.alphanumerics.contains($0) || $0 == "_" }
            && !(key.first?.isNumber ?? false)
        return isIdentifier ? "." + key : "[" + JSONValue.quote(key) + "]"
    }

    // MARK: - Writing

    /// Indented JSON with sorted keys, one member per line, so a fixture's diff in a commit is readable.
    public static func prettyText(_ value: JSONValue) -> String {
        var output = ""
        write(value, indent: "", into: &output)
        return output + "\n"
    }

    static func write(_ value: JSONValue, indent: String, into output: inout String) {
        let inner = indent + "  "
        switch value {
        case .object(let members) where !members.isEmpty:
            output += "{\n"
            for (index, key) in members.keys.sorted().enumerated() {
                output += inner + JSONValue.quote(key) + ": "
                write(members[key]!, indent: inner, into: &output)
                output += index == members.count - 1 ? "\n" : ",\n"
            }
            output += indent + "}"
        case .array(let elements) where !elements.isEmpty:
            output += "[\n"
            for (index, element) in elements.enumerated() {
                output += inner
                write(element, indent: inner, into: &output)
                output += index == elements.count - 1 ? "\n" : ",\n"
            }
            output += indent + "]"
        default:
            output += value.jsonText
        }
    }
}

/// What a `roadtest` command printed and how it ended.
public struct CommandOutcome: Sendable {
    public var status: Int32
    public var output: String
    public var errors: String

    public init(status: Int32, output: String, errors: String) {
        self.status = status
        self.output = output
        self.errors = errors
    }
}

/// Runs the built `roadtest` executable in `directory` as a user would (`NO_COLOR=1`).
public func runRoadtest(
    _ arguments: [String],
    in directory: URL,
    timeout: Double = 300,
    environment extra: [String: String] = [:]
) async throws -> CommandOutcome {
    guard let binary = TestEnvironment.binary else {
        throw CocoaError(.fileNoSuchFile, userInfo: [NSLocalizedDescriptionKey: "build the roadtest executable first"])
    }
    var environment = ProcessInfo.processInfo.environment
    environment["NO_COLOR"] = "1"
    environment.merge(extra) { _, new in new }
    let result = try await ProcessRunner.run(
        ["/bin/sh", "-c", "cd \"$0\" && exec \"$@\"", directory.path, binary.path] + arguments,
        timeout: timeout,
        environment: environment
    )
    return CommandOutcome(
        status: result.status,
        output: String(decoding: result.standardOutput, as: UTF8.self),
        errors: String(decoding: result.standardError, as: UTF8.self)
    )
}
