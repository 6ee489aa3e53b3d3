import Foundation
import PostgresNIO
import RoadtestCore

/// A trial in a distributed run's queue.
public struct QueuedTrial: Sendable, Hashable {
    public var key: TrialKey
    /// Where its case is in the run's stored suite.
    public var caseIndex: Int
    /// How many times it has been claimed (more than 1: a worker's lease expired and it was claimed again).
    public var claims: Int
    /// The case itself, as stored with the run (claims carry it: a worker never loads the whole suite's cases).
    public var testCase: Case?

    public init(key: TrialKey, caseIndex: Int, claims: Int = 0, testCase: Case? = nil) {
        self.key = key
        self.caseIndex = caseIndex
        self.claims = claims
        self.testCase = testCase
    }
}

/// Where a distributed run's queue stands.
public struct QueueState: Sendable, Hashable {
    public var total = 0
    public var pending = 0
    public var leased = 0
    public var done = 0
    /// Claims beyond the first, over every trial: work started again after a worker's lease expired.
    public var reclaims = 0
    /// Workers that sent a heartbeat within the last lease period.
    public var liveWorkers = 0

    public init() {}
}

/// The work queue of distributed runs, in the shared store: workers claim trials with
/// `SELECT … FOR UPDATE SKIP LOCKED` under a lease they renew with heartbeats; an expired lease (a worker that died)
/// makes its trials claimable again; an outcome is written only by the worker that holds the trial's lease, once.
/// Times are the database server's clock, so workers' clocks need not agree.
public protocol TrialQueue: Sendable {
    /// Adds planned trials of a run, a thousand rows per statement (already queued ones are kept as they are).
    func enqueue(runID: String, trials: some Sequence<RunPlan.Trial>) async throws
    /// Forgets a run's trials nobody has claimed (a resumed run queues what is missing again: a case removed from
    /// the suite since is not run).
    func dropPending(runID: String) async throws
    /// Claims up to `limit` claimable trials of `runID` (pending, or leased under an expired lease) for `lease`
    /// seconds. Only runs whose status is `running` give out work.
    func claim(runID: String, worker: String, limit: Int, lease: Double) async throws -> [QueuedTrial]
    /// Stores a graded trial if `worker` still holds its lease, and marks it done; false when another worker has
    /// claimed it since (the outcome is dropped: it is written once).
    func complete(_ outcome: Outcome, runID: String, worker: String) async throws -> Bool
    /// Renews every lease `worker` holds, and records that it is alive.
    func heartbeat(worker: String, host: String, runID: String?, lease: Double) async throws
    /// Gives back `worker`'s unfinished trials (a worker that stops cleanly) and marks it finished.
    func release(worker: String) async throws
    func queueState(runID: String) async throws -> QueueState
    /// The oldest running run with trials not yet done.
    func nextQueuedRun() async throws -> String?
}

extension SQLRunStore: TrialQueue {
    var postgres: PostgresDatabase {
        get throws {
            guard let database = database as? PostgresDatabase else {
                throw RoadtestError(
                    .invalidArgument,
                    "distributed runs need a PostgreSQL store",
                    hint: "pass --store postgres://USER@HOST:PORT/DB (password in PGPASSWORD)"
                )
            }
            return database
        }
    }

    static let now = "EXTRACT(EPOCH FROM clock_timestamp())::float8"

    public func enqueue(runID: String, trials: some Sequence<RunPlan.Trial>) async throws {
        let database = try postgres
        var iterator = trials.makeIterator()
        var sequence = 0
        while true {
            var arguments: [any SQLBindable] = []
            var rows: [String] = []
            while rows.count < 1_000, let trial = iterator.next() {
                let key = trial.key
                rows.append("(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', 0)")
                arguments += [
                    runID, key.candidate, key.caseID, key.sample, key.variant.name, key.variant.kind.rawValue,
                    key.variant.index, key.variant.perturbation?.rawValue, trial.caseIndex, sequence,
                ]
                sequence += 1
            }
            guard !rows.isEmpty else { return }
            try await database.write(
                SQLStatement(
                    """
                    INSERT INTO trial_queue (run_id, candidate_id, case_id, sample, variant, variant_kind,
                        variant_index, variant_perturbation, case_index, seq, state, claims)
                    VALUES \(rows.joined(separator: ", "))
                    ON CONFLICT (run_id, candidate_id, case_id, sample, variant) DO NOTHING
                    """,
                    arguments
                )
            )
        }
    }

    public func dropPending(runID: String) async throws {
        try await postgres.write(
            SQLStatement("DELETE FROM trial_queue WHERE run_id = ? AND state = 'pending'", [runID])
        )
    }

    public func claim(runID: String, worker: String, limit: Int, lease: Double) async throws -> [QueuedTrial] {
        // Pending trials first, in plan order (the claim index serves this without sorting the queue); then
        // trials whose lease expired (a worker that died), only when there are not enough pending ones.
        var claimed = try await claim(runID: runID, worker: worker, limit: limit, lease: lease, expired: false)
        if claimed.count < limit {
            claimed += try await claim(
                runID: runID,
                worker: worker,
                limit: limit - claimed.count,
                lease: lease,
                expired: true
            )
        }
        return claimed
    }

    func claim(runID: String, worker: String, limit: Int, lease: Double, expired: Bool) async throws -> [QueuedTrial] {
        guard limit > 0 else { return [] }
        var claimed: [QueuedTrial] = []
        let decoder = JSONDecoder()
        try await postgres.read(
            SQLStatement(
                """
                WITH picked AS (
                    SELECT q.run_id, q.candidate_id, q.case_id, q.sample, q.variant FROM trial_queue q
                    JOIN run r ON r.id = q.run_id AND r.status = 'running'
                    WHERE q.run_id = ? AND \(expired ? "q.state = 'leased' AND q.lease_until < \(Self.now)" : "q.state = 'pending'")
                    ORDER BY q.seq LIMIT ? FOR UPDATE OF q SKIP LOCKED
                )
                UPDATE trial_queue t SET state = 'leased', worker = ?, lease_until = \(Self.now) + ?,
                    claims = t.claims + 1
                FROM picked
                WHERE t.run_id = picked.run_id AND t.candidate_id = picked.candidate_id
                    AND t.case_id = picked.case_id AND t.sample = picked.sample AND t.variant = picked.variant
                RETURNING t.candidate_id, t.case_id, t.sample, t.variant_kind, t.variant_index,
                    t.variant_perturbation, t.case_index, t.claims,
                    (SELECT c.case_json FROM test_case c WHERE c.run_id = t.run_id AND c.case_id = t.case_id)
                        AS case_json
                """,
                [runID, limit, worker, lease]
            )
        ) { row in
            claimed.append(
                QueuedTrial(
                    key: Self.trialKey(row),
                    caseIndex: row.int("case_index"),
                    claims: row.int("claims"),
                    testCase: try (row["case_json"] as String?).map {
                        try decoder.decode(Case.self, from: Data($0.utf8))
                    }
                )
            )
        }
        return claimed
    }

    public func complete(_ outcome: Outcome, runID: String, worker: String) async throws -> Bool {
        let database = try postgres
        let statements = try outcomeStatements(outcome, runID: runID)
        let key = outcome.key
        let mark = PostgresDatabase.query(
            SQLStatement(
                """
                UPDATE trial_queue SET state = 'done', lease_until = NULL
                WHERE run_id = ? AND candidate_id = ? AND case_id = ? AND sample = ? AND variant = ?
                    AND worker = ? AND state = 'leased'
                RETURNING case_index
                """,
                [runID, key.candidate, key.caseID, key.sample, key.variant.name, worker]
            )
        )
        return try await database.transaction { connection in
            var held = false
            for try await _ in try await connection.query(mark, logger: database.logger) { held = true }
            guard held else { return false }
            for statement in statements {
                try await connection.query(PostgresDatabase.query(statement), logger: database.logger)
            }
            return true
        }
    }

    public func heartbeat(worker: String, host: String, runID: String?, lease: Double) async throws {
        try await postgres.write([
            SQLStatement(
                "UPDATE trial_queue SET lease_until = \(Self.now) + ? WHERE worker = ? AND state = 'leased'",
                [lease, worker]
            ),
            SQLStatement(
                """
                INSERT INTO worker (id, host, run_id, started_at, heartbeat_at, finished, trials)
                VALUES (?, ?, ?, \(Self.now), \(Self.now), 0, 0)
                ON CONFLICT (id) DO UPDATE SET heartbeat_at = EXCLUDED.heartbeat_at, run_id = EXCLUDED.run_id
                """,
                [worker, host, runID]
            ),
        ])
    }

    public func release(worker: String) async throws {
        try await postgres.write([
            SQLStatement(
                "UPDATE trial_queue SET state = 'pending', worker = NULL, lease_until = NULL "
                    + "WHERE worker = ? AND state = 'leased'",
                [worker]
            ),
            SQLStatement("UPDATE worker SET finished = 1, heartbeat_at = \(Self.now) WHERE id = ?", [worker]),
        ])
    }

    public func queueState(runID: String) async throws -> QueueState {
        var state = QueueState()
        let database = try postgres
        try await database.read(
            SQLStatement(
                """
                SELECT state, COUNT(*) AS n, SUM(GREATEST(claims - 1, 0)) AS extra FROM trial_queue
                WHERE run_id = ? GROUP BY state
                """,
                [runID]
            )
        ) { row in
            let count = row.int("n")
            state.total += count
            state.reclaims += row.int("extra")
            switch row.text("state") {
            case "pending": state.pending = count
            case "leased": state.leased = count
            default: state.done = count
            }
        }
        state.liveWorkers =
            try await database.fetchOne(
                SQLStatement(
                    """
                    SELECT COUNT(*) AS n FROM worker w
                    WHERE w.finished = 0 AND w.run_id = ? AND w.heartbeat_at > \(Self.now) - 60
                    """,
                    [runID]
                )
            )?.int("n") ?? 0
        return state
    }

    public func nextQueuedRun() async throws -> String? {
        try await postgres.fetchOne(
            SQLStatement(
                """
                SELECT r.id FROM run r
                WHERE r.status = 'running' AND EXISTS (
                    SELECT 1 FROM trial_queue q WHERE q.run_id = r.id AND q.state <> 'done')
                ORDER BY r.started_at, r.id LIMIT 1
                """
            )
        )?.text("id")
    }
}
