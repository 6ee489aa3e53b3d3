import Foundation

/// Folds a run's outcome records into one scorecard per scored candidate, and evaluates the suite's bars.
/// Pure: no I/O. Records may arrive in any order; each is seen once.
///
/// Memory: a few counters per candidate, per case (pass counts for pass@k, tags) and per check name, plus two
/// 8-byte latencies per successful attempt (percentiles are exact nearest-rank, not histogram estimates).
/// Outputs and attempts are not kept.
///
/// ```swift
/// var scorer = Scorer(suite: suite)
/// try await store.forEachOutcome(runID: id) { scorer.add($0) }
/// let cards = scorer.scorecards()
/// ```
public struct Scorer: Sendable {
    public let suite: Suite
    private var tallies: [String: CandidateTally] = [:]
    /// How many cases the run has, when known: each candidate's per-case table is made that large at once (a
    /// million-case table that doubles as it fills holds two tables at its peak).
    private let expectedCases: Int

    public init(suite: Suite, expectedCases: Int = 0) {
        self.suite = suite
        self.expectedCases = expectedCases
    }

    /// Adds one outcome record. Records of candidates the suite does not score are ignored.
    public mutating func add(_ record: OutcomeRecord) {
        let id = record.outcome.key.candidate
        if tallies[id] == nil {
            var tally = CandidateTally()
            tally.cases.reserveCapacity(expectedCases)
            tally.timesSelection = (suite.candidates.first { $0.id == id }?.strategy?.samples ?? 1) > 1
            tallies[id] = tally
        }
        tallies[id]!.add(record)
    }

    /// One scorecard per scored candidate, in the suite's order, bars evaluated.
    public func scorecards() -> [Scorecard] {
        suite.scoredCandidates.map { candidate in
            var card = (tallies[candidate.id] ?? CandidateTally()).scorecard(for: candidate, suite: suite)
            card.bars = BarEvaluator.evaluate(suite.bars, on: card)
            let detectable = Statistics.minimumDetectableDifference(
                cases: card.cases,
                discordance: max(0.05, 2 * card.passRate * (1 - card.passRate))
            )
            // No run can differ from this one by more than the way to 0% or to 100%: a figure past that says
            // nothing possible is detectable, so the run is too small (a 3-case run would claim ±108 pt).
            if let detectable, detectable > max(card.passRate, 1 - card.passRate) {
                card.isTooSmallToDetectDifference = true
            } else {
                card.minimumDetectableDifference = detectable
            }
            return card
        }
    }
}

/// Everything counted for one candidate.
struct CandidateTally: Sendable {
    /// Cases as written: pass counts per case.
    var cases: [String: CaseTally] = [:]
    /// Worst-case robustness: per case, did every original and perturbed trial pass.
    var robustCases: [String: Bool] = [:]
    var failuresByCheck: [String: Int] = [:]
    var taskAttempts = 0
    var inputTokens = 0
    var outputTokens = 0
    var estimatedOutputTokens = 0
    var judgeInputTokens = 0
    var judgeOutputTokens = 0
    var judgeCost = 0.0
    var okOutputTokens = 0
    var okSeconds = 0.0
    var errors: [AttemptClass: Int] = [:]
    /// Task attempts that no model answered (refused connection, 401, 403, 404), by reason, and the first one's
    /// message: when they are all of its attempts, the candidate got no answer at all.
    var unanswered: [String: Int] = [:]
    var firstUnansweredMessage: String?
    var totalCost = 0.0
    /// Every trial, variants included (retries are attempts beyond one per trial).
    var allTrials = 0
    var allPassed = 0
    var timeToFirstToken: [Double] = []
    var endToEnd: [Double] = []
    var ambiguous = 0
    var handled = 0
    var ordinary = 0
    var confidentWrong = 0
    var constraints: [String: (checked: Int, violated: Int)] = [:]
    var original = Count()
    var perturbed = Count()
    var byPerturbation: [Perturbation: Count] = [:]
    var byPrompt: [Int: Count] = [:]
    /// Moves to another candidate of a fallback chain (not retries).
    var fallbackHops = 0
    /// With a multi-sample strategy, latency is the time until the selected answer existed (per trial).
    var timesSelection = false
    var strategySamples = 0
    var judgeCalls = 0
    var originalCost = 0.0
    var servedBy: [String: Int] = [:]

    /// Attack trials per pack: (decided, succeeded).
    var attacks: [AttackPack: (decided: Int, succeeded: Int)] = [:]
    var attackErrors = 0
    var attackCost = 0.0
    var toolTrials = 0
    var toolCalls = 0
    var toolTurns: [Double] = []
    var maxTurnsReached = 0

    mutating func add(_ record: OutcomeRecord) {
        let outcome = record.outcome
        if let pack = outcome.attackPack {
            // Attacks are scored apart: they never count toward pass rates, latency or cost per success.
            attackCost += outcome.costUSD
            let succeeded = outcome.attackVerdict?.succeeded ?? false
            if outcome.finalClass == .ok || succeeded {
                attacks[pack, default: (0, 0)].decided += 1
                if succeeded { attacks[pack, default: (0, 0)].succeeded += 1 }
            } else {
                attackErrors += 1
            }
            return
        }
        if let tools = outcome.tools {
            toolTrials += 1
            toolCalls += tools.calls.count
            toolTurns.append(Double(tools.turns))
            if tools.maxTurnsReached { maxTurnsReached += 1 }
        }
        let variant = outcome.key.variant
        totalCost += outcome.costUSD
        if let server = outcome.servedBy { servedBy[server, default: 0] += 1 }
        var reached: Set<String?> = []
        var samples: Set<Int> = []
        for attempt in outcome.attempts where attempt.role == .task {
            if let sample = attempt.strategySample { samples.insert(sample) }
        }
        for attempt in outcome.attempts
        where attempt.role == .task && attempt.strategySample ?? 0 == (samples.min() ?? 0) {
            reached.insert(attempt.candidate)
        }
        fallbackHops += max(0, reached.count - 1)
        strategySamples += max(1, samples.count)
        judgeCalls += outcome.attempts.filter { $0.role == .judge }.count
        if timesSelection, outcome.finalClass == .ok, let elapsed = outcome.elapsed {
            endToEnd.append(elapsed * 1000)
        }
        allTrials += 1
        if outcome.passed { allPassed += 1 }
        if !outcome.passed {
            for check in outcome.checks where !check.passed { failuresByCheck[check.check, default: 0] += 1 }
        }
        for check in outcome.checks where check.isConstraint {
            constraints[check.check, default: (0, 0)].checked += 1
            if !check.passed { constraints[check.check, default: (0, 0)].violated += 1 }
        }
        for attempt in outcome.attempts { add(attempt) }

        switch variant.kind {
        case .original:
            // Changed in place (a copy would share its votes and copy them on the next change).
            cases[outcome.key.caseID, default: CaseTally(tags: record.tags)].add(
                sample: outcome.key.sample,
                key: outcome.answerKey,
                passed: outcome.passed
            )
            originalCost += outcome.costUSD
            original.add(outcome.passed)
            if record.kind == .ambiguous {
                ambiguous += 1
                if outcome.clarified || outcome.abstained { handled += 1 }
            } else {
                ordinary += 1
                if !outcome.passed && outcome.finalClass == .ok && !outcome.clarified && !outcome.abstained {
                    confidentWrong += 1
                }
            }
            robustCases[outcome.key.caseID] = (robustCases[outcome.key.caseID] ?? true) && outcome.passed
        case .perturbation:
            perturbed.add(outcome.passed)
            if let perturbation = variant.perturbation {
                byPerturbation[perturbation, default: Count()].add(outcome.passed)
            }
            robustCases[outcome.key.caseID] = (robustCases[outcome.key.caseID] ?? true) && outcome.passed
        case .prompt:
            byPrompt[variant.index, default: Count()].add(outcome.passed)
        }
    }

    mutating func add(_ attempt: Attempt) {
        switch attempt.role {
        case .task:
            taskAttempts += 1
            inputTokens += attempt.inputTokens
            outputTokens += attempt.outputTokens
            if attempt.isTokenCountEstimated { estimatedOutputTokens += attempt.outputTokens }
            if attempt.attemptClass == .ok {
                okOutputTokens += attempt.outputTokens
                if let seconds = attempt.endToEnd {
                    okSeconds += seconds
                    if !timesSelection { endToEnd.append(seconds * 1000) }
                }
                // A multi-sample answer has no first token before it is selected: TTFT is not measured.
                if let seconds = attempt.timeToFirstToken, !timesSelection { timeToFirstToken.append(seconds * 1000) }
            } else {
                errors[attempt.attemptClass, default: 0] += 1
            }
            if let reason = NoAnswer.reason(for: attempt) {
                unanswered[reason, default: 0] += 1
                if firstUnansweredMessage == nil { firstUnansweredMessage = attempt.message }
            }
        case .judge:
            judgeInputTokens += attempt.inputTokens
            judgeOutputTokens += attempt.outputTokens
            judgeCost += attempt.costUSD
        }
    }

    func scorecard(for candidate: Candidate, suite: Suite) -> Scorecard {
        let caseCount = cases.count
        let trials = cases.values.reduce(0) { $0 + $1.trials }
        let trialsPassed = cases.values.reduce(0) { $0 + $1.passed }
        let maxSamples = cases.values.reduce(1) { max($0, $1.trials) }
        // Pass rate: pass@1 per case (c/n), averaged over cases.
        let expectedPassed = cases.values.reduce(0.0) { $0 + Double($1.passed) / Double($1.trials) }
        let passRate = caseCount > 0 ? expectedPassed / Double(caseCount) : 0
        let interval = Statistics.wilsonInterval(successes: expectedPassed, trials: Double(caseCount))

        var byTag: [String: TagScore] = [:]
        var tagTotals: [String: (cases: Int, passed: Double)] = [:]
        for tally in cases.values {
            for tag in tally.tags {
                tagTotals[tag, default: (0, 0)].cases += 1
                tagTotals[tag, default: (0, 0)].passed += Double(tally.passed) / Double(tally.trials)
            }
        }
        for (tag, total) in tagTotals {
            byTag[tag] = TagScore(
                cases: total.cases,
                passed: total.passed,
                passRate: total.passed / Double(total.cases)
            )
        }

        var errorCounts: [String: Int] = [:]
        for errorClass in AttemptClass.errorClasses where errorClass != .commandFailed || candidate.provider == .command
        {
            errorCounts[errorClass.rawValue] = 0
        }
        for (errorClass, count) in errors { errorCounts[errorClass.rawValue, default: 0] += count }

        return Scorecard(
            id: candidate.id,
            provider: candidate.provider.rawValue,
            model: candidate.model ?? candidate.local ?? candidate.gguf,
            cases: caseCount,
            trials: trials,
            passed: maxSamples > 1 ? expectedPassed : Double(trialsPassed),
            passRate: passRate,
            passRateCI95: [interval.lower, interval.upper],
            byTag: byTag,
            failuresByCheck: failuresByCheck,
            latencyMilliseconds: LatencySummary(
                ttft: Percentiles(milliseconds: timeToFirstToken),
                e2e: Percentiles(milliseconds: endToEnd)
            ),
            outputTokensPerSecond: okSeconds > 0 ? Double(okOutputTokens) / okSeconds : nil,
            tokens: TokenSummary(
                input: inputTokens,
                output: outputTokens,
                outputEstimated: estimatedOutputTokens,
                judgeInput: judgeInputTokens,
                judgeOutput: judgeOutputTokens
            ),
            attempts: taskAttempts,
            retries: max(0, taskAttempts - strategySamples - fallbackHops),
            errors: errorCounts,
            costUSD: CostSummary(
                total: totalCost,
                perSuccess: allPassed > 0 ? totalCost / Double(allPassed) : nil,
                judge: judgeCost
            ),
            sampling: maxSamples > 1 ? sampling(maxSamples: maxSamples) : nil,
            bars: BarsSummary(met: true, results: []),
            recovery: recovery,
            constraints: constraintSummary,
            robustness: suite.robustness == nil ? nil : robustness,
            promptSensitivity: suite.prompts.isEmpty ? nil : promptSensitivity(suite: suite),
            fallback: candidate.fallback.isEmpty && servedBy.isEmpty
                ? nil
                : FallbackSummary(
                    chain: candidate.fallback,
                    servedByFallback: servedBy.values.reduce(0, +),
                    servedBy: servedBy,
                    moves: fallbackHops
                ),
            strategy: candidate.strategy.map {
                StrategySummary(
                    name: $0.label,
                    samples: $0.samples,
                    select: $0.select.rawValue,
                    samplesPerTrial: allTrials > 0 ? Double(strategySamples) / Double(allTrials) : 0,
                    judgeCallsPerTrial: allTrials > 0 ? Double(judgeCalls) / Double(allTrials) : 0
                )
            },
            tools: toolTrials == 0
                ? nil
                : ToolsSummary(
                    trials: toolTrials,
                    toolCalls: toolCalls,
                    turnsP50: Statistics.percentile(sorted: toolTurns.sorted(), 0.5),
                    maxTurnsReached: maxTurnsReached
                ),
            security: securitySummary(suite: suite),
            noAnswer: NoAnswer(
                attempts: taskAttempts,
                reasons: unanswered,
                endpoint: candidate.baseURL,
                detail: firstUnansweredMessage
            )
        )
    }

    func securitySummary(suite: Suite) -> SecuritySummary? {
        guard let config = suite.attacks else { return nil }
        var byPack: [String: SecuritySummary.Pack] = [:]
        for pack in config.packs {
            let tally = attacks[pack] ?? (0, 0)
            byPack[pack.rawValue] = .init(attacks: tally.decided, succeeded: tally.succeeded, owasp: pack.owasp)
        }
        return SecuritySummary(byPack: byPack, errored: attackErrors, costUSD: attackCost)
    }

    func sampling(maxSamples: Int) -> SamplingSummary {
        var passAtK: [String: Double] = [:]
        var passHatK: [String: Double] = [:]
        // Folded over the tallies in place: a million cases are not copied per k.
        for k in 1...maxSamples {
            var count = 0
            var passAt = 0.0
            var passHat = 0.0
            for tally in cases.values where tally.trials >= k {
                count += 1
                passAt += Statistics.passAtK(n: tally.trials, c: tally.passed, k: k)
                passHat += Statistics.passHatK(n: tally.trials, c: tally.passed, k: k)
            }
            guard count > 0 else { continue }
            passAtK[String(k)] = passAt / Double(count)
            passHatK[String(k)] = passHat / Double(count)
        }
        let flaky = cases.compactMap { $0.value.passed > 0 && $0.value.passed < $0.value.trials ? $0.key : nil }
            .sorted()
        var majorityAtK: [String: Double] = [:]
        var curve: [SamplingSummary.CurvePoint] = []
        let originalTrials = cases.values.reduce(0) { $0 + $1.trials }
        let meanCost = originalTrials > 0 ? originalCost / Double(originalTrials) : 0
        for k in 1...maxSamples {
            var count = 0
            var total = 0.0
            for tally in cases.values where tally.votes.count >= k {
                count += 1
                total += Statistics.majorityAtK(votes: tally.votes.inOrder, k: k)
            }
            guard count > 0, let pass = passAtK[String(k)] else { continue }
            let majority = total / Double(count)
            majorityAtK[String(k)] = majority
            curve.append(
                SamplingSummary.CurvePoint(
                    k: k,
                    passAtK: pass,
                    majorityAtK: majority,
                    costPerSuccessPass: pass > 0 ? Double(k) * meanCost / pass : nil,
                    costPerSuccessMajority: majority > 0 ? Double(k) * meanCost / majority : nil
                )
            )
        }
        var summary = SamplingSummary(
            samples: maxSamples,
            passAtK: passAtK,
            passHatK: passHatK,
            flipRate: cases.isEmpty ? 0 : Double(flaky.count) / Double(cases.count)
        )
        summary.flakyCases = flaky
        summary.majorityAtK = majorityAtK
        summary.curve = curve
        return summary
    }

    var recovery: RecoverySummary {
        RecoverySummary(
            ambiguous: ambiguous,
            handled: handled,
            rate: ambiguous > 0 ? Double(handled) / Double(ambiguous) : nil,
            confidentWrong: confidentWrong,
            confidentWrongRate: ordinary > 0 ? Double(confidentWrong) / Double(ordinary) : nil
        )
    }

    var constraintSummary: ConstraintSummary {
        let checked = constraints.values.reduce(0) { $0 + $1.checked }
        let violated = constraints.values.reduce(0) { $0 + $1.violated }
        func rate(_ violated: Int, _ checked: Int) -> Double { checked > 0 ? Double(violated) / Double(checked) : 0 }
        return ConstraintSummary(
            checked: checked,
            violated: violated,
            violationRate: rate(violated, checked),
            byCheck: constraints.mapValues {
                .init(checked: $0.checked, violated: $0.violated, violationRate: rate($0.violated, $0.checked))
            }
        )
    }

    var robustness: RobustnessSummary {
        let worst = robustCases.values.filter { $0 }.count
        return RobustnessSummary(
            cleanPassRate: original.rate,
            perturbedPassRate: perturbed.rate,
            worstCasePassRate: robustCases.isEmpty ? 0 : Double(worst) / Double(robustCases.count),
            byPerturbation: Dictionary(uniqueKeysWithValues: byPerturbation.map { ($0.key.rawValue, $0.value.rate) })
        )
    }

    func promptSensitivity(suite: Suite) -> PromptSensitivity {
        var entries = [
            PromptSensitivity.Entry(
                prompt: suite.defaults.system ?? "(no system prompt)",
                passRate: original.rate
            )
        ]
        for (index, prompt) in suite.prompts.enumerated() {
            entries.append(.init(prompt: prompt, passRate: byPrompt[index + 1]?.rate ?? 0))
        }
        let values = entries.map(\.passRate)
        return PromptSensitivity(byPrompt: entries, spread: (values.max() ?? 0) - (values.min() ?? 0))
    }
}
