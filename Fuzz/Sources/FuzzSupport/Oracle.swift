import Foundation

/// Property checks beyond "does not crash": a broken property stops the process (libFuzzer reports it as a deadly
/// signal and writes the input as a crash artifact).
///
/// `FUZZ_SKIP_ORACLES` (comma-separated names, or `all`) turns named checks off: to go on fuzzing for crashes while
/// a known finding is being fixed.
public enum Oracle {
    private static let skipped: Set<String> = {
        guard let value = ProcessInfo.processInfo.environment["FUZZ_SKIP_ORACLES"] else { return [] }
        return Set(value.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) })
    }()

    /// Whether the check `name` is on.
    public static func isOn(_ name: String) -> Bool {
        !skipped.contains(name) && !skipped.contains("all")
    }

    /// Stops the process with `name` and the message when `condition` is false and the check is on.
    public static func require(
        _ name: String,
        _ condition: @autoclosure () -> Bool,
        _ message: @autoclosure () -> String
    ) {
        guard isOn(name), !condition() else { return }
        fatalError("oracle \(name) (skip it with FUZZ_SKIP_ORACLES=\(name)): \(message())")
    }
}

/// A value shown in an oracle's message, cut to a readable length.
public func shown(_ value: Any, limit: Int = 600) -> String {
    let text = String(describing: value)
    return text.count > limit ? String(text.prefix(limit)) + "…" : text
}
