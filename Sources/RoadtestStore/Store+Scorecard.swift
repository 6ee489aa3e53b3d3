import Foundation
import GRDB
import RoadtestCore

extension Store {
    /// The report of a stored run: one scorecard per scored candidate, aggregated in SQL so memory does not
    /// grow with the number of cases.
    public func report(runID: String) throws -> RunReport? {
        guard let run = try run(id: runID), let suite = try suite(runID: runID) else { return nil }
        let cards = try writer.read { db in
            try suite.scoredCandidates.map { candidate in
                try Self.scorecard(db: db, runID: runID, candidate: candidate, suite: suite)
            }
        }
        return RunReport(
            runID: run.id, suite: run.suiteName, suitePath: run.suitePath, status: run.status, startedAt: run.startedAt,
            finishedAt: run.finishedAt, candidates: cards)
    }

    static func scorecard(db: Database, runID: String, candidate: Candidate, suite: Suite) throws -> Scorecard {
        let id = candidate.id
        // Pass rates: per case c/n, then means (pass@1 averaged over samples).
        var cases = 0
        var trials = 0
        var trialsPassed = 0
        var expectedPassed = 0.0
        var byTag: [String: (cases: Int, passed: Double)] = [:]
        var maxSamples = 1
        var perCase: [(n: Int, c: Int)] = []
        let caseRows = try Row.fetchCursor(
            db,
            sql: """
                SELECT o.case_id, COUNT(*) AS n, SUM(o.passed) AS c, t.tags AS tags FROM outcome o
                LEFT JOIN test_case t ON t.run_id = o.run_id AND t.case_id = o.case_id
                WHERE o.run_id = ? AND o.candidate_id = ? AND o.variant = ''
                GROUP BY o.case_id
                """,
            arguments: [runID, id])
        while let row = try caseRows.next() {
            let n: Int = row["n"]
            let c: Int = row["c"]
            cases += 1
            trials += n
            trialsPassed += c
            let rate = Double(c) / Double(n)
            expectedPassed += rate
            maxSamples = max(maxSamples, n)
            if suite.samples > 1 || n > 1 { perCase.append((n, c)) }
            for tag in decodeTags(row["tags"] ?? "[]") {
                byTag[tag, default: (0, 0)].cases += 1
                byTag[tag, default: (0, 0)].passed += rate
            }
        }
        let passRate = cases > 0 ? expectedPassed / Double(cases) : 0
        let interval = Statistics.wilsonInterval(successes: expectedPassed, trials: Double(cases))

        var sampling: SamplingSummary?
        if maxSamples > 1 {
            var passAtK: [String: Double] = [:]
            var passHatK: [String: Double] = [:]
            for k in 1...maxSamples {
                let eligible = perCase.filter { $0.n >= k }
                guard !eligible.isEmpty else { continue }
                passAtK[String(k)] = eligible.map { Statistics.passAtK(n: $0.n, c: $0.c, k: k) }.reduce(0, +) / Double(eligible.count)
                passHatK[String(k)] = eligible.map { Statistics.passHatK(n: $0.n, c: $0.c, k: k) }.reduce(0, +) / Double(eligible.count)
            }
            let flips = perCase.filter { $0.c > 0 && $0.c < $0.n }.count
            sampling = SamplingSummary(
                samples: maxSamples, passAtK: passAtK, passHatK: passHatK, flipRate: perCase.isEmpty ? 0 : Double(flips) / Double(perCase.count))
        }

        // Failed checks by name.
        var failures: [String: Int] = [:]
        let checkRows = try String.fetchCursor(db, sql: "SELECT checks FROM outcome WHERE run_id = ? AND candidate_id = ? AND passed = 0", arguments: [runID, id])
        let decoder = JSONDecoder()
        while let json = try checkRows.next() {
            for result in (try? decoder.decode([CheckResult].self, from: Data(json.utf8))) ?? [] where !result.passed {
                failures[result.check, default: 0] += 1
            }
        }

        // Attempts, errors, tokens, cost.
        let totals = try Row.fetchOne(
            db,
            sql: """
                SELECT
                    SUM(CASE WHEN role = 'task' THEN 1 ELSE 0 END) AS attempts,
                    SUM(CASE WHEN role = 'task' THEN input_tokens ELSE 0 END) AS input,
                    SUM(CASE WHEN role = 'task' THEN output_tokens ELSE 0 END) AS output,
                    SUM(CASE WHEN role = 'task' AND estimated THEN output_tokens ELSE 0 END) AS estimated,
                    SUM(CASE WHEN role = 'judge' THEN input_tokens ELSE 0 END) AS judge_input,
                    SUM(CASE WHEN role = 'judge' THEN output_tokens ELSE 0 END) AS judge_output,
                    SUM(CASE WHEN role = 'judge' THEN cost_usd ELSE 0 END) AS judge_cost,
                    SUM(CASE WHEN role = 'task' AND class = 'ok' THEN output_tokens ELSE 0 END) AS ok_output,
                    SUM(CASE WHEN role = 'task' AND class = 'ok' THEN e2e ELSE 0 END) AS ok_e2e
                FROM attempt WHERE run_id = ? AND candidate_id = ?
                """,
            arguments: [runID, id])
        let attempts: Int = totals?["attempts"] ?? 0
        var errors: [String: Int] = [:]
        for errorClass in AttemptClass.errorClasses where errorClass != .commandFailed || candidate.provider == .command {
            errors[errorClass.rawValue] = 0
        }
        let errorRows = try Row.fetchCursor(
            db, sql: "SELECT class, COUNT(*) AS n FROM attempt WHERE run_id = ? AND candidate_id = ? AND role = 'task' AND class != 'ok' GROUP BY class",
            arguments: [runID, id])
        while let row = try errorRows.next() {
            errors[row["class"], default: 0] += row["n"]
        }
        let totalCost = try Double.fetchOne(db, sql: "SELECT SUM(cost_usd) FROM outcome WHERE run_id = ? AND candidate_id = ?", arguments: [runID, id]) ?? 0
        // Every passed trial is a successful task, variants included (their cost is in the total too).
        let allPassed = try Int.fetchOne(db, sql: "SELECT SUM(passed) FROM outcome WHERE run_id = ? AND candidate_id = ?", arguments: [runID, id]) ?? 0
        let okOutput: Int = totals?["ok_output"] ?? 0
        let okSeconds: Double = totals?["ok_e2e"] ?? 0

        let latency = LatencySummary(
            ttft: try percentiles(db: db, column: "ttft", runID: runID, candidate: id),
            e2e: try percentiles(db: db, column: "e2e", runID: runID, candidate: id))

        var card = Scorecard(
            id: id, provider: candidate.provider.rawValue, model: candidate.model ?? candidate.local ?? candidate.gguf,
            cases: cases, trials: trials, passed: maxSamples > 1 ? expectedPassed : Double(trialsPassed), passRate: passRate,
            passRateCI95: [interval.lower, interval.upper],
            byTag: byTag.mapValues { TagScore(cases: $0.cases, passed: $0.passed, passRate: $0.cases > 0 ? $0.passed / Double($0.cases) : 0) },
            failuresByCheck: failures, latencyMilliseconds: latency,
            outputTokensPerSecond: okSeconds > 0 ? Double(okOutput) / okSeconds : nil,
            tokens: TokenSummary(
                input: totals?["input"] ?? 0, output: totals?["output"] ?? 0, outputEstimated: totals?["estimated"] ?? 0,
                judgeInput: totals?["judge_input"] ?? 0, judgeOutput: totals?["judge_output"] ?? 0),
            attempts: attempts, retries: max(0, attempts - trials), errors: errors,
            costUSD: CostSummary(total: totalCost, perSuccess: allPassed > 0 ? totalCost / Double(allPassed) : nil, judge: totals?["judge_cost"] ?? 0),
            sampling: sampling, bars: BarsSummary(met: true, results: []),
            recovery: try recovery(db: db, runID: runID, candidate: id),
            constraints: try constraints(db: db, runID: runID, candidate: id),
            robustness: suite.robustness == nil ? nil : try robustness(db: db, runID: runID, candidate: id),
            promptSensitivity: suite.prompts.isEmpty ? nil : try promptSensitivity(db: db, runID: runID, candidate: id, suite: suite))
        card.bars = BarEvaluator.evaluate(suite.bars, on: card)
        return card
    }

    // MARK: - Recovery, constraints, robustness, prompts

    static func recovery(db: Database, runID: String, candidate: String) throws -> RecoverySummary {
        let row = try Row.fetchOne(
            db,
            sql: """
                SELECT
                    SUM(CASE WHEN t.kind = 'ambiguous' THEN 1 ELSE 0 END) AS ambiguous,
                    SUM(CASE WHEN t.kind = 'ambiguous' AND (o.clarified OR o.abstained) THEN 1 ELSE 0 END) AS handled,
                    SUM(CASE WHEN t.kind != 'ambiguous' THEN 1 ELSE 0 END) AS ordinary,
                    SUM(CASE WHEN t.kind != 'ambiguous' AND o.passed = 0 AND o.final_class = 'ok'
                        AND NOT o.clarified AND NOT o.abstained THEN 1 ELSE 0 END) AS confident_wrong
                FROM outcome o JOIN test_case t ON t.run_id = o.run_id AND t.case_id = o.case_id
                WHERE o.run_id = ? AND o.candidate_id = ? AND o.variant = ''
                """,
            arguments: [runID, candidate])
        let ambiguous: Int = row?["ambiguous"] ?? 0
        let handled: Int = row?["handled"] ?? 0
        let ordinary: Int = row?["ordinary"] ?? 0
        let wrong: Int = row?["confident_wrong"] ?? 0
        return RecoverySummary(
            ambiguous: ambiguous, handled: handled, rate: ambiguous > 0 ? Double(handled) / Double(ambiguous) : nil,
            confidentWrong: wrong, confidentWrongRate: ordinary > 0 ? Double(wrong) / Double(ordinary) : nil)
    }

    static func constraints(db: Database, runID: String, candidate: String) throws -> ConstraintSummary {
        var byCheck: [String: (checked: Int, violated: Int)] = [:]
        let rows = try String.fetchCursor(
            db, sql: "SELECT checks FROM outcome WHERE run_id = ? AND candidate_id = ? AND checks LIKE '%\"isConstraint\":true%'",
            arguments: [runID, candidate])
        let decoder = JSONDecoder()
        while let json = try rows.next() {
            for result in (try? decoder.decode([CheckResult].self, from: Data(json.utf8))) ?? [] where result.isConstraint {
                byCheck[result.check, default: (0, 0)].checked += 1
                if !result.passed { byCheck[result.check, default: (0, 0)].violated += 1 }
            }
        }
        let checked = byCheck.values.reduce(0) { $0 + $1.checked }
        let violated = byCheck.values.reduce(0) { $0 + $1.violated }
        return ConstraintSummary(
            checked: checked, violated: violated, violationRate: checked > 0 ? Double(violated) / Double(checked) : 0,
            byCheck: byCheck.mapValues { .init(checked: $0.checked, violated: $0.violated, violationRate: $0.checked > 0 ? Double($0.violated) / Double($0.checked) : 0) })
    }

    static func robustness(db: Database, runID: String, candidate: String) throws -> RobustnessSummary {
        var clean = (n: 0, passed: 0)
        var perturbed = (n: 0, passed: 0)
        var byPerturbation: [String: (n: Int, passed: Int)] = [:]
        let rows = try Row.fetchCursor(
            db,
            sql: "SELECT variant, COUNT(*) AS n, SUM(passed) AS c FROM outcome WHERE run_id = ? AND candidate_id = ? AND variant NOT LIKE 'prompt#%' GROUP BY variant",
            arguments: [runID, candidate])
        while let row = try rows.next() {
            let variant: String = row["variant"]
            let n: Int = row["n"]
            let c: Int = row["c"]
            if variant.isEmpty {
                clean = (n, c)
            } else {
                perturbed.n += n
                perturbed.passed += c
                let name = String(variant.split(separator: "#").first ?? "")
                byPerturbation[name, default: (0, 0)].n += n
                byPerturbation[name, default: (0, 0)].passed += c
            }
        }
        let worst = try Row.fetchOne(
            db,
            sql: """
                SELECT COUNT(*) AS cases, SUM(all_passed) AS passed FROM (
                    SELECT case_id, MIN(passed) AS all_passed FROM outcome
                    WHERE run_id = ? AND candidate_id = ? AND variant NOT LIKE 'prompt#%' GROUP BY case_id)
                """,
            arguments: [runID, candidate])
        let cases: Int = worst?["cases"] ?? 0
        let allPassed: Int = worst?["passed"] ?? 0
        func rate(_ value: (n: Int, passed: Int)) -> Double { value.n > 0 ? Double(value.passed) / Double(value.n) : 0 }
        return RobustnessSummary(
            cleanPassRate: rate(clean), perturbedPassRate: rate(perturbed),
            worstCasePassRate: cases > 0 ? Double(allPassed) / Double(cases) : 0, byPerturbation: byPerturbation.mapValues(rate))
    }

    static func promptSensitivity(db: Database, runID: String, candidate: String, suite: Suite) throws -> PromptSensitivity {
        var rates: [String: Double] = [:]
        let rows = try Row.fetchCursor(
            db,
            sql: "SELECT variant, AVG(passed) AS rate FROM outcome WHERE run_id = ? AND candidate_id = ? AND (variant = '' OR variant LIKE 'prompt#%') GROUP BY variant",
            arguments: [runID, candidate])
        while let row = try rows.next() { rates[row["variant"]] = row["rate"] }
        var entries = [PromptSensitivity.Entry(prompt: suite.defaults.system ?? "(no system prompt)", passRate: rates[""] ?? 0)]
        for (index, prompt) in suite.prompts.enumerated() {
            entries.append(.init(prompt: prompt, passRate: rates["prompt#\(index + 1)"] ?? 0))
        }
        let values = entries.map(\.passRate)
        return PromptSensitivity(byPrompt: entries, spread: (values.max() ?? 0) - (values.min() ?? 0))
    }

    /// Nearest-rank percentiles over ok task attempts, in milliseconds, read with ORDER BY/OFFSET (no arrays in memory).
    static func percentiles(db: Database, column: String, runID: String, candidate: String) throws -> Percentiles {
        let filter = "run_id = ? AND candidate_id = ? AND role = 'task' AND class = 'ok' AND \(column) IS NOT NULL"
        let count = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM attempt WHERE \(filter)", arguments: [runID, candidate]) ?? 0
        guard count > 0 else { return Percentiles(count: 0) }
        func value(_ p: Double) throws -> Double? {
            let offset = Statistics.rank(count: count, p) - 1
            return try Double.fetchOne(
                db, sql: "SELECT \(column) FROM attempt WHERE \(filter) ORDER BY \(column) LIMIT 1 OFFSET ?",
                arguments: [runID, candidate, offset]
            ).map { $0 * 1000 }
        }
        return Percentiles(
            count: count, p50: try value(0.5), p90: try value(0.9), p95: try value(0.95), p99: try value(0.99), max: try value(1.0))
    }
}
