import Foundation
import RoadtestCore

extension LoadGenerator {
    /// Finds where the endpoint saturates: a one-at-a-time level and a maximum-throughput level bound it, then
    /// open-loop rates between are tried until one is not served. A level stops early when errors or latency
    /// blow up.
    public func sweep(
        duration: Double,
        warmup: Double,
        maxConcurrency: Int = 64,
        onLevel: (LevelResult) -> Void = { _ in }
    ) async -> (levels: [LevelResult], saturation: Saturation) {
        var saturation = Saturation()
        var levels: [LevelResult] = []
        let baseline = await run(LoadLevel(mode: .concurrency(1), duration: duration, warmup: warmup))
        levels.append(baseline)
        onLevel(baseline)
        saturation.baselineE2EP50 = baseline.e2e.p50
        saturation.baselineE2EP95 = baseline.e2e.p95
        let peak = await run(LoadLevel(mode: .concurrency(maxConcurrency), duration: duration, warmup: warmup))
        levels.append(peak)
        onLevel(peak)
        saturation.maxThroughputRPS = max(peak.achievedRPS, baseline.achievedRPS)
        guard let maxRate = saturation.maxThroughputRPS, maxRate > 0, let baselineP95 = baseline.e2e.p95 else {
            saturation.reason = "no request completed; nothing to sweep"
            return (levels, saturation)
        }
        let latencyLimit = slo?.e2e ?? 3 * baselineP95 / 1000
        var generator = self
        generator.blowUpLatency = max(1, 20 * baselineP95 / 1000)
        var tried = Set<Int>()
        for fraction in [0.25, 0.5, 0.75, 0.9, 1.0, 1.1, 1.25, 1.5] {
            let rate = max(0.1, (maxRate * fraction * 100).rounded() / 100)
            guard tried.insert(Int(rate * 100)).inserted else { continue }
            let level = await generator.run(LoadLevel(mode: .rate(rate, .constant), duration: duration, warmup: warmup))
            levels.append(level)
            onLevel(level)
            let finished = level.completed + level.errored
            let errorRate = finished > 0 ? Double(level.errored) / Double(finished) : 1
            let p95 = (level.correctedE2E ?? level.e2e).p95.map { $0 / 1000 }
            var unserved: String?
            if level.stoppedEarly != nil {
                unserved = "stopped early: \(level.stoppedEarly!)"
            } else if level.achievedRPS < 0.95 * rate {
                unserved = String(format: "achieved %.2f of %.2f requests/s", level.achievedRPS, rate)
            } else if errorRate >= 0.05 {
                unserved = String(format: "%.0f%% of requests failed", errorRate * 100)
            } else if let p95, p95 > latencyLimit {
                unserved = String(
                    format: "corrected p95 E2E %.0f ms over the %.0f ms limit",
                    p95 * 1000,
                    latencyLimit * 1000
                )
            }
            if let unserved {
                saturation.firstUnservedRPS = rate
                saturation.reason = unserved
                break
            }
            saturation.rateRPS = rate
        }
        if saturation.reason == nil { saturation.reason = "every rate tried was served" }
        return (levels, saturation)
    }
}
