import Foundation
import RoadtestCore
import RoadtestProviders

extension Runner {
    /// What a strategy produced for one trial: the selected sample's response, every sample's attempts (and the
    /// verifier's), and how long until the selected answer existed.
    struct Sampled {
        var response: ProviderResponse
        var attempts: [Attempt]
        var servedBy: String
        var startedAt: Double
        var elapsed: Double
    }

    /// Runs `strategy.samples` requests at once (each down the fallback chain, each with its own seed), then
    /// selects one answer: the majority, the first that passes the verifier, or the verifier's best.
    func sample(
        _ strategy: Strategy,
        links: [ChainLink],
        key: TrialKey,
        testCase: Case,
        input: String
    ) async throws -> Sampled {
        let startedAt = Date().timeIntervalSince1970
        let start = Monotonic.now()
        let breakers = self.breakers
        let samples = try await withThrowingTaskGroup(of: (Int, FallbackChain.Result, UInt64).self) { group in
            for index in 0..<strategy.samples {
                var sampleLinks = links
                for position in sampleLinks.indices {
                    let base = sampleLinks[position].request.extra["seed"]?.doubleValue ?? 0
                    sampleLinks[position].request.extra["seed"] = .number(base + Double(index))
                }
                group.addTask {
                    let result = try await FallbackChain(links: sampleLinks, breakers: breakers).send(role: .task)
                    return (index, result, Monotonic.now())
                }
            }
            var collected: [(FallbackChain.Result, UInt64)?] = Array(repeating: nil, count: strategy.samples)
            for try await (index, result, finished) in group { collected[index] = (result, finished) }
            return collected.compactMap { $0 }
        }
        var attempts: [Attempt] = []
        for (index, sample) in samples.enumerated() {
            for var attempt in sample.0.attempts {
                attempt.strategySample = index
                attempt.number = attempts.count + 1
                attempts.append(attempt)
            }
        }
        let answered = samples.map { $0.0.response.attemptClass == .ok }
        var chosen: Int?
        var selectedAt = samples.map(\.1).max() ?? Monotonic.now()
        switch strategy.select {
        case .majority where strategy.similar:
            // Group by meaning: one embeddings call for every answered sample.
            let indices = answered.indices.filter { answered[$0] }
            let (vectors, embeddingAttempts, _) = await embed(
                indices.map { samples[$0].0.response.output },
                with: strategy.embeddings
            )
            for var attempt in embeddingAttempts {
                attempt.number = attempts.count + 1
                attempts.append(attempt)
            }
            var byIndex: [[Double]?] = Array(repeating: nil, count: samples.count)
            if let vectors { for (offset, index) in indices.enumerated() { byIndex[index] = vectors[offset] } }
            // Without vectors the vote falls back to normalised text.
            chosen =
                vectors == nil
                ? AnswerSelection.majority(
                    samples.enumerated().map {
                        answered[$0.offset] ? AnswerSelection.normalised($0.element.0.response.output) : nil
                    }
                )
                : AnswerSelection.majority(AnswerSelection.groups(byIndex, threshold: strategy.threshold))
            selectedAt = Monotonic.now()
        case .majority:
            chosen = AnswerSelection.majority(
                samples.enumerated().map {
                    answered[$0.offset] ? AnswerSelection.normalised($0.element.0.response.output) : nil
                }
            )
        case .firstValid, .bestOf:
            var scores: [Double?] = []
            for (index, sample) in samples.enumerated() {
                guard answered[index], let verifier = strategy.verifier else {
                    scores.append(nil)
                    continue
                }
                var probe = testCase
                probe.checks = [verifier]
                let verdict = try await grade(
                    key: key,
                    testCase: probe,
                    input: input,
                    response: sample.0.response,
                    attempts: []
                )
                attempts += verdict.attempts.map { attempt in
                    var attempt = attempt
                    attempt.strategySample = index
                    attempt.number = attempts.count + 1
                    return attempt
                }
                scores.append(verdict.score)
                if strategy.select == .firstValid && verdict.passed {
                    chosen = index
                    // The answer exists once every earlier sample is known to fail and this one passed.
                    selectedAt = max(samples[...index].map(\.1).max() ?? 0, Monotonic.now())
                    break
                }
            }
            if strategy.select == .bestOf {
                chosen = AnswerSelection.best(scores)
                selectedAt = Monotonic.now()
            } else if chosen == nil {
                // No sample passes: the first answered one is graded (and fails the same check).
                chosen = answered.firstIndex(of: true)
                selectedAt = Monotonic.now()
            }
        }
        let selected = samples[chosen ?? 0].0
        return Sampled(
            response: selected.response,
            attempts: attempts,
            servedBy: selected.servedBy,
            startedAt: startedAt,
            elapsed: Monotonic.seconds(from: start, to: selectedAt)
        )
    }
}
