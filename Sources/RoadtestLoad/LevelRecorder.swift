import Foundation
import Histogram
import RoadtestCore
import Synchronization

/// Collects one level's measurements: HdrHistograms in microseconds and counters, behind one lock.
final class LevelRecorder: Sendable {
    struct State {
        var ttft = Histogram<UInt64>(numberOfSignificantValueDigits: .three)
        var tpot = Histogram<UInt64>(numberOfSignificantValueDigits: .three)
        var interChunk = Histogram<UInt64>(numberOfSignificantValueDigits: .three)
        var e2e = Histogram<UInt64>(numberOfSignificantValueDigits: .three)
        var correctedTTFT = Histogram<UInt64>(numberOfSignificantValueDigits: .three)
        var correctedE2E = Histogram<UInt64>(numberOfSignificantValueDigits: .three)
        var lag = Histogram<UInt64>(numberOfSignificantValueDigits: .three)
        var requests = 0
        var warmup = 0
        var completed = 0
        var errored = 0
        var inFlightAtEnd = 0
        /// Successful completions inside the measured window, whenever they were sent (throughput).
        var windowCompletions = 0
        var windowOutputTokens = 0
        var measuredOutputTokens = 0
        var good = 0
        var firstMeasuredDispatch: UInt64?
        var lastMeasuredCompletion: UInt64?
        var errors: [String: Int] = [:]
        var throttledPerSecond: [Int] = []
        var maxRetryAfter: Double?
        var stoppedEarly: String?
    }

    let state = Mutex(State())
    let windowStart: UInt64
    let slo: SLO?
    let isOpenLoop: Bool

    init(windowStart: UInt64, slo: SLO?, isOpenLoop: Bool) {
        self.windowStart = windowStart
        self.slo = slo
        self.isOpenLoop = isOpenLoop
    }

    static func micros(_ seconds: Double) -> UInt64 { UInt64(max(0, seconds) * 1_000_000) }

    /// True when a request sent (or intended) at `time` is measured, not warm-up.
    func isMeasured(_ time: UInt64) -> Bool { time >= windowStart }

    func dispatched(intended: UInt64, actual: UInt64, cooldown: Bool = false) {
        let measured = isMeasured(intended) && !cooldown
        state.withLock { state in
            if measured {
                state.requests += 1
                state.firstMeasuredDispatch = min(state.firstMeasuredDispatch ?? actual, actual)
                if isOpenLoop { state.lag.record(Self.micros(Monotonic.seconds(from: intended, to: actual))) }
            } else {
                state.warmup += 1
            }
        }
    }

    /// Records a finished request; `intended` is the open-loop schedule time, `response` nil when it was still in flight at the end.
    func finished(intended: UInt64, response: ProviderResponse?, cooldown: Bool = false) {
        let inWindow = isMeasured(Monotonic.now())
        let measured = isMeasured(intended) && !cooldown
        // One lock per request on this hot path.
        state.withLock { state in
            if let response, response.attemptClass == .ok, inWindow {
                state.windowCompletions += 1
                state.windowOutputTokens += response.outputTokens
            }
            guard measured else { return }
            guard let response else {
                state.inFlightAtEnd += 1
                return
            }
            guard response.attemptClass == .ok else {
                state.errored += 1
                state.errors[response.attemptClass.rawValue, default: 0] += 1
                if response.attemptClass == .http429 {
                    let second = Int(Monotonic.seconds(from: windowStart, to: Monotonic.now()))
                    if state.throttledPerSecond.count <= second {
                        state.throttledPerSecond += Array(
                            repeating: 0,
                            count: second + 1 - state.throttledPerSecond.count
                        )
                    }
                    state.throttledPerSecond[second] += 1
                    if let retryAfter = response.retryAfter {
                        state.maxRetryAfter = max(state.maxRetryAfter ?? 0, retryAfter)
                    }
                }
                return
            }
            state.completed += 1
            state.lastMeasuredCompletion = Monotonic.now()
            state.measuredOutputTokens += response.outputTokens
            let ttft = response.timeToFirstToken
            let e2e = response.endToEnd
            var tpot: Double?
            if let ttft { state.ttft.record(Self.micros(ttft)) }
            if let e2e { state.e2e.record(Self.micros(e2e)) }
            if let ttft, let e2e, response.outputTokens > 1 {
                tpot = (e2e - ttft) / Double(response.outputTokens - 1)
                state.tpot.record(Self.micros(tpot!))
            }
            for gap in response.interChunkGaps { state.interChunk.record(Self.micros(gap)) }
            // Latency from the intended send time (open loop): what a user arriving on schedule saw.
            var userTTFT = ttft
            var userE2E = e2e
            if isOpenLoop, let sent = response.sentAt {
                let delay = Monotonic.seconds(from: intended, to: sent)
                userTTFT = ttft.map { $0 + delay }
                userE2E = e2e.map { $0 + delay }
                if let userTTFT { state.correctedTTFT.record(Self.micros(userTTFT)) }
                if let userE2E { state.correctedE2E.record(Self.micros(userE2E)) }
            }
            if slo?.isMet(ttft: userTTFT, e2e: userE2E, tpot: tpot) ?? true { state.good += 1 }
        }
    }

    func stopEarly(_ reason: String) { state.withLock { if $0.stoppedEarly == nil { $0.stoppedEarly = reason } } }

    /// Measured finished requests so far and their error count, and the current corrected (or plain) p95 E2E in seconds.
    func progress() -> (finished: Int, errored: Int, p95: Double?) {
        state.withLock { state in
            let histogram = isOpenLoop ? state.correctedE2E : state.e2e
            return (
                state.completed + state.errored, state.errored,
                histogram.totalCount > 0 ? Double(histogram.valueAtPercentile(95)) / 1e6 : nil
            )
        }
    }

    static func percentiles(_ histogram: Histogram<UInt64>) -> Percentiles {
        guard histogram.totalCount > 0 else { return Percentiles() }
        func ms(_ value: UInt64) -> Double { Double(value) / 1000 }
        let count = Int(histogram.totalCount)
        var percentiles = Percentiles(
            count: count,
            p50: ms(histogram.valueAtPercentile(50)),
            p90: ms(histogram.valueAtPercentile(90)),
            p95: ms(histogram.valueAtPercentile(95)),
            p99: ms(histogram.valueAtPercentile(99)),
            max: ms(histogram.max)
        )
        // The value of rank r is the smallest value with r values at or below it (to the histogram's 3 digits).
        percentiles.ci95 = PercentileIntervals(count: count) { rank in
            ms(histogram.valueAtPercentile((Double(rank) - 0.5) / Double(count) * 100))
        }
        return percentiles
    }

    /// `countBased`: the level ended after a number of requests; its throughput is measured completions over the
    /// span from the first measured send to the last measured completion (a short count-based window would
    /// otherwise count the warm-up's in-flight requests).
    func result(
        mode: String,
        target: Double,
        arrival: String?,
        windowEnd: UInt64,
        countBased: Bool = false
    ) -> LevelResult {
        state.withLock { state in
            let duration = Monotonic.seconds(from: windowStart, to: windowEnd)
            var throughputCount = state.windowCompletions
            var throughputSpan = duration
            var throughputTokens = state.windowOutputTokens
            if countBased, let first = state.firstMeasuredDispatch, let last = state.lastMeasuredCompletion,
                last > first
            {
                throughputCount = state.completed
                throughputSpan = Monotonic.seconds(from: first, to: last)
                throughputTokens = state.measuredOutputTokens
            }
            var errors: [String: Int] = [:]
            for errorClass in AttemptClass.errorClasses where errorClass != .commandFailed {
                errors[errorClass.rawValue] = 0
            }
            errors.merge(state.errors) { _, new in new }
            return LevelResult(
                mode: mode,
                target: target,
                arrival: arrival,
                requests: state.requests,
                completed: state.completed,
                errored: state.errored,
                inFlightAtEnd: state.inFlightAtEnd,
                warmupExcluded: state.warmup,
                durationSeconds: duration,
                achievedRPS: throughputSpan > 0 ? Double(throughputCount) / throughputSpan : 0,
                outputTokensPerSecond: throughputSpan > 0 ? Double(throughputTokens) / throughputSpan : 0,
                ttft: Self.percentiles(state.ttft),
                tpot: Self.percentiles(state.tpot),
                interChunk: Self.percentiles(state.interChunk),
                e2e: Self.percentiles(state.e2e),
                correctedTTFT: isOpenLoop ? Self.percentiles(state.correctedTTFT) : nil,
                correctedE2E: isOpenLoop ? Self.percentiles(state.correctedE2E) : nil,
                scheduleLag: isOpenLoop ? Self.percentiles(state.lag) : nil,
                errors: errors,
                throttled: state.errors[AttemptClass.http429.rawValue] ?? 0,
                throttledPerSecond: state.throttledPerSecond,
                maxRetryAfter: state.maxRetryAfter,
                goodputRPS: throughputSpan > 0 && state.completed > 0
                    ? Double(throughputCount) / throughputSpan * Double(state.good) / Double(state.completed) : 0,
                attainment: state.completed + state.errored > 0
                    ? Double(state.good) / Double(state.completed + state.errored) : nil,
                stoppedEarly: state.stoppedEarly
            )
        }
    }
}
