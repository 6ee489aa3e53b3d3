import Foundation

/// The one error type Roadtest's libraries throw for anything a user can act on: what went wrong, where
/// (file:line for a suite), what to do, and the underlying cause. Callers decide by `code`, never by type.
///
/// ```swift
/// throw RoadtestError(.invalidArgument, "--concurrency must be above 0")
/// ```
public struct RoadtestError: Error, Sendable, CustomStringConvertible {
    /// What kind of failure this is; the CLI maps codes to exit statuses.
    public struct Code: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
        public var rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }

        /// The suite file has problems; `diagnostics` lists each one.
        public static let invalidSuite = Code(rawValue: "invalid_suite")
        /// A command-line argument or option is wrong.
        public static let invalidArgument = Code(rawValue: "invalid_argument")
        /// A run, candidate or file that was named does not exist.
        public static let notFound = Code(rawValue: "not_found")
        /// A provider could not be set up (a missing API key, a missing base URL).
        public static let providerSetup = Code(rawValue: "provider_setup")
        /// A managed local model could not be installed or started.
        public static let localModel = Code(rawValue: "local_model")
        /// The store could not be opened, read or written.
        public static let store = Code(rawValue: "store")
        /// A report could not be written.
        public static let output = Code(rawValue: "output")

        public var description: String { rawValue }
    }

    public var code: Code
    public var message: String
    /// What to do about it.
    public var hint: String?
    public var location: SourceLocation?
    /// Every problem, for `.invalidSuite`.
    public var diagnostics: [SuiteDiagnostic]
    public var cause: (any Error)?

    public init(
        _ code: Code,
        _ message: String,
        hint: String? = nil,
        location: SourceLocation? = nil,
        diagnostics: [SuiteDiagnostic] = [],
        cause: (any Error)? = nil
    ) {
        self.code = code
        self.message = message
        self.hint = hint
        self.location = location
        self.diagnostics = diagnostics
        self.cause = cause
    }

    /// A suite with problems: each diagnostic names its file:line.
    public static func invalidSuite(_ diagnostics: [SuiteDiagnostic]) -> RoadtestError {
        RoadtestError(
            .invalidSuite,
            "the suite has \(diagnostics.count) problem\(diagnostics.count == 1 ? "" : "s")",
            diagnostics: diagnostics
        )
    }

    public var description: String {
        var text = location.map { "\($0): " } ?? ""
        text += message
        if let cause { text += ": \(cause)" }
        if let hint { text += " (\(hint))" }
        for diagnostic in diagnostics { text += "\n  " + diagnostic.description }
        return text
    }
}

/// A problem in a suite file, naming where it is and what to do about it.
public struct SuiteDiagnostic: Sendable, Hashable, CustomStringConvertible {
    public var location: SourceLocation?
    public var message: String
    public var hint: String?

    public init(_ location: SourceLocation?, _ message: String, hint: String? = nil) {
        self.location = location
        self.message = message
        self.hint = hint
    }

    public var description: String {
        var text = location.map { "\($0): " } ?? ""
        text += message
        if let hint { text += " (\(hint))" }
        return text
    }
}
