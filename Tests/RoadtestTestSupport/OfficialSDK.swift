import Foundation
import RoadtestCore
import RoadtestProviders

/// The official Python SDKs (`openai`, `anthropic`, `google-genai`, `boto3`), installed by `make pyclients` into
/// `.build/pyclients`: the clients nobody here wrote, that Roadtest's requests and the simulator's answers are held
/// to.
public enum OfficialSDK {
    /// The venv's python, when installed.
    public static let python: String? = {
        // The venv's python is a symlink: standardise the repository's path, not the interpreter's (which would
        // resolve it to the base Python, outside the venv).
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../..")
            .standardizedFileURL
        let path = root.path + "/.build/pyclients/bin/python"
        return FileManager.default.isExecutableFile(atPath: path) ? path : nil
    }()

    /// Runs `script` (`python -c SCRIPT ARGS...`) and returns the JSON it printed last.
    public static func run(_ script: String, _ arguments: [String]) async throws -> JSONValue {
        guard let python else { throw Failure("the official SDKs are not installed: run `make pyclients`") }
        var environment = ProcessInfo.processInfo.environment
        // The SDKs read these; a developer's own must not leak into a test.
        for name in ["OPENAI_BASE_URL", "OPENAI_API_KEY", "AWS_PROFILE", "GOOGLE_API_KEY", "GEMINI_API_KEY"] {
            environment[name] = nil
        }
        let outcome = try await ProcessRunner.run(
            [python, "-c", script] + arguments,
            timeout: 60,
            environment: environment
        )
        let stdout = String(decoding: outcome.standardOutput, as: UTF8.self)
        let stderr = String(decoding: outcome.standardError, as: UTF8.self)
        let last = stdout.split(separator: "\n").last.map(String.init) ?? ""
        guard outcome.status == 0, let json = JSONValue.parse(Data(last.utf8)) else {
            throw Failure(
                "the SDK script failed (exit \(outcome.status)): \(stderr.suffix(3000)) \(stdout.suffix(1000))"
            )
        }
        return json
    }

    public struct Failure: Error, CustomStringConvertible {
        public let description: String

        init(_ description: String) {
            self.description = description
        }
    }
}
