import Foundation
import RoadtestGateway
import Testing

@Suite struct TokenAuthenticatorTests {
    /// A comma-separated list and the tokens it holds, in order.
    @Test(arguments: [
        ("alpha,beta,gamma", ["alpha", "beta", "gamma"]),
        (" alpha , ,beta ", ["alpha", "beta"]),
        ("solo", ["solo"]),
        ("", []),
        (" , ,", []),
    ])
    func aListOfTokens(list: String, tokens: [String]) {
        let authenticator = TokenAuthenticator(list: list)
        #expect(authenticator.isEmpty == tokens.isEmpty)
        for (index, token) in tokens.enumerated() {
            #expect(authenticator.match(token) == index, "\(token)")
        }
    }

    /// What a client presents and the index of the token it matches in `alpha, beta, gamma`.
    @Test(
        arguments: [
            ("alpha", 0),
            ("beta", 1),
            ("gamma", 2),
            ("alph", nil),  // a prefix
            ("alphaa", nil),  // longer
            ("ALPHA", nil),  // tokens are case-sensitive
            (" beta", nil),  // and compared as presented
            ("", nil),
            ("alpha,beta", nil),
            ("gamm\u{0}", nil),
        ] as [(String, Int?)]
    )
    func match(presented: String, index: Int?) {
        #expect(TokenAuthenticator(list: "alpha, beta ,gamma").match(presented) == index)
    }

    @Test func aLengthThatDiffersByAMultipleOf256IsADifference() {
        // The lengths' XOR was truncated to 8 bits: `gamma` padded with 256 NULs matched `gamma`.
        let authenticator = TokenAuthenticator(list: "alpha,beta,gamma")
        #expect(authenticator.match("gamma" + String(repeating: "\u{0}", count: 256)) == nil)
        #expect(authenticator.match("alpha" + String(repeating: "\u{0}", count: 512)) == nil)
    }

    @Test func anEmptyListMatchesNothing() {
        #expect(TokenAuthenticator(list: "").match("") == nil)
        #expect(TokenAuthenticator(list: "").match("anything") == nil)
    }

    /// The `Authorization` and `x-api-key` headers, and the token they present.
    @Test(arguments: [
        ("Bearer abc", nil, "abc"),
        ("bearer  abc ", nil, "abc"),
        ("BEARER abc", "key", "abc"),  // the bearer token wins
        ("Basic dXNlcjpwYXNz", "key", "key"),
        ("Bearerabc", nil, nil),
        (nil, "key", "key"),
        (nil, nil, nil),
    ])
    func presented(row: (authorization: String?, apiKey: String?, token: String?)) {
        #expect(TokenAuthenticator.presented(authorization: row.authorization, apiKey: row.apiKey) == row.token)
    }
}

@Suite struct RateLimiterTests {
    /// Monotonic nanoseconds at `seconds` into a test (from an arbitrary origin, as the monotonic clock's is).
    static func at(_ seconds: Double) -> UInt64 { 5_000_000_000_000 + UInt64(seconds * 1e9) }

    /// Requests a minute, then each request's client and time, and what it got: nil when allowed, else the seconds
    /// until the next request would be.
    @Test(
        arguments: [
            // A burst of the whole minute's allowance, then one request every 60/3 = 20 s.
            (3, [(0, 0.0, nil), (0, 0, nil), (0, 0, nil), (0, 0, 20), (0, 10, 10), (0, 20, nil), (0, 20, 20)]),
            // The bucket never holds more than a minute's worth, however long it stayed idle.
            (2, [(0, 0, nil), (0, 600, nil), (0, 600, nil), (0, 600, 30)]),
            // Clients have their own buckets.
            (1, [(0, 0, nil), (1, 0, nil), (0, 0, 60), (1, 30, 30), (2, 30, nil)]),
            // 120 a minute: one every half second.
            (120, [(0, 0, nil)] + Array(repeating: (0, 0, nil), count: 119) + [(0, 0, 0.5), (0, 0.5, nil)]),
        ] as [(Int, [(Int, Double, Double?)])]
    )
    func tokenBucket(perMinute: Int, requests: [(Int, Double, Double?)]) {
        let limiter = RateLimiter(perMinute: perMinute)
        for (index, (client, seconds, expected)) in requests.enumerated() {
            let wait = limiter.take(client, now: Self.at(seconds))
            if let expected {
                #expect(abs((wait ?? .nan) - expected) < 1e-6, "request \(index): \(String(describing: wait))")
            } else {
                #expect(wait == nil, "request \(index) at \(seconds) s should be allowed")
            }
        }
    }
}

extension RateLimiterTests {
    @Test func aRequestStampedBeforeTheLastDoesNotRefillTheBucket() {
        // Concurrent requests read the clock before taking the lock, so one may arrive stamped earlier than the
        // last. The unsigned difference wrapped around to centuries and refilled the bucket.
        let limiter = RateLimiter(perMinute: 3)
        for _ in 0..<3 { #expect(limiter.take(0, now: Self.at(60)) == nil) }
        let wait = limiter.take(0, now: Self.at(59.999))
        #expect(abs((wait ?? .nan) - 20) < 1e-6, "\(String(describing: wait))")
        #expect(limiter.take(0, now: Self.at(80)) == nil, "20 s after the last stamp")
    }
}

@Suite struct BudgetTrackerTests {
    static let day = 20_000.0 * 86_400
    static func date(_ seconds: Double) -> Date { Date(timeIntervalSince1970: day + seconds) }

    @Test func spendAddsUpWithinTheDayAndStartsAgainTheNext() {
        let budgets = BudgetTracker(spentToday: ["chat": 1.5], now: Self.date(3_600))
        #expect(budgets.spent("chat", now: Self.date(3_600)) == 1.5)
        #expect(budgets.spent("other", now: Self.date(3_600)) == 0)
        budgets.add(0.25, to: "chat", now: Self.date(7_200))
        budgets.add(0.5, to: "other", now: Self.date(7_200))
        #expect(budgets.spent("chat", now: Self.date(86_399)) == 1.75)
        #expect(budgets.spent("other", now: Self.date(86_399)) == 0.5)
        // Midnight UTC: every route starts from zero.
        #expect(budgets.spent("chat", now: Self.date(86_400)) == 0)
        budgets.add(0.125, to: "chat", now: Self.date(86_401))
        #expect(budgets.spent("chat", now: Self.date(90_000)) == 0.125)
        #expect(budgets.spent("other", now: Self.date(90_000)) == 0)
    }

    @Test func spendSeededOnAnotherDayIsNotToday() {
        // Seeded at 23:59 and first used after midnight.
        let budgets = BudgetTracker(spentToday: ["chat": 9], now: Self.date(86_340))
        budgets.add(1, to: "chat", now: Self.date(86_460))
        #expect(budgets.spent("chat", now: Self.date(86_460)) == 1)
    }

    @Test(arguments: [0.0, 1, 43_200, 86_399])
    func startOfToday(secondsIntoTheDay: Double) {
        #expect(BudgetTracker.startOfToday(Self.date(secondsIntoTheDay)) == Self.day)
    }
}
