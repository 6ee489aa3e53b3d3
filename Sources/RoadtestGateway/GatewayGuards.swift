import Foundation
import RoadtestCore
import Synchronization

/// Client tokens, compared in constant time (the time does not depend on where a guess first differs, nor on
/// which token matched). Tokens are never logged or stored.
public struct TokenAuthenticator: Sendable {
    let tokens: [[UInt8]]

    /// From a comma-separated list (the environment variable's value); empty entries are ignored.
    public init(list: String) {
        tokens = list.split(separator: ",").map { Array($0.trimmingCharacters(in: .whitespaces).utf8) }.filter {
            !$0.isEmpty
        }
    }

    public var isEmpty: Bool { tokens.isEmpty }

    /// The index of the matching token (for per-token limits), or nil.
    public func match(_ presented: String) -> Int? {
        let bytes = Array(presented.utf8)
        var found = -1
        for (index, token) in tokens.enumerated() {
            // Compare every byte of the longer of the two, whatever the lengths. (A length difference counts as one
            // whole: the XOR of two lengths truncated to a byte is zero when they differ by a multiple of 256.)
            var difference: UInt8 = token.count == bytes.count ? 0 : 1
            for position in 0..<max(token.count, bytes.count) {
                let a = position < token.count ? token[position] : 0
                let b = position < bytes.count ? bytes[position] : 0
                difference |= a ^ b
            }
            if difference == 0 { found = index }
        }
        return found >= 0 ? found : nil
    }

    /// The token a request presents: `Authorization: Bearer T` (OpenAI clients) or `x-api-key: T` (Anthropic).
    public static func presented(authorization: String?, apiKey: String?) -> String? {
        if let authorization, authorization.lowercased().hasPrefix("bearer ") {
            return String(authorization.dropFirst("bearer ".count)).trimmingCharacters(in: .whitespaces)
        }
        return apiKey
    }
}

/// A token bucket per client: `perMinute` requests a minute, refilled continuously, bursts up to `perMinute`.
public final class RateLimiter: Sendable {
    let perMinute: Int
    let buckets = Mutex<[Int: (tokens: Double, at: UInt64)]>([:])

    public init(perMinute: Int) {
        self.perMinute = perMinute
    }

    /// Takes one request for `client`; nil when allowed, else the seconds until the next one is.
    public func take(_ client: Int, now: UInt64 = Monotonic.now()) -> Double? {
        let rate = Double(perMinute) / 60
        return buckets.withLock { buckets in
            var bucket = buckets[client] ?? (Double(perMinute), now)
            // Callers read the clock before the lock: a request may come stamped before the last one. It refills
            // nothing (an unsigned difference would wrap around to centuries and fill the bucket).
            let elapsed = now > bucket.at ? Double(now - bucket.at) / 1e9 : 0
            bucket.tokens = min(Double(perMinute), bucket.tokens + elapsed * rate)
            bucket.at = max(bucket.at, now)
            defer { buckets[client] = bucket }
            if bucket.tokens >= 1 {
                bucket.tokens -= 1
                return nil
            }
            return (1 - bucket.tokens) / rate
        }
    }
}

/// Spend per route for the current UTC day, seeded from the store at start, and the money requests in flight may
/// still spend. A request reserves its worst-case cost when it is admitted (`reserve`), atomically against the cap,
/// and settles to what it really cost when it ends (`settle`), so concurrent requests can never together spend more
/// than the cap: the check and the reservation are one step under one lock.
public final class BudgetTracker: Sendable {
    struct State {
        var day: Int
        var spent: [String: Double]
        var reserved: [String: Double] = [:]

        mutating func roll(to day: Int) {
            guard self.day != day else { return }
            self = State(day: day, spent: [:])
        }
    }

    let state: Mutex<State>

    public init(spentToday: [String: Double], now: Date = Date()) {
        state = Mutex(State(day: Self.day(now), spent: spentToday))
    }

    static func day(_ date: Date) -> Int { Int(date.timeIntervalSince1970 / 86_400) }

    /// Seconds since 1970 at the start of today (UTC).
    public static func startOfToday(_ now: Date = Date()) -> Double { Double(day(now)) * 86_400 }

    /// What `route` has spent today (requests still in flight not included).
    public func spent(_ route: String, now: Date = Date()) -> Double {
        state.withLock { state in
            state.roll(to: Self.day(now))
            return state.spent[route, default: 0]
        }
    }

    /// What requests in flight on `route` have reserved and not settled.
    public func reserved(_ route: String, now: Date = Date()) -> Double {
        state.withLock { state in
            state.roll(to: Self.day(now))
            return state.reserved[route, default: 0]
        }
    }

    /// Reserves `amount` on `route` when what it spent, what is reserved and `amount` stay within `cap`; false (and
    /// nothing reserved) otherwise.
    public func reserve(_ amount: Double, on route: String, cap: Double, now: Date = Date()) -> Bool {
        state.withLock { state in
            state.roll(to: Self.day(now))
            let committed = state.spent[route, default: 0] + state.reserved[route, default: 0]
            // A relative epsilon: ten reservations of 0.01 fit a cap of 0.1 although their float sum is 0.0999…9.
            guard committed + amount <= cap * (1 + 1e-12) else { return false }
            state.reserved[route, default: 0] += amount
            return true
        }
    }

    /// Ends a request: releases what it reserved and adds what it cost.
    public func settle(reserved amount: Double, cost: Double, on route: String, now: Date = Date()) {
        state.withLock { state in
            state.roll(to: Self.day(now))
            state.reserved[route] = max(0, state.reserved[route, default: 0] - amount)
            state.spent[route, default: 0] += cost
        }
    }

    /// Adds `cost` to `route`'s spend (a request that reserved nothing).
    public func add(_ cost: Double, to route: String, now: Date = Date()) {
        settle(reserved: 0, cost: cost, on: route, now: now)
    }
}
