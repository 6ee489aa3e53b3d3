import NIOCore

/// When one HTTP/1 connection must be closed, from what it has read and written so far: the pure state machine that
/// `ConnectionGuard` feeds with the connection's events and their times (no I/O, no clock of its own).
///
/// A connection waits for a request head (`headerTimeout` from its opening, or from the first byte of the next
/// request after an idle spell), then for the body (`bodyTimeout` from the head), then for its own answer (no limit:
/// an answer may stream for minutes), then idles (`idleTimeout` from the end of the answer) until the next request.
public struct ConnectionDeadlines: Sendable {
    public enum Phase: Sendable, Equatable {
        /// Waiting for a complete request head since `since`.
        case awaitingHead(since: NIODeadline)
        /// A request head arrived at `since` (or the server turned to it then); its body has not ended.
        case readingBody(since: NIODeadline)
        /// The request is read; the server has not finished answering it.
        case answering
        /// The last answer ended at `since`; nothing of the next request has arrived.
        case idle(since: NIODeadline)
    }

    /// The three waits, as `ConnectionLimits` gives them.
    public struct Timeouts: Sendable, Hashable {
        public var header: TimeAmount
        public var body: TimeAmount
        public var idle: TimeAmount

        public init(_ limits: ConnectionLimits) {
            header = TimeAmount(limits.headerTimeout)
            body = TimeAmount(limits.bodyTimeout)
            idle = TimeAmount(limits.idleTimeout)
        }
    }

    public let timeouts: Timeouts
    public private(set) var phase: Phase
    /// Requests whose head was read and whose answer has not ended (more than one when a client pipelines).
    public private(set) var unanswered = 0
    /// An answer's head is written and its end is not: nothing times out while it is written.
    public private(set) var isWritingAnswer = false

    public init(timeouts: Timeouts, openedAt now: NIODeadline) {
        self.timeouts = timeouts
        self.phase = .awaitingHead(since: now)
    }

    /// When the connection must be closed if nothing else happens; nil while an answer is owed or being written.
    public var deadline: NIODeadline? {
        if isWritingAnswer { return nil }
        switch phase {
        case .awaitingHead(let since): return since + timeouts.header
        case .readingBody(let since): return since + timeouts.body
        case .answering: return nil
        case .idle(let since): return since + timeouts.idle
        }
    }

    /// A complete request head was decoded.
    public mutating func readHead(at now: NIODeadline) {
        unanswered += 1
        phase = .readingBody(since: now)
    }

    /// The request's body ended.
    public mutating func readEnd(at now: NIODeadline) {
        // An answer that ended before its request's body (a 413, say) leaves nothing owed.
        phase = unanswered > 0 ? .answering : .idle(since: now)
    }

    /// Bytes arrived (whether or not they completed anything): an idle connection starts its next request.
    public mutating func readBytes(at now: NIODeadline) {
        if case .idle = phase { phase = .awaitingHead(since: now) }
    }

    /// An answer's head was written.
    public mutating func wroteHead() {
        isWritingAnswer = true
    }

    /// An answer ended.
    public mutating func wroteEnd(at now: NIODeadline) {
        isWritingAnswer = false
        unanswered = max(0, unanswered - 1)
        switch phase {
        case .answering where unanswered == 0:
            phase = .idle(since: now)
        case .readingBody(let since) where unanswered > 0:
            // A pipelined request still being read: its body gets its whole timeout from now, when the server turns
            // to it (its bytes may have waited behind a long answer).
            phase = .readingBody(since: max(since, now))
        case .answering, .readingBody, .awaitingHead, .idle:
            break
        }
    }
}
