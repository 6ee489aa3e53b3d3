import Foundation
import Synchronization

/// Compiled regular expressions, by pattern: a check, a schema `pattern` or a redaction is compiled once, not once
/// per trial or request (an `NSRegularExpression` is immutable and safe to match from any thread). Patterns that do
/// not compile are remembered too. Bounded: past 1,024 patterns the cache starts over.
public enum RegexCache {
    private static let compiled = Mutex<[String: NSRegularExpression?]>([:])

    /// The pattern compiled with no options; nil when it is not a valid ICU regular expression.
    public static func regex(_ pattern: String) -> NSRegularExpression? {
        if let known = compiled.withLock({ $0[pattern] }) { return known }
        let regex = try? NSRegularExpression(pattern: pattern)
        compiled.withLock { cache in
            if cache.count >= 1_024 { cache.removeAll(keepingCapacity: true) }
            cache[pattern] = .some(regex)
        }
        return regex
    }
}
