import Foundation
import RoadtestCore
import RoadtestProviders
import Synchronization

/// How requests arrive in an open-loop level.
public enum Arrival: String, Sendable, Hashable, Codable {
    case constant
    case poisson
}

/// One load level: closed loop (N concurrent streams) or open loop (requests per second).
public struct LoadLevel: Sendable, Hashable {
    public enum Mode: Sendable, Hashable {
        case concurrency(Int)
        case rate(Double, Arrival)
    }

    public var mode: Mode
    /// Seconds measured after warm-up (ends the level), or nil when `requests` ends it.
    public var duration: Double?
    /// Measured requests (ends the level), or nil when `duration` ends it.
    public var requests: Int?
    /// Seconds at the start excluded from every statistic.
    public var warmup: Double

    public init(mode: Mode, duration: Double? = nil, requests: Int? = nil, warmup: Double = 0) {
        self.mode = mode
        self.duration = duration
        self.requests = requests
        self.warmup = warmup
    }

    var modeName: String {
        if case .concurrency = mode { return "concurrency" }
        return "rate"
    }

    public var target: Double {
        switch mode {
        case .concurrency(let streams): return Double(streams)
        case .rate(let rate, _): return rate
        }
    }
}

/// The requests a load level sends, cycled (each is one of the suite's cases as a candidate would send it).
public final class RequestSource: Sendable {
    let requests: [ChatRequest]
    private let counter = Atomic<Int>(0)

    public init(requests: [ChatRequest]) {
        precondition(!requests.isEmpty, "a load needs at least one request")
        self.requests = requests
    }

    /// The index of the next request to send.
    func next() -> Int {
        counter.wrappingAdd(1, ordering: .relaxed).oldValue % requests.count
    }
}

/// Sends load at a provider and measures it. One process, single attempts (no retries: the provider's raw
/// behaviour is what is measured), timestamps taken at byte arrival by the provider before any parsing.
public struct LoadGenerator: Sendable {
    public let provider: any ModelProvider
    public let source: RequestSource
    /// The source's requests as the provider sends them, encoded once.
    let prepared: [PreparedRequest]
    /// Event loops the virtual users run on (each pinned to one, with its connections); the cooperative pool when
    /// empty.
    let executors: [EventLoopExecutor]
    public let slo: SLO?
    public let seed: UInt64
    /// Sweep levels stop early when more than half the requests fail, or when the corrected (or plain) p95 E2E
    /// passes this many seconds. Levels the user asked for always run to the end.
    public var blowUpLatency: Double?

    public init(
        provider: any ModelProvider,
        source: RequestSource,
        slo: SLO? = nil,
        seed: UInt64 = 0,
        blowUpLatency: Double? = nil,
        executors: [EventLoopExecutor] = []
    ) {
        self.provider = provider
        self.source = source
        self.prepared = source.requests.map { provider.prepared($0) }
        self.executors = executors
        self.slo = slo
        self.seed = seed
        self.blowUpLatency = blowUpLatency
    }

    /// Shared end-of-level state.
    final class LevelControl: Sendable {
        let end: Mutex<UInt64?>
        let stopped = Atomic<Bool>(false)
        let claimed = Atomic<Int>(0)
        let measuredFinished = Atomic<Int>(0)

        init(end: UInt64?) {
            self.end = Mutex(end)
        }

        func stop(at time: UInt64) {
            end.withLock { current in current = min(current ?? time, time) }
            stopped.store(true, ordering: .relaxed)
        }

        var isStopped: Bool { stopped.load(ordering: .relaxed) }
        var endTime: UInt64? { end.withLock { $0 } }
    }

    /// Runs one level.
    public func run(_ level: LoadLevel) async -> LevelResult {
        let start = Monotonic.now()
        let windowStart = start + UInt64(level.warmup * 1e9)
        let isOpenLoop = level.modeName == "rate"
        let recorder = LevelRecorder(windowStart: windowStart, slo: slo, isOpenLoop: isOpenLoop)
        let fixedEnd = level.duration.map { windowStart + UInt64($0 * 1e9) }
        let control = LevelControl(end: fixedEnd)

        switch level.mode {
        case .concurrency(let streams):
            // Streams start spread over the warm-up (at most 1 s), so identical requests do not stay in lockstep
            // and arrive as one burst; the warm-up is excluded from the statistics.
            let spacing = min(level.warmup, 1) / Double(max(1, streams))
            await withTaskGroup(of: Bool.self) { group in
                for index in 0..<max(1, streams) {
                    group.addTask(executorPreference: executor(index)) {
                        if spacing > 0 { try? await Task.sleep(nanoseconds: UInt64(Double(index) * spacing * 1e9)) }
                        await closedLoopWorker(level: level, recorder: recorder, control: control)
                        return false
                    }
                }
                await Self.endAtDeadline(fixedEnd, workers: max(1, streams), group: &group)
            }
        case .rate(let rate, let arrival):
            await openLoop(
                rate: rate,
                arrival: arrival,
                level: level,
                recorder: recorder,
                control: control,
                start: start
            )
        }
        let end = control.endTime ?? Monotonic.now()
        var arrival: String?
        if case .rate(_, let kind) = level.mode { arrival = kind.rawValue }
        return recorder.result(
            mode: level.modeName,
            target: level.target,
            arrival: arrival,
            windowEnd: end,
            countBased: level.duration == nil
        )
    }

    /// A closed-loop stream. With a request count, streams keep the load on (unmeasured cool-down requests)
    /// until the last measured request finishes, so the end of the window sees the same concurrency as the rest.
    func closedLoopWorker(level: LoadLevel, recorder: LevelRecorder, control: LevelControl) async {
        while !control.isStopped && !Task.isCancelled {
            let now = Monotonic.now()
            if let end = control.endTime, now >= end { break }
            var cooldown = false
            if let limit = level.requests, recorder.isMeasured(now) {
                cooldown = control.claimed.wrappingAdd(1, ordering: .relaxed).oldValue >= limit
            }
            recorder.dispatched(intended: now, actual: now, cooldown: cooldown)
            let response = await send(source.next(), control: control)
            if cooldown {
                recorder.finished(
                    intended: now,
                    response: control.endTime.map { Monotonic.now() > $0 } == true ? nil : response,
                    cooldown: true
                )
                continue
            }
            finish(intended: now, response: response, recorder: recorder, control: control, level: level)
            if let limit = level.requests, recorder.isMeasured(now),
                control.measuredFinished.wrappingAdd(1, ordering: .relaxed).newValue >= limit
            {
                control.stop(at: Monotonic.now())
            }
        }
    }

    func openLoop(
        rate: Double,
        arrival: Arrival,
        level: LoadLevel,
        recorder: LevelRecorder,
        control: LevelControl,
        start: UInt64
    ) async {
        var random = SplitMix64(seed: seed ^ 0x5EED)
        var offset = 0.0
        var measured = 0
        var dispatched = 0
        await withTaskGroup(of: Void.self) { group in
            while !control.isStopped && !Task.isCancelled {
                let intended = start + UInt64(offset * 1e9)
                if let end = control.endTime, intended >= end { break }
                if let limit = level.requests, recorder.isMeasured(intended) {
                    if measured >= limit { break }
                    measured += 1
                }
                let now = Monotonic.now()
                if intended > now { try? await Task.sleep(nanoseconds: intended - now) }
                let actual = Monotonic.now()
                recorder.dispatched(intended: intended, actual: actual)
                let request = source.next()
                dispatched += 1
                group.addTask(executorPreference: executor(dispatched)) {
                    let response = await send(request, control: control)
                    finish(intended: intended, response: response, recorder: recorder, control: control, level: level)
                }
                switch arrival {
                case .constant: offset += 1 / rate
                case .poisson:
                    let uniform = Double(random.next() >> 11) / Double(1 << 53)
                    offset += -log(1 - uniform) / rate
                }
            }
            if level.requests != nil && level.duration == nil {
                await group.waitForAll()
                control.stop(at: Monotonic.now())
            } else if let end = control.endTime {
                // One timer per level, not one per request: at the level's end every request still in flight is
                // cancelled (and counted as in flight at the end).
                let now = Monotonic.now()
                if end > now { try? await Task.sleep(nanoseconds: end - now) }
                group.cancelAll()
            }
        }
    }

    /// Sends one request; nil when the level ended before it was sent. A request still running at the level's end
    /// is cancelled by the level's watchdog (see `endAtDeadline`) and recorded as in flight.
    func send(_ request: Int, control: LevelControl) async -> ProviderResponse? {
        if let end = control.endTime, Monotonic.now() >= end { return nil }
        return await prepared[request].send()
    }

    /// The event loop the `index`th virtual user (or open-loop request) runs on.
    func executor(_ index: Int) -> (any TaskExecutor)? {
        executors.isEmpty ? nil : executors[index % executors.count]
    }

    /// Waits for a closed-loop level's workers; at `end` (a fixed-duration level) cancels whatever is still running.
    static func endAtDeadline(_ end: UInt64?, workers: Int, group: inout TaskGroup<Bool>) async {
        if let end {
            group.addTask {
                let now = Monotonic.now()
                if end > now { try? await Task.sleep(nanoseconds: end - now) }
                return !Task.isCancelled
            }
        }
        var finishedWorkers = 0
        while let isWatchdog = await group.next() {
            if isWatchdog {
                group.cancelAll()
            } else {
                finishedWorkers += 1
                if finishedWorkers == workers { group.cancelAll() }
            }
        }
    }

    func finish(
        intended: UInt64,
        response: ProviderResponse?,
        recorder: LevelRecorder,
        control: LevelControl,
        level: LoadLevel
    ) {
        let now = Monotonic.now()
        if let end = control.endTime, now > end {
            recorder.finished(intended: intended, response: nil)
            return
        }
        recorder.finished(intended: intended, response: response)
        guard let limit = blowUpLatency else { return }
        let progress = recorder.progress()
        if progress.finished >= 20, Double(progress.errored) / Double(progress.finished) > 0.5 {
            recorder.stopEarly("more than half the requests failed")
            control.stop(at: now)
        } else if progress.finished >= 20, let p95 = progress.p95, p95 > limit {
            recorder.stopEarly(String(format: "p95 latency passed %.1fs", limit))
            control.stop(at: now)
        }
    }
}
