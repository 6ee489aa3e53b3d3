import Foundation

/// Monotonic nanosecond timestamps, the one clock every measurement uses.
public enum Monotonic {
    /// Nanoseconds on the system's monotonic clock.
    @inline(__always)
    public static func now() -> UInt64 {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return UInt64(spec.tv_sec) * 1_000_000_000 + UInt64(spec.tv_nsec)
    }

    /// Seconds between two timestamps.
    @inline(__always)
    public static func seconds(from start: UInt64, to end: UInt64) -> Double {
        end >= start ? Double(end - start) / 1e9 : 0
    }
}
