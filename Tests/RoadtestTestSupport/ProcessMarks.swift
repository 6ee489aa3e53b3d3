import Foundation

extension TestEnvironment {
    /// The environment of this process plus a mark (`ROADTEST_TEST_MARK`) that every process started under it
    /// inherits, so a test can find exactly the processes it started, and none of a user's.
    public static func marked(
        _ mark: String,
        _ base: [String: String] = ProcessInfo.processInfo.environment
    )
        -> [String: String]
    {
        var environment = base
        environment["ROADTEST_TEST_MARK"] = mark
        return environment
    }

    /// Running (not zombie) processes whose environment carries `mark` (Linux: /proc; elsewhere none are found).
    public static func processes(marked mark: String) -> [Int32] {
        #if os(Linux)
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return [] }
        let needle = Data("ROADTEST_TEST_MARK=\(mark)\u{0}".utf8)
        return entries.compactMap { entry -> Int32? in
            guard let pid = Int32(entry), pid != getpid(),
                let environ = FileManager.default.contents(atPath: "/proc/\(entry)/environ"),
                environ.range(of: needle) != nil
            else { return nil }
            let status = (try? String(contentsOfFile: "/proc/\(entry)/status", encoding: .utf8)) ?? ""
            return status.contains("State:\tZ") ? nil : pid
        }
        #else
        return []
        #endif
    }
}
