import NIOCore
import RoadtestServer
import Testing

/// When a connection must close, event by event: header 10 s, body 30 s, idle 60 s.
@Suite struct ConnectionDeadlinesTests {
    static let timeouts = ConnectionDeadlines.Timeouts(ConnectionLimits())
    /// The instant `seconds` after the connection opened.
    static func at(_ seconds: Double) -> NIODeadline { .uptimeNanoseconds(1_000_000_000_000 + UInt64(seconds * 1e9)) }

    @Test func aHeadMustArriveWithinTheHeaderTimeoutOfOpening() {
        var connection = ConnectionDeadlines(timeouts: Self.timeouts, openedAt: Self.at(0))
        #expect(connection.deadline == Self.at(10))
        // Bytes of the first request do not extend it.
        connection.readBytes(at: Self.at(5))
        #expect(connection.deadline == Self.at(10))
    }

    @Test func aBodyMustEndWithinTheBodyTimeoutOfItsHead() {
        var connection = ConnectionDeadlines(timeouts: Self.timeouts, openedAt: Self.at(0))
        connection.readHead(at: Self.at(2))
        #expect(connection.deadline == Self.at(32))
        connection.readBytes(at: Self.at(20))
        #expect(connection.deadline == Self.at(32))
    }

    @Test func nothingTimesOutWhileTheAnswerIsOwedOrWritten() {
        var connection = ConnectionDeadlines(timeouts: Self.timeouts, openedAt: Self.at(0))
        connection.readHead(at: Self.at(1))
        connection.readEnd(at: Self.at(1))
        #expect(connection.deadline == nil)
        connection.wroteHead()
        #expect(connection.deadline == nil)
        // Minutes of streaming later, the answer ends: the idle wait starts then.
        connection.wroteEnd(at: Self.at(300))
        #expect(connection.phase == .idle(since: Self.at(300)))
        #expect(connection.deadline == Self.at(360))
    }

    @Test func theNextRequestsFirstByteStartsItsHeaderTimeout() {
        var connection = ConnectionDeadlines(timeouts: Self.timeouts, openedAt: Self.at(0))
        connection.readHead(at: Self.at(1))
        connection.readEnd(at: Self.at(1))
        connection.wroteHead()
        connection.wroteEnd(at: Self.at(2))
        connection.readBytes(at: Self.at(40))
        #expect(connection.deadline == Self.at(50))
        // Its head completes: the body clock runs from there.
        connection.readHead(at: Self.at(45))
        #expect(connection.deadline == Self.at(75))
    }

    @Test func anEarlyAnswerPausesTheBodyTimeoutAndLeavesItRunningAfter() {
        // A 413 written before the body ended: the body must still end in time (the server drains it).
        var connection = ConnectionDeadlines(timeouts: Self.timeouts, openedAt: Self.at(0))
        connection.readHead(at: Self.at(1))
        connection.wroteHead()
        #expect(connection.deadline == nil)
        connection.wroteEnd(at: Self.at(2))
        #expect(connection.deadline == Self.at(31))
        connection.readEnd(at: Self.at(3))
        #expect(connection.deadline == Self.at(63))
    }

    @Test func aPipelinedRequestsBodyClockStartsWhenTheServerTurnsToIt() {
        var connection = ConnectionDeadlines(timeouts: Self.timeouts, openedAt: Self.at(0))
        connection.readHead(at: Self.at(1))
        connection.readEnd(at: Self.at(1))
        connection.readHead(at: Self.at(1))
        connection.wroteHead()
        #expect(connection.deadline == nil)
        connection.wroteEnd(at: Self.at(100))
        #expect(connection.phase == .readingBody(since: Self.at(100)))
        #expect(connection.deadline == Self.at(130))
        connection.readEnd(at: Self.at(101))
        #expect(connection.deadline == nil)
        connection.wroteEnd(at: Self.at(102))
        #expect(connection.deadline == Self.at(162))
    }

    @Test func anAnswerToNoRequestLeavesTheHeaderClockAsItWas() {
        // An error answer to a malformed head (no head was read) leaves the header clock as it was.
        var connection = ConnectionDeadlines(timeouts: Self.timeouts, openedAt: Self.at(0))
        connection.wroteHead()
        connection.wroteEnd(at: Self.at(1))
        #expect(connection.unanswered == 0)
        #expect(connection.deadline == Self.at(10))
    }
}
